//! The supervisor's hand on its worker process (see `worker.rs`): start it (with the persistent
//! faults it must carry), ask it things with a deadline, stop and continue it (a hang is
//! SIGSTOP), kill it and start a fresh one when the orchestrator says restart. A worker that died
//! or is stopped answers nothing, and the supervisor then says nothing for it: no heartbeat, no
//! probe answer, no FL update — the orchestrator sees the failure as it is.

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use super::worker::{Answer, Ask, FAULTS_ENV, FromWorker, ToWorker, write_line};
use crate::api::Fault;

/// How long a started worker has to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(10);

pub struct WorkerHandle {
    child: Child,
    stdin: Option<ChildStdin>,
    answers: mpsc::Receiver<Answer>,
    next_id: u64,
    /// SIGSTOP'd (the hang fault).
    stopped: bool,
    /// The worker's start time in Unix ms: the incarnation its heartbeats carry.
    pub incarnation: u64,
    /// Where it serves predictions, if it does.
    pub serving: Option<String>,
    /// Log lines it sent.
    pub logs: Vec<(String, String)>,
}

/// The arguments a worker is started with: the agent's own, less its token, plus `--worker`.
pub fn worker_args(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = super::agent::without_token(args);
    out.push("--worker".into());
    out
}

impl WorkerHandle {
    /// Start a worker carrying `faults` from its first moment. A worker that dies during start-up
    /// (a crash loop) still gives a handle: a dead one.
    pub async fn spawn(
        exe: &std::path::Path,
        args: &[String],
        faults: &[Fault],
    ) -> Result<WorkerHandle, String> {
        let mut command = Command::new(exe);
        command
            .args(args)
            .env_remove("PLEXUS_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if !faults.is_empty() {
            command.env(
                FAULTS_ENV,
                serde_json::to_string(faults).unwrap_or_default(),
            );
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the worker {}: {e}", exe.display()))?;
        let incarnation = chrono::Utc::now().timestamp_millis() as u64;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("worker: no stdout")?;
        let (tx, answers) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(answer) = serde_json::from_str::<Answer>(&line)
                    && tx.send(answer).await.is_err()
                {
                    break;
                }
            }
        });
        let mut handle = WorkerHandle {
            child,
            stdin,
            answers,
            next_id: 1,
            stopped: false,
            incarnation,
            serving: None,
            logs: Vec::new(),
        };
        match tokio::time::timeout(READY_WITHIN, handle.answers.recv()).await {
            Ok(Some(Answer {
                re: FromWorker::Ready { serving },
                ..
            })) => handle.serving = serving,
            // Died starting (a crash loop), or never ready: a dead worker.
            _ => handle.kill().await,
        }
        Ok(handle)
    }

    /// Whether it started and has not been seen to die.
    pub fn is_running(&self) -> bool {
        self.stdin.is_some()
    }

    /// Whether the process still runs (a stopped one does).
    pub fn alive(&mut self) -> bool {
        self.stdin.is_some() && matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Ask, and wait at most `within` for the answer; `None` from a dead, stopped or silent worker.
    pub async fn ask(&mut self, op: ToWorker, within: Duration) -> Option<FromWorker> {
        if self.stopped || !self.alive() {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let stdin = self.stdin.as_mut()?;
        if !write_line(stdin, &Ask { id, op }).await {
            self.stdin = None;
            return None;
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let answer = tokio::time::timeout_at(deadline, self.answers.recv()).await;
            match answer {
                Ok(Some(Answer {
                    re: FromWorker::Log { level, message },
                    ..
                })) => self.logs.push((level, message)),
                Ok(Some(a)) if a.id == id => return Some(a.re),
                // An answer to an earlier question that came too late.
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The hang fault: the process lives and does nothing (SIGSTOP); `resume` undoes it.
    pub fn stop(&mut self) {
        if self.signal(libc::SIGSTOP) {
            self.stopped = true;
        }
    }

    pub fn resume(&mut self) {
        if self.stopped {
            self.signal(libc::SIGCONT);
        }
        self.stopped = false;
    }

    /// Send `sig` to the worker process; false when it has no pid any more (reaped).
    fn signal(&self, sig: libc::c_int) -> bool {
        let Some(pid) = self.pid() else {
            return false;
        };
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(pid as libc::pid_t, sig) };
        true
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    pub async fn kill(&mut self) {
        self.stdin = None;
        let _ = self.child.kill().await;
        self.stopped = false;
    }
}

/// What the supervisor remembers of the faults it was told about: the ones a restart must not
/// cure (persistent, crash loop), and the ones it acts out itself (stale heartbeats of the
/// byzantine fault, the next failed config).
#[derive(Debug, Default)]
pub struct FaultMemory {
    /// Carried into every new worker (a persistent crash makes it a crash loop).
    pub persistent: Vec<Fault>,
    /// Heartbeats replay an earlier life (a stale incarnation), as a simulated neuron's do.
    pub byzantine: bool,
    pub fail_next_config: bool,
}

impl FaultMemory {
    pub fn remember(&mut self, fault: &Fault) {
        let persistent = match *fault {
            Fault::Crash { persistent }
            | Fault::Slow { persistent, .. }
            | Fault::AnalyticsFailure { persistent, .. } => persistent,
            Fault::Byzantine { persistent } => {
                self.byzantine = true;
                persistent
            }
            Fault::ConfigFailure => {
                self.fail_next_config = true;
                false
            }
            Fault::Hang | Fault::Identity { .. } => false,
        };
        if persistent {
            self.persistent.push(fault.clone());
        }
    }

    /// A restart: what the new worker starts with; faults that were not persistent are gone.
    pub fn restarted(&mut self) -> Vec<Fault> {
        self.byzantine = self
            .persistent
            .iter()
            .any(|f| matches!(f, Fault::Byzantine { .. }));
        self.persistent.clone()
    }

    pub fn clear(&mut self) {
        *self = FaultMemory::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_persistent_faults_survive_a_restart_and_a_clear_forgets_them_all() {
        let mut m = FaultMemory::default();
        m.remember(&Fault::Byzantine { persistent: false });
        m.remember(&Fault::Slow {
            factor: 5.0,
            persistent: true,
        });
        m.remember(&Fault::ConfigFailure);
        assert!(m.byzantine && m.fail_next_config);
        let carried = m.restarted();
        assert_eq!(carried.len(), 1, "{carried:?}");
        assert!(
            !m.byzantine,
            "a non-persistent byzantine fault ends with the worker"
        );
        m.remember(&Fault::Crash { persistent: true });
        assert_eq!(m.restarted().len(), 2, "a crash loop");
        m.clear();
        assert!(m.restarted().is_empty());
    }

    #[test]
    fn a_worker_starts_with_the_agents_arguments_less_its_token() {
        let args = [
            "neuron",
            "--token",
            "plx_secret",
            "--id",
            "a",
            "--token=plx_x",
        ]
        .map(String::from);
        assert_eq!(
            worker_args(args.into_iter()),
            ["neuron", "--id", "a", "--worker"]
        );
    }
}
