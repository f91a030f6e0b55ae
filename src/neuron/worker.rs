//! An agent's worker process: the part of a real neuron that does the work — its workload (or
//! the predictions it serves), the FL rounds it trains — while the supervisor (`agent.rs`) holds
//! its identity and talks to the orchestrator. They speak JSON lines over the worker's stdin and
//! stdout: the supervisor asks ([`ToWorker`], numbered), the worker answers ([`FromWorker`], the
//! same number). A fault acts here for real: a crash aborts this process, slow serving and a slow
//! workload take longer, the analytics pipeline stops or sends garbage, a byzantine worker
//! corrupts its FL updates. (A hang is the supervisor stopping this process with SIGSTOP.)

use rand::SeedableRng;
use rand_pcg::Pcg32;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::learner::Learner;
use super::serving::Serving;
use super::workload::Workload;
use crate::api::Fault;
use crate::api::fl::Attack;
use crate::api::fl_agent::{FlAnswer, FlInvite, ModelPush};
use crate::api::wire::Telemetry;

/// Environment variable the supervisor starts a worker with: the persistent faults it must carry
/// from its first moment (JSON list of [`Fault`]s; a persistent crash aborts at once).
pub const FAULTS_ENV: &str = "PLEXUS_WORKER_FAULTS";

/// Served requests take this much longer per unit of the `slow` factor above 1.
const SLOW_STEP_MS: f64 = 100.0;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ask {
    pub id: u64,
    #[serde(flatten)]
    pub op: ToWorker,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ToWorker {
    /// The telemetry of the last `interval_ms`.
    Tick {
        interval_ms: u64,
    },
    Ping,
    Train {
        invite: Box<FlInvite>,
    },
    Serve {
        model: Box<ModelPush>,
    },
    Fault {
        fault: Fault,
    },
    Clear,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub id: u64,
    #[serde(flatten)]
    pub re: FromWorker,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "re", rename_all = "snake_case")]
pub enum FromWorker {
    /// Sent once at start (id 0): where it serves, if it does.
    Ready {
        serving: Option<String>,
    },
    /// `None`: the analytics pipeline is down.
    Telemetry {
        telemetry: Option<Telemetry>,
    },
    Pong,
    Trained {
        answer: Option<FlAnswer>,
        error: Option<String>,
    },
    Done {
        error: Option<String>,
    },
    /// A line for the agent's log (id 0: not an answer).
    Log {
        level: String,
        message: String,
    },
}

pub struct WorkerOptions {
    pub seed: u64,
    pub learner: Learner,
    pub serve: Option<std::net::SocketAddr>,
}

#[derive(Default)]
struct Faults {
    slow: Option<f64>,
    /// `Some(garbage)`.
    analytics: Option<bool>,
}

struct Worker {
    workload: Workload,
    rng: Pcg32,
    learner: Learner,
    serving: Option<Arc<Serving>>,
    faults: Faults,
    started: std::time::Instant,
}

impl Worker {
    fn apply(&mut self, fault: &Fault) -> Option<String> {
        match *fault {
            Fault::Crash { .. } => {
                // A real crash: the process dies on the spot, nothing is flushed or answered.
                eprintln!("plexus worker: crashing (injected fault)");
                std::process::abort();
            }
            Fault::Slow { factor, .. } => {
                self.faults.slow = Some(factor.max(1.0));
                if let Some(s) = &self.serving {
                    let extra = ((factor.max(1.0) - 1.0) * SLOW_STEP_MS) as u64;
                    s.extra_latency_ms
                        .store(extra, std::sync::atomic::Ordering::Relaxed);
                }
                Some(format!("serving {factor}x slower (injected fault)"))
            }
            Fault::AnalyticsFailure { garbage, .. } => {
                self.faults.analytics = Some(garbage);
                Some(if garbage {
                    "analytics pipeline emitting corrupt samples".into()
                } else {
                    "analytics pipeline stopped".into()
                })
            }
            Fault::Byzantine { .. } => {
                self.learner.set_attack(Some(Attack::SignFlip));
                Some("FL updates corrupted (sign-flip, injected fault)".into())
            }
            // Acted out by the supervisor (hang, config failure, identity).
            _ => None,
        }
    }

    fn clear(&mut self, attack: Option<Attack>) {
        self.faults = Faults::default();
        self.learner.set_attack(attack);
        if let Some(s) = &self.serving {
            s.extra_latency_ms
                .store(0, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn telemetry(&mut self, interval_ms: u64) -> Option<Telemetry> {
        let now = self.started.elapsed().as_millis() as u64;
        let slowdown = self.faults.slow.unwrap_or(1.0);
        let measured = match &self.serving {
            Some(serving) => serving.telemetry(),
            None => self
                .workload
                .advance(now, interval_ms, slowdown, &mut self.rng),
        };
        match self.faults.analytics {
            None => Some(measured),
            Some(false) => None,
            // Invalid numbers that survive JSON (a NaN would not): the engine refuses them.
            Some(true) => Some(Telemetry {
                rps: -measured.rps - 1.0,
                error_rate: 2.0,
                ..measured
            }),
        }
    }
}

/// Write `message` as one JSON line and flush it: how the supervisor and its worker speak, each
/// way. False when the other end is gone.
pub async fn write_line<W, T>(out: &mut W, message: &T) -> bool
where
    W: tokio::io::AsyncWrite + Unpin,
    T: Serialize,
{
    let Ok(mut line) = serde_json::to_string(message) else {
        return false;
    };
    line.push('\n');
    out.write_all(line.as_bytes()).await.is_ok() && out.flush().await.is_ok()
}

/// Run as a worker until the supervisor closes stdin (or a crash fault aborts the process).
pub async fn run(options: WorkerOptions) -> Result<i32, crate::api::ApiError> {
    let configured_attack = options.learner.attack();
    let mut rng = Pcg32::seed_from_u64(options.seed);
    let workload = Workload::new(&mut rng);
    let serving = match options.serve {
        Some(addr) => Some(
            Serving::start(addr)
                .await
                .map_err(crate::api::ApiError::bad_input)?,
        ),
        None => None,
    };
    let mut worker = Worker {
        workload,
        rng,
        learner: options.learner,
        serving,
        faults: Faults::default(),
        started: std::time::Instant::now(),
    };
    if let Ok(text) = std::env::var(FAULTS_ENV)
        && let Ok(faults) = serde_json::from_str::<Vec<Fault>>(&text)
    {
        for fault in &faults {
            worker.apply(fault);
        }
    }
    let mut out = tokio::io::stdout();
    let ready = FromWorker::Ready {
        serving: worker.serving.as_ref().map(|s| s.addr.to_string()),
    };
    if !write_line(&mut out, &Answer { id: 0, re: ready }).await {
        return Ok(0);
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(ask) = serde_json::from_str::<Ask>(&line) else {
            continue;
        };
        let re = match ask.op {
            ToWorker::Tick { interval_ms } => FromWorker::Telemetry {
                telemetry: worker.telemetry(interval_ms),
            },
            ToWorker::Ping => FromWorker::Pong,
            ToWorker::Train { invite } => match worker.learner.train(&invite) {
                Ok(answer) => FromWorker::Trained {
                    answer: Some(answer),
                    error: None,
                },
                Err(e) => FromWorker::Trained {
                    answer: None,
                    error: Some(e),
                },
            },
            ToWorker::Serve { model } => FromWorker::Done {
                error: match &worker.serving {
                    Some(s) => s.install(*model).err(),
                    None => Some("this agent does not serve".into()),
                },
            },
            ToWorker::Fault { fault } => {
                let line = worker.apply(&fault);
                if let Some(message) = line {
                    let log = FromWorker::Log {
                        level: "warn".into(),
                        message,
                    };
                    let _ = write_line(&mut out, &Answer { id: 0, re: log }).await;
                }
                FromWorker::Done { error: None }
            }
            ToWorker::Clear => {
                worker.clear(configured_attack);
                FromWorker::Done { error: None }
            }
        };
        if !write_line(&mut out, &Answer { id: ask.id, re }).await {
            break;
        }
    }
    Ok(0)
}
