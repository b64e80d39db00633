//! How instants and durations are written for French readers (Europe/Paris).

use chrono::{DateTime, Datelike, Timelike, Utc};
use conforme_domain::calendar::to_paris;

const WEEKDAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "mardi 31 mars 2026 à 12 h 00" (Paris time); midnight is written as the date alone.
pub fn paris_long(instant: DateTime<Utc>) -> String {
    let t = to_paris(instant);
    let day = WEEKDAYS[t.weekday().num_days_from_monday() as usize];
    let month = MONTHS[t.month0() as usize];
    let date = format!("{day} {} {month} {}", t.day(), t.year());
    if t.hour() == 0 && t.minute() == 0 {
        date
    } else {
        format!("{date} à {} h {:02}", t.hour(), t.minute())
    }
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
        assert_eq!(paris_long(t), "mardi 31 mars 2026 à 12 h 00");
        assert_eq!(paris_short(t), "31/03/2026 12:00");
        let midnight = Utc
            .with_ymd_and_hms(2025, 6, 30, 22, 0, 0)
            .single()
            .expect("instant");
        assert_eq!(paris_long(midnight), "mardi 1 juillet 2025");
    }
}
