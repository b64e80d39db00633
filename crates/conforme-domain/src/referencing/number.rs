//! The référencement number: `{programme}-{year}-{sequence}-{check}`, e.g.
//! `HOP-DPI-Va2-2026-0007-58`. The two check digits are ISO 7064 MOD 97-10 (as in an IBAN)
//! over the rest, letters counting 10 to 35 whatever their case: a mistyped or altered number
//! is told apart from an unknown one before any lookup.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    pub programme: String,
    pub year: i32,
    pub sequence: u32,
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = self.body();
        write!(f, "{body}-{:02}", check_digits(&body).unwrap_or(0))
    }
}

impl Number {
    fn body(&self) -> String {
        format!("{}-{}-{:04}", self.programme, self.year, self.sequence)
    }
}

/// Why a text is not a référencement number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("ce texte n'a pas la forme d'un numéro de référencement (DISPOSITIF-ANNÉE-NUMÉRO-CLÉ)")]
    Malformed,
    #[error("la clé de contrôle ne correspond pas : le numéro est erroné ou a été altéré")]
    CheckDigits,
}

/// The number issued for the `sequence`-th référencement of `programme` in `year`.
pub fn issue(programme: &str, year: i32, sequence: u32) -> String {
    Number {
        programme: programme.to_string(),
        year,
        sequence,
    }
    .to_string()
}

/// MOD 97-10 check digits of `body` (its letters and digits; other characters ignored).
fn check_digits(body: &str) -> Option<u32> {
    let mut rem: u64 = 0;
    for c in body.chars().filter(|c| c.is_ascii_alphanumeric()) {
        let v = c.to_digit(36)? as u64;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    // Append "00" and take 98 - remainder.
    rem = (rem * 100) % 97;
    Some(98 - rem as u32)
}

/// Parses and checks a number as typed (surrounding spaces ignored).
pub fn parse(raw: &str) -> Result<Number, NumberError> {
    let raw = raw.trim();
    if raw.len() > 80 || !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(NumberError::Malformed);
    }
    let mut parts = raw.rsplitn(4, '-');
    let (Some(check), Some(seq), Some(year), Some(programme)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(NumberError::Malformed);
    };
    let numeric = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    if !numeric(check, 2) || !numeric(year, 4) || !numeric(seq, 4) || programme.is_empty() {
        return Err(NumberError::Malformed);
    }
    let number = Number {
        programme: programme.to_string(),
        year: year.parse().map_err(|_| NumberError::Malformed)?,
        sequence: seq.parse().map_err(|_| NumberError::Malformed)?,
    };
    let expected = check_digits(&number.body()).ok_or(NumberError::Malformed)?;
    if check.parse::<u32>().ok() != Some(expected) {
        return Err(NumberError::CheckDigits);
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_numbers_parse_back() {
        for seq in [1, 7, 42, 9999] {
            let n = issue("HOP-DPI-Va2", 2026, seq);
            let parsed = parse(&n).expect("valid");
            assert_eq!(parsed.sequence, seq);
            assert_eq!(parsed.programme, "HOP-DPI-Va2");
            assert_eq!(parsed.to_string(), n);
        }
        assert!(parse(&format!("  {}  ", issue("BIO-SGL-Va1", 2022, 3))).is_ok());
    }

    #[test]
    fn any_single_altered_character_fails() {
        let n = issue("HOP-DPI-Va2", 2026, 12);
        for (i, c) in n.char_indices() {
            if !c.is_ascii_digit() {
                continue;
            }
            for d in '0'..='9' {
                if d == c {
                    continue;
                }
                let mut altered = n.clone();
                altered.replace_range(i..i + 1, &d.to_string());
                assert!(parse(&altered).is_err(), "{altered} passed");
            }
        }
        // Two adjacent digits swapped.
        let swapped = n.replace("-0012-", "-0021-");
        assert_eq!(parse(&swapped), Err(NumberError::CheckDigits));
    }

    #[test]
    fn malformed_texts_are_told_apart() {
        for raw in [
            "",
            "abc",
            "HOP-DPI-Va2-2026-12-00",
            "HOP-2026-0001-1x",
            "<script>",
            "-2026-0001-00",
        ] {
            assert_eq!(parse(raw), Err(NumberError::Malformed), "{raw}");
        }
    }
}
