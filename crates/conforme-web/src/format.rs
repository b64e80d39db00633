//! How instants are written for French readers (Europe/Paris).

use chrono::{DateTime, Utc};
use conforme_domain::calendar::{french_deadline, french_instant, to_paris};

/// "mardi 31 mars 2026 à 12 h 00" (Paris time); midnight is written as the date alone.
pub fn paris_long(instant: DateTime<Utc>) -> String {
    french_instant(instant)
}

/// A due time: "vendredi 10 avril 2026 à 24 h 00" for a delay ending at midnight.
pub fn paris_deadline(instant: DateTime<Utc>) -> String {
    french_deadline(instant)
}

/// "31/03/2026 12:00" (Paris time).
pub fn paris_short(instant: DateTime<Utc>) -> String {
    to_paris(instant).format("%d/%m/%Y %H:%M").to_string()
}

/// RFC 3339 in Paris time with its offset, for `<time datetime>` and scripts.
pub fn iso(instant: DateTime<Utc>) -> String {
    to_paris(instant).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn writes_paris_dates_in_french() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 31, 10, 0, 0)
            .single()
            .expect("instant");
        assert_eq!(paris_long(t), "mardi 31 mars 2026 à\u{a0}12\u{a0}h\u{a0}00");
        assert_eq!(paris_short(t), "31/03/2026 12:00");
        let midnight = Utc
            .with_ymd_and_hms(2025, 6, 30, 22, 0, 0)
            .single()
            .expect("instant");
        assert_eq!(paris_long(midnight), "mardi 1 juillet 2025");
        assert_eq!(
            paris_deadline(midnight),
            "lundi 30 juin 2025 à\u{a0}24\u{a0}h\u{a0}00"
        );
    }
}
