//! Checked identifiers of the domain's actors: SIRET, email addresses, phone numbers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The Luhn check used by SIREN and SIRET numbers.
fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A SIRET: 14 digits (SIREN + establishment number) with a valid checksum. Spaces are
/// accepted on input and dropped. La Poste's establishments (SIREN 356 000 000) follow their
/// own rule: the sum of the digits is a multiple of 5.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siret(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiretError {
    #[error("le SIRET doit comporter 14 chiffres (reçu « {0} »)")]
    Format(String),
    #[error("le SIRET « {0} » n'est pas valide : sa clé de contrôle ne correspond pas")]
    Checksum(String),
}

impl Siret {
    pub fn parse(raw: &str) -> Result<Self, SiretError> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() != 14 || !compact.chars().all(|c| c.is_ascii_digit()) {
            return Err(SiretError::Format(raw.trim().to_string()));
        }
        let digits: Vec<u8> = compact.bytes().map(|b| b - b'0').collect();
        let valid = if compact.starts_with("356000000") {
            digits
                .iter()
                .map(|d| u32::from(*d))
                .sum::<u32>()
                .is_multiple_of(5)
        } else {
            luhn_ok(&digits)
        };
        if valid {
            Ok(Self(compact))
        } else {
            Err(SiretError::Checksum(compact))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

impl TryFrom<String> for Siret {
    type Error = SiretError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Siret> for String {
    fn from(value: Siret) -> Self {
        value.0
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 123 456 789 00012
        write!(
            f,
            "{} {} {} {}",
            &self.0[..3],
            &self.0[3..6],
            &self.0[6..9],
            &self.0[9..]
        )
    }
}

/// An email address, trimmed and lower-cased; a deliberately simple check (one `@`, a dotted
/// domain, no spaces, at most 254 characters): delivery is what proves an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("« {0} » n'est pas une adresse électronique valide")]
pub struct EmailError(pub String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let s = raw.trim().to_lowercase();
        let bad = || EmailError(raw.trim().to_string());
        if s.len() > 254
            || s.chars().any(|c| {
                c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
            })
        {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(self.0.as_str(), |(l, _)| l)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number: digits with optional leading `+`, spaces, dots, dashes and parentheses
/// allowed on input; 8 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("« {0} » n'est pas un numéro de téléphone valide (8 à 15 chiffres)")]
pub struct PhoneError(pub String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let t = raw.trim();
        let ok_chars = t.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')') || (c == '+' && i == 0)
        });
        let digits = t.chars().filter(char::is_ascii_digit).count();
        if ok_chars && (8..=15).contains(&digits) {
            Ok(Self(t.to_string()))
        } else {
            Err(PhoneError(t.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sirets() {
        for ok in [
            "13000940500023",
            "130 009 405 00023",
            "73282932000074",
            "35600000000047",
        ] {
            assert!(Siret::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Siret::parse("130 009 405 00023")
                .map(|s| s.to_string())
                .ok()
                .as_deref(),
            Some("130 009 405 00023")
        );
        assert!(matches!(
            Siret::parse("13000940500022"),
            Err(SiretError::Checksum(_))
        ));
        // La Poste: the digit sum rule, not Luhn.
        assert!(matches!(
            Siret::parse("35600000000048"),
            Err(SiretError::Checksum(_))
        ));
        assert!(matches!(
            Siret::parse("1300094050002"),
            Err(SiretError::Format(_))
        ));
        assert!(matches!(
            Siret::parse("1300094050002A"),
            Err(SiretError::Format(_))
        ));
        assert!(matches!(Siret::parse(""), Err(SiretError::Format(_))));
        assert!(matches!(
            Siret::parse("١٣٠٠٠٩٤٠٥٠٠٠٢٢"),
            Err(SiretError::Format(_))
        ));
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_of_ten_is_valid(prefix in "[0-9]{13}") {
            prop_assume!(!prefix.starts_with("356000000"));
            let valid = (0..10).filter(|d| Siret::parse(&format!("{prefix}{d}")).is_ok()).count();
            prop_assert_eq!(valid, 1);
        }

        #[test]
        fn a_single_digit_change_is_detected(prefix in "[0-9]{13}", pos in 0usize..14, delta in 1u8..10) {
            prop_assume!(!prefix.starts_with("356000000"));
            let good = (0..10).map(|d| format!("{prefix}{d}")).find(|s| Siret::parse(s).is_ok());
            let good = good.unwrap_or_default();
            let mut bytes = good.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap_or_default();
            prop_assume!(!changed.starts_with("356000000"));
            prop_assert!(Siret::parse(&changed).is_err());
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Marie.Curie@Editeur.FR ")
                .map(String::from)
                .ok()
                .as_deref(),
            Some("marie.curie@editeur.fr")
        );
        for bad in [
            "",
            "a",
            "a@b",
            "a@@b.fr",
            "a b@c.fr",
            "@c.fr",
            "a@.fr",
            "a@c.fr.",
            "a@c..fr",
            "<a@b.fr>",
            "a@b.fr,c@d.fr",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        for ok in [
            "01 23 45 67 89",
            "+33 1 23 45 67 89",
            "01.23.45.67.89",
            "(01) 23-45-67-89",
        ] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "123", "01 23 45 67 89 01 23 45", "01+23456789", "abc"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }
}
