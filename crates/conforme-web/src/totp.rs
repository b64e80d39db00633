//! Time-based one-time passwords (RFC 6238) from an authenticator app: SHA-1, 6 digits,
//! 30-second steps, one step of tolerance either way. The secret is kept base32-encoded.

use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, Secret, TOTP};

fn totp(secret_base32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).ok()
}

/// A new random secret (20 bytes), base32.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)?;
    Ok(Secret::Raw(bytes.to_vec()).to_encoded().to_string())
}

/// Whether `code` is valid at `now` for the secret.
pub fn verify(secret_base32: &str, code: &str, now: DateTime<Utc>) -> bool {
    let Ok(t) = u64::try_from(now.timestamp()) else {
        return false;
    };
    code.len() == 6 && totp(secret_base32).is_some_and(|totp| totp.check(code, t))
}

/// The code at an instant (tests, and the setup page's check).
pub fn code_at(secret_base32: &str, now: DateTime<Utc>) -> Option<String> {
    let t = u64::try_from(now.timestamp()).ok()?;
    totp(secret_base32).map(|totp| totp.generate(t))
}

/// The `otpauth://` URI an authenticator app reads.
pub fn provisioning_uri(secret_base32: &str, account: &str) -> String {
    let enc = |s: &str| crate::pages::encode_query(s);
    format!(
        "otpauth://totp/Conforme:{}?secret={secret_base32}&issuer=Conforme&algorithm=SHA1&digits=6&period=30",
        enc(account)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rfc_6238_vector() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s → 94287082 (8
        // digits); its last 6 digits are 287082.
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        let t = Utc.timestamp_opt(59, 0).single().unwrap_or_default();
        assert_eq!(code_at(&secret, t).as_deref(), Some("287082"));
        assert!(verify(&secret, "287082", t));
        assert!(verify(&secret, "287082", t + chrono::Duration::seconds(30)));
        assert!(!verify(
            &secret,
            "287082",
            t + chrono::Duration::seconds(90)
        ));
        assert!(!verify(&secret, "28708", t));
        assert!(!verify("not base32 !", "287082", t));
        assert!(new_secret().is_ok_and(|s| s.len() == 32));
    }
}
