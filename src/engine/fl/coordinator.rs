//! The FL coordinator: builds the federation (data partitions, attackers, client speeds) and runs
//! it in one of the modes. Sync and hierarchical share the round loop; batch-async is an event
//! simulation on virtual time; streaming lives in `streaming.rs`.

use rand::SeedableRng;
use rand::seq::index::sample;
use rand_distr::{Distribution, LogNormal};
use rand_pcg::Pcg64;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::aggregate::{self, AggregateError, Aggregated, Params, Update};
use super::attack;
use super::convergence::{Convergence, ConvergenceConfig};
use super::data::{self, Dataset, Partition};
use super::liveness::ClientLiveness;
use super::model::{LocalSgd, LogReg};
use super::schedule::{LrSchedule, Scheduler, staleness_weight};
use crate::api::fl::{
    Attack, BytesMoved, ClientUpdate, DatasetName, Detection, FlRound, Mode, Rule, RunSummary,
    UpdateBatch, Verdict,
};

#[derive(Debug, Clone)]
pub struct FlConfig {
    pub dataset: DatasetName,
    pub rule: Rule,
    pub params: Params,
    pub mode: Mode,
    pub attack: Attack,
    /// Share of neurons that are Byzantine.
    pub byzantine: f64,
    pub neurons: usize,
    pub rounds: u32,
    pub zones: usize,
    pub partition: Partition,
    pub seed: u64,
    pub lr: f64,
    pub schedule: LrSchedule,
    pub sgd: LocalSgd,
    /// Share of alive clients sampled per round (sync, hierarchical).
    pub sample_fraction: f64,
    /// Round deadline in simulated seconds: slower clients are stragglers and drop out.
    pub deadline_s: f64,
    /// Batch-async: aggregate when this many updates arrived (0 = half the fleet).
    pub async_k: usize,
    /// Staleness exponent a of (1 + τ)^(−a).
    pub staleness_a: f64,
    pub convergence: ConvergenceConfig,
    /// Client names (the engine's neuron ids); empty: `n-0001`… for `neurons` clients.
    pub ids: Vec<String>,
}

impl Default for FlConfig {
    fn default() -> Self {
        FlConfig {
            dataset: DatasetName::Digits,
            rule: Rule::Mean,
            params: Params {
                f: Params::AUTO_F,
                ..Params::default()
            },
            mode: Mode::Sync,
            attack: Attack::None,
            byzantine: 0.0,
            neurons: 20,
            rounds: 50,
            zones: 3,
            partition: Partition::Dirichlet(0.5),
            seed: 1,
            lr: 0.05,
            schedule: LrSchedule::Constant,
            sgd: LocalSgd::default(),
            sample_fraction: 1.0,
            deadline_s: 3.0,
            async_k: 0,
            staleness_a: 0.5,
            convergence: ConvergenceConfig::default(),
            ids: Vec::new(),
        }
    }
}

/// Where each round's received updates go (`--capture`); the caller owns the I/O.
pub type CaptureSink<'a> = &'a mut dyn FnMut(u32, &UpdateBatch);

/// The simulated federation: who holds what, who attacks, how fast each client is.
pub struct Federation {
    pub cfg: FlConfig,
    pub model: LogReg,
    pub ids: Vec<String>,
    pub parts: Vec<Dataset>,
    pub test: Dataset,
    pub byz: Vec<bool>,
    /// Median seconds a client takes per round.
    pub speed: Vec<f64>,
    pub rng: Pcg64,
}

/// Which clients the simulation makes Byzantine (none without an attack), seeded.
pub fn attacker_flags(cfg: &FlConfig) -> Vec<bool> {
    let fraction = if cfg.attack == Attack::None {
        0.0
    } else {
        cfg.byzantine
    };
    attack::choose_attackers(cfg.neurons.max(1), fraction, cfg.seed)
}

pub fn neuron_id(i: usize) -> String {
    format!("n-{:04}", i + 1)
}

impl Federation {
    pub fn new(cfg: FlConfig) -> Self {
        let (train, test) = data::split(&data::load(cfg.dataset), cfg.seed);
        let n = cfg.neurons.max(1);
        let parts = data::partition(&train, n, cfg.partition, cfg.seed);
        let byz = attacker_flags(&cfg);
        let mut rng = Pcg64::seed_from_u64(cfg.seed ^ 0xfed);
        let spread = LogNormal::new(0.0, 0.4).expect("valid");
        let speed = (0..n).map(|_| spread.sample(&mut rng)).collect();
        Federation {
            model: LogReg::for_data(&train),
            ids: if cfg.ids.len() == n {
                cfg.ids.clone()
            } else {
                (0..n).map(neuron_id).collect()
            },
            parts,
            test,
            byz,
            speed,
            rng,
            cfg,
        }
    }

    pub fn attackers(&self) -> Vec<String> {
        self.ids
            .iter()
            .zip(&self.byz)
            .filter(|(_, b)| **b)
            .map(|(i, _)| i.clone())
            .collect()
    }

    /// This round's duration for client i (log-normal jitter around its speed).
    fn latency(&mut self, i: usize) -> f64 {
        let jitter = LogNormal::new(0.0, 0.3).expect("valid");
        self.speed[i] * jitter.sample(&mut self.rng)
    }

    fn train(&self, i: usize, from: &[f32], lr: f64, salt: u64) -> Vec<f32> {
        self.model.train(
            from,
            &self.parts[i],
            lr as f32,
            self.cfg.sgd,
            self.cfg.seed ^ (salt << 20) ^ i as u64,
        )
    }

    fn params_for(&self, n: usize) -> Params {
        let mut p = self.cfg.params;
        // Default f: the expected number of attackers among n.
        if p.f == Params::AUTO_F {
            p.f = (self.cfg.byzantine * n as f64).round() as usize;
        }
        p
    }
}

/// Count exclusions against the known attackers.
pub fn detection(verdicts: &[Verdict], byz: &[bool]) -> Detection {
    let mut d = Detection::default();
    for (v, b) in verdicts.iter().zip(byz) {
        let flagged = *v != Verdict::Selected;
        match (flagged, *b) {
            (true, true) => d.true_positives += 1,
            (true, false) => d.false_positives += 1,
            (false, true) => d.false_negatives += 1,
            _ => {}
        }
    }
    finish_detection(d)
}

pub fn finish_detection(mut d: Detection) -> Detection {
    let (tp, fp, fn_) = (
        d.true_positives as f64,
        d.false_positives as f64,
        d.false_negatives as f64,
    );
    d.precision = (tp + fp > 0.0).then(|| tp / (tp + fp));
    d.recall = (tp + fn_ > 0.0).then(|| tp / (tp + fn_));
    d
}

fn add_detection(total: &mut Detection, d: &Detection) {
    total.true_positives += d.true_positives;
    total.false_positives += d.false_positives;
    total.false_negatives += d.false_negatives;
}

fn norm_diff(a: &[f32], b: &[f32]) -> f64 {
    aggregate::distance::sq_dist(a, b).sqrt()
}

/// Accumulates round reports into a summary (shared by every mode).
pub struct Tracker {
    pub rounds: Vec<FlRound>,
    pub convergence: Convergence,
    pub detection: Detection,
    pub bytes: BytesMoved,
    pub initial_loss: f64,
}

impl Tracker {
    pub fn new(fed: &Federation, global: &[f32]) -> Self {
        Tracker {
            rounds: Vec::new(),
            convergence: Convergence::new(fed.cfg.convergence),
            detection: Detection::default(),
            bytes: BytesMoved::default(),
            initial_loss: fed.model.evaluate(global, &fed.test).loss,
        }
    }

    pub fn push(&mut self, report: FlRound) {
        add_detection(&mut self.detection, &report.detection);
        self.convergence.observe(
            report.round,
            report.loss,
            report.accuracy,
            report.update_norm,
        );
        self.rounds.push(report);
    }

    pub fn summary(
        self,
        fed: &Federation,
        global: &[f32],
        updates_per_sec: Option<f64>,
    ) -> RunSummary {
        let e = fed.model.evaluate(global, &fed.test);
        // Diverged: the loss blew up (non-finite, or well above the untrained model's).
        let diverged = !e.loss.is_finite()
            || e.loss > 1.5 * self.initial_loss
            || global.iter().any(|v| !v.is_finite());
        RunSummary {
            dataset: fed.cfg.dataset,
            rule: fed.cfg.rule,
            mode: fed.cfg.mode,
            attack: fed.cfg.attack,
            neurons: fed.ids.len() as u32,
            attackers: fed.attackers(),
            seed: fed.cfg.seed,
            final_accuracy: e.accuracy,
            final_loss: e.loss,
            converged_round: self.convergence.converged.map(|c| c.0),
            converged_by: self.convergence.converged.map(|c| c.1.to_string()),
            diverged,
            detection: finish_detection(self.detection),
            bytes: self.bytes,
            updates_per_sec,
            rounds: self.rounds,
        }
    }
}

/// Run the configured mode to the end. `on_round` sees each report as it is made (progress).
pub fn run(
    cfg: FlConfig,
    liveness: &mut dyn ClientLiveness,
    mut capture: Option<CaptureSink<'_>>,
    on_round: &mut dyn FnMut(&FlRound),
) -> Result<RunSummary, AggregateError> {
    let mut fed = Federation::new(cfg);
    match fed.cfg.mode {
        Mode::Sync | Mode::Hierarchical => run_rounds(&mut fed, liveness, &mut capture, on_round),
        Mode::Async => run_async(&mut fed, liveness, on_round),
        Mode::Streaming => Ok(super::streaming::run(&mut fed, liveness, on_round)),
    }
}

/// Train round `round` for `participants`: simulated clients here, remote ones in their own
/// processes (invited, waited for until the deadline). Each client that produced an update maps
/// to (its weights, its examples); a remote client that did not answer is missing.
fn train_round(
    fed: &Federation,
    liveness: &mut dyn ClientLiveness,
    remote: &[bool],
    participants: &[usize],
    global: &[f32],
    lr: f64,
    round: u32,
) -> std::collections::HashMap<usize, (Vec<f32>, u64)> {
    let away: Vec<usize> = participants
        .iter()
        .copied()
        .filter(|&i| remote[i])
        .collect();
    let mut trained: std::collections::HashMap<usize, (Vec<f32>, u64)> = participants
        .iter()
        .filter(|&&i| !remote[i])
        .map(|&i| {
            let w = fed.train(i, global, lr, round as u64);
            (i, (w, fed.parts[i].len() as u64))
        })
        .collect();
    if !away.is_empty() {
        let answers = liveness.train_remote(round, lr, global, &away);
        for (i, answer) in away.into_iter().zip(answers) {
            if let Some(u) = answer {
                trained.insert(i, (u.weights, u.examples));
            }
        }
    }
    trained
}

/// The zone of client i: round-robin, as the simulated fleet places neurons.
pub fn zone_of(i: usize, zones: usize) -> usize {
    i % zones.max(1)
}

fn run_rounds(
    fed: &mut Federation,
    liveness: &mut dyn ClientLiveness,
    capture: &mut Option<CaptureSink<'_>>,
    on_round: &mut dyn FnMut(&FlRound),
) -> Result<RunSummary, AggregateError> {
    let mut global = fed.model.init();
    let mut tracker = Tracker::new(fed, &global);
    let mut sched = Scheduler::new(fed.cfg.lr, fed.cfg.schedule);
    let n = fed.ids.len();
    let remote = liveness.remote(&fed.ids);
    let dim_bytes = (global.len() * 4) as u64;
    let hierarchical = fed.cfg.mode == Mode::Hierarchical;
    let zones = if hierarchical {
        fed.cfg.zones.clamp(1, n)
    } else {
        1
    };
    for round in 1..=fed.cfg.rounds {
        if liveness.stopped() {
            break;
        }
        let lr = sched.lr(round);
        let alive = liveness.alive(round, &fed.ids);
        let turned = liveness.byzantine(&fed.ids);
        let alive_idx: Vec<usize> = (0..n).filter(|&i| alive[i]).collect();
        let want = ((fed.cfg.sample_fraction * alive_idx.len() as f64).ceil() as usize)
            .min(alive_idx.len());
        let mut sampled: Vec<usize> = sample(&mut fed.rng, alive_idx.len(), want)
            .into_iter()
            .map(|k| alive_idx[k])
            .collect();
        sampled.sort_unstable();
        let mut participants = Vec::with_capacity(sampled.len());
        for &i in &sampled {
            // A remote client meets a real deadline, not the simulated one.
            if remote[i] || fed.latency(i) <= fed.cfg.deadline_s {
                participants.push(i);
            }
        }
        let mut trained = train_round(fed, liveness, &remote, &participants, &global, lr, round);
        participants.retain(|i| trained.contains_key(i));
        let dropped = (n - alive_idx.len() + sampled.len() - participants.len()) as u32;
        let (mut weights, mut examples): (Vec<Vec<f32>>, Vec<u64>) = participants
            .iter()
            .map(|i| trained.remove(i).expect("kept only the trained"))
            .unzip();
        // The simulation's attackers are simulated clients; a remote one attacks on its own.
        let mut byz: Vec<bool> = participants
            .iter()
            .map(|&i| !remote[i] && (fed.byz[i] || turned[i]))
            .collect();
        attack::corrupt(
            attack::effective(fed.cfg.attack, &turned),
            &global,
            &mut weights,
            &byz,
            &mut fed.rng,
        );
        let mut names: Vec<String> = participants.iter().map(|&i| fed.ids[i].clone()).collect();
        // Updates sent from outside the simulation (a client that trained on its own) join the
        // flat round as they are; the rule judges them like any other.
        if !hierarchical {
            for u in liveness.external() {
                names.push(u.neuron);
                examples.push(u.examples);
                weights.push(u.weights);
                byz.push(false);
            }
        }
        if let Some(sink) = capture.as_mut() {
            let batch = UpdateBatch {
                updates: names
                    .iter()
                    .zip(&examples)
                    .zip(&weights)
                    .map(|((name, &e), w)| ClientUpdate {
                        neuron: name.clone(),
                        examples: e,
                        weights: w.clone(),
                    })
                    .collect(),
            };
            sink(round, &batch);
        }
        let updates: Vec<Update<'_>> = examples
            .iter()
            .zip(&weights)
            .map(|(&e, w)| Update {
                weights: w,
                examples: e as f64,
            })
            .collect();
        let outcome = if updates.is_empty() {
            None
        } else if hierarchical {
            Some(aggregate_zones(fed, &participants, &updates, zones)?)
        } else {
            let agg = aggregate::build(fed.cfg.rule, fed.params_for(updates.len()));
            aggregate::aggregate_checked(agg.as_ref(), &updates).ok()
        };
        let p = updates.len() as u64;
        tracker.bytes.total += 2 * p * dim_bytes
            + if hierarchical {
                2 * zones as u64 * dim_bytes
            } else {
                0
            };
        tracker.bytes.wan += if hierarchical {
            2 * zones as u64 * dim_bytes
        } else {
            2 * p * dim_bytes
        };
        tracker.bytes.flat_wan += 2 * p * dim_bytes;
        let previous = std::mem::take(&mut global);
        let (verdicts, scores) = match outcome {
            Some(agg) => {
                global = agg.weights;
                (agg.verdicts, agg.scores)
            }
            // No participant or the rule refused this round (e.g. Bulyan short of 4f+3): keep the model.
            None => {
                global = previous.clone();
                (
                    vec![Verdict::Selected; updates.len()],
                    vec![None; updates.len()],
                )
            }
        };
        let e = fed.model.evaluate(&global, &fed.test);
        let pick = |v: Verdict| {
            names
                .iter()
                .zip(&verdicts)
                .filter(|(_, x)| **x == v)
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>()
        };
        let mut excluded = pick(Verdict::Excluded);
        excluded.extend(pick(Verdict::Rejected));
        let score_of = |v: Verdict| {
            verdicts
                .iter()
                .zip(&scores)
                .filter(|(x, _)| **x == v)
                .map(|(_, s)| *s)
                .collect::<Vec<_>>()
        };
        let excluded_scores = [score_of(Verdict::Excluded), score_of(Verdict::Rejected)].concat();
        let report = FlRound {
            round,
            loss: e.loss,
            accuracy: e.accuracy,
            learning_rate: lr,
            participants: updates.len() as u32,
            agents: participants.iter().filter(|&&i| remote[i]).count() as u32,
            dropped,
            excluded,
            down_weighted: pick(Verdict::DownWeighted),
            byzantine_events: verdicts.iter().filter(|v| **v == Verdict::Rejected).count() as u32,
            update_norm: norm_diff(&global, &previous),
            detection: detection(&verdicts, &byz),
            excluded_scores,
            model: global.clone(),
            convergence: String::new(),
        };
        sched.observe(e.loss);
        on_round(&report);
        tracker.push(report);
    }
    Ok(tracker.summary(fed, &global, None))
}

/// Hierarchical step: each zone aggregates its own clients with the rule, then the global level
/// combines the zone models — by a weighted mean for `mean`, else by the coordinate-wise median
/// (robust to fewer than half of the zones being compromised). Verdicts are the zone level's.
fn aggregate_zones(
    fed: &Federation,
    participants: &[usize],
    updates: &[Update<'_>],
    zones: usize,
) -> Result<Aggregated, AggregateError> {
    let mut verdicts = vec![Verdict::Selected; updates.len()];
    let mut zone_models: Vec<(Vec<f32>, f64)> = Vec::new();
    for z in 0..zones {
        let members: Vec<usize> = (0..participants.len())
            .filter(|&k| zone_of(participants[k], zones) == z)
            .collect();
        if members.is_empty() {
            continue;
        }
        let local: Vec<Update<'_>> = members.iter().map(|&k| updates[k]).collect();
        let agg = aggregate::build(fed.cfg.rule, fed.params_for(local.len()));
        let Ok(out) = aggregate::aggregate_checked(agg.as_ref(), &local) else {
            continue;
        };
        for (&k, v) in members.iter().zip(&out.verdicts) {
            verdicts[k] = *v;
        }
        zone_models.push((out.weights, local.iter().map(|u| u.examples).sum()));
    }
    if zone_models.is_empty() {
        return Err(AggregateError("no zone could aggregate this round".into()));
    }
    let top: Vec<Update<'_>> = zone_models
        .iter()
        .map(|(w, e)| Update {
            weights: w,
            examples: *e,
        })
        .collect();
    let global_rule = if fed.cfg.rule == Rule::Mean {
        Rule::Mean
    } else {
        Rule::Median
    };
    let mut out = aggregate::aggregate_checked(
        aggregate::build(global_rule, Params::default()).as_ref(),
        &top,
    )?;
    out.verdicts = verdicts;
    out.scores = vec![None; updates.len()];
    out.shares = vec![0.0; updates.len()];
    Ok(out)
}

/// Batch-async (FedBuff-style) on virtual time: every alive client trains from the model version
/// it last pulled and reports when done; the server aggregates each K arrived deltas, each scaled
/// by (1 + staleness)^(−a), then adds the result to the model. One aggregation = one "round".
fn run_async(
    fed: &mut Federation,
    liveness: &mut dyn ClientLiveness,
    on_round: &mut dyn FnMut(&FlRound),
) -> Result<RunSummary, AggregateError> {
    let n = fed.ids.len();
    let k = if fed.cfg.async_k == 0 {
        (n / 2).max(1)
    } else {
        fed.cfg.async_k.min(n)
    };
    let mut global = fed.model.init();
    let mut tracker = Tracker::new(fed, &global);
    let sched = Scheduler::new(fed.cfg.lr, fed.cfg.schedule);
    let mut version: u32 = 0;
    // (finish time in µs, client) → the version it started from.
    let mut queue: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut started: Vec<(u32, Vec<f32>)> = vec![(0, global.clone()); n];
    let mut alive = liveness.alive(0, &fed.ids);
    for i in (0..n).filter(|&i| alive[i]) {
        let t = (fed.latency(i) * 1e6) as u64;
        queue.push(Reverse((t, i)));
    }
    let mut buffer: Vec<(usize, Vec<f32>, u32)> = Vec::new();
    let mut dropped = 0u32;
    let dim_bytes = (global.len() * 4) as u64;
    while version < fed.cfg.rounds && !liveness.stopped() {
        let Some(Reverse((now, i))) = queue.pop() else {
            break;
        };
        let lr = sched.lr(version + 1);
        if alive[i] {
            let w = fed.train(i, &started[i].1, lr, started[i].0 as u64 + 1);
            let delta: Vec<f32> = w.iter().zip(&started[i].1).map(|(a, b)| a - b).collect();
            buffer.push((i, delta, version - started[i].0));
        } else {
            dropped += 1;
        }
        started[i] = (version, global.clone());
        queue.push(Reverse((now + (fed.latency(i) * 1e6) as u64, i)));
        if buffer.len() < k {
            continue;
        }
        let batch = std::mem::take(&mut buffer);
        let byz: Vec<bool> = batch.iter().map(|(i, _, _)| fed.byz[*i]).collect();
        let mut deltas: Vec<Vec<f32>> = batch
            .iter()
            .map(|(_, d, s)| {
                let w = staleness_weight(*s, fed.cfg.staleness_a) as f32;
                d.iter().map(|v| v * w).collect()
            })
            .collect();
        let zero = vec![0f32; global.len()];
        attack::corrupt(fed.cfg.attack, &zero, &mut deltas, &byz, &mut fed.rng);
        let updates: Vec<Update<'_>> = batch
            .iter()
            .zip(&deltas)
            .map(|((i, _, _), d)| Update {
                weights: d,
                examples: fed.parts[*i].len() as f64,
            })
            .collect();
        let agg = aggregate::build(fed.cfg.rule, fed.params_for(updates.len()));
        let previous = global.clone();
        let verdicts = match aggregate::aggregate_checked(agg.as_ref(), &updates) {
            Ok(out) => {
                global
                    .iter_mut()
                    .zip(&out.weights)
                    .for_each(|(g, d)| *g += d);
                out.verdicts
            }
            Err(_) => vec![Verdict::Selected; updates.len()],
        };
        version += 1;
        tracker.bytes.total += 2 * k as u64 * dim_bytes;
        tracker.bytes.wan += 2 * k as u64 * dim_bytes;
        tracker.bytes.flat_wan += 2 * k as u64 * dim_bytes;
        let e = fed.model.evaluate(&global, &fed.test);
        let pick = |v: Verdict| {
            batch
                .iter()
                .zip(&verdicts)
                .filter(|(_, x)| **x == v)
                .map(|((i, _, _), _)| fed.ids[*i].clone())
                .collect::<Vec<_>>()
        };
        let report = FlRound {
            round: version,
            loss: e.loss,
            accuracy: e.accuracy,
            learning_rate: lr,
            participants: batch.len() as u32,
            agents: 0,
            dropped: std::mem::take(&mut dropped),
            excluded: [pick(Verdict::Excluded), pick(Verdict::Rejected)].concat(),
            down_weighted: pick(Verdict::DownWeighted),
            byzantine_events: verdicts.iter().filter(|v| **v == Verdict::Rejected).count() as u32,
            update_norm: norm_diff(&global, &previous),
            detection: detection(&verdicts, &byz),
            excluded_scores: Vec::new(),
            model: Vec::new(),
            convergence: String::new(),
        };
        on_round(&report);
        tracker.push(report);
        // Liveness moves on with the model version: crashed clients stop reporting.
        alive = liveness.alive(version, &fed.ids);
    }
    Ok(tracker.summary(fed, &global, None))
}
