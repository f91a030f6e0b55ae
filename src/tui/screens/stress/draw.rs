//! The Stress view, after oha's: a progress gauge with the phase and the time left, target
//! versus achieved rate, in flight and dropped, live latency percentiles (from the intended start
//! and from the actual send), a requests-per-second chart, outcomes and error codes, thresholds.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Sparkline, Table};

use super::Stress;
use crate::api::stress::{Latency, Progress};
use crate::tui::views::style;

pub fn draw(frame: &mut Frame, area: Rect, stress: &Stress) {
    let Some(p) = &stress.progress else {
        let text = if stress.loaded {
            format!(
                " No stress test has run here yet. Start one: s, or :stress PROFILE [--duration S]\n \
                 (profiles: {})",
                crate::stress::builtin_names()
            )
        } else {
            " asking for the newest stress test...".to_string()
        };
        frame.render_widget(
            Paragraph::new(text).block(style::block().title(" Stress ")),
            area,
        );
        return;
    };
    let [gauge, numbers, bottom] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Min(0),
    ])
    .areas(area);
    draw_gauge(frame, gauge, p);
    let [rate, latency, outcomes] = Layout::horizontal([
        Constraint::Percentage(30),
        Constraint::Percentage(38),
        Constraint::Percentage(32),
    ])
    .areas(numbers);
    draw_rate(frame, rate, p);
    draw_latency(frame, latency, p);
    draw_outcomes(frame, outcomes, p);
    let [chart, thresholds] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
    draw_chart(frame, chart, p);
    draw_thresholds(frame, thresholds, p);
}

fn state_style(state: &str) -> Style {
    match state {
        "running" => style::info(),
        "finished" => style::ok(),
        "stopped" => style::warning(),
        _ => style::error(),
    }
}

fn draw_gauge(frame: &mut Frame, area: Rect, p: &Progress) {
    let dot = style::sym("·", "-");
    let title = Line::from(vec![
        Span::styled(
            format!(" Stress {dot} {} {dot} {} ", p.id, p.profile),
            style::title(),
        ),
        Span::styled(format!(" {} ", p.state), state_style(&p.state)),
    ]);
    let block = style::block().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let ratio = if p.duration_s > 0.0 {
        (p.elapsed_s / p.duration_s).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let label = if p.running() {
        format!(
            " phase {} {dot} {:.0}s left in phase {dot} {:.0}s of {:.0}s ({:.0}%)",
            p.phase,
            p.phase_left_s,
            p.elapsed_s,
            p.duration_s,
            ratio * 100.0
        )
    } else {
        format!(
            " ended in phase {} after {:.0}s of {:.0}s ({:.0}%)",
            p.phase,
            p.elapsed_s,
            p.duration_s,
            ratio * 100.0
        )
    };
    let width = inner.width.saturating_sub(2) as usize;
    let filled = ((width as f64) * ratio).round() as usize;
    let bar = Line::from(vec![
        Span::raw(" "),
        Span::styled(style::sym("█", "#").repeat(filled), state_style(&p.state)),
        Span::styled(style::sym("░", ".").repeat(width - filled), style::dim()),
    ]);
    frame.render_widget(Paragraph::new(vec![Line::from(label), bar]), inner);
}

fn pair(label: &str, value: String, value_style: Style) -> Line<'static> {
    Line::from(vec![
        Span::raw(format!(" {label:<11}")),
        Span::styled(format!("{value:>9}"), value_style),
    ])
}

fn draw_rate(frame: &mut Frame, area: Rect, p: &Progress) {
    // Below 90% of the target while running: the generator or the target cannot keep up.
    let behind = p.running() && p.target_rps > 0.0 && p.achieved_rps < 0.9 * p.target_rps;
    let answered = p.ok + p.refused + p.errors;
    let lines = vec![
        pair("target/s", format!("{:.1}", p.target_rps), style::title()),
        pair(
            "achieved/s",
            format!("{:.1}", p.achieved_rps),
            if behind {
                style::warning()
            } else {
                style::ok()
            },
        ),
        pair("in flight", p.in_flight.to_string(), Style::default()),
        pair(
            "dropped",
            p.dropped.to_string(),
            if p.dropped > 0 {
                style::warning()
            } else {
                Style::default()
            },
        ),
        pair("answered", answered.to_string(), Style::default()),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(style::block().title(" Rate ")),
        area,
    );
}

/// Milliseconds with about three significant digits.
fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn draw_latency(frame: &mut Frame, area: Rect, p: &Progress) {
    let row = |name: &'static str, pick: fn(&Latency) -> f64| {
        Row::new(vec![
            name.to_string(),
            format!("{:>10}", ms(pick(&p.latency_ms))),
            format!("{:>10}", ms(pick(&p.send_latency_ms))),
        ])
    };
    let rows = vec![
        row("p50", |l| l.p50),
        row("p95", |l| l.p95),
        row("p99", |l| l.p99),
        row("max", |l| l.max),
    ];
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Length(11),
            Constraint::Length(11),
        ],
    )
    .header(
        Row::new([
            String::new(),
            format!("{:>10}", "intended"),
            format!("{:>10}", "sent"),
        ])
        .style(style::title()),
    )
    .block(style::block().title(" Latency ms "));
    frame.render_widget(table, area);
}

fn draw_outcomes(frame: &mut Frame, area: Rect, p: &Progress) {
    let mut lines = vec![
        pair("ok", p.ok.to_string(), style::ok()),
        pair(
            "refused",
            p.refused.to_string(),
            nonzero(p.refused, style::warning()),
        ),
        pair(
            "errors",
            p.errors.to_string(),
            nonzero(p.errors, style::error()),
        ),
    ];
    // The codes, most frequent first, as many as fit.
    let mut codes = p.codes.clone();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let room = (area.height as usize).saturating_sub(2 + lines.len());
    // Indented under the outcomes, in the same columns.
    lines.extend(
        codes
            .iter()
            .take(room)
            .map(|(code, n)| Line::styled(format!("  {code:<12.12}{n:>7}"), style::dim())),
    );
    frame.render_widget(
        Paragraph::new(lines).block(style::block().title(" Outcomes ")),
        area,
    );
}

fn nonzero(n: u64, s: Style) -> Style {
    if n > 0 { s } else { Style::default() }
}

fn draw_chart(frame: &mut Frame, area: Rect, p: &Progress) {
    // Newest second at the right edge.
    let inner = area.width.saturating_sub(2) as usize;
    let series = &p.rps_series[p.rps_series.len().saturating_sub(inner)..];
    let data: Vec<u64> = series.iter().map(|v| v.round() as u64).collect();
    let peak = data.iter().copied().max().unwrap_or(0);
    let title = format!(
        " req/s, last {}s: now {:.0}, target {:.0} ",
        data.len(),
        p.achieved_rps,
        p.target_rps
    );
    let spark = Sparkline::default()
        .data(&data)
        .max(peak.max(p.target_rps.round() as u64).max(1))
        .style(style::chart_health())
        .bar_set(if style::ascii() {
            crate::tui::screens::overview::ASCII_BARS
        } else {
            ratatui::symbols::bar::NINE_LEVELS
        })
        .block(style::block().title(title));
    frame.render_widget(spark, area);
}

fn draw_thresholds(frame: &mut Frame, area: Rect, p: &Progress) {
    let lines: Vec<Line> = if p.verdicts.is_empty() {
        vec![Line::styled(" no thresholds", style::dim())]
    } else {
        p.verdicts
            .iter()
            .map(|v| {
                let (mark, s) = if v.passed {
                    ("ok ", style::ok())
                } else {
                    ("BAD", style::error())
                };
                let observed = v
                    .observed
                    .map_or_else(|| "-".to_string(), |o| unit(&v.threshold, o));
                let scope = if v.scope == "global" {
                    String::new()
                } else {
                    format!("{} ", v.scope)
                };
                Line::from(vec![
                    Span::styled(format!(" {mark} "), s),
                    Span::raw(format!("{scope}{} ", v.threshold)),
                    Span::styled(observed, s),
                ])
            })
            .collect()
    };
    let breached = p.verdicts.iter().filter(|v| !v.passed).count();
    let title = format!(" Thresholds ({breached} breached) ");
    // Long scopes wrap rather than lose the observed value.
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(style::block().title(title)),
        area,
    );
}

/// An observed value in its threshold's unit: rates as percentages, rps per second, else ms.
fn unit(threshold: &str, v: f64) -> String {
    if threshold.contains("rate") {
        format!("{:.2}%", v * 100.0)
    } else if threshold.contains("rps") {
        format!("{v:.1}/s")
    } else {
        format!("{}ms", ms(v))
    }
}
