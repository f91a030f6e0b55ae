//! One neuron up close: identity and telemetry, the current failure with its evidence, state
//! history, recovery attempts and the log tail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::Shown;
use crate::api::{LogLine, NeuronDetail};
use crate::tui::views::format;
use crate::tui::views::style;

pub fn draw(frame: &mut Frame, area: Rect, shown: Option<&Shown>) {
    let Some(state) = shown else {
        return;
    };
    let Some(detail) = &state.detail else {
        let block = style::block().title(format!(" Neuron {} ", state.id));
        frame.render_widget(
            Paragraph::new(style::sym(" loading…", " loading...")).block(block),
            area,
        );
        return;
    };
    let lists = detail.history.len().max(detail.recovery_attempts.len()) as u16 + 2;
    let [top, middle, logs] = Layout::vertical([
        Constraint::Length(8),
        Constraint::Length(lists.clamp(4, (area.height / 3).max(4))),
        Constraint::Min(3),
    ])
    .areas(area);
    let [info, failure] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    draw_info(frame, info, detail);
    draw_failure(frame, failure, detail);
    let [history, attempts] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(middle);
    draw_history(frame, history, detail);
    draw_attempts(frame, attempts, detail);
    draw_logs(frame, logs, &state.logs);
}

fn field(label: &str, value: String) -> Vec<Span<'static>> {
    vec![
        Span::styled(format!(" {label} "), style::dim()),
        Span::raw(value),
    ]
}

fn draw_info(frame: &mut Frame, area: Rect, d: &NeuronDetail) {
    let n = &d.neuron;
    let mut state = vec![
        Span::styled(" state ", style::dim()),
        Span::styled(n.state.as_str(), style::state(n.state)),
    ];
    if n.escalated {
        state.push(Span::styled(" (escalated)", style::dangerous()));
    }
    state.extend(field(" phi", n.phi_text()));
    let interval = match (d.interval_mean_ms, d.interval_stddev_ms) {
        (Some(mean), Some(sd)) => format!("{mean:.1}ms {} {sd:.1}ms", style::sym("±", "+-")),
        (Some(mean), None) => format!("{mean:.1}ms"),
        _ => "-".into(),
    };
    let labels: Vec<String> = d.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let lines = vec![
        Line::from(state),
        Line::from(
            [
                field("zone", n.zone.to_string()),
                field(" config", n.config_version.to_string()),
                field(" kind", n.kind.to_string()),
            ]
            .concat(),
        ),
        Line::from(
            [
                field("last heartbeat", format::age(n.last_heartbeat_ms)),
                field(" every", format!("{}ms", d.heartbeat_interval_ms)),
            ]
            .concat(),
        ),
        Line::from(field("detector interval", interval)),
        Line::from(
            [
                field("lat", format::millis(n.latency_ms)),
                field(" err", format::percent(n.error_rate)),
                field(" load", format::number(n.load, 2)),
                field(" rps", format::number(n.rps, 0)),
            ]
            .concat(),
        ),
        Line::from(field("labels", labels.join(" "))),
    ];
    let title = Span::styled(format!(" Neuron {} ", n.id), style::title());
    frame.render_widget(
        Paragraph::new(lines).block(style::block().title(title)),
        area,
    );
}

fn draw_failure(frame: &mut Frame, area: Rect, d: &NeuronDetail) {
    let block = style::block().title(" Current failure ");
    let Some(f) = &d.failure else {
        frame.render_widget(
            Paragraph::new(Line::styled(" none", style::ok())).block(block),
            area,
        );
        return;
    };
    let escalated = if f.escalated {
        Span::styled("escalated", style::dangerous())
    } else {
        Span::raw("not escalated")
    };
    let lines = vec![
        Line::from(field("mode", f.mode.as_str().to_string())).style(style::error()),
        Line::from(field("since", format::clock(&f.since).to_string())),
        Line::from(
            [
                field("attempts", f.attempts.to_string()),
                vec![Span::raw(", "), escalated],
            ]
            .concat(),
        ),
        Line::from(field("evidence", f.evidence.clone())),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

fn draw_history(frame: &mut Frame, area: Rect, d: &NeuronDetail) {
    // Newest first: the latest transition is the one that matters.
    let lines: Vec<Line> = d
        .history
        .iter()
        .rev()
        .map(|c| {
            Line::from(vec![
                Span::styled(format!(" {} ", format::clock(&c.at)), style::dim()),
                Span::styled(c.from.as_str(), style::state(c.from)),
                Span::raw(style::sym(" → ", " -> ")),
                Span::styled(c.to.as_str(), style::state(c.to)),
                Span::styled(format!("  {}", c.reason), style::dim()),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(style::block().title(" State history ")),
        area,
    );
}

fn draw_attempts(frame: &mut Frame, area: Rect, d: &NeuronDetail) {
    let lines: Vec<Line> = d
        .recovery_attempts
        .iter()
        .rev()
        .map(|a| {
            let how = if a.manual { "manual" } else { "auto" };
            Line::from(vec![
                Span::raw(format!(" #{} {} ", a.attempt, a.strategy)),
                Span::styled(a.outcome.clone(), style::outcome(&a.outcome)),
                Span::styled(
                    format!(" {how} {}", format::clock(&a.started)),
                    style::dim(),
                ),
            ])
        })
        .collect();
    let body = if lines.is_empty() {
        vec![Line::styled(" none", style::dim())]
    } else {
        lines
    };
    frame.render_widget(
        Paragraph::new(body).block(style::block().title(" Recovery attempts ")),
        area,
    );
}

fn level_style(level: &str) -> Style {
    match level {
        "ERROR" | "error" => style::error(),
        "WARN" | "warn" => style::warning_text(),
        _ => style::dim(),
    }
}

fn draw_logs(frame: &mut Frame, area: Rect, logs: &[LogLine]) {
    // A tail: the newest lines that fit, oldest at the top.
    let fit = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = logs[logs.len().saturating_sub(fit)..]
        .iter()
        .map(|l| {
            Line::from(vec![
                Span::styled(format!(" {} ", format::clock(&l.at)), style::dim()),
                Span::styled(format!("{:<5} ", l.level), level_style(&l.level)),
                Span::raw(l.message.clone()),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(style::block().title(format!(" Logs (last {}) ", logs.len()))),
        area,
    );
}
