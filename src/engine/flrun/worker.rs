//! One FL run on its own thread. The engine feeds it the fleet's state each tick through
//! [`RunShared`]; the worker reads it through the coordinator's [`ClientLiveness`] trait, writes each
//! round into the run's record (queries read it) and sends events back for the engine to publish.

use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use std::collections::VecDeque;

use crate::api::fl::{ClientUpdate, DatasetName, FlRound, RunSummary, UpdateBatch};
use crate::api::fl_run::{CAPTURE_KEPT, FlRunState};
use crate::api::{Event, Millis};
use crate::engine::fl::convergence::Convergence;
use crate::engine::fl::coordinator::{self, FlConfig};
use crate::engine::fl::liveness::{Availability, ClientLiveness, RemoteUpdate};

/// What the engine knows about the run's clients now.
#[derive(Debug, Default)]
pub struct FleetView {
    pub now: Millis,
    pub alive: Vec<bool>,
    pub byzantine: Vec<bool>,
    pub stop: bool,
    /// The round remote clients are invited to now, if any.
    pub invitation: Option<Invitation>,
}

/// A round the worker invited remote clients (agents) to: the engine sends the invites on its
/// next tick (`sent_at`) and files the answers as they arrive.
#[derive(Debug)]
pub struct Invitation {
    pub round: u32,
    pub lr: f64,
    pub global: Vec<f32>,
    /// Client indexes invited, and what each answered.
    pub clients: Vec<usize>,
    pub answers: Vec<Option<RemoteUpdate>>,
    pub sent_at: Option<Millis>,
}

impl Invitation {
    fn complete(&self) -> bool {
        self.answers.iter().all(Option::is_some)
    }
}

/// Written by the engine thread each tick, read by the worker.
#[derive(Default)]
pub struct RunShared {
    view: Mutex<FleetView>,
    changed: Condvar,
    /// Updates clients sent on their own, for the next round.
    inbox: Mutex<Vec<ClientUpdate>>,
}

/// Updates waiting for one round at most; more are refused (a load test must not grow memory).
pub const INBOX_LIMIT: usize = 256;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking worker must not take the engine down with it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RunShared {
    pub fn publish(&self, now: Millis, alive: Vec<bool>, byzantine: Vec<bool>) {
        let mut v = lock(&self.view);
        v.now = now;
        v.alive = alive;
        v.byzantine = byzantine;
        self.changed.notify_all();
    }

    /// Queue a client's update; refused when the inbox is full.
    pub fn offer(&self, update: ClientUpdate) -> Result<(), ClientUpdate> {
        let mut inbox = lock(&self.inbox);
        if inbox.len() >= INBOX_LIMIT {
            return Err(update);
        }
        inbox.push(update);
        Ok(())
    }

    pub fn stop(&self) {
        lock(&self.view).stop = true;
        self.changed.notify_all();
    }

    /// Wait for the engine's next word. Bounded: the engine notifies each tick, the bound only
    /// guards a lost wake-up.
    fn wait<'a>(&self, view: MutexGuard<'a, FleetView>) -> MutexGuard<'a, FleetView> {
        self.changed
            .wait_timeout(view, Duration::from_millis(100))
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// The invitation waiting to be sent (marked sent at `now`): its round, model and clients.
    pub fn take_unsent(&self, now: Millis) -> Option<(u32, f64, Vec<f32>, Vec<usize>)> {
        let mut v = lock(&self.view);
        let inv = v.invitation.as_mut().filter(|i| i.sent_at.is_none())?;
        inv.sent_at = Some(now);
        Some((inv.round, inv.lr, inv.global.clone(), inv.clients.clone()))
    }

    /// File client `client`'s answer to `round` (checked as usable by the caller); refused when
    /// it was not invited to that round or answered already.
    pub fn answer(&self, client: usize, round: u32, update: RemoteUpdate) -> Result<(), String> {
        let mut v = lock(&self.view);
        let Some(inv) = v.invitation.as_mut().filter(|i| i.round == round) else {
            return Err(format!("round {round} is not open for answers"));
        };
        let Some(slot) = inv.clients.iter().position(|&c| c == client) else {
            return Err(format!("not invited to round {round}"));
        };
        if inv.answers[slot].is_some() {
            return Err(format!("round {round} answered already"));
        }
        inv.answers[slot] = Some(update);
        self.changed.notify_all();
        Ok(())
    }
}

/// The record queries read: kept up to date by the worker.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub state: FlRunState,
    pub round: u32,
    pub history: Vec<FlRound>,
    pub convergence: String,
    /// The last rounds' received updates, oldest first (runs started with `capture`).
    pub captured: VecDeque<(u32, UpdateBatch)>,
    pub summary: Option<RunSummary>,
    pub error: Option<String>,
    /// The global model after `round` (what a client trains from next).
    pub model: Vec<f32>,
}

/// The coordinator's view of the engine's fleet: round `r` waits until engine time reaches
/// `start + r · round_ms` (so chaos between rounds matters), then takes the engine's latest view.
struct EngineLiveness {
    shared: Arc<RunShared>,
    start: Millis,
    round_ms: Millis,
    /// The spec's `dropout`: clients the engine sees up may still sit a round out.
    availability: Availability,
    /// Which clients are real agents, and how long (engine time) their answers are waited for.
    remote: Vec<bool>,
    answer_within: Millis,
}

impl ClientLiveness for EngineLiveness {
    fn alive(&mut self, round: u32, neurons: &[String]) -> Vec<bool> {
        let due = self.start + round as Millis * self.round_ms;
        let mut v = lock(&self.shared.view);
        while !v.stop && v.now < due {
            v = self.shared.wait(v);
        }
        let mut alive = v.alive.clone();
        drop(v);
        alive.resize(neurons.len(), false);
        let available = self.availability.alive(round, neurons);
        alive.iter_mut().zip(available).for_each(|(a, up)| *a &= up);
        alive
    }

    fn byzantine(&mut self, neurons: &[String]) -> Vec<bool> {
        let mut byz = lock(&self.shared.view).byzantine.clone();
        byz.resize(neurons.len(), false);
        byz
    }

    fn stopped(&self) -> bool {
        lock(&self.shared.view).stop
    }

    fn external(&mut self) -> Vec<ClientUpdate> {
        std::mem::take(&mut *lock(&self.shared.inbox))
    }

    fn remote(&self, neurons: &[String]) -> Vec<bool> {
        let mut remote = self.remote.clone();
        remote.resize(neurons.len(), false);
        remote
    }

    fn train_remote(
        &mut self,
        round: u32,
        lr: f64,
        global: &[f32],
        clients: &[usize],
    ) -> Vec<Option<RemoteUpdate>> {
        let mut v = lock(&self.shared.view);
        v.invitation = Some(Invitation {
            round,
            lr,
            global: global.to_vec(),
            clients: clients.to_vec(),
            answers: vec![None; clients.len()],
            sent_at: None,
        });
        loop {
            let inv = v.invitation.as_ref().expect("set above");
            let late = inv
                .sent_at
                .is_some_and(|sent| v.now >= sent + self.answer_within);
            if v.stop || late || inv.complete() {
                break;
            }
            v = self.shared.wait(v);
        }
        v.invitation
            .take()
            .map(|inv| inv.answers)
            .unwrap_or_default()
    }
}

/// What the untrained (all-zero) model scores: ln(classes). Above 1.5× that, the run diverged.
fn untrained_loss(dataset: DatasetName) -> f64 {
    match dataset {
        DatasetName::Digits => 10f64.ln(),
        DatasetName::BreastCancer => 2f64.ln(),
    }
}

/// Agents get at least this long (engine time) to answer an invitation, however short the
/// run's rounds (`round_ms` 0 trains as fast as the worker can).
pub const MIN_ANSWER_MS: Millis = 1000;

pub struct Job {
    pub id: String,
    pub cfg: FlConfig,
    pub start: Millis,
    pub round_ms: Millis,
    /// Per-round unavailability on top of the engine's view (the spec's `dropout`).
    pub dropout: f64,
    /// Which clients are real agents (invited to train in their own processes).
    pub remote: Vec<bool>,
    pub capture: bool,
    pub shared: Arc<RunShared>,
    pub record: Arc<Mutex<RunRecord>>,
    pub events: Sender<Event>,
}

impl Job {
    pub fn run(self) {
        let Job {
            id,
            cfg,
            start,
            round_ms,
            dropout,
            remote,
            capture,
            shared,
            record,
            events,
        } = self;
        let rounds = cfg.rounds;
        let rule = cfg.rule.name().to_string();
        let blow_up = 1.5 * untrained_loss(cfg.dataset);
        let mut convergence = Convergence::new(cfg.convergence);
        let mut diverged_sent = false;
        let mut suspects = Persistence::default();
        let mut liveness = EngineLiveness {
            shared: shared.clone(),
            start,
            round_ms,
            availability: Availability::new(dropout, cfg.seed),
            remote,
            answer_within: round_ms.max(MIN_ANSWER_MS),
        };
        let mut on_round = |r: &FlRound| {
            convergence.observe(r.round, r.loss, r.accuracy, r.update_norm);
            let state = match convergence.converged {
                Some((at, by)) => format!("converged ({by}, round {at})"),
                None => "training".to_string(),
            };
            {
                let mut rec = lock(&record);
                rec.round = r.round;
                rec.convergence = state.clone();
                if !r.model.is_empty() {
                    rec.model = r.model.clone();
                }
                rec.history.push(FlRound {
                    convergence: state.clone(),
                    model: Vec::new(),
                    ..r.clone()
                });
            }
            let _ = events.send(Event::FlRoundFinished {
                run: id.clone(),
                round: r.round,
                rounds,
                loss: r.loss,
                accuracy: r.accuracy,
                participants: r.participants,
                dropped: r.dropped,
                excluded: r.excluded.clone(),
            });
            let flagged = suspects.observe(r.round, &r.excluded);
            if !flagged.is_empty() {
                let _ = events.send(Event::FlByzantineDetected {
                    run: id.clone(),
                    round: r.round,
                    neurons: flagged,
                    rule: rule.clone(),
                });
            }
            let sane = r.loss.is_finite() && r.loss <= blow_up;
            if !diverged_sent && !sane {
                diverged_sent = true;
                let _ = events.send(Event::FlRunDiverged {
                    run: id.clone(),
                    round: r.round,
                    loss: r.loss,
                });
            }
        };
        let mut keep_capture = |round: u32, batch: &UpdateBatch| {
            let mut rec = lock(&record);
            if rec.captured.len() == CAPTURE_KEPT {
                rec.captured.pop_front();
            }
            rec.captured.push_back((round, batch.clone()));
        };
        let sink: Option<coordinator::CaptureSink<'_>> = if capture {
            Some(&mut keep_capture)
        } else {
            None
        };
        let outcome = coordinator::run(cfg, &mut liveness, sink, &mut on_round);
        let stopped = liveness.stopped();
        let mut rec = lock(&record);
        match outcome {
            Ok(summary) => {
                rec.state = if stopped {
                    FlRunState::Stopped
                } else {
                    FlRunState::Finished
                };
                if summary.diverged && !diverged_sent {
                    let _ = events.send(Event::FlRunDiverged {
                        run: id.clone(),
                        round: rec.round,
                        loss: summary.final_loss,
                    });
                }
                rec.summary = Some(summary);
            }
            Err(e) => {
                rec.state = FlRunState::Failed;
                rec.error = Some(e.0);
            }
        }
        let summary = rec.summary.as_ref();
        let _ = events.send(Event::FlRunFinished {
            run: id,
            state: rec.state.as_str().into(),
            rounds: rec.round,
            final_accuracy: summary.map(|s| s.final_accuracy),
            converged_round: summary.and_then(|s| s.converged_round),
            diverged: summary.is_some_and(|s| s.diverged),
        });
    }
}

/// A neuron excluded in this many of the last [`WINDOW_ROUNDS`] rounds is reported as Byzantine.
pub const PERSISTENT_ROUNDS: usize = 3;
pub const WINDOW_ROUNDS: u32 = 5;

/// Selection rules exclude someone every round (Multi-Krum always keeps n − f), so a single
/// exclusion is routine; an update excluded again and again is the signal worth an alert. A
/// window rather than a streak: a round the neuron missed (dropped) neither counts nor clears.
#[derive(Default)]
pub struct Persistence {
    /// Per neuron: the recent rounds it was excluded in, and whether it is reported already.
    seen: std::collections::HashMap<String, (std::collections::VecDeque<u32>, bool)>,
}

impl Persistence {
    /// Round `round`'s exclusions in; the neurons that just became persistent out (each reported
    /// once, again only after it fell below the mark).
    pub fn observe(&mut self, round: u32, excluded: &[String]) -> Vec<String> {
        for n in excluded {
            self.seen.entry(n.clone()).or_default().0.push_back(round);
        }
        let mut flagged = Vec::new();
        self.seen.retain(|n, (rounds, reported)| {
            while rounds.front().is_some_and(|r| r + WINDOW_ROUNDS <= round) {
                rounds.pop_front();
            }
            let persistent = rounds.len() >= PERSISTENT_ROUNDS;
            if persistent && !*reported {
                flagged.push(n.clone());
            }
            *reported = persistent;
            !rounds.is_empty()
        });
        flagged.sort();
        flagged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_repeated_exclusions_are_reported_and_once() {
        let mut p = Persistence::default();
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(p.observe(1, &ids(&["a", "b"])).is_empty());
        assert!(p.observe(2, &ids(&["a", "c"])).is_empty());
        // a: 3 of the last 5 (a dropped round 4 in between would not matter).
        assert_eq!(p.observe(3, &ids(&["a"])), ids(&["a"]));
        assert!(p.observe(4, &ids(&["a"])).is_empty(), "reported once");
        assert!(p.observe(5, &ids(&["b"])).is_empty(), "b: 2 of the last 5");
        assert!(
            p.observe(6, &ids(&["b", "c"])).is_empty(),
            "b's round 1 left the window"
        );
        assert_eq!(p.observe(7, &ids(&["b"])), ids(&["b"]));
        // Kept for five rounds: a falls out of the window and would be reported anew.
        for r in 8..=9 {
            assert!(p.observe(r, &[]).is_empty());
        }
        assert!(!p.seen.contains_key("a"));
    }
}
