//! The neurons table through the app: sorting, selection, paging, the detail screen and the
//! recover dialog, driven by keys as a user would.

use std::cmp::Ordering;
use std::sync::Arc;

use super::*;
use crate::api::{ApiError, CommandReply, NeuronState};
use crate::tui::actions::Scope;
use crate::tui::app::{App, Button, Effect, FLASH_TICKS, FlashKind, Msg, Outcome, View};
use crate::tui::fixtures;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}
fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn app_with(n: usize) -> App {
    let mut app = App::new(fixtures::info());
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(Arc::new(fixtures::neurons(n))),
    });
    app
}

fn ids(app: &App) -> Vec<String> {
    app.screens
        .neurons
        .order
        .iter()
        .map(|&i| app.neurons[i as usize].id.to_string())
        .collect()
}

/// Every column sorts ascending by its own value, and `S` reverses exactly that.
/// The rows in display order.
fn sorted_rows(app: &App) -> Vec<&NeuronView> {
    app.screens
        .neurons
        .order
        .iter()
        .map(|&i| &app.neurons[i as usize])
        .collect()
}

#[test]
fn sorts_by_each_column_both_ways() {
    let mut app = app_with(50);
    for column in Column::ALL {
        app.screens.neurons.sort = Sort {
            column,
            descending: false,
        };
        app.screens.neurons.resort(&app.neurons);
        let rows = sorted_rows(&app);
        for pair in rows.windows(2) {
            assert_ne!(
                column.compare(pair[0], pair[1]),
                Ordering::Greater,
                "{column:?} out of order: {} before {}",
                pair[0].id,
                pair[1].id
            );
        }
        let ascending = ids(&app);
        app.update(ch('S'));
        let rows = sorted_rows(&app);
        for pair in rows.windows(2) {
            assert_ne!(
                column.compare(pair[0], pair[1]),
                Ordering::Less,
                "{column:?} desc"
            );
        }
        assert_ne!(ascending, ids(&app), "{column:?} reversal changed nothing");
    }
}

/// The integer keys order floats like `total_cmp`, negatives and missing values included.
#[test]
fn numeric_keys_order_like_the_comparator() {
    let mut rows = fixtures::neurons(6);
    let values = [
        Some(2.5),
        None,
        Some(-1.0),
        Some(0.0),
        Some(-7.25),
        Some(1e9),
    ];
    for (row, v) in rows.iter_mut().zip(values) {
        row.latency_ms = v;
    }
    for descending in [false, true] {
        let sort = Sort {
            column: Column::Latency,
            descending,
        };
        let got: Vec<Option<f64>> = sorted_order(&rows, sort)
            .iter()
            .map(|&i| rows[i as usize].latency_ms)
            .collect();
        let mut want: Vec<Option<f64>> = values.to_vec();
        want.sort_by(|a, b| {
            let mut x = rows[0].clone();
            let mut y = rows[0].clone();
            x.latency_ms = *a;
            y.latency_ms = *b;
            let o = Column::Latency.compare(&x, &y);
            if descending { o.reverse() } else { o }
        });
        assert_eq!(got, want, "descending {descending}");
    }
}

#[test]
fn s_cycles_through_every_column_and_wraps() {
    let mut app = app_with(5);
    let mut seen = vec![app.screens.neurons.sort.column];
    for _ in 0..Column::ALL.len() {
        app.update(ch('s'));
        seen.push(app.screens.neurons.sort.column);
    }
    assert_eq!(&seen[..8], &Column::ALL);
    assert_eq!(seen[8], Column::Id);
}

#[test]
fn missing_numbers_sort_last() {
    let mut app = app_with(20);
    app.screens.neurons.sort.column = Column::Latency;
    app.screens.neurons.resort(&app.neurons);
    let last = &app.neurons[*app.screens.neurons.order.last().unwrap_or(&0) as usize];
    assert_eq!(last.latency_ms, None);
}

#[test]
fn selection_clamps_when_the_fleet_shrinks() {
    let mut app = app_with(30);
    app.update(key(KeyCode::End));
    assert_eq!(app.screens.neurons.selected, 29);
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(Arc::new(fixtures::neurons(10))),
    });
    assert_eq!(app.screens.neurons.selected, 9);
    assert!(app.screens.neurons.offset <= app.screens.neurons.selected);
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(Arc::new(Vec::new())),
    });
    assert_eq!(app.screens.neurons.selected, 0);
    assert!(app.selected_neuron().is_none());
    // Nothing to open or recover in an empty table.
    assert_eq!(app.update(key(KeyCode::Enter)), Outcome::default());
    assert_eq!(app.update(ch('r')), Outcome::default());
}

#[test]
fn selection_follows_the_neuron_across_a_resort() {
    let mut app = app_with(30);
    app.update(ch('j'));
    app.update(ch('j'));
    let id = app.selected_neuron().map(|n| n.id.clone());
    app.update(ch('S'));
    assert_eq!(app.selected_neuron().map(|n| n.id.clone()), id);
}

#[test]
fn moving_clamps_and_scrolls() {
    let mut app = app_with(1000);
    app.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    let page = app.visible_rows();
    assert!(page > 5);
    app.update(ch('k'));
    assert_eq!(app.screens.neurons.selected, 0);
    app.update(key(KeyCode::PageDown));
    assert_eq!(app.screens.neurons.selected, page);
    assert!(
        app.screens.neurons.selected >= app.screens.neurons.offset
            && app.screens.neurons.selected < app.screens.neurons.offset + page
    );
    app.update(ch('G'));
    assert_eq!(app.screens.neurons.selected, 999);
    assert_eq!(app.screens.neurons.offset, 1000 - page);
    app.update(ch('g'));
    assert_eq!(
        (app.screens.neurons.selected, app.screens.neurons.offset),
        (0, 0)
    );
}

#[test]
fn enter_opens_detail_and_esc_goes_back() {
    let mut app = app_with(10);
    app.update(ch('j'));
    let out = app.update(key(KeyCode::Enter));
    assert_eq!(out.effect, Some(Effect::Refresh));
    assert_eq!(app.view, View::Detail);
    assert_eq!(app.detail_id(), Some("n-0002"));
    // A stale answer for another neuron is ignored.
    let stale = app.update(Msg::Detail {
        id: "n-0009".into(),
        detail: Ok(fixtures::detail("n-0009")),
        logs: Ok(Vec::new()),
    });
    assert!(!stale.redraw);
    app.update(Msg::Detail {
        id: "n-0002".into(),
        detail: Ok(fixtures::detail("n-0002")),
        logs: Ok(fixtures::logs(3)),
    });
    assert!(
        app.screens
            .detail
            .shown
            .as_ref()
            .is_some_and(|d| d.detail.is_some())
    );
    app.update(key(KeyCode::Esc));
    assert_eq!(app.view, View::Neurons);
    assert!(app.screens.detail.shown.is_none());
    assert_eq!(app.detail_id(), None);
}

#[test]
fn overview_and_neurons_are_one_key_away() {
    let mut app = app_with(3);
    assert_eq!(app.view, View::Neurons, "opens on the neurons table");
    app.update(ch('o'));
    assert_eq!(app.view, View::Overview);
    app.update(ch('2'));
    assert_eq!(app.view, View::Neurons);
    app.update(ch('1'));
    assert_eq!(app.view, View::Overview);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.view, View::Neurons);
}

#[test]
fn recover_dialog_opens_on_cancel_and_enter_there_does_nothing() {
    let mut app = app_with(5);
    app.update(ch('j'));
    app.update(ch('r'));
    let dialog = app.confirm.as_ref().map(|c| (c.focus, c.command.clone()));
    assert_eq!(
        dialog,
        Some((
            Button::Cancel,
            Command::Recover {
                neuron: "n-0002".into()
            }
        ))
    );
    // Keys of the table are dead while the dialog is up.
    app.update(ch('j'));
    assert_eq!(app.screens.neurons.selected, 1);
    let out = app.update(key(KeyCode::Enter));
    assert_eq!(out.effect, None);
    assert!(app.confirm.is_none());
}

#[test]
fn confirming_submits_recover_and_esc_cancels() {
    let mut app = app_with(5);
    app.update(ch('r'));
    app.update(key(KeyCode::Tab));
    let out = app.update(key(KeyCode::Enter));
    assert_eq!(
        out.effect,
        Some(Effect::Submit(Command::Recover {
            neuron: "n-0001".into()
        }))
    );
    app.update(ch('r'));
    app.update(key(KeyCode::Right));
    let out = app.update(key(KeyCode::Esc));
    assert_eq!(out.effect, None);
    assert!(app.confirm.is_none());
}

#[test]
fn ctrl_c_quits_even_from_a_dialog() {
    let mut app = app_with(2);
    app.update(ch('r'));
    let out = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(out.effect, Some(Effect::Quit));
    assert_eq!(
        app.update(ch('q')).effect,
        None,
        "q is not quit inside the dialog"
    );
}

#[test]
fn command_results_and_errors_reach_the_flash_line() {
    let mut app = app_with(2);
    let cmd = Command::Recover {
        neuron: "n-0003".into(),
    };
    let out = app.update(Msg::CommandDone(
        cmd.clone(),
        Ok(CommandReply::RecoveryStarted {
            neuron: "n-0003".into(),
            attempt: 1,
            strategy: "restart".into(),
            attempt_id: 1,
        }),
    ));
    assert_eq!(out.effect, Some(Effect::Refresh));
    let text = app.flash.as_ref().map(|f| f.text.clone());
    assert_eq!(
        text.as_deref(),
        Some("recovery #1 started on n-0003: restart")
    );
    app.update(Msg::CommandDone(
        cmd,
        Err(ApiError::unknown_neuron("n-0003")),
    ));
    let flash = app.flash.clone();
    assert!(flash.as_ref().is_some_and(|f| {
        f.kind == FlashKind::Error
            && f.text
                .starts_with("neuron.recover n-0003 failed: unknown neuron")
    }));
    for _ in 0..FLASH_TICKS {
        app.update(Msg::Tick);
    }
    assert!(app.flash.is_none(), "the flash expires");
}

#[test]
fn identical_data_does_not_redraw() {
    let mut app = app_with(5);
    let out = app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(Arc::new(fixtures::neurons(5))),
    });
    assert!(!out.redraw);
    let mut changed = fixtures::neurons(5);
    changed[0].state = NeuronState::Offline;
    let out = app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(Arc::new(changed)),
    });
    assert!(out.redraw);
}

#[test]
fn help_opens_and_any_close_key_closes_it() {
    let mut app = app_with(2);
    app.update(ch('?'));
    assert!(app.help);
    assert_eq!(app.active_scopes(), vec![Scope::Help]);
    app.update(key(KeyCode::Esc));
    assert!(!app.help);
    app.update(ch('?'));
    app.update(ch('?'));
    assert!(!app.help);
}
