//! Compact human formats shared by the screens and the reports.

use std::time::Duration;

/// `350ms`, `4.2s`, `7s`, `3m05s`, `2h10m`, `3d04h`: short enough for a
/// table cell, precise enough at the scale an operator cares about, never
/// finer than milliseconds. The one duration format of every screen.
pub fn short_duration(d: Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    if ms < 1000 {
        format!("{ms}ms")
    } else if s < 10 && !ms.is_multiple_of(1000) {
        format!("{:.1}s", d.as_secs_f64())
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scale_has_its_unit() {
        let cases = [
            (Duration::from_millis(350), "350ms"),
            (Duration::from_millis(4200), "4.2s"),
            (Duration::from_secs(7), "7s"),
            (Duration::from_nanos(151_994_100), "151ms"),
            (Duration::from_secs(42), "42s"),
            (Duration::from_secs(185), "3m05s"),
            (Duration::from_secs(7800), "2h10m"),
            (Duration::from_secs(3 * 86_400 + 4 * 3600), "3d04h"),
        ];
        for (d, shown) in cases {
            assert_eq!(short_duration(d), shown);
        }
    }
}
