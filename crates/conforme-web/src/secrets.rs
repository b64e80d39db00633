//! Secrets: random tokens and codes, their hashes, argon2id password hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// 32 random bytes, hex-encoded: session cookies, links sent by email, API tokens.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A uniformly drawn code of `digits` decimal digits (rejection sampling, no modulo bias).
pub fn numeric_code(digits: usize) -> Result<String, getrandom::Error> {
    let modulus = 10u32.pow(u32::try_from(digits).unwrap_or(6).min(9));
    let limit = u32::MAX - (u32::MAX % modulus);
    loop {
        let mut buf = [0u8; 4];
        getrandom::fill(&mut buf)?;
        let n = u32::from_le_bytes(buf);
        if n < limit {
            return Ok(format!("{:0width$}", n % modulus, width = digits));
        }
    }
}

pub fn sha256_hex(s: &str) -> String {
    format!("{:x}", Sha256::digest(s.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An argon2id hash (PHC string) with a random salt, default parameters (19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_codes_and_hashes() {
        let a = random_token().expect("random");
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token().expect("random"));
        for _ in 0..200 {
            let c = numeric_code(6).expect("random");
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|c| c.is_ascii_digit()));
        }
        assert!(
            constant_time_eq("abc", "abc")
                && !constant_time_eq("abc", "abd")
                && !constant_time_eq("abc", "ab")
        );
        let h = hash_password("Correct-Horse-42").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Correct-Horse-42", &h));
        assert!(!verify_password("correct-horse-42", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
