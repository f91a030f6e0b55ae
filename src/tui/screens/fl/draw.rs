//! The FL view: the newest run's loss and accuracy over rounds (charts), its round progress
//! (gauge), who took part, dropped out and was excluded (with the rule's score), the convergence
//! state, the learning rate, and the rule, attack and mode it runs with.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, Gauge, GraphType, Paragraph};

use super::Fl;
use crate::api::fl::FlRound;
use crate::api::fl_run::{FlRunState, FlRunView};
use crate::tui::views::style;

fn state_style(state: FlRunState) -> Style {
    match state {
        FlRunState::Running => style::info(),
        FlRunState::Finished => style::ok(),
        FlRunState::Stopped => style::warning(),
        FlRunState::Failed => style::error(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, fl: &Fl) {
    let (Some(run), Some(detail)) = (fl.shown(), fl.detail.as_ref()) else {
        let text = match &fl.runs {
            None => style::sym("loading FL runs…", "loading FL runs..."),
            Some(_) => "no FL runs yet: press s, or `:fl start --rule krum --byzantine 0.2`",
        };
        let p = Paragraph::new(text)
            .style(style::dim())
            .block(style::block().title(" Federated learning "));
        frame.render_widget(p, area);
        return;
    };
    let history = &detail.history;
    let [head, gauge, charts, rounds] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length((area.height / 4).clamp(5, 14)),
    ])
    .areas(area);
    draw_head(frame, head, run);
    let ratio = if run.rounds == 0 {
        0.0
    } else {
        (run.round as f64 / run.rounds as f64).clamp(0.0, 1.0)
    };
    let g = Gauge::default()
        .ratio(ratio)
        .label(format!("round {}/{}", run.round, run.rounds))
        .gauge_style(state_style(run.state))
        .use_unicode(!style::ascii());
    frame.render_widget(g, gauge);
    let [loss_area, acc_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    let loss: Vec<(f64, f64)> = history
        .iter()
        .filter(|r| r.loss.is_finite())
        .map(|r| (r.round as f64, r.loss))
        .collect();
    let acc: Vec<(f64, f64)> = history
        .iter()
        .map(|r| (r.round as f64, r.accuracy * 100.0))
        .collect();
    let top_loss = loss.iter().map(|p| p.1).fold(0.0, f64::max).max(0.1);
    // Accuracy from the nearest ten below its lowest point, so the late rounds are not flat.
    let low_acc = acc.iter().map(|p| p.1).fold(100.0, f64::min);
    let floor = ((low_acc - 5.0) / 10.0).floor().clamp(0.0, 9.0) * 10.0;
    let x = run.rounds;
    chart(
        frame,
        loss_area,
        " Loss ",
        &loss,
        x,
        [0.0, top_loss],
        style::warning(),
    );
    chart(
        frame,
        acc_area,
        " Accuracy % ",
        &acc,
        x,
        [floor, 100.0],
        style::ok(),
    );
    draw_rounds(frame, rounds, history);
    if style::ascii() {
        asciify(frame, gauge.union(charts));
    }
}

/// ratatui draws gauges and chart axes with box-drawing glyphs; `--ascii` wants plain ones.
fn asciify(frame: &mut Frame, area: Rect) {
    let buf = frame.buffer_mut();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &mut buf[(x, y)];
            let plain = match cell.symbol() {
                s if s.is_ascii() => continue,
                "│" => "|",
                "─" => "-",
                "└" | "┌" | "┐" | "┘" => "+",
                "•" => "*",
                _ => "#",
            };
            cell.set_symbol(plain);
        }
    }
}

fn draw_head(frame: &mut Frame, area: Rect, run: &FlRunView) {
    let dot = style::sym(" · ", " - ");
    let s = &run.spec;
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |a| format!("{:.1}%", a * 100.0));
    let mut first = vec![
        Span::styled(format!("{} ", run.id), style::title()),
        Span::styled(run.state.as_str(), state_style(run.state)),
        Span::raw(format!(
            "{dot}{}{dot}{} {:.0}%{dot}{}{dot}{} on {} neurons{}{dot}by {}",
            s.rule,
            s.attack,
            s.byzantine * 100.0,
            s.mode,
            s.dataset,
            run.clients,
            match run.agents.len() {
                0 => String::new(),
                n => format!(" ({n} real agent{}: {})", plural(n), run.agents.join(", ")),
            },
            run.started_by
        )),
    ];
    if run.diverged {
        first.push(Span::styled(" DIVERGED ", style::error()));
    }
    let second = Line::from(vec![
        Span::raw(format!(
            "loss {}{dot}accuracy {}{dot}learning rate {}{dot}",
            run.loss.map_or("-".into(), |l| format!("{l:.3}")),
            pct(run.accuracy),
            run.learning_rate.map_or("-".into(), |l| format!("{l:.4}")),
        )),
        Span::styled(
            run.convergence.clone(),
            if run.convergence.starts_with("converged") {
                style::ok()
            } else {
                style::dim()
            },
        ),
        Span::raw(match run.final_accuracy {
            Some(a) => format!("{dot}final {:.1}%", a * 100.0),
            None => String::new(),
        }),
    ]);
    let p = Paragraph::new(vec![Line::from(first), second])
        .block(style::block().title(" Federated learning "));
    frame.render_widget(p, area);
}

fn chart(
    frame: &mut Frame,
    area: Rect,
    title: &'static str,
    points: &[(f64, f64)],
    rounds: u32,
    y: [f64; 2],
    colour: Style,
) {
    let marker = if style::ascii() {
        Marker::Dot
    } else {
        Marker::Braille
    };
    let data = [Dataset::default()
        .marker(marker)
        .graph_type(GraphType::Line)
        .style(colour)
        .data(points)];
    let x_max = rounds.max(1) as f64;
    let c = Chart::new(data.to_vec())
        .block(style::block().title(title))
        .x_axis(
            Axis::default()
                .bounds([1.0, x_max])
                .labels(["1".to_string(), format!("{}", rounds.max(1))])
                .style(style::dim()),
        )
        .y_axis(
            Axis::default()
                .bounds(y)
                .labels([format!("{:.0}", y[0]), format!("{:.1}", y[1])])
                .style(style::dim()),
        );
    frame.render_widget(c, area);
}

fn draw_rounds(frame: &mut Frame, area: Rect, history: &[FlRound]) {
    let dot = style::sym(" · ", " - ");
    let lines: Vec<Line> = history
        .iter()
        .rev()
        .take(area.height.saturating_sub(2) as usize)
        .map(|r| {
            let excluded: Vec<String> = r
                .excluded_with_scores()
                .map(|(neuron, score)| match score {
                    Some(s) => format!("{neuron} ({s:.1})"),
                    None => neuron.to_string(),
                })
                .collect();
            let agents = match r.agents {
                0 => String::new(),
                n => format!(" ({n} agent{})", plural(n as usize)),
            };
            let mut spans = vec![Span::raw(format!(
                "round {:>3}{dot}{} in{agents}{dot}{} dropped{dot}",
                r.round, r.participants, r.dropped
            ))];
            if excluded.is_empty() {
                spans.push(Span::styled("none excluded", style::dim()));
            } else {
                spans.push(Span::styled(
                    format!("excluded {}", excluded.join(", ")),
                    style::warning(),
                ));
            }
            Line::from(spans)
        })
        .collect();
    let p = Paragraph::new(lines).block(style::block().title(" Rounds (newest first) "));
    frame.render_widget(p, area);
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
