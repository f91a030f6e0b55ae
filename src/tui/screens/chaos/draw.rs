//! The Chaos view: the console's experiment on top (progress, its timeline, the hypothesis per
//! phase, the verdict), and every fault the engine holds or held below, with detect and recover
//! times filling in as the experiment's monitor sees them.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::Chaos;
use crate::api::Millis;
use crate::experiment::Verdict;
use crate::experiment::progress::{Phase, Progress};
use crate::tui::views::style;

pub fn draw(frame: &mut Frame, area: Rect, state: &Chaos) {
    let faults_area = match &state.experiment {
        Some(p) => {
            // Borders, gauge and table headers take 7 rows; then one per step or probe.
            let rows = (p.steps.len().max(p.probes.len() + p.reasons.len()) as u16).min(10);
            let [top, bottom] =
                Layout::vertical([Constraint::Length(rows + 7), Constraint::Min(0)]).areas(area);
            draw_experiment(frame, top, p);
            bottom
        }
        None => area,
    };
    draw_faults(frame, faults_area, state);
}

fn secs(ms: Millis) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

fn opt(ms: Option<Millis>) -> String {
    ms.map_or_else(|| style::sym("—", "-").to_string(), secs)
}

fn verdict_text(p: &Progress) -> (String, Style) {
    match p.verdict {
        None => ("running".into(), style::info()),
        Some(Verdict::Ok) => ("ok".into(), style::ok()),
        Some(Verdict::Deviated) => ("deviated".into(), style::error()),
        Some(Verdict::Aborted) => ("aborted".into(), style::warning()),
    }
}

fn draw_experiment(frame: &mut Frame, area: Rect, p: &Progress) {
    let dot = style::sym("·", "-");
    let (verdict, verdict_style) = verdict_text(p);
    let title = Line::from(vec![
        Span::styled(format!(" Experiment {dot} {} ", p.title), style::title()),
        Span::styled(format!(" {verdict} "), verdict_style),
    ]);
    let block = style::block().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [gauge, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    // The deadline is a bound, not a length: an experiment that ended early is complete.
    let ended = p.verdict.is_some();
    let ratio = if ended {
        1.0
    } else {
        (p.now_ms as f64 / p.deadline_ms.max(1) as f64).clamp(0.0, 1.0)
    };
    let width = gauge.width.saturating_sub(2) as usize;
    let filled = ((width as f64) * ratio).round() as usize;
    let mut head = vec![Line::from(if ended {
        format!(
            " ended at t={} ({verdict}; at most {} was allowed)",
            secs(p.now_ms),
            secs(p.deadline_ms)
        )
    } else {
        format!(
            " t={} of at most {} (method, then recovery)",
            secs(p.now_ms),
            secs(p.deadline_ms)
        )
    })];
    head.push(Line::from(vec![
        Span::raw(" "),
        Span::styled(style::sym("█", "#").repeat(filled), verdict_style),
        Span::styled(style::sym("░", ".").repeat(width - filled), style::dim()),
    ]));
    frame.render_widget(Paragraph::new(head), gauge);
    let [timeline, hypothesis] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
    draw_timeline(frame, timeline, p);
    draw_hypothesis(frame, hypothesis, p);
}

fn draw_timeline(frame: &mut Frame, area: Rect, p: &Progress) {
    let rows: Vec<Row> = p
        .steps
        .iter()
        .map(|s| {
            let (ran, ran_style) = match &s.fault {
                Some(id) => (id.clone(), style::ok()),
                None => ("pending".into(), style::dim()),
            };
            Row::new(vec![
                Cell::from(format!("+{}", secs(s.at_ms))),
                Cell::from(s.kind.clone()),
                Cell::from(s.target.clone()),
                Cell::from(secs(s.for_ms)),
                Cell::from(ran).style(ran_style),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(13),
        Constraint::Length(6),
        Constraint::Min(7),
    ];
    let header = Row::new(["AT", "KIND", "TARGET", "FOR", "RAN"]).style(style::dim());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(style::block().title(" Method ")),
        area,
    );
}

fn phase(p: Phase) -> &'static str {
    match p {
        Phase::Before => "before",
        Phase::During => "during",
        Phase::After => "after",
    }
}

fn draw_hypothesis(frame: &mut Frame, area: Rect, p: &Progress) {
    let mut rows: Vec<Row> = p
        .probes
        .iter()
        .map(|s| {
            let (word, word_style) = if s.result.holds {
                ("ok", style::ok())
            } else {
                ("violated", style::error())
            };
            Row::new(vec![
                Cell::from(phase(s.phase)),
                Cell::from(s.result.probe.clone()),
                Cell::from(format!("{:.3}", s.result.value)),
                Cell::from(word).style(word_style),
            ])
        })
        .collect();
    // Why it deviated or aborted, under the probes.
    rows.extend(p.reasons.iter().map(|r| {
        Row::new(vec![
            Cell::from(""),
            Cell::from(r.clone()).style(style::error()),
        ])
    }));
    let widths = [
        Constraint::Length(7),
        Constraint::Min(20),
        Constraint::Length(7),
        Constraint::Length(9),
    ];
    let header = Row::new(["PHASE", "PROBE (TOLERANCE)", "VALUE", "STATE"]).style(style::dim());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(style::block().title(" Steady-state hypothesis ")),
        area,
    );
}

fn draw_faults(frame: &mut Frame, area: Rect, state: &Chaos) {
    if state.faults.is_empty() {
        let text = if state.loaded {
            " No faults yet. Run an experiment: s, or :chaos run NAME (single-crash, \
             zone-partition, ...)\n Inject a drill: :chaos inject KIND TARGET [DURATION]"
        } else {
            " asking for the engine's faults..."
        };
        frame.render_widget(
            Paragraph::new(text).block(style::block().title(" Faults ")),
            area,
        );
        return;
    }
    // Narrow terminals drop the neuron count, the planned end and how it was reverted.
    let narrow = area.width < 110;
    let keep = |i: usize| !(narrow && (i == 3 || i == 5));
    let rows: Vec<Row> = state
        .rows()
        .iter()
        .map(|r| {
            let f = r.view;
            let reverted = match (f.reverted_ms, narrow) {
                (Some(ms), false) => format!("{} {}", secs(ms), f.reverted_by),
                (Some(ms), true) => secs(ms),
                (None, _) => "active".into(),
            };
            let reverted_style = if f.active() {
                style::warning()
            } else {
                Style::default()
            };
            let since = |at: Option<u64>| at.map(|t| t.saturating_sub(f.injected_ms));
            let (ttd, ttr) = (opt(since(r.detected_ms())), opt(since(r.recovered_ms())));
            let cells = [
                Cell::from(f.id.clone()),
                Cell::from(f.kind.to_string()),
                Cell::from(f.target.clone()),
                Cell::from(f.neurons.len().to_string()),
                Cell::from(secs(f.injected_ms)),
                Cell::from(opt(f.until_ms)),
                Cell::from(opt(r.detected_ms())),
                Cell::from(reverted).style(reverted_style),
                Cell::from(opt(r.recovered_ms())),
                Cell::from(ttd).style(style::info()),
                Cell::from(ttr).style(style::info()),
            ];
            Row::new(
                cells
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| keep(*i))
                    .map(|(_, c)| c),
            )
        })
        .collect();
    let columns = [
        ("ID", 5),
        ("KIND", 11),
        ("TARGET", 12),
        ("N", 4),
        ("INJECTED", 8),
        ("UNTIL", 8),
        ("DETECTED", 8),
        ("REVERTED", if narrow { 8 } else { 15 }),
        ("RECOVERED", 9),
        ("TTD", 6),
        ("TTR", 6),
    ];
    let kept = || {
        columns
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, c)| *c)
    };
    let widths: Vec<Constraint> = kept().map(|(_, w)| Constraint::Length(w)).collect();
    let header = Row::new(kept().map(|(h, _)| h)).style(style::dim());
    let active = state.faults.iter().filter(|f| f.active()).count();
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(style::selected())
        .block(style::block().title(format!(
            " Faults {} {active} active (engine time) ",
            style::sym("·", "-")
        )));
    let mut table_state = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
