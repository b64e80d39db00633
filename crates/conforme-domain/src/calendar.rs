//! The regulatory calendar: French public holidays, working days and the way delays are
//! counted.
//!
//! Rules are stated in Europe/Paris time; instants are stored as `DateTime<Utc>`. A delay of
//! N days (or N working days) *from* an event does not count the day of the event (in Paris
//! time) and ends at 24:00 Europe/Paris on the Nth (working) day after it, i.e. at 00:00 Paris
//! of the following calendar day. A delay "within 24 hours" is a plain duration. A deadline
//! stated as a date and hour is met by anything received at or before that instant.
//!
//! Working days exclude Saturdays, Sundays and the eleven national public holidays of the
//! Code du travail (art. L3133-1). The local holidays of Alsace-Moselle (Good Friday,
//! 26 December) are not part of the national calendar and are not counted.

mod wording;
use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
pub use wording::{french_deadline, french_instant};

/// The time zone every rule is stated in.
pub const PARIS: Tz = chrono_tz::Europe::Paris;

/// How a public holiday's date is found in a given year.
#[derive(Debug, Clone, Copy)]
enum Anchor {
    /// A fixed (month, day).
    Fixed(u32, u32),
    /// A number of days after Easter Sunday.
    Easter(u64),
}

/// The national public holidays, in the order of the Code du travail (which is also the date
/// order, except that Ascension may fall on 1 or 8 May).
const HOLIDAYS: [(Anchor, &str); 11] = [
    (Anchor::Fixed(1, 1), "Jour de l'an"),
    (Anchor::Easter(1), "Lundi de Pâques"),
    (Anchor::Fixed(5, 1), "Fête du Travail"),
    (Anchor::Fixed(5, 8), "Victoire 1945"),
    (Anchor::Easter(39), "Ascension"),
    (Anchor::Easter(50), "Lundi de Pentecôte"),
    (Anchor::Fixed(7, 14), "Fête nationale"),
    (Anchor::Fixed(8, 15), "Assomption"),
    (Anchor::Fixed(11, 1), "Toussaint"),
    (Anchor::Fixed(11, 11), "Armistice 1918"),
    (Anchor::Fixed(12, 25), "Noël"),
];

/// Easter Sunday of `year` (Gregorian calendar, anonymous Gregorian algorithm, a.k.a.
/// Meeus/Jones/Butcher). Meaningful for 1583..=9999; other years get the same arithmetic.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    // month is 3 or 4 and day 1..=31 by construction, so the conversions cannot fail; only a
    // year outside chrono's range can make the date invalid, in which case we saturate.
    let month = u32::try_from(month).unwrap_or(4);
    let day = u32::try_from(day).unwrap_or(1);
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// The date of one holiday in `year`, `None` if it falls outside chrono's range.
fn holiday_date(year: i32, anchor: Anchor, easter: NaiveDate) -> Option<NaiveDate> {
    match anchor {
        Anchor::Fixed(month, day) => NaiveDate::from_ymd_opt(year, month, day),
        Anchor::Easter(offset) => easter.checked_add_days(Days::new(offset)),
    }
}

/// The French national public holidays of `year` as (date, French name), in date order, e.g.
/// "Lundi de Pâques", "Ascension", "Lundi de Pentecôte", "Fête nationale". When two holidays
/// fall on the same date (Ascension on 1 or 8 May) both are listed.
pub fn french_public_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let easter = easter_sunday(year);
    let mut holidays: Vec<(NaiveDate, &'static str)> = HOLIDAYS
        .iter()
        .filter_map(|&(anchor, name)| holiday_date(year, anchor, easter).map(|d| (d, name)))
        .collect();
    // Stable sort: on a shared date the fixed holiday (listed first in the table) comes first.
    holidays.sort_by_key(|&(date, _)| date);
    holidays
}

/// The French name of the public holiday on `date`, if it is one. When two holidays coincide
/// (Ascension on 1 or 8 May) the fixed-date one is named.
pub fn public_holiday_name(date: NaiveDate) -> Option<&'static str> {
    let year = date.year();
    let mut easter = None;
    for &(anchor, name) in &HOLIDAYS {
        let holiday = match anchor {
            Anchor::Fixed(month, day) => {
                (date.month() == month && date.day() == day).then_some(date)
            }
            Anchor::Easter(_) => {
                let easter = *easter.get_or_insert_with(|| easter_sunday(year));
                holiday_date(year, anchor, easter)
            }
        };
        if holiday == Some(date) {
            return Some(name);
        }
    }
    None
}

/// Whether `date` is a working day: neither a Saturday, a Sunday nor a public holiday.
pub fn is_working_day(date: NaiveDate) -> bool {
    !is_weekend(date) && public_holiday_name(date).is_none()
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The calendar date in Paris at `instant`.
pub fn paris_date(instant: DateTime<Utc>) -> NaiveDate {
    let utc = instant.naive_utc();
    let offset = PARIS.offset_from_utc_datetime(&utc).fix();
    // Only the very ends of chrono's range cannot be shifted (where `date_naive` on the Paris
    // time would panic); their UTC date is the best answer there.
    utc.checked_add_offset(offset)
        .map_or_else(|| instant.date_naive(), |local| local.date())
}

/// `instant` seen in Paris time.
pub fn to_paris(instant: DateTime<Utc>) -> DateTime<Tz> {
    instant.with_timezone(&PARIS)
}

/// The instant of a wall-clock Paris time. In the spring-forward gap the time is moved forward
/// by the gap (02:30 → 03:30 CEST); in the autumn overlap the earlier instant is taken.
pub fn paris_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    match PARIS.from_local_datetime(&naive) {
        LocalResult::Single(dt) => dt.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.with_timezone(&Utc).min(b.with_timezone(&Utc)),
        LocalResult::None => gap_instant(naive),
    }
}

/// A non-existent wall-clock time read with the offset in force just before the gap, which
/// moves it forward by the length of the gap.
fn gap_instant(naive: NaiveDateTime) -> DateTime<Utc> {
    // One day earlier is before the transition (Paris never had two transitions within a
    // day); near the ends of chrono's range, fall back to reading the time as UTC.
    let Some(before) = naive.checked_sub_signed(Duration::days(1)) else {
        return naive.and_utc();
    };
    let offset = PARIS.offset_from_utc_datetime(&before).fix();
    naive
        .checked_sub_offset(offset)
        .map_or_else(|| naive.and_utc(), |utc| utc.and_utc())
}

/// 24:00 Paris on `date` (= 00:00 Paris the next day).
pub fn end_of_paris_day(date: NaiveDate) -> DateTime<Utc> {
    match date.succ_opt() {
        Some(next) => paris_instant(next, NaiveTime::MIN),
        // The last date chrono can represent: there is no "next day" to start.
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// The deadline of a delay of `days` calendar days from `event`: the day of the event is not
/// counted and the delay ends at 24:00 Paris on the last day. Zero days ends at 24:00 on the
/// day of the event.
pub fn deadline_after_days(event: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    paris_date(event)
        .checked_add_days(Days::new(u64::from(days)))
        .map_or(DateTime::<Utc>::MAX_UTC, end_of_paris_day)
}

/// The deadline of a delay of `working_days` working days from `event`: the day of the event
/// is not counted and the delay ends at 24:00 Paris on the Nth working day after it. Zero
/// working days ends at 24:00 on the day of the event.
pub fn deadline_after_working_days(event: DateTime<Utc>, working_days: u32) -> DateTime<Utc> {
    let start = paris_date(event);
    if working_days == 0 {
        return end_of_paris_day(start);
    }
    // The Nth working day is the smallest date D with count(start, D] >= N. A year has at
    // least ~240 working days out of 365, so D lies well within 2N + 30 days; check that
    // bound, then bisect on day numbers (each count is per year, not per day).
    let n = i64::from(working_days);
    let lo_day = i64::from(start.num_days_from_ce());
    let mut lo = lo_day; // count(start, lo] < n
    let mut hi = lo_day + 2 * n + 30; // count(start, hi] >= n (checked below)
    let max_day = i64::from(NaiveDate::MAX.num_days_from_ce());
    if hi > max_day {
        hi = max_day;
    }
    let Some(hi_date) = date_from_day_number(hi) else {
        return DateTime::<Utc>::MAX_UTC;
    };
    if count_working_days(start, hi_date) < u64::from(working_days) {
        // Only possible when the search was clamped at the end of chrono's range.
        return DateTime::<Utc>::MAX_UTC;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match date_from_day_number(mid) {
            Some(mid_date) if count_working_days(start, mid_date) >= u64::from(working_days) => {
                hi = mid;
            }
            Some(_) => lo = mid,
            // Every day number between two valid ones is valid; stop rather than loop.
            None => break,
        }
    }
    date_from_day_number(hi).map_or(DateTime::<Utc>::MAX_UTC, end_of_paris_day)
}

fn date_from_day_number(day: i64) -> Option<NaiveDate> {
    i32::try_from(day)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// The deadline of a delay of `hours` hours from `event` ("within 24 hours"): a plain duration,
/// to the second.
pub fn deadline_after_hours(event: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
    event
        .checked_add_signed(Duration::hours(i64::from(hours)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether something received at `received` meets `deadline`: `received <= deadline`.
pub fn is_on_time(received: DateTime<Utc>, deadline: DateTime<Utc>) -> bool {
    received <= deadline
}

/// Date + N calendar months, clamped to the month's last day (for calendars stated as
/// "Date 0 + 6 mois").
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// Working days strictly after `from`'s Paris date up to and including `to`'s Paris date
/// (0 when `to` is not on a later Paris date).
pub fn working_days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
    let count = count_working_days(paris_date(from), paris_date(to));
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Working days in the date range (`from`, `to`], computed per year rather than per day.
fn count_working_days(from: NaiveDate, to: NaiveDate) -> u64 {
    if to <= from {
        return 0;
    }
    let a = i64::from(from.num_days_from_ce());
    let b = i64::from(to.num_days_from_ce());
    let mut count = weekdays_before(b + 1) - weekdays_before(a + 1);
    for year in from.year()..=to.year() {
        let mut dates: Vec<NaiveDate> = french_public_holidays(year)
            .into_iter()
            .map(|(date, _)| date)
            .filter(|&date| date > from && date <= to && !is_weekend(date))
            .collect();
        dates.dedup(); // sorted, so coinciding holidays are adjacent
        count -= i64::try_from(dates.len()).unwrap_or(0);
    }
    u64::try_from(count).unwrap_or(0)
}

/// Number of Monday–Friday days with a day number (`num_days_from_ce`) below `day`, counted
/// from 0001-01-01 (a Monday, day number 1); negative below it.
fn weekdays_before(day: i64) -> i64 {
    let t = day - 1;
    5 * t.div_euclid(7) + t.rem_euclid(7).min(5)
}

/// A human French description of a remaining duration, e.g. "2 jours 3 heures",
/// "45 minutes", "moins d'une minute". Shows the two largest non-zero units among days, hours
/// and minutes, truncated. A negative duration is described by its magnitude.
pub fn describe_duration_fr(d: Duration) -> String {
    let seconds = d.num_seconds().unsigned_abs();
    let days = seconds / 86_400;
    let hours = seconds % 86_400 / 3_600;
    let minutes = seconds % 3_600 / 60;
    let units = [(days, "jour"), (hours, "heure"), (minutes, "minute")];
    let Some(first) = units.iter().position(|&(value, _)| value > 0) else {
        return "moins d'une minute".to_owned();
    };
    units[first..]
        .iter()
        .take(2)
        .filter(|&&(value, _)| value > 0)
        .map(|&(value, unit)| {
            if value > 1 {
                format!("{value} {unit}s")
            } else {
                format!("{value} {unit}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    fn paris(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        paris_instant(date(y, mo, d), time(h, mi))
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("valid RFC 3339 instant")
    }

    #[test]
    fn easter_for_known_years() {
        for (year, expected) in [
            (2024, date(2024, 3, 31)),
            (2025, date(2025, 4, 20)),
            (2026, date(2026, 4, 5)),
            (2027, date(2027, 3, 28)),
            (2038, date(2038, 4, 25)),
            (2000, date(2000, 4, 23)),
            (1818, date(1818, 3, 22)),
            (1943, date(1943, 4, 25)),
            (2008, date(2008, 3, 23)),
            (1583, date(1583, 4, 10)),
            (9999, date(9999, 3, 28)),
        ] {
            assert_eq!(easter_sunday(year), expected, "Easter {year}");
            assert_eq!(easter_sunday(year).weekday(), Weekday::Sun);
        }
    }

    #[test]
    fn holidays_2026() {
        let expected = vec![
            (date(2026, 1, 1), "Jour de l'an"),
            (date(2026, 4, 6), "Lundi de Pâques"),
            (date(2026, 5, 1), "Fête du Travail"),
            (date(2026, 5, 8), "Victoire 1945"),
            (date(2026, 5, 14), "Ascension"),
            (date(2026, 5, 25), "Lundi de Pentecôte"),
            (date(2026, 7, 14), "Fête nationale"),
            (date(2026, 8, 15), "Assomption"),
            (date(2026, 11, 1), "Toussaint"),
            (date(2026, 11, 11), "Armistice 1918"),
            (date(2026, 12, 25), "Noël"),
        ];
        assert_eq!(french_public_holidays(2026), expected);
        for (d, name) in expected {
            assert_eq!(public_holiday_name(d), Some(name));
            assert!(!is_working_day(d));
        }
        // Good Friday is not a national holiday.
        assert_eq!(public_holiday_name(date(2026, 4, 3)), None);
        assert!(is_working_day(date(2026, 4, 3)));
        assert!(!is_working_day(date(2026, 4, 4)), "Saturday");
        assert!(!is_working_day(date(2026, 4, 5)), "Sunday");
        assert!(is_working_day(date(2026, 4, 7)));
    }

    #[test]
    fn ascension_on_first_of_may_2008() {
        let holidays = french_public_holidays(2008);
        assert_eq!(holidays.len(), 11);
        assert_eq!(holidays[2], (date(2008, 5, 1), "Fête du Travail"));
        assert_eq!(holidays[3], (date(2008, 5, 1), "Ascension"));
        assert_eq!(
            public_holiday_name(date(2008, 5, 1)),
            Some("Fête du Travail")
        );
        assert!(holidays.windows(2).all(|w| w[0].0 <= w[1].0));
        // Dates are counted once.
        assert_eq!(
            count_working_days(date(2008, 4, 30), date(2008, 5, 2)),
            1,
            "1 May 2008 (Thursday) is one non-working day"
        );
    }

    #[test]
    fn the_easter_2026_example() {
        let event = paris(2026, 4, 2, 15, 0);
        assert_eq!(event, utc("2026-04-02T13:00:00Z"));
        let deadline = deadline_after_working_days(event, 5);
        assert_eq!(deadline, utc("2026-04-10T22:00:00Z"));
        assert_eq!(deadline, end_of_paris_day(date(2026, 4, 10)));
        assert_eq!(working_days_between(event, deadline), 5);
        assert!(is_on_time(utc("2026-04-10T21:59:59Z"), deadline));
        assert!(is_on_time(deadline, deadline));
        assert!(!is_on_time(utc("2026-04-10T22:00:01Z"), deadline));
    }

    #[test]
    fn event_day_is_the_paris_day() {
        // 22:30Z on Thursday 2 April is 00:30 on Friday 3 April in Paris.
        let event = utc("2026-04-02T22:30:00Z");
        assert_eq!(paris_date(event), date(2026, 4, 3));
        // Friday 3 is not counted; Monday 6 is Easter Monday.
        assert_eq!(
            deadline_after_working_days(event, 1),
            utc("2026-04-07T22:00:00Z")
        );
        assert_eq!(deadline_after_days(event, 1), utc("2026-04-04T22:00:00Z"));
    }

    #[test]
    fn spring_forward_2026() {
        // Sunday 29 March 2026: 02:00 CET -> 03:00 CEST.
        let friday = paris(2026, 3, 27, 10, 0);
        assert_eq!(friday, utc("2026-03-27T09:00:00Z"));
        assert_eq!(
            deadline_after_working_days(friday, 1),
            utc("2026-03-30T22:00:00Z")
        );
        // 1 day from Friday ends at 24:00 Saturday, still CET.
        assert_eq!(deadline_after_days(friday, 1), utc("2026-03-28T23:00:00Z"));
        // 1 day from Saturday ends at 24:00 on the short Sunday, in CEST.
        let saturday = paris(2026, 3, 28, 12, 0);
        assert_eq!(
            deadline_after_days(saturday, 1),
            utc("2026-03-29T22:00:00Z")
        );
        // The short day lasts 23 hours.
        assert_eq!(
            end_of_paris_day(date(2026, 3, 29)) - end_of_paris_day(date(2026, 3, 28)),
            Duration::hours(23)
        );
        // 24 hours is a plain duration: the wall clock moves by 25 hours.
        let deadline = deadline_after_hours(saturday, 24);
        assert_eq!(deadline, utc("2026-03-29T11:00:00Z"));
        assert_eq!(
            to_paris(deadline).naive_local(),
            date(2026, 3, 29).and_time(time(13, 0))
        );
        // The gap: 02:30 does not exist and is moved to 03:30 CEST.
        let gap = paris_instant(date(2026, 3, 29), time(2, 30));
        assert_eq!(gap, utc("2026-03-29T01:30:00Z"));
        assert_eq!(
            to_paris(gap).naive_local(),
            date(2026, 3, 29).and_time(time(3, 30))
        );
    }

    #[test]
    fn fall_back_2026() {
        // Sunday 25 October 2026: 03:00 CEST -> 02:00 CET.
        let friday = paris(2026, 10, 23, 16, 45);
        assert_eq!(friday, utc("2026-10-23T14:45:00Z"));
        assert_eq!(
            deadline_after_working_days(friday, 1),
            utc("2026-10-26T23:00:00Z")
        );
        assert_eq!(deadline_after_days(friday, 1), utc("2026-10-24T22:00:00Z"));
        let saturday = paris(2026, 10, 24, 9, 0);
        assert_eq!(
            deadline_after_days(saturday, 1),
            utc("2026-10-25T23:00:00Z")
        );
        assert_eq!(
            end_of_paris_day(date(2026, 10, 25)) - end_of_paris_day(date(2026, 10, 24)),
            Duration::hours(25)
        );
        // The overlap: 02:30 happens twice; the earlier (CEST) instant is taken.
        let overlap = paris_instant(date(2026, 10, 25), time(2, 30));
        assert_eq!(overlap, utc("2026-10-25T00:30:00Z"));
        assert_eq!(
            deadline_after_hours(saturday, 24),
            utc("2026-10-25T07:00:00Z")
        );
        assert_eq!(
            to_paris(utc("2026-10-25T07:00:00Z")).naive_local().time(),
            time(8, 0)
        );
    }

    #[test]
    fn year_end() {
        // Wednesday 24 December 2025; 25 December and 1 January are holidays.
        let event = paris(2025, 12, 24, 10, 0);
        // Fri 26, Mon 29, Tue 30.
        assert_eq!(
            deadline_after_working_days(event, 3),
            utc("2025-12-30T23:00:00Z")
        );
        // ..., Wed 31, Fri 2 January.
        assert_eq!(
            deadline_after_working_days(event, 5),
            utc("2026-01-02T23:00:00Z")
        );
        assert_eq!(
            working_days_between(event, utc("2026-01-02T23:00:00Z") - Duration::seconds(1)),
            5
        );
        // 23:30 Paris on 31 December 2026: the event day is still 2026.
        let new_year_eve = paris(2026, 12, 31, 23, 30);
        assert_eq!(new_year_eve, utc("2026-12-31T22:30:00Z"));
        assert_eq!(
            deadline_after_days(new_year_eve, 1),
            utc("2027-01-01T23:00:00Z")
        );
        // Friday 1 January 2027 is a holiday; next working day is Monday 4.
        assert_eq!(
            deadline_after_working_days(new_year_eve, 1),
            utc("2027-01-04T23:00:00Z")
        );
    }

    #[test]
    fn may_2026_cluster() {
        // Thursday 30 April 2026; Fri 1 May, Fri 8 May, Thu 14 May (Ascension) and Mon 25 May
        // (Whit Monday) are holidays.
        let event = paris(2026, 4, 30, 11, 0);
        assert_eq!(
            deadline_after_working_days(event, 1),
            utc("2026-05-04T22:00:00Z")
        );
        assert_eq!(
            deadline_after_working_days(event, 4),
            utc("2026-05-07T22:00:00Z")
        );
        assert_eq!(
            deadline_after_working_days(event, 5),
            utc("2026-05-11T22:00:00Z")
        );
        assert_eq!(
            deadline_after_working_days(event, 8),
            utc("2026-05-15T22:00:00Z")
        );
        assert_eq!(
            deadline_after_working_days(event, 10),
            utc("2026-05-19T22:00:00Z")
        );
        assert_eq!(
            deadline_after_working_days(event, 14),
            utc("2026-05-26T22:00:00Z")
        );
        assert_eq!(
            working_days_between(event, paris(2026, 5, 31, 12, 0)),
            21 - 4,
            "21 weekdays in May 2026, 4 of them holidays"
        );
    }

    #[test]
    fn zero_delays_end_with_the_event_day() {
        let event = paris(2026, 4, 4, 10, 0); // a Saturday
        assert_eq!(
            deadline_after_days(event, 0),
            end_of_paris_day(date(2026, 4, 4))
        );
        assert_eq!(
            deadline_after_working_days(event, 0),
            end_of_paris_day(date(2026, 4, 4))
        );
        assert_eq!(deadline_after_hours(event, 0), event);
    }

    #[test]
    fn working_days_between_edges() {
        let thursday = paris(2026, 4, 2, 15, 0);
        assert_eq!(working_days_between(thursday, thursday), 0);
        assert_eq!(working_days_between(thursday, paris(2026, 4, 2, 23, 59)), 0);
        assert_eq!(working_days_between(thursday, paris(2026, 4, 3, 0, 0)), 1);
        assert_eq!(working_days_between(thursday, paris(2026, 4, 6, 12, 0)), 1);
        assert_eq!(working_days_between(paris(2026, 4, 10, 0, 0), thursday), 0);
        // 261 weekdays up to Friday 2 April 2027, 10 of them holidays (Easter Monday 2026 and
        // 2027, 1 May, 8 May, Ascension, Whit Monday, 14 July, 11 November, 25 December,
        // 1 January).
        assert_eq!(
            working_days_between(thursday, paris(2027, 4, 2, 15, 0)),
            251
        );
    }

    #[test]
    fn months_are_clamped() {
        assert_eq!(add_months(date(2026, 1, 31), 1), date(2026, 2, 28));
        assert_eq!(add_months(date(2024, 1, 31), 1), date(2024, 2, 29));
        assert_eq!(add_months(date(2026, 8, 31), 6), date(2027, 2, 28));
        assert_eq!(add_months(date(2026, 3, 15), 6), date(2026, 9, 15));
        assert_eq!(add_months(date(2026, 3, 15), 12), date(2027, 3, 15));
        assert_eq!(add_months(date(2026, 3, 15), 0), date(2026, 3, 15));
    }

    #[test]
    fn durations_in_french() {
        let d = |s: i64| describe_duration_fr(Duration::seconds(s));
        assert_eq!(d(2 * 86_400 + 3 * 3_600 + 59), "2 jours 3 heures");
        assert_eq!(d(2 * 86_400 + 3 * 3_600 + 10 * 60), "2 jours 3 heures");
        assert_eq!(d(86_400), "1 jour");
        assert_eq!(d(86_400 + 5 * 60), "1 jour");
        assert_eq!(d(86_400 + 3_600), "1 jour 1 heure");
        assert_eq!(d(3_600 + 60), "1 heure 1 minute");
        assert_eq!(d(5 * 3_600), "5 heures");
        assert_eq!(d(45 * 60 + 30), "45 minutes");
        assert_eq!(d(60), "1 minute");
        assert_eq!(d(59), "moins d'une minute");
        assert_eq!(d(0), "moins d'une minute");
        assert_eq!(d(-(45 * 60)), "45 minutes");
        assert_eq!(
            describe_duration_fr(Duration::milliseconds(-500)),
            "moins d'une minute"
        );
    }

    #[test]
    fn extremes_do_not_panic() {
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        for year in [i32::MIN, -1, 0, 1, 1582, 262_142, i32::MAX] {
            let _ = easter_sunday(year);
            let _ = french_public_holidays(year);
        }
        for instant in [min, max] {
            let _ = paris_date(instant);
            let _ = to_paris(instant);
            let _ = deadline_after_days(instant, u32::MAX);
            let _ = deadline_after_working_days(instant, u32::MAX);
            let _ = deadline_after_hours(instant, u32::MAX);
        }
        assert_eq!(deadline_after_working_days(max, 1), max);
        assert_eq!(deadline_after_hours(max, 1), max);
        assert!(working_days_between(min, max) > 60_000_000);
        assert_eq!(working_days_between(max, min), 0);
        assert_eq!(add_months(NaiveDate::MAX, u32::MAX), NaiveDate::MAX);
        let _ = paris_instant(NaiveDate::MIN, NaiveTime::MIN);
        let _ = end_of_paris_day(NaiveDate::MAX);
        let _ = is_working_day(NaiveDate::MIN);
        let _ = describe_duration_fr(Duration::MIN);
        let _ = describe_duration_fr(Duration::MAX);
    }

    /// Instants between 1980 and 2099 (chrono-tz knows Paris DST rules until 2099).
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (315_532_800_i64..4_102_444_800_i64)
            .prop_map(|s| DateTime::from_timestamp(s, 0).expect("in range"))
    }

    fn naive_count(from: NaiveDate, to: NaiveDate) -> u64 {
        from.iter_days()
            .skip(1)
            .take_while(|&d| d <= to)
            .filter(|&d| is_working_day(d))
            .count() as u64
    }

    proptest! {
        #[test]
        fn working_day_deadline_properties(event in instant(), n in 1_u32..=80) {
            let deadline = deadline_after_working_days(event, n);
            let local = to_paris(deadline);
            prop_assert_eq!(local.time(), NaiveTime::MIN);
            let last_day = local.date_naive().pred_opt().expect("not the first date");
            prop_assert!(is_working_day(last_day));
            prop_assert!(deadline > event);
            prop_assert_eq!(working_days_between(event, deadline - Duration::seconds(1)), n);
            prop_assert_eq!(working_days_between(event, deadline), n + 1 - u32::from(!is_working_day(local.date_naive())));
        }

        #[test]
        fn calendar_day_deadline_is_a_paris_midnight(event in instant(), n in 0_u32..=400) {
            let deadline = deadline_after_days(event, n);
            let local = to_paris(deadline);
            prop_assert_eq!(local.time(), NaiveTime::MIN);
            prop_assert!(deadline > event);
            let expected = paris_date(event) + Days::new(u64::from(n) + 1);
            prop_assert_eq!(local.date_naive(), expected);
        }

        #[test]
        fn paris_instant_round_trips(day in 0_i64..43_800, seconds in 0_u32..86_400) {
            let d = date(1980, 1, 1) + Days::new(day as u64);
            let t = NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).expect("valid");
            let naive = d.and_time(t);
            let instant = paris_instant(d, t);
            match PARIS.from_local_datetime(&naive) {
                LocalResult::None => {
                    prop_assert_eq!(to_paris(instant).naive_local(), naive + Duration::hours(1));
                }
                _ => prop_assert_eq!(to_paris(instant).naive_local(), naive),
            }
        }

        #[test]
        fn to_paris_and_back(instant in instant()) {
            let local = to_paris(instant);
            let back = paris_instant(local.date_naive(), local.time());
            // In the autumn overlap, the later instant maps back to the earlier one.
            prop_assert!(back == instant || back == instant - Duration::hours(1));
        }

        #[test]
        fn fast_count_matches_day_by_day(start in 0_i64..50_000, len in 0_u64..1_200) {
            let from = date(1900, 1, 1) + Days::new(start as u64);
            let to = from + Days::new(len);
            prop_assert_eq!(count_working_days(from, to), naive_count(from, to));
            prop_assert_eq!(count_working_days(to, from), 0);
        }

        #[test]
        fn easter_is_a_sunday_in_spring(year in 1583_i32..=9999) {
            let easter = easter_sunday(year);
            prop_assert_eq!(easter.weekday(), Weekday::Sun);
            prop_assert!(easter >= date(year, 3, 22) && easter <= date(year, 4, 25));
            prop_assert_eq!(french_public_holidays(year).len(), 11);
        }
    }
}
