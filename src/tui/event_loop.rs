//! Wires the outside world to the app: terminal input (crossterm `EventStream`), polling the
//! backend (~4 Hz fleet, 1 Hz history), backend events (each one triggers a refresh) and command
//! results. Backend calls run in tasks so a slow backend never freezes the keys. The screen is
//! drawn only when an update says something visible changed.

use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEvent, MouseEventKind};
use futures_util::StreamExt;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::time::{MissedTickBehavior, interval};

use super::TuiOptions;
use super::app::{App, Effect, LOG_TAIL, Msg};
use super::views;
use crate::api::Command;
use crate::client::{Backend, BackendExt};

/// Status and neurons in one message, so the header counts and the table agree.
pub async fn fetch_fleet(backend: &dyn Backend) -> Msg {
    let (status, neurons) = tokio::join!(backend.status(), backend.neurons());
    Msg::Fleet { status, neurons }
}

pub async fn fetch_detail(backend: &dyn Backend, id: String) -> Msg {
    let (detail, logs) = tokio::join!(backend.neuron(&id), backend.logs(&id, LOG_TAIL));
    Msg::Detail { id, detail, logs }
}

pub async fn fetch_history(backend: &dyn Backend) -> Msg {
    Msg::History(backend.health_history().await)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub async fn submit(backend: &dyn Backend, command: Command) -> Msg {
    let result = match &command {
        // A stress run lives beside the engine, not in it: stopping goes to where it runs
        // (which still passes the gate first).
        Command::StressStop { test_id } => backend.stress_stop(test_id).await,
        _ => backend.submit(command.clone()).await,
    };
    Msg::CommandDone(command, result)
}

/// The console's experiment task: cancelling it runs its rollbacks before it ends.
struct Experiment {
    cancel: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Experiment {
    fn start(backend: &Arc<dyn Backend>, name: String, tx: &mpsc::UnboundedSender<Msg>) -> Self {
        let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        let (b, tx) = (Arc::clone(backend), tx.clone());
        let task = tokio::spawn(async move {
            let cancel = async {
                // A dropped sender is no cancel: only an explicit abort is.
                if cancelled.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            super::screens::chaos::run::run_experiment(b.as_ref(), &name, cancel, &tx).await;
        });
        Experiment {
            cancel: Some(cancel),
            task,
        }
    }

    fn abort(&mut self) {
        if let Some(c) = self.cancel.take() {
            let _ = c.send(());
        }
    }

    /// On quit: abort and give the rollbacks a bounded time to stop what the run holds.
    async fn wind_down(mut self) {
        self.abort();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

/// Keeps at most one fleet refresh in flight; asks made meanwhile collapse into one more.
struct Refresher {
    in_flight: bool,
    again: bool,
}

impl Refresher {
    fn request(&mut self, backend: &Arc<dyn Backend>, app: &App, tx: &mpsc::UnboundedSender<Msg>) {
        if self.in_flight {
            self.again = true;
            return;
        }
        self.in_flight = true;
        self.again = false;
        let backend = Arc::clone(backend);
        let detail = app.detail_id().map(str::to_string);
        let tx = tx.clone();
        tokio::spawn(async move {
            if let Some(id) = detail {
                // Send errors only mean the loop has ended; nothing to do then.
                let _ = tx.send(fetch_detail(backend.as_ref(), id).await);
            }
            let _ = tx.send(fetch_fleet(backend.as_ref()).await);
        });
    }

    /// Called when a fleet answer arrived; returns whether another refresh is owed.
    fn finished(&mut self) -> bool {
        self.in_flight = false;
        self.again
    }
}

/// The shown screen's own data.
fn spawn_screen(backend: &Arc<dyn Backend>, app: &App, tx: &mpsc::UnboundedSender<Msg>) {
    if let Some(fetch) = app.screens.get(app.view).fetch(Arc::clone(backend)) {
        spawn(tx, fetch);
    }
}

fn spawn<F>(tx: &mpsc::UnboundedSender<Msg>, task: F)
where
    F: Future<Output = Msg> + Send + 'static,
{
    let tx = tx.clone();
    tokio::spawn(async move {
        let _ = tx.send(task.await);
    });
}

fn terminal_msg(event: TermEvent) -> Option<Msg> {
    match event {
        TermEvent::Key(key) => Some(Msg::Key(key)),
        TermEvent::Resize(width, height) => Some(Msg::Resize { width, height }),
        // With the mouse captured, the wheel scrolls like the arrow keys.
        TermEvent::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Msg::Key(KeyEvent::from(KeyCode::Up))),
            MouseEventKind::ScrollDown => Some(Msg::Key(KeyEvent::from(KeyCode::Down))),
            _ => None,
        },
        _ => None,
    }
}

fn set_mouse(on: bool) -> std::io::Result<()> {
    use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    if on {
        crossterm::execute!(std::io::stdout(), EnableMouseCapture)
    } else {
        crossterm::execute!(std::io::stdout(), DisableMouseCapture)
    }
}

pub async fn run(
    terminal: &mut ratatui::DefaultTerminal,
    backend: Arc<dyn Backend>,
    opts: &TuiOptions,
) -> color_eyre::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new(backend.info());
    app.configure(opts);
    app.session = backend.session();
    app.now_ms = now_ms();
    if app.mouse {
        set_mouse(true)?;
    }
    let size = terminal.size()?;
    app.update(Msg::Resize {
        width: size.width,
        height: size.height,
    });

    let mut input = EventStream::new();
    let mut events = backend.subscribe();
    let mut events_open = true;
    let mut poll = interval(Duration::from_millis(opts.tick_ms.max(50)));
    poll.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut slow = interval(Duration::from_secs(1));
    slow.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut refresher = Refresher {
        in_flight: false,
        again: false,
    };
    let mut experiment: Option<Experiment> = None;
    let ending = super::terminal::ending_signal();
    tokio::pin!(ending);
    let mut redraw = true;
    // Frames are drawn at most `max_fps` times a second; a change inside the gap waits for it.
    let frame_gap = Duration::from_secs_f64(1.0 / f64::from(opts.max_fps.max(1)));
    let mut last_frame = tokio::time::Instant::now() - frame_gap;

    loop {
        let due = last_frame + frame_gap;
        if redraw && tokio::time::Instant::now() >= due {
            terminal.draw(|frame| views::draw(frame, &app))?;
            redraw = false;
            last_frame = tokio::time::Instant::now();
        }
        let msg = tokio::select! {
            _ = tokio::time::sleep_until(due), if redraw => continue,
            input_event = input.next() => match input_event {
                Some(Ok(event)) => match terminal_msg(event) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(msg) = rx.recv() => {
                if matches!(msg, Msg::Fleet { .. }) {
                    // Fleet data is aged against the clock at its arrival (see App::stale).
                    redraw |= app.update(Msg::Now(now_ms())).redraw;
                    if refresher.finished() {
                        refresher.request(&backend, &app, &tx);
                    }
                }
                msg
            }
            _ = poll.tick() => {
                refresher.request(&backend, &app, &tx);
                continue;
            }
            _ = slow.tick() => {
                let b = Arc::clone(&backend);
                spawn(&tx, async move { fetch_history(b.as_ref()).await });
                spawn_screen(&backend, &app, &tx);
                redraw |= app.update(Msg::Now(now_ms())).redraw;
                // A remote backend's connection state shows in the header.
                let info = backend.info();
                if info != app.info {
                    app.info = info;
                    redraw = true;
                }
                Msg::Tick
            }
            event = events.recv(), if events_open => {
                match event {
                    // A lagged receiver resyncs the same way: by refreshing.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        refresher.request(&backend, &app, &tx);
                    }
                    Err(broadcast::error::RecvError::Closed) => events_open = false,
                }
                continue;
            }
            // SIGINT, SIGTERM or SIGHUP from outside (raw mode turns the Ctrl-C key into a key
            // event instead): end through the normal exit, which restores the terminal.
            _ = &mut ending => {
                if let Some(e) = experiment.take() {
                    e.wind_down().await;
                }
                return Ok(());
            }
        };
        let outcome = app.update(msg);
        redraw |= outcome.redraw;
        match outcome.effect {
            None => {}
            Some(Effect::Quit) => {
                if let Some(e) = experiment.take() {
                    e.wind_down().await;
                }
                return Ok(());
            }
            Some(Effect::Refresh) => {
                refresher.request(&backend, &app, &tx);
                spawn_screen(&backend, &app, &tx);
            }
            Some(Effect::Submit(command)) => {
                let b = Arc::clone(&backend);
                spawn(&tx, async move { submit(b.as_ref(), command).await });
            }
            Some(Effect::RenewSession) => {
                let b = Arc::clone(&backend);
                spawn(
                    &tx,
                    async move { Msg::SessionRenewed(b.renew_session().await) },
                );
            }
            Some(Effect::Copy(text)) => {
                let mut out = std::io::stdout();
                out.write_all(super::osc52::sequence(&text).as_bytes())?;
                out.flush()?;
            }
            Some(Effect::SetMouse(on)) => set_mouse(on)?,
            Some(Effect::Suspend) => {
                super::terminal::suspend(terminal, app.mouse)?;
                redraw = true;
            }
            Some(Effect::StartStress(request)) => {
                let b = Arc::clone(&backend);
                spawn(&tx, async move {
                    Msg::StressStarted(b.stress_start(request).await)
                });
            }
            // The app refuses a second run while one is alive; a finished task is replaced.
            Some(Effect::RunExperiment(name))
                if experiment.as_ref().is_none_or(|e| e.task.is_finished()) =>
            {
                experiment = Some(Experiment::start(&backend, name, &tx));
            }
            Some(Effect::RunExperiment(_)) => {}
            Some(Effect::AbortExperiment) => {
                if let Some(e) = experiment.as_mut() {
                    e.abort();
                }
            }
        }
    }
}
