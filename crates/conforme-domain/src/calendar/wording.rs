//! Instants written for French readers, in Paris time.

use super::to_paris;
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

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

fn long_date(t: &DateTime<chrono_tz::Tz>) -> String {
    format!(
        "{} {} {} {}",
        WEEKDAYS[t.weekday().num_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month0() as usize],
        t.year()
    )
}

/// "mardi 31 mars 2026 à\u{a0}12\u{a0}h\u{a0}00"; an instant at 00:00 is written as the date alone (a
/// calendar date such as "dimanche 19 mai 2024").
pub fn french_instant(instant: DateTime<Utc>) -> String {
    let t = to_paris(instant);
    if t.hour() == 0 && t.minute() == 0 {
        long_date(&t)
    } else {
        format!(
            "{} à\u{a0}{}\u{a0}h\u{a0}{:02}",
            long_date(&t),
            t.hour(),
            t.minute()
        )
    }
}

/// A deadline: one that falls at 00:00 Paris ends the day before, written "à 24 h 00"
/// ("vendredi 10 avril 2026 à\u{a0}24\u{a0}h\u{a0}00"), as delays are counted.
pub fn french_deadline(instant: DateTime<Utc>) -> String {
    let t = to_paris(instant);
    if t.hour() == 0 && t.minute() == 0 && t.second() == 0 {
        let day_before = to_paris(instant - Duration::seconds(1));
        format!("{} à\u{a0}24\u{a0}h\u{a0}00", long_date(&day_before))
    } else {
        format!(
            "{} à\u{a0}{}\u{a0}h\u{a0}{:02}",
            long_date(&t),
            t.hour(),
            t.minute()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_and_deadlines_in_french() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 31, 10, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(
            french_instant(t),
            "mardi 31 mars 2026 à\u{a0}12\u{a0}h\u{a0}00"
        );
        assert_eq!(
            french_deadline(t),
            "mardi 31 mars 2026 à\u{a0}12\u{a0}h\u{a0}00"
        );
        let midnight = Utc
            .with_ymd_and_hms(2026, 4, 10, 22, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(french_instant(midnight), "samedi 11 avril 2026");
        assert_eq!(
            french_deadline(midnight),
            "vendredi 10 avril 2026 à\u{a0}24\u{a0}h\u{a0}00"
        );
    }
}
