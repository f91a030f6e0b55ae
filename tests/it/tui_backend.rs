//! The app driven against a fake `Backend` (canned data, a recorder of submitted commands), the
//! way the event loop drives it: keys in, effects out, effects run against the backend, results
//! fed back.

use async_trait::async_trait;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

use plexus::api::{ApiError, Command, CommandReply, ErrorCode, EventEnvelope, Query, QueryReply};
use plexus::client::{Backend, BackendInfo};
use plexus::tui::app::{App, Effect, Msg, View};
use plexus::tui::event_loop::{fetch_detail, fetch_fleet, fetch_history, submit};
use plexus::tui::fixtures;

struct FakeBackend {
    submitted: Mutex<Vec<Command>>,
    events: broadcast::Sender<EventEnvelope>,
    /// Neurons the gate refuses to recover.
    denied: Vec<String>,
}

impl FakeBackend {
    fn new() -> Self {
        FakeBackend {
            submitted: Mutex::new(Vec::new()),
            events: broadcast::channel(16).0,
            denied: vec!["n-0004".into()],
        }
    }
    fn submitted(&self) -> Vec<Command> {
        self.submitted.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Backend for FakeBackend {
    fn info(&self) -> BackendInfo {
        fixtures::info()
    }
    async fn submit(&self, command: Command) -> Result<CommandReply, ApiError> {
        if let Ok(mut log) = self.submitted.lock() {
            log.push(command.clone());
        }
        let Command::Recover { neuron } = command else {
            return Err(ApiError::bad_input("the fake backend only recovers"));
        };
        if self.denied.contains(&neuron) {
            return Err(ApiError::new(
                ErrorCode::Denied,
                "role viewer may not recover neurons",
            ));
        }
        Ok(CommandReply::RecoveryStarted {
            neuron,
            attempt: 1,
            strategy: "restart".into(),
            attempt_id: 1,
        })
    }
    async fn query(&self, query: Query) -> Result<QueryReply, ApiError> {
        Ok(fixtures::answer(query, 10))
    }
    fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.events.subscribe()
    }
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Feeds a key and runs its effect the way the event loop does.
async fn press(app: &mut App, backend: &FakeBackend, code: KeyCode) {
    let mut next = Some(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    while let Some(msg) = next.take() {
        next = match app.update(msg).effect {
            Some(Effect::Submit(command)) => Some(submit(backend, command).await),
            Some(Effect::Refresh) => {
                if let Some(id) = app.detail_id().map(str::to_string) {
                    app.update(fetch_detail(backend, id).await);
                }
                Some(fetch_fleet(backend).await)
            }
            Some(Effect::RenewSession) => Some(Msg::SessionRenewed(backend.renew_session().await)),
            Some(Effect::StartStress(request)) => {
                Some(Msg::StressStarted(backend.stress_start(request).await))
            }
            // Experiments run in their own task (tests/tui_chaos.rs drives that path).
            Some(
                Effect::Quit
                | Effect::Copy(_)
                | Effect::SetMouse(_)
                | Effect::Suspend
                | Effect::RunExperiment(_)
                | Effect::AbortExperiment,
            )
            | None => None,
        };
    }
}

async fn loaded(backend: &FakeBackend) -> App {
    let mut app = App::new(backend.info());
    app.update(fetch_fleet(backend).await);
    app.update(fetch_history(backend).await);
    assert_eq!(app.neurons.len(), 10);
    assert_eq!(app.history.len(), fixtures::history().len());
    app
}

#[tokio::test]
async fn confirming_submits_exactly_one_recover_for_the_selected_neuron() {
    let backend = FakeBackend::new();
    let mut app = loaded(&backend).await;
    press(&mut app, &backend, KeyCode::Char('j')).await;
    press(&mut app, &backend, KeyCode::Char('j')).await;
    press(&mut app, &backend, KeyCode::Char('r')).await;
    assert!(backend.submitted().is_empty(), "the dialog must ask first");
    press(&mut app, &backend, KeyCode::Tab).await;
    press(&mut app, &backend, KeyCode::Enter).await;
    assert_eq!(
        backend.submitted(),
        vec![Command::Recover {
            neuron: "n-0003".into()
        }]
    );
    let flash = app.flash.as_ref().map(|f| f.text.as_str());
    assert_eq!(flash, Some("recovery #1 started on n-0003: restart"));
}

#[tokio::test]
async fn enter_on_cancel_and_esc_submit_nothing() {
    let backend = FakeBackend::new();
    let mut app = loaded(&backend).await;
    press(&mut app, &backend, KeyCode::Char('r')).await;
    press(&mut app, &backend, KeyCode::Enter).await;
    press(&mut app, &backend, KeyCode::Char('r')).await;
    press(&mut app, &backend, KeyCode::Tab).await;
    press(&mut app, &backend, KeyCode::Esc).await;
    // Tab twice lands back on Cancel.
    press(&mut app, &backend, KeyCode::Char('r')).await;
    press(&mut app, &backend, KeyCode::Tab).await;
    press(&mut app, &backend, KeyCode::Tab).await;
    press(&mut app, &backend, KeyCode::Enter).await;
    assert!(backend.submitted().is_empty());
    assert!(app.confirm.is_none());
}

#[tokio::test]
async fn recover_from_the_detail_view_targets_that_neuron_and_shows_denials() {
    let backend = FakeBackend::new();
    let mut app = loaded(&backend).await;
    for _ in 0..3 {
        press(&mut app, &backend, KeyCode::Down).await;
    }
    press(&mut app, &backend, KeyCode::Enter).await;
    assert_eq!(app.view, View::Detail);
    let detail = app
        .screens
        .detail
        .shown
        .as_ref()
        .and_then(|d| d.detail.as_ref());
    assert_eq!(detail.map(|d| d.neuron.id.as_ref()), Some("n-0004"));
    press(&mut app, &backend, KeyCode::Char('r')).await;
    press(&mut app, &backend, KeyCode::Right).await;
    press(&mut app, &backend, KeyCode::Enter).await;
    assert_eq!(
        backend.submitted(),
        vec![Command::Recover {
            neuron: "n-0004".into()
        }]
    );
    let flash = app.flash.as_ref().map(|f| f.text.as_str());
    assert_eq!(
        flash,
        Some("neuron.recover n-0004 failed: role viewer may not recover neurons")
    );
}

#[tokio::test]
async fn quitting_is_an_effect_not_a_backend_call() {
    let backend = FakeBackend::new();
    let mut app = loaded(&backend).await;
    let out = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
    )));
    assert_eq!(out.effect, Some(Effect::Quit));
    assert!(backend.submitted().is_empty());
    let _ = Arc::new(backend); // the trait object is what the console holds
}
