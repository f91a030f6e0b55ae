//! Frame cost of the neurons view with a large fleet, and the (not per-frame) sort cost.
//! Target: a 200×50 frame with 100,000 neurons draws in ≤ 2 ms at p99.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use plexus::tui::app::{App, Column, Msg, Sort, sorted_order};
use plexus::tui::{draw, fixtures};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::time::Instant;

const FLEET: usize = 100_000;

fn app() -> App {
    let mut app = App::new(fixtures::info());
    app.update(Msg::Resize {
        width: 200,
        height: 50,
    });
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(fixtures::shared_neurons(FLEET)),
    });
    // Somewhere in the middle, so the window is not the trivial first page.
    app.update(Msg::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::End,
    )));
    app
}

/// Criterion's report gives mean and median; p99 comes from an HDR histogram over many frames.
fn frame_percentiles(app: &App, terminal: &mut Terminal<TestBackend>) {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..2_000 {
        let t = Instant::now();
        terminal.draw(|f| draw(f, app)).expect("draw");
        h.record(t.elapsed().as_nanos() as u64).expect("record");
    }
    println!(
        "neurons frame 200x50, {FLEET} neurons: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        h.value_at_quantile(0.5) as f64 / 1e6,
        h.value_at_quantile(0.99) as f64 / 1e6,
        h.max() as f64 / 1e6
    );
}

fn bench(c: &mut Criterion) {
    let app = app();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    frame_percentiles(&app, &mut terminal);
    c.bench_function("neurons_frame_200x50_100k", |b| {
        b.iter(|| terminal.draw(|f| draw(f, black_box(&app))).map(|_| ()))
    });
    // A full redraw from an empty buffer (what a resize or first frame costs).
    c.bench_function("neurons_frame_200x50_100k_cold", |b| {
        b.iter_batched(
            || Terminal::new(TestBackend::new(200, 50)).expect("terminal"),
            |mut t| t.draw(|f| draw(f, &app)).map(|_| ()),
            BatchSize::SmallInput,
        )
    });
    for column in [Column::Id, Column::State, Column::Latency, Column::Zone] {
        let sort = Sort {
            column,
            descending: false,
        };
        c.bench_function(&format!("sort_100k_by_{column:?}"), |b| {
            b.iter(|| sorted_order(black_box(&app.neurons), sort))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
