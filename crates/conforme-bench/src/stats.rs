//! Small statistics and the formatting of numbers for the report.

use std::time::Duration;

/// Repeated timings of one measurement.
#[derive(Debug, Clone)]
pub struct Samples(Vec<Duration>);

impl Samples {
    /// Sorts the samples; `None` when there are none.
    pub fn new(mut samples: Vec<Duration>) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        Some(Self(samples))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The median (the mean of the two middle values for an even count).
    pub fn median(&self) -> Duration {
        let n = self.0.len();
        if n % 2 == 1 {
            self.0[n / 2]
        } else {
            (self.0[n / 2 - 1] + self.0[n / 2]) / 2
        }
    }

    /// The nearest-rank percentile, `p` in (0, 100].
    pub fn percentile(&self, p: f64) -> Duration {
        let n = self.0.len();
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.0[rank.clamp(1, n) - 1]
    }

    pub fn min(&self) -> Duration {
        self.0[0]
    }

    pub fn max(&self) -> Duration {
        self.0[self.0.len() - 1]
    }
}

/// The median of plain numbers (rates); `None` when empty.
pub fn median_f64(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// A duration with three significant digits and a fitting unit.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{} s", sig3(secs))
    } else if secs >= 1e-3 {
        format!("{} ms", sig3(secs * 1e3))
    } else {
        format!("{} µs", sig3(secs * 1e6))
    }
}

/// Three significant digits, without exponent.
fn sig3(x: f64) -> String {
    if x <= 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let decimals = (2 - x.log10().floor() as i32).max(0);
    format!("{x:.*}", decimals as usize)
}

/// A ratio such as `10.4×`.
pub fn ratio(numerator: f64, denominator: f64) -> String {
    if denominator > 0.0 && numerator.is_finite() {
        format!("{}×", sig3(numerator / denominator))
    } else {
        "–".to_string()
    }
}

/// An integer with thousands separators: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate rounded to a whole number, with separators.
pub fn rate(per_second: f64) -> String {
    if per_second.is_finite() && per_second >= 0.0 {
        thousands(per_second.round() as u64)
    } else {
        "–".to_string()
    }
}

/// A byte count as `12.3 KiB` / `1.23 MiB`.
pub fn bytes(n: usize) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 {
        format!("{} MiB", sig3(n / (1024.0 * 1024.0)))
    } else if n >= 1024.0 {
        format!("{} KiB", sig3(n / 1024.0))
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Samples {
        Samples::new(v.iter().map(|&m| Duration::from_millis(m)).collect()).expect("samples")
    }

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(ms(&[5, 1, 3]).median(), Duration::from_millis(3));
        assert_eq!(ms(&[4, 1, 3, 2]).median(), Duration::from_micros(2500));
        let hundred = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(hundred.percentile(50.0), Duration::from_millis(50));
        assert_eq!(hundred.percentile(99.0), Duration::from_millis(99));
        assert_eq!(hundred.percentile(100.0), Duration::from_millis(100));
        assert_eq!(ms(&[7]).percentile(99.0), Duration::from_millis(7));
        assert!(Samples::new(Vec::new()).is_none());
        assert_eq!(median_f64(&[3.0, 1.0, 2.0]), Some(2.0));
    }

    #[test]
    fn formatting() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1460), "1,460");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration(Duration::from_micros(1234)), "1.23 ms");
        assert_eq!(duration(Duration::from_micros(250)), "250 µs");
        assert_eq!(duration(Duration::from_millis(2500)), "2.50 s");
        assert_eq!(ratio(10.4, 1.0), "10.4×");
        assert_eq!(ratio(1.0, 0.0), "–");
        assert_eq!(ratio(0.0386, 1.0), "0.0386×");
        assert_eq!(ratio(0.5, 1.0), "0.500×");
        assert_eq!(ratio(123.4, 1.0), "123×");
        assert_eq!(bytes(2048), "2.00 KiB");
    }
}
