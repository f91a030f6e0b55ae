//! Engine-owned FL runs: the engine admits `FlStart`/`FlStop`, trains each run on a worker
//! thread (never on the engine thread), feeds it the fleet's liveness every tick — a crashed,
//! hung, offline or partitioned neuron drops out of rounds, one under the chaos `byzantine`
//! fault sends a corrupted update — and publishes the worker's events. See docs/fl.md.

mod worker;

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use self::worker::{Job, RunRecord, RunShared};
use super::core::Core;
use super::effects::Effects;
use super::fl::aggregate::Params;
use super::fl::coordinator::{FlConfig, attacker_flags};
use super::fl::data::{self, Partition};
use super::fl::liveness::RemoteUpdate;
use super::fl::model::LocalSgd;
use super::fl::model::LogReg;
use crate::api::fl::{ClientUpdate, Mode, RunSummary, UpdateBatch};
use crate::api::fl_agent::{FlAnswer, FlInvite, ModelPush, SERVE_LABEL};
use crate::api::fl_run::{
    CAPTURE_KEPT, FlModelView, FlRunDetail, FlRunSpec, FlRunState, FlRunView,
};
use crate::api::wire::NeuronCommand;
use crate::api::{ApiError, Event, Millis, NeuronState};

/// Runs training at once (the machine's cores are the limit that matters).
pub const MAX_RUNNING: usize = 4;
/// Ended runs kept for queries.
const ENDED_KEPT: usize = 50;

struct Run {
    id: String,
    spec: FlRunSpec,
    started_by: String,
    /// Registry indexes of the clients, in client order.
    clients: Vec<u32>,
    attackers: Vec<String>,
    /// Per client: a real agent (invited to train in its own process).
    remote: Vec<bool>,
    /// The agents' ids, in client order (what views show).
    agents: Vec<String>,
    shared: Arc<RunShared>,
    record: Arc<Mutex<RunRecord>>,
    thread: Option<JoinHandle<()>>,
}

pub struct FlRunBook {
    next_id: u64,
    runs: Vec<Run>,
    /// The model serving agents were last sent.
    pub served: Option<Arc<ModelPush>>,
    events_tx: Sender<Event>,
    events_rx: Receiver<Event>,
}

impl Default for FlRunBook {
    fn default() -> Self {
        let (events_tx, events_rx) = channel();
        FlRunBook {
            next_id: 1,
            runs: Vec::new(),
            served: None,
            events_tx,
            events_rx,
        }
    }
}

fn lock(m: &Mutex<RunRecord>) -> std::sync::MutexGuard<'_, RunRecord> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Run {
    fn view(&self) -> FlRunView {
        let rec = lock(&self.record);
        let last = rec.history.last();
        let summary = rec.summary.as_ref();
        FlRunView {
            id: self.id.clone(),
            state: rec.state,
            spec: self.spec.clone(),
            started_by: self.started_by.clone(),
            clients: self.clients.len() as u32,
            attackers: self.attackers.clone(),
            agents: self.agents.clone(),
            round: rec.round,
            rounds: self.spec.rounds,
            loss: last.map(|r| r.loss),
            accuracy: last.map(|r| r.accuracy),
            learning_rate: last.map(|r| r.learning_rate),
            convergence: rec.convergence.clone(),
            final_accuracy: summary.map(|s| s.final_accuracy),
            converged_round: summary.and_then(|s| s.converged_round),
            diverged: summary.is_some_and(|s| s.diverged),
            error: rec.error.clone(),
        }
    }

    fn running(&self) -> bool {
        lock(&self.record).state == FlRunState::Running
    }
}

impl FlRunBook {
    pub fn list(&self) -> Vec<FlRunView> {
        self.runs.iter().map(Run::view).collect()
    }

    pub fn detail(&self, id: &str) -> Result<FlRunDetail, ApiError> {
        let run = self.find(id)?;
        let view = run.view();
        let rec = lock(&run.record);
        Ok(FlRunDetail {
            run: view,
            history: rec.history.clone(),
            summary: rec.summary.clone().map(|s| RunSummary {
                rounds: Vec::new(),
                ..s
            }),
        })
    }

    fn find(&self, id: &str) -> Result<&Run, ApiError> {
        self.runs
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no FL run {id}")))
    }

    /// The run's current global model.
    pub fn model(&self, id: &str) -> Result<FlModelView, ApiError> {
        let run = self.find(id)?;
        let rec = lock(&run.record);
        Ok(FlModelView {
            run: run.id.clone(),
            round: rec.round,
            dataset: run.spec.dataset,
            weights: rec.model.clone(),
        })
    }

    /// The updates run `id` received in `round`, while it still keeps them.
    pub fn capture(&self, id: &str, round: u32) -> Result<UpdateBatch, ApiError> {
        let run = self.find(id)?;
        if !run.spec.capture {
            return Err(ApiError::bad_input(format!(
                "FL run {id} was not started with capture"
            )));
        }
        let rec = lock(&run.record);
        rec.captured
            .iter()
            .find(|(r, _)| *r == round)
            .map(|(_, batch)| batch.clone())
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "FL run {id} keeps no capture of round {round} (only the last {CAPTURE_KEPT} rounds)"
                ))
            })
    }

    /// Queue a client's own update for the next round; returns that round.
    pub fn queue_update(&self, id: &str, update: ClientUpdate) -> Result<u32, ApiError> {
        let run = self.find(id)?;
        let round = {
            let rec = lock(&run.record);
            if rec.state != FlRunState::Running {
                return Err(ApiError::conflict(format!(
                    "FL run {id} is not running ({})",
                    rec.state.as_str()
                )));
            }
            if update.weights.len() != rec.model.len() {
                return Err(ApiError::bad_input(format!(
                    "fl update from {}: {} weights, the model has {}",
                    update.neuron,
                    update.weights.len(),
                    rec.model.len()
                )));
            }
            rec.round + 1
        };
        run.shared.offer(update).map_err(|u| {
            ApiError::conflict(format!(
                "FL run {id}: {} updates already wait for round {round}; {} refused",
                worker::INBOX_LIMIT,
                u.neuron
            ))
        })?;
        Ok(round)
    }

    pub fn running(&self) -> usize {
        self.runs.iter().filter(|r| r.running()).count()
    }

    /// The newest run's model when it moved on since the last call: what serving agents get.
    fn new_model(&mut self) -> Option<Arc<ModelPush>> {
        let run = self.runs.iter().rev().find(|r| lock(&r.record).round > 0)?;
        let rec = lock(&run.record);
        if self
            .served
            .as_ref()
            .is_some_and(|m| m.run == run.id && m.round == rec.round)
        {
            return None;
        }
        let model = Arc::new(ModelPush {
            version: ModelPush::version_of(&run.id, rec.round),
            run: run.id.clone(),
            round: rec.round,
            dataset: run.spec.dataset,
            seed: run.spec.seed.unwrap_or(1),
            weights: rec.model.clone(),
        });
        drop(rec);
        self.served = Some(model.clone());
        Some(model)
    }

    /// Agent `from` (a registry index) answered an invitation: filed with its run, or refused
    /// with the reason (no such running run, not a client of it, not invited to that round,
    /// unusable weights).
    pub fn answer(&self, from: u32, answer: FlAnswer) -> Result<(), String> {
        let run = self
            .runs
            .iter()
            .find(|r| r.id == answer.run && r.thread.is_some())
            .ok_or_else(|| format!("no running FL run {}", answer.run))?;
        let client = run
            .clients
            .iter()
            .position(|&c| c == from)
            .filter(|&k| run.remote[k])
            .ok_or_else(|| format!("not an agent client of {}", run.id))?;
        let model_len = lock(&run.record).model.len();
        answer.check(model_len)?;
        let update = RemoteUpdate {
            examples: answer.examples,
            weights: answer.weights,
        };
        run.shared.answer(client, answer.round, update)
    }
}

/// The all-zero model of the run's data set (what round 1 trains from).
fn untrained(spec: &FlRunSpec) -> Vec<f32> {
    LogReg::for_data(&data::load(spec.dataset)).init()
}

/// The coordinator's config for a validated spec over `clients` named `ids`.
fn fl_config(spec: &FlRunSpec, ids: Vec<String>) -> FlConfig {
    let byzantine = if spec.attack == crate::api::fl::Attack::None {
        0.0
    } else {
        spec.byzantine
    };
    FlConfig {
        dataset: spec.dataset,
        rule: spec.rule,
        params: Params {
            f: spec.f.unwrap_or(Params::AUTO_F),
            beta: spec.beta,
            keep: spec.keep,
        },
        mode: spec.mode,
        attack: spec.attack,
        byzantine,
        neurons: ids.len(),
        rounds: spec.rounds,
        partition: spec.alpha.map_or(Partition::Iid, Partition::Dirichlet),
        seed: spec.seed.unwrap_or(1),
        lr: spec.lr,
        zones: spec.zones,
        sample_fraction: spec.sample,
        async_k: spec.async_k,
        ids,
        ..FlConfig::default()
    }
}

impl Core {
    pub fn fl_start(
        &mut self,
        spec: FlRunSpec,
        by: &str,
        now: Millis,
    ) -> Result<FlRunView, ApiError> {
        spec.validate()
            .map_err(|e| ApiError::bad_input(format!("fl config: {e}")))?;
        if self.fl_runs.running() >= MAX_RUNNING {
            return Err(ApiError::conflict(format!(
                "{MAX_RUNNING} FL runs are already training; stop one first"
            )));
        }
        // Agents train for themselves in round-based modes only; an async or streaming run is
        // a simulation of arrivals, so it leaves them out rather than training in their place.
        let agents_train = matches!(spec.mode, Mode::Sync | Mode::Hierarchical);
        let mut clients: Vec<u32> = self
            .registry
            .live_indexes()
            .filter(|&i| FlRunSpec::takes_part(&self.registry.neurons[i as usize].id))
            .filter(|&i| agents_train || !self.is_agent(i))
            .collect();
        clients.truncate(spec.participants(clients.len()));
        if clients.len() < 2 {
            return Err(ApiError::bad_input(format!(
                "fl config: a run needs at least 2 neurons, the fleet has {}",
                clients.len()
            )));
        }
        let ids: Vec<String> = clients
            .iter()
            .map(|&i| self.registry.neurons[i as usize].id.to_string())
            .collect();
        let cfg = fl_config(&spec, ids.clone());
        let remote: Vec<bool> = clients.iter().map(|&i| self.is_agent(i)).collect();
        // The simulation's attackers are simulated neurons; an agent attacks on its own.
        let attackers = ids
            .iter()
            .zip(attacker_flags(&cfg))
            .zip(&remote)
            .filter(|((_, b), r)| *b && !**r)
            .map(|((id, _), _)| id.clone())
            .collect();
        let agents = ids
            .iter()
            .zip(&remote)
            .filter(|(_, r)| **r)
            .map(|(id, _)| id.clone())
            .collect();
        let id = format!("fl-{}", self.fl_runs.next_id);
        self.fl_runs.next_id += 1;
        let shared = Arc::new(RunShared::default());
        let (alive, byzantine) = self.fl_fleet_view(&clients);
        shared.publish(now, alive, byzantine);
        let record = Arc::new(Mutex::new(RunRecord {
            state: FlRunState::Running,
            round: 0,
            history: Vec::new(),
            convergence: "training".into(),
            captured: Default::default(),
            summary: None,
            error: None,
            model: untrained(&spec),
        }));
        let job = Job {
            id: id.clone(),
            cfg,
            start: now,
            round_ms: spec.round_ms,
            dropout: spec.dropout,
            remote: remote.clone(),
            capture: spec.capture,
            shared: shared.clone(),
            record: record.clone(),
            events: self.fl_runs.events_tx.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("plexus-{id}"))
            .spawn(move || job.run())
            .map_err(|e| ApiError::failed(format!("cannot start the FL worker: {e}")))?;
        let run = Run {
            id,
            spec,
            started_by: by.to_string(),
            clients,
            attackers,
            remote,
            agents,
            shared,
            record,
            thread: Some(thread),
        };
        let view = run.view();
        self.fl_runs.runs.push(run);
        Ok(view)
    }

    /// Agents that registered a serving address.
    fn serving_agents(&self) -> impl Iterator<Item = u32> + '_ {
        self.registry
            .neurons
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.agent && !n.removed && n.labels.iter().any(|(k, _)| k == SERVE_LABEL)
            })
            .map(|(i, _)| i as u32)
    }

    /// Send the model being served to agent `idx`, if it serves and there is one (a serving
    /// agent that joins or rejoins gets the current model at once).
    pub fn push_model_to(&mut self, idx: u32, fx: &mut Effects) {
        let serves = self
            .registry
            .neurons
            .get(idx as usize)
            .is_some_and(|n| n.agent && n.labels.iter().any(|(k, _)| k == SERVE_LABEL));
        if let (true, Some(model)) = (serves, &self.fl_runs.served) {
            fx.send(idx, NeuronCommand::ServeModel(Box::new((**model).clone())));
        }
    }

    pub fn fl_stop(&mut self, id: &str) -> Result<(), ApiError> {
        let run = self.fl_runs.find(id)?;
        if !run.running() {
            return Err(ApiError::conflict(format!(
                "FL run {id} is not running ({})",
                lock(&run.record).state.as_str()
            )));
        }
        run.shared.stop();
        Ok(())
    }

    /// Whether each client can take part now, and whether it is under the byzantine fault.
    fn fl_fleet_view(&self, clients: &[u32]) -> (Vec<bool>, Vec<bool>) {
        clients
            .iter()
            .map(|&i| {
                let n = &self.registry.neurons[i as usize];
                // An agent answers for itself (its update arrives, or the deadline passes).
                let behaviour = if n.agent {
                    crate::engine::fleet::host::FlBehaviour {
                        answers: true,
                        byzantine: false,
                    }
                } else {
                    self.host.fl_behaviour(i)
                };
                let reachable =
                    self.link.config(i, true).loss < 1.0 && self.link.config(i, false).loss < 1.0;
                let known_up = !matches!(
                    n.state,
                    NeuronState::Offline | NeuronState::Recovering | NeuronState::Pending
                );
                (
                    !n.removed && reachable && known_up && behaviour.answers,
                    behaviour.byzantine,
                )
            })
            .unzip()
    }

    /// Each tick: tell running workers the fleet's state, publish their events, reap ended ones.
    pub fn fl_tick(&mut self, now: Millis, fx: &mut Effects) {
        for run in self.fl_runs.runs.iter().filter(|r| r.thread.is_some()) {
            let (alive, byzantine) = self.fl_fleet_view(&run.clients);
            run.shared.publish(now, alive, byzantine);
            if let Some((round, lr, global, invited)) = run.shared.take_unsent(now) {
                for client in invited {
                    let invite = invite(run, client, round, lr, global.clone());
                    fx.send(
                        run.clients[client],
                        NeuronCommand::FlRound(Box::new(invite)),
                    );
                }
            }
        }
        while let Ok(event) = self.fl_runs.events_rx.try_recv() {
            fx.event(event);
        }
        if let Some(model) = self.fl_runs.new_model() {
            let serving: Vec<u32> = self.serving_agents().collect();
            for idx in serving {
                fx.send(idx, NeuronCommand::ServeModel(Box::new((*model).clone())));
            }
        }
        for run in &mut self.fl_runs.runs {
            if run.thread.as_ref().is_some_and(|t| t.is_finished())
                && let Some(t) = run.thread.take()
                && t.join().is_err()
            {
                let mut rec = lock(&run.record);
                rec.state = FlRunState::Failed;
                rec.error = Some("the FL worker panicked".into());
                fx.event(Event::FlRunFinished {
                    run: run.id.clone(),
                    state: rec.state.as_str().into(),
                    rounds: rec.round,
                    final_accuracy: None,
                    converged_round: None,
                    diverged: false,
                });
            }
        }
        let ended = self
            .fl_runs
            .runs
            .iter()
            .filter(|r| r.thread.is_none())
            .count();
        if ended > ENDED_KEPT
            && let Some(pos) = self.fl_runs.runs.iter().position(|r| r.thread.is_none())
        {
            self.fl_runs.runs.remove(pos);
        }
    }
}

/// What agent client `client` of `run` needs to train `round`: the model, and how to draw its
/// own partition exactly as the run partitions the data set.
fn invite(run: &Run, client: usize, round: u32, lr: f64, weights: Vec<f32>) -> FlInvite {
    let sgd = LocalSgd::default();
    FlInvite {
        run: run.id.clone(),
        round,
        dataset: run.spec.dataset,
        seed: run.spec.seed.unwrap_or(1),
        alpha: run.spec.alpha,
        clients: run.clients.len() as u32,
        client: client as u32,
        lr,
        epochs: sgd.epochs as u32,
        batch: sgd.batch as u32,
        l2: sgd.l2,
        weights,
    }
}

impl Drop for FlRunBook {
    /// The engine is going away: stop every worker and wait for it (each stops within a round).
    fn drop(&mut self) {
        for run in &self.runs {
            run.shared.stop();
        }
        for run in &mut self.runs {
            if let Some(t) = run.thread.take() {
                let _ = t.join();
            }
        }
    }
}
