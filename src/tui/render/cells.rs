//! Formatting shared by the panes: durations, health, availability and
//! verdict styles, and the lag sparkline.

use std::time::Duration;

use ratatui::style::Style;
use ratatui::text::Span;

use crate::domain::availability::Availability;
use crate::domain::posture::Verdict;
use crate::domain::snapshot::Health;
use crate::format::short_duration;
use crate::monitor::{Freshness, LagHistory};
use crate::tui::theme::Theme;

pub fn verdict_style(theme: &Theme, verdict: Verdict) -> Style {
    match verdict {
        Verdict::Ok => theme.style.ok,
        Verdict::AtRisk => theme.style.at_risk,
        Verdict::Breach | Verdict::Unprotected => theme.style.breach,
        Verdict::Unknown => theme.style.unknown,
    }
}

pub fn availability_style(theme: &Theme, availability: Availability) -> Style {
    match availability {
        Availability::Up => theme.style.ok,
        Availability::Degraded => theme.style.at_risk,
        Availability::Down => theme.style.breach,
        Availability::Unknown => theme.style.unknown,
    }
}

pub fn availability_label(availability: Availability) -> &'static str {
    match availability {
        Availability::Unknown => "?",
        a => a.label(),
    }
}

pub fn health_style(theme: &Theme, health: Health) -> Style {
    match health {
        Health::Healthy => theme.style.ok,
        Health::Unhealthy => theme.style.breach,
        Health::Unknown => theme.style.unknown,
    }
}

pub fn health_label(health: Health) -> &'static str {
    match health {
        Health::Healthy => "UP",
        Health::Unhealthy => "DOWN",
        Health::Unknown => "?",
    }
}

pub use crate::format::objective;

pub fn maybe_duration(d: Option<Duration>) -> String {
    d.map_or_else(|| "—".to_string(), short_duration)
}

/// How old data is, in whole seconds: a label that does not flicker
/// between `999ms` and `1s` as polls and clock ticks interleave.
pub fn age_label(age: Duration) -> String {
    let seconds = age.as_secs_f64().round();
    if seconds < 1.0 {
        "now".to_string()
    } else {
        short_duration(Duration::from_secs_f64(seconds))
    }
}

/// `STALE 45s` (or `STALE` when there never was data).
pub fn stale_label(f: &Freshness) -> String {
    match f.age {
        Some(age) => format!("STALE {}", short_duration(age)),
        None => "NO DATA".to_string(),
    }
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Lag history as bars, newest on the right: in the sparkline colour while
/// within the RPO, in the at-risk or breach colour where it was not. Scaled to the window's peak, but never to less
/// than a fiftieth of the RPO (and a second), so jitter far below the
/// objective stays low instead of filling the cell; `width` bars at most.
pub fn sparkline(
    theme: &Theme,
    history: Option<&LagHistory>,
    rpo: Duration,
    width: usize,
    stale: bool,
) -> Vec<Span<'static>> {
    lag_chart(theme, history, rpo, width, 1, stale)
        .pop()
        .unwrap_or_default()
}

/// The [`sparkline`] `rows` lines tall, top line first: each bar is eight
/// steps per line, so a taller chart tells small changes apart.
pub fn lag_chart(
    theme: &Theme,
    history: Option<&LagHistory>,
    rpo: Duration,
    width: usize,
    rows: usize,
    stale: bool,
) -> Vec<Vec<Span<'static>>> {
    let Some(history) = history.filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    let rows = rows.max(1);
    let steps = BARS.len() * rows;
    let samples: Vec<f64> = history.newest(width).map(|s| s.seconds).collect();
    let peak = chart_scale(&samples, rpo, rows);
    let bars: Vec<(usize, Style)> = samples
        .iter()
        .map(|&seconds| {
            let level = ((seconds / peak) * steps as f64).ceil() as usize;
            let style = if stale {
                theme.style.stale
            } else {
                match Verdict::of(Some(Duration::from_secs_f64(seconds.max(0.0))), rpo) {
                    Verdict::Ok => theme.style.sparkline,
                    verdict => verdict_style(theme, verdict),
                }
            };
            (level.clamp(1, steps), style)
        })
        .collect();
    (0..rows)
        .map(|row| {
            let below = (rows - 1 - row) * BARS.len();
            let cells = bars.iter().map(|&(level, style)| {
                let bar = match level.saturating_sub(below) {
                    0 => ' ',
                    fill => BARS[fill.min(BARS.len()) - 1],
                };
                (bar, style)
            });
            runs_of(cells)
        })
        .collect()
}

/// The lag, in seconds, a full bar stands for: the window's peak, but
/// never less than a fiftieth of the RPO (and a second) on one line, so
/// that noise does not pass for a trend. A chart of several lines tells
/// smaller changes apart, so its floor is that much lower: a calm lag still
/// draws a readable chart instead of an empty band over a row of stubs.
fn chart_scale(samples: &[f64], rpo: Duration, rows: usize) -> f64 {
    let floor = (rpo.as_secs_f64() / 50.0).max(1.0) / rows.max(1) as f64;
    samples.iter().copied().fold(floor, f64::max)
}

/// What the top of a [`lag_chart`] of `width` bars and `rows` lines stands
/// for.
pub fn chart_top(
    history: Option<&LagHistory>,
    rpo: Duration,
    width: usize,
    rows: usize,
) -> Duration {
    let samples: Vec<f64> = history
        .map(|h| h.newest(width).map(|s| s.seconds).collect())
        .unwrap_or_default();
    Duration::from_secs_f64(chart_scale(&samples, rpo, rows))
}

/// Characters as spans, one per run of the same style.
fn runs_of(cells: impl Iterator<Item = (char, Style)>) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut run = String::new();
    let mut run_style = None;
    for (c, style) in cells {
        if run_style.is_some_and(|s| s != style) {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                run_style.unwrap_or_default(),
            ));
        }
        run_style = Some(style);
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, run_style.unwrap_or_default()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::monitor::LagSample;

    #[test]
    fn ages_are_whole_seconds() {
        assert_eq!(age_label(Duration::from_millis(400)), "now");
        assert_eq!(age_label(Duration::from_millis(999)), "1s");
        assert_eq!(age_label(Duration::from_millis(61_400)), "1m01s");
    }

    #[test]
    fn objectives_read_as_people_say_them() {
        assert_eq!(objective(Duration::from_secs(900)), "15m");
        assert_eq!(objective(Duration::from_secs(3600)), "1h");
        assert_eq!(objective(Duration::from_secs(5400)), "1h30m");
        assert_eq!(objective(Duration::from_secs(45)), "45s");
    }

    #[test]
    fn sparkline_scales_to_the_peak_and_colours_by_rpo() {
        let theme = Theme::default();
        let mut h = LagHistory::new(10);
        for (i, s) in [0.5, 2.0, 4.0, 400.0].into_iter().enumerate() {
            h.push(LagSample {
                at: DateTime::from_timestamp(i as i64, 0).unwrap(),
                seconds: s,
            });
        }
        let spans = sparkline(&theme, Some(&h), Duration::from_secs(300), 10, false);
        let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "▁▁▁█");
        assert_eq!(spans.len(), 2, "ok bars then one breach bar");
        assert_eq!(spans[1].style, theme.style.breach);

        let chart = lag_chart(&theme, Some(&h), Duration::from_secs(300), 10, 2, false);
        let rows: Vec<String> = chart
            .iter()
            .map(|spans| spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        // The small lags stay on the bottom line; the breach fills both.
        assert_eq!(rows, ["   █", "▁▁▁█"]);

        let short = sparkline(&theme, Some(&h), Duration::from_secs(300), 2, false);
        let text: String = short.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text.chars().count(), 2);
    }
}
