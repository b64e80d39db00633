//! Dates and times as printed in the documents: French words, Europe/Paris time.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Europe::Paris;

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

/// « 1er décembre 2026 », « 15 mars 2027 ».
pub fn date(d: NaiveDate) -> String {
    let month = MONTHS[d.month0() as usize % 12];
    if d.day() == 1 {
        format!("1er {month} {}", d.year())
    } else {
        format!("{} {month} {}", d.day(), d.year())
    }
}

/// « 1er décembre 2026 à 21 h 05 », in Europe/Paris time.
pub fn date_time(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Paris);
    format!(
        "{} à {} h {:02}",
        date(local.date_naive()),
        local.hour(),
        local.minute()
    )
}

/// « 1er décembre 2026 à 21 h 05 min 33 s (heure de Paris, UTC+01:00) », for evidence.
pub fn date_time_precise(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Paris);
    format!(
        "{} à {} h {:02} min {:02} s (heure de Paris, UTC{})",
        date(local.date_naive()),
        local.hour(),
        local.minute(),
        local.second(),
        local.format("%:z")
    )
}

/// The PDF metadata date, in UTC.
pub fn metadata(t: DateTime<Utc>) -> krilla::metadata::DateTime {
    let byte = |n: u32| u8::try_from(n).unwrap_or(0);
    krilla::metadata::DateTime::new(u16::try_from(t.year()).unwrap_or(0))
        .month(byte(t.month()))
        .day(byte(t.day()))
        .hour(byte(t.hour()))
        .minute(byte(t.minute()))
        .second(byte(t.second()))
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn french_dates_in_paris_time() {
        let winter = Utc.with_ymd_and_hms(2026, 12, 1, 20, 5, 33).unwrap();
        assert_eq!(date_time(winter), "1er décembre 2026 à 21 h 05");
        assert_eq!(
            date_time_precise(winter),
            "1er décembre 2026 à 21 h 05 min 33 s (heure de Paris, UTC+01:00)"
        );
        // Summer time, and a UTC evening that is already the next day in Paris.
        let summer = Utc.with_ymd_and_hms(2026, 8, 14, 22, 30, 0).unwrap();
        assert_eq!(date_time(summer), "15 août 2026 à 0 h 30");
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2027, 2, 3).unwrap()),
            "3 février 2027"
        );
    }
}
