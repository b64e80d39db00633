//! The time source every time-dependent rule reads.

use chrono::{DateTime, Duration, Utc};
use std::sync::RwLock;

/// Where "now" comes from. Production reads the system clock; demos and tests use a
/// [`SettableClock`].
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that runs at the normal pace from an instant chosen by the operator, and can be
/// moved. It keeps an offset from the system clock so time still passes between two readings.
#[derive(Debug)]
pub struct SettableClock {
    offset: RwLock<Duration>,
    base: fn() -> DateTime<Utc>,
}

impl SettableClock {
    /// A clock that reads `start` now and advances with the system clock.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self::with_base(start, Utc::now)
    }

    /// Same, over another base clock (used by tests to make time stand still).
    pub fn with_base(start: DateTime<Utc>, base: fn() -> DateTime<Utc>) -> Self {
        Self {
            offset: RwLock::new(start - base()),
            base,
        }
    }

    /// Moves the clock so that it reads `instant` now.
    pub fn set(&self, instant: DateTime<Utc>) {
        let offset = instant - (self.base)();
        // A poisoned lock only means another thread panicked while holding it; the offset is
        // a plain value and is still meaningful.
        let mut guard = self.offset.write().unwrap_or_else(|e| e.into_inner());
        *guard = offset;
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = *self.offset.read().unwrap_or_else(|e| e.into_inner());
        (self.base)() + offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn epoch() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn settable_clock_reads_the_chosen_instant_and_moves() {
        let start = Utc
            .with_ymd_and_hms(2026, 3, 31, 9, 59, 0)
            .single()
            .unwrap_or_default();
        let clock = SettableClock::with_base(start, epoch);
        assert_eq!(clock.now(), start);
        let later = start + Duration::days(3);
        clock.set(later);
        assert_eq!(clock.now(), later);
    }

    #[test]
    fn settable_clock_advances_with_the_system_clock() {
        let start = Utc
            .with_ymd_and_hms(2026, 3, 31, 9, 59, 0)
            .single()
            .unwrap_or_default();
        let clock = SettableClock::starting_at(start);
        let read = clock.now();
        assert!(read >= start && read - start < Duration::seconds(5));
    }
}
