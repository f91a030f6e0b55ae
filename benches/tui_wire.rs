//! What the console costs on the wire and in reaction time, through the real crossterm backend
//! into a byte-counting writer (no terminal needed):
//! - bytes written per second at 200×50 while 1,000 neurons change every second (target
//!   ≤ 20 KB/s), and while nothing changes (target 0);
//! - keypress-to-frame latency (App::update + draw + flush), median and p99.
//!
//! Run: `cargo bench --bench tui_wire`.

use crossterm::event::{KeyCode, KeyEvent};
use hdrhistogram::Histogram;
use plexus::tui::app::{App, Msg};
use plexus::tui::{draw, fixtures};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const FLEET: usize = 1_000;
const SECONDS: u64 = 60;
/// The event loop polls the fleet four times a second.
const POLLS_PER_SECOND: u64 = 4;

#[derive(Clone)]
struct Counter(Arc<AtomicU64>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn terminal(counter: &Counter) -> Terminal<CrosstermBackend<Counter>> {
    Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 200, 50)),
        },
    )
    .expect("terminal")
}

/// The fleet at second `t`: every neuron has a new heartbeat age and latency.
fn fleet_at(t: u64) -> Arc<Vec<plexus::api::NeuronView>> {
    let mut fleet = fixtures::neurons(FLEET);
    for (i, n) in fleet.iter_mut().enumerate() {
        let i = i as u64;
        if n.last_heartbeat_ms.is_some() {
            n.last_heartbeat_ms = Some((i * 97 + t * 331) % 1_000);
        }
        if n.latency_ms.is_some() {
            n.latency_ms = Some(5.0 + ((i * 31 + t * 17) % 2_000) as f64 / 10.0);
        }
    }
    Arc::new(fleet)
}

fn status_at(t: u64) -> plexus::api::StatusReport {
    let mut s = fixtures::status();
    s.at = format!("2025-03-14T09:{:02}:{:02}Z", 30 + t / 60, t % 60);
    s
}

fn app() -> App {
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(plexus::api::Role::Operator, false));
    app.now_ms = fixtures::NOW_MS;
    app.update(Msg::Resize {
        width: 200,
        height: 50,
    });
    app.update(Msg::Fleet {
        status: Ok(status_at(0)),
        neurons: Ok(fleet_at(0)),
    });
    app
}

/// Feeds `SECONDS` of polls (a new fleet each second when `changing`) and returns bytes/s.
fn bytes_per_second(changing: bool) -> f64 {
    let counter = Counter(Arc::new(AtomicU64::new(0)));
    let mut term = terminal(&counter);
    let mut app = app();
    term.draw(|f| draw(f, &app)).expect("draw");
    counter.0.store(0, Ordering::Relaxed);
    for t in 1..=SECONDS {
        for _ in 0..POLLS_PER_SECOND {
            let (status, neurons) = if changing {
                (status_at(t), fleet_at(t))
            } else {
                (status_at(0), fleet_at(0))
            };
            let out = app.update(Msg::Fleet {
                status: Ok(status),
                neurons: Ok(neurons),
            });
            // The event loop draws only when an update says something visible changed.
            if out.redraw {
                term.draw(|f| draw(f, &app)).expect("draw");
            }
        }
        let mut redraw = app.update(Msg::Tick).redraw;
        redraw |= app
            .update(Msg::Now(fixtures::NOW_MS + t as i64 * 1_000))
            .redraw;
        if redraw {
            term.draw(|f| draw(f, &app)).expect("draw");
        }
    }
    counter.0.load(Ordering::Relaxed) as f64 / SECONDS as f64
}

fn latency() -> (f64, f64, f64) {
    let counter = Counter(Arc::new(AtomicU64::new(0)));
    let mut term = terminal(&counter);
    let mut app = app();
    term.draw(|f| draw(f, &app)).expect("draw");
    let keys = [
        KeyCode::Down,
        KeyCode::Down,
        KeyCode::Up,
        KeyCode::PageDown,
        KeyCode::Char('s'),
        KeyCode::PageUp,
        KeyCode::Char('?'),
        KeyCode::Esc,
    ];
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for i in 0..4_000 {
        let key = keys[i % keys.len()];
        let t = Instant::now();
        let out = app.update(Msg::Key(KeyEvent::from(key)));
        if out.redraw {
            term.draw(|f| draw(f, &app)).expect("draw");
        }
        h.record(t.elapsed().as_nanos() as u64).expect("record");
    }
    (
        h.value_at_quantile(0.5) as f64 / 1e6,
        h.value_at_quantile(0.99) as f64 / 1e6,
        h.max() as f64 / 1e6,
    )
}

fn main() {
    // `cargo test --benches` runs benches with `--bench` absent: keep that quick.
    let changing = bytes_per_second(true);
    let idle = bytes_per_second(false);
    println!(
        "terminal bytes/s at 200x50, {FLEET} neurons changing at 1 Hz: {:.0} B/s ({:.1} KB/s; target <= 20 KB/s)",
        changing,
        changing / 1024.0
    );
    println!("terminal bytes/s at 200x50, nothing changing: {idle:.0} B/s (target 0)");
    let (p50, p99, max) = latency();
    println!(
        "keypress-to-frame (update + draw + flush, 200x50, {FLEET} neurons): median {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms"
    );
}
