//! The rollouts view: the fleet's config version and drift, the rollouts newest first, and the
//! selected one in full: its waves, each neuron's step, and why it rolled back.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::Rollouts;
use crate::api::rollout::{RolloutPhase, RolloutView, TargetStep};
use crate::tui::views::style;

fn phase_style(phase: RolloutPhase) -> Style {
    match phase {
        RolloutPhase::Committed | RolloutPhase::Ended => style::ok(),
        RolloutPhase::Aborted | RolloutPhase::RolledBack => style::error(),
        RolloutPhase::Reverting => style::warning(),
        _ => style::info(),
    }
}

fn step_style(step: TargetStep) -> Style {
    match step {
        TargetStep::Committed | TargetStep::Staged => style::ok(),
        TargetStep::Nacked | TargetStep::CommitFailed => style::error(),
        TargetStep::Reverting | TargetStep::Reverted | TargetStep::Aborted => style::warning(),
        _ => style::dim(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &Rollouts) {
    let Some(report) = &state.report else {
        let text = Paragraph::new(style::sym("loading rollouts…", "loading rollouts..."))
            .block(style::block().title(" Rollouts "));
        frame.render_widget(text, area);
        return;
    };
    let drift = report.versions.len() > 1;
    let versions: Vec<String> = report
        .versions
        .iter()
        .map(|v| format!("{}{}{}", v.version, style::sym(" ×", " x"), v.neurons))
        .collect();
    let mut title = vec![Span::styled(
        format!(
            " Rollouts {dot} fleet config {} {dot} running {} ",
            report.head,
            versions.join(", "),
            dot = style::sym("·", "-")
        ),
        style::title(),
    )];
    if drift {
        title.push(Span::styled(" DRIFT ", style::warning()));
    }
    let list_height = (report.rollouts.len() as u16 + 3).clamp(4, area.height / 3 + 2);
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Length(list_height), Constraint::Min(0)]).areas(area);
    let rows: Vec<Row> = report
        .rollouts
        .iter()
        .rev()
        .map(|s| {
            Row::new(vec![
                Cell::from(format!("r-{}", s.id)),
                Cell::from(format!(
                    "{}{}{}",
                    s.replaces,
                    style::sym(" → ", " -> "),
                    s.version
                )),
                Cell::from(s.selector.clone()),
                Cell::from(s.targets.to_string()),
                Cell::from(format!("{}/{}", s.wave, s.waves)),
                Cell::from(s.phase.as_str()).style(phase_style(s.phase)),
                Cell::from(s.by.clone()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(6),
        Constraint::Length(10),
        Constraint::Length(14),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Min(6),
    ];
    let header = Row::new([
        "ID", "VERSION", "SELECTOR", "TARGETS", "WAVE", "PHASE", "BY",
    ])
    .style(style::dim());
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(style::selected())
        .block(style::block().title(Line::from(title)));
    let mut table_state = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(table, list_area, &mut table_state);
    match &state.detail {
        Some(view) => draw_detail(frame, detail_area, view),
        None => frame.render_widget(
            Paragraph::new(if report.rollouts.is_empty() {
                "no rollouts yet: `:broadcast FILE` or `plexus broadcast config FILE`"
            } else {
                style::sym("loading…", "loading...")
            })
            .style(style::dim())
            .block(style::block()),
            detail_area,
        ),
    }
}

fn draw_detail(frame: &mut Frame, area: Rect, view: &RolloutView) {
    let s = &view.summary;
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("r-{} ", s.id), style::title()),
        Span::raw(format!(
            "{}{}{} {} ",
            s.replaces,
            style::sym(" → ", " -> "),
            s.version,
            style::sym("·", "-")
        )),
        Span::styled(s.phase.as_str(), phase_style(s.phase)),
        Span::raw(format!(
            " {dot} wave {}/{} {dot} model {} {dot} by {}",
            s.wave,
            s.waves,
            view.config.model,
            s.by,
            dot = style::sym("·", "-")
        )),
    ])];
    if let Some(cause) = &s.cause {
        lines.push(Line::from(vec![
            Span::styled("cause: ", style::error()),
            Span::raw(cause.clone()),
        ]));
    }
    let [head, table_area] =
        Layout::vertical([Constraint::Length(lines.len() as u16), Constraint::Min(0)])
            .areas(style::block().inner(area));
    frame.render_widget(style::block().title(" Waves and neurons "), area);
    frame.render_widget(Paragraph::new(lines), head);
    let rows: Vec<Row> = view
        .targets
        .iter()
        .map(|t| {
            Row::new(vec![
                Cell::from(t.wave.to_string()),
                Cell::from(t.neuron.clone()),
                Cell::from(t.from.clone()),
                Cell::from(t.step.as_str()).style(step_style(t.step)),
                Cell::from(t.detail.clone()).style(style::dim()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(5),
        Constraint::Length(10),
        Constraint::Length(6),
        Constraint::Length(13),
        Constraint::Min(10),
    ];
    let header = Row::new(["WAVE", "NEURON", "FROM", "STEP", "DETAIL"]).style(style::dim());
    frame.render_widget(Table::new(rows, widths).header(header), table_area);
}
