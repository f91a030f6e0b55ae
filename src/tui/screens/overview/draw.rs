//! The overview: the system health summary (counts, detections, recoveries, current failures,
//! recent recoveries) and a sparkline of healthy neurons over time.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Sparkline, Table};

use crate::api::{NeuronState, StatusReport};
use crate::tui::screens::Fleet;
use crate::tui::views::format;
use crate::tui::views::style;

pub fn draw(frame: &mut Frame, area: Rect, fleet: Fleet) {
    let Some(status) = fleet.status else {
        let block = style::block().title(" Overview ");
        frame.render_widget(
            Paragraph::new(style::sym(
                " waiting for the first status report…",
                " waiting for the first status report...",
            ))
            .block(block),
            area,
        );
        return;
    };
    let [counters, lists, spark] = Layout::vertical([
        Constraint::Length(10),
        Constraint::Min(5),
        // One row of bars on the smallest screens (the lists matter more), taller when roomy.
        Constraint::Length((area.height / 5).clamp(3, 10)),
    ])
    .areas(area);
    let [states, detections, recoveries] = Layout::horizontal([
        Constraint::Percentage(33),
        Constraint::Percentage(33),
        Constraint::Percentage(34),
    ])
    .areas(counters);
    draw_states(frame, states, status);
    draw_detections(frame, detections, status);
    draw_recoveries(frame, recoveries, status);
    let [failures, recent] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lists);
    draw_failures(frame, failures, status);
    draw_recent(frame, recent, status);
    draw_sparkline(frame, spark, fleet.history);
}

/// `label ....... value` lines for the counter boxes.
fn pair(label: &str, value: String, value_style: ratatui::style::Style) -> Line<'static> {
    Line::from(vec![
        Span::raw(format!(" {label:<14}")),
        Span::styled(format!("{value:>7}"), value_style),
    ])
}

fn draw_states(frame: &mut Frame, area: Rect, status: &StatusReport) {
    let c = &status.neurons;
    let mut lines = vec![pair("total", c.total.to_string(), style::title())];
    for (state, n) in [
        (NeuronState::Healthy, c.healthy),
        (NeuronState::Pending, c.pending),
        (NeuronState::Suspect, c.suspect),
        (NeuronState::Offline, c.offline),
        (NeuronState::Degraded, c.degraded),
        (NeuronState::ConfigFailed, c.config_failed),
        (NeuronState::Recovering, c.recovering),
    ] {
        let s = if n == 0 {
            style::dim()
        } else {
            style::state(state)
        };
        lines.push(pair(state.as_str(), n.to_string(), s));
    }
    frame.render_widget(
        Paragraph::new(lines).block(style::block().title(" Neurons by state ")),
        area,
    );
}

fn draw_detections(frame: &mut Frame, area: Rect, status: &StatusReport) {
    let d = &status.detections;
    let total =
        d.offline + d.timeout + d.config_failure + d.analytics_failure + d.byzantine + d.identity;
    let plain = ratatui::style::Style::new();
    let lines = vec![
        pair("total", total.to_string(), style::title()),
        pair("offline", d.offline.to_string(), plain),
        pair("timeout", d.timeout.to_string(), plain),
        pair("config", d.config_failure.to_string(), plain),
        pair("analytics", d.analytics_failure.to_string(), plain),
        pair("byzantine", d.byzantine.to_string(), plain),
        pair("identity", d.identity.to_string(), plain),
        verdict_line(status),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(style::block().title(" Detections ")),
        area,
    );
}

/// How long heartbeats wait for the engine's verdict (p99 over its last 10–20 s): the first figure
/// to grow when a fleet outgrows its engine; red once it reaches a heartbeat interval, when a
/// silent neuron starts to be noticed a beat late.
fn verdict_line(status: &StatusReport) -> Line<'static> {
    let v = &status.verdict_latency;
    if v.heartbeats == 0 {
        return pair("verdict p99", "-".into(), style::dim());
    }
    let late = v.p99_ms >= status.heartbeat_interval_ms;
    let value_style = if late {
        style::error()
    } else {
        ratatui::style::Style::new()
    };
    pair("verdict p99", format!("{} ms", v.p99_ms), value_style)
}

fn draw_recoveries(frame: &mut Frame, area: Rect, status: &StatusReport) {
    let r = &status.recoveries;
    let plain = ratatui::style::Style::new();
    let rate = match r.success_rate {
        Some(rate) if rate >= 0.9 => (format::percent(Some(rate)), style::ok()),
        Some(rate) => (format::percent(Some(rate)), style::error()),
        None => ("-".to_string(), style::dim()),
    };
    let lines = vec![
        pair("attempted", r.attempted.to_string(), plain),
        pair("succeeded", r.succeeded.to_string(), style::ok()),
        pair("escalated", r.escalated.to_string(), plain),
        pair("success rate", rate.0, rate.1),
        pair("failing now", status.failures.len().to_string(), plain),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(style::block().title(" Recoveries ")),
        area,
    );
}

fn draw_failures(frame: &mut Frame, area: Rect, status: &StatusReport) {
    let rows = status.failures.iter().map(|f| {
        let escalated = if f.escalated {
            ratatui::text::Text::styled("yes", style::dangerous())
        } else {
            ratatui::text::Text::raw("no")
        };
        Row::new(vec![
            f.neuron.clone().into(),
            f.mode.as_str().into(),
            format::clock(&f.since).to_string().into(),
            f.attempts.to_string().into(),
            ratatui::widgets::Cell::from(escalated),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Min(7),
            Constraint::Length(8),
            Constraint::Length(4),
            Constraint::Length(4),
        ],
    )
    .header(Row::new(["NEURON", "MODE", "SINCE", "TRY", "ESC"]).style(style::title()))
    .block(style::block().title(format!(" Current failures ({}) ", status.failures.len())));
    frame.render_widget(table, area);
}

fn draw_recent(frame: &mut Frame, area: Rect, status: &StatusReport) {
    let rows = status.recent_recoveries.iter().map(|r| {
        Row::new(vec![
            format::clock(&r.at).to_string().into(),
            r.neuron.clone().into(),
            format!("#{} {}", r.attempt, r.strategy).into(),
            ratatui::widgets::Cell::from(r.outcome.clone()).style(style::outcome(&r.outcome)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Min(6),
            Constraint::Length(9),
        ],
    )
    .header(Row::new(["AT", "NEURON", "ATTEMPT", "OUTCOME"]).style(style::title()))
    .block(style::block().title(" Recent recoveries "));
    frame.render_widget(table, area);
}

/// Sparkline bars in `--ascii` mode.
pub const ASCII_BARS: ratatui::symbols::bar::Set<'static> = ratatui::symbols::bar::Set {
    full: "#",
    seven_eighths: "#",
    three_quarters: "=",
    five_eighths: "=",
    half: "-",
    three_eighths: "-",
    one_quarter: ".",
    one_eighth: ".",
    empty: " ",
};

fn draw_sparkline(frame: &mut Frame, area: Rect, history: &[u64]) {
    // Newest sample at the right edge: keep only the tail that fits.
    let inner = area.width.saturating_sub(2) as usize;
    let tail = &history[history.len().saturating_sub(inner)..];
    let now = history
        .last()
        .map_or_else(|| "-".to_string(), |n| n.to_string());
    let title = format!(" Healthy neurons, last {}s (now {now}) ", tail.len());
    let spark = Sparkline::default()
        .data(tail)
        .style(style::chart_health())
        .bar_set(if style::ascii() {
            ASCII_BARS
        } else {
            ratatui::symbols::bar::NINE_LEVELS
        })
        .block(style::block().title(title));
    frame.render_widget(spark, area);
}

#[cfg(test)]
mod tests {
    use super::verdict_line;
    use crate::tui::views::style;

    fn text(line: &ratatui::text::Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn the_verdict_line_turns_red_at_a_heartbeat_and_says_dash_with_nothing_heard() {
        let mut status = crate::tui::fixtures::status();
        let line = verdict_line(&status);
        assert!(text(&line).ends_with("51 ms"), "{}", text(&line));
        assert_ne!(line.spans[1].style, style::error());
        status.verdict_latency.p99_ms = status.heartbeat_interval_ms;
        assert_eq!(verdict_line(&status).spans[1].style, style::error());
        status.verdict_latency.heartbeats = 0;
        assert!(text(&verdict_line(&status)).trim_end().ends_with('-'));
    }
}
