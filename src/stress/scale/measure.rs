//! One point of the cost curve: `plexus serve` with N simulated neurons on a fresh data dir,
//! measured from outside as an operator would (benches/boot_scale.sh does the same by hand):
//! time from start to 99% healthy, the fleet conditions seen, CPU of the process and of its
//! engine thread over a steady window, RSS, the engine's own verdict latency, the latency of
//! `GET /api/federation/status`, and how long SIGINT takes to end it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::api::StatusReport;
use crate::stress::procfs;

/// How to start and measure a server.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The plexus binary to run (this one).
    pub exe: PathBuf,
    /// The OS user the fresh data dir's first admin is (whose token the probe uses).
    pub user: String,
    /// The steady window CPU is measured over.
    pub window: Duration,
    /// How long a fleet may take to be 99% healthy before the point says it never was.
    pub boot_limit: Duration,
}

/// What one fleet size cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub neurons: u64,
    /// Seconds from the server's start to 99% of the fleet healthy; `None`: not within the limit.
    pub healthy_after_s: Option<f64>,
    /// Fleet conditions (`engine_stall`, `fleet_silence`) seen at any poll.
    pub conditions: Vec<String>,
    /// Cores the whole server used over the steady window (engine, simulated fleet, HTTP).
    pub process_cores: Option<f64>,
    /// Cores its engine thread used (the one thread every verdict waits on).
    pub engine_cores: Option<f64>,
    pub rss_mb: Option<f64>,
    /// The engine's heartbeat-to-verdict latency at the end of the window (its last 10–20 s).
    pub verdict_p50_ms: f64,
    pub verdict_p99_ms: f64,
    /// `GET /api/federation/status`, timed every 250 ms through the window.
    pub status_p50_ms: f64,
    pub status_p99_ms: f64,
    pub status_calls: usize,
    /// SIGINT to exit; `None`: it had not ended after 30 s and was killed.
    pub shutdown_s: Option<f64>,
}

/// A server child that is killed if the probe gives up on it.
struct Server {
    child: tokio::process::Child,
    pid: String,
    log: PathBuf,
}

fn free_port() -> Result<u16, String> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(socket.local_addr().map_err(|e| e.to_string())?.port())
}

/// A plexus command that sees neither the caller's PLEXUS_* settings nor their config file: the
/// curve is the default engine's.
fn isolated(exe: &Path, dir: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(exe);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PLEXUS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("XDG_CONFIG_HOME", dir.join("config"))
        .arg("--data-dir")
        .arg(dir.join("data"));
    cmd
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

impl Probe {
    async fn token(&self, dir: &Path) -> Result<String, String> {
        let out = isolated(&self.exe, dir)
            .args(["users", "token", &self.user])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", self.exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "`plexus users token {}` failed: {}",
                self.user,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn start(&self, dir: &Path, neurons: u64, port: u16) -> Result<Server, String> {
        let log = dir.join("serve.log");
        let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = file.try_clone().map_err(|e| e.to_string())?;
        let child = isolated(&self.exe, dir)
            .args(["--neurons", &neurons.to_string(), "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.exe.display()))?;
        let pid = child.id().ok_or("the server exited at once")?.to_string();
        Ok(Server { child, pid, log })
    }

    /// Start a server with `neurons` simulated neurons, measure it, stop it.
    pub async fn measure(&self, neurons: u64, on_boot: impl Fn(f64)) -> Result<Point, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
        let token = self.token(dir.path()).await?;
        let port = free_port()?;
        let started = Instant::now();
        let mut server = self.start(dir.path(), neurons, port)?;
        let url = format!("http://127.0.0.1:{port}/api/federation/status");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let status = |client: reqwest::Client| {
            let (url, token) = (url.clone(), token.clone());
            async move {
                let reply = client.get(url).bearer_auth(token).send().await.ok()?;
                reply.json::<StatusReport>().await.ok()
            }
        };
        let mut conditions: Vec<String> = Vec::new();
        let mut note = |report: &StatusReport| {
            for c in &report.conditions {
                if !conditions.contains(&c.kind) {
                    conditions.push(c.kind.clone());
                }
            }
        };
        let mut healthy_after_s = None;
        while started.elapsed() < self.boot_limit {
            if let Ok(Some(code)) = server.child.try_wait() {
                return Err(format!(
                    "the server with {neurons} neurons exited ({code}) while booting: {}",
                    tail(&server.log)
                ));
            }
            if let Some(report) = status(client.clone()).await {
                note(&report);
                let n = report.neurons;
                if n.total == neurons && n.healthy * 100 >= neurons * 99 {
                    healthy_after_s = Some(started.elapsed().as_secs_f64());
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        on_boot(healthy_after_s.unwrap_or(f64::NAN));
        // Let the boot's last bursts (queued enrolments, the first snapshot) pass.
        tokio::time::sleep(self.window.min(Duration::from_secs(3))).await;
        let pid = server.pid.clone();
        let cpu = || procfs::cpu_seconds(&pid);
        let engine = || procfs::thread_cpu_seconds(&pid, "plexus-engine");
        let (cpu0, engine0, t0) = (cpu(), engine(), Instant::now());
        let mut timings = Vec::new();
        let mut last = None;
        while t0.elapsed() < self.window {
            let sent = Instant::now();
            if let Some(report) = status(client.clone()).await {
                timings.push(sent.elapsed().as_secs_f64() * 1000.0);
                note(&report);
                last = Some(report);
            }
            tokio::time::sleep(Duration::from_millis(250).saturating_sub(sent.elapsed())).await;
        }
        let seconds = t0.elapsed().as_secs_f64();
        let cores = |a: Option<f64>, b: Option<f64>| Some((b? - a?) / seconds);
        let process_cores = cores(cpu0, cpu());
        let engine_cores = cores(engine0, engine());
        let rss_mb = procfs::rss_kb(&pid).map(|kb| kb as f64 / 1024.0);
        let shutdown_s = stop(&mut server).await;
        timings.sort_by(f64::total_cmp);
        let verdict = last.map(|r| r.verdict_latency).unwrap_or_default();
        Ok(Point {
            neurons,
            healthy_after_s,
            conditions,
            process_cores,
            engine_cores,
            rss_mb,
            verdict_p50_ms: verdict.p50_ms as f64,
            verdict_p99_ms: verdict.p99_ms as f64,
            status_p50_ms: percentile(&timings, 0.5),
            status_p99_ms: percentile(&timings, 0.99),
            status_calls: timings.len(),
            shutdown_s,
        })
    }
}

/// SIGINT, then up to 30 s for the server to end; the seconds it took.
async fn stop(server: &mut Server) -> Option<f64> {
    let pid: libc::pid_t = server.pid.parse().ok()?;
    let asked = Instant::now();
    // SAFETY: kill(2) on our own child's pid, which has not been reaped yet.
    unsafe { libc::kill(pid, libc::SIGINT) };
    match tokio::time::timeout(Duration::from_secs(30), server.child.wait()).await {
        Ok(_) => Some(asked.elapsed().as_secs_f64()),
        Err(_) => {
            let _ = server.child.kill().await;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles_of_a_few_timings_are_taken_from_the_timings() {
        let t = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(super::percentile(&t, 0.5), 3.0);
        assert_eq!(super::percentile(&t, 0.99), 100.0);
        assert_eq!(super::percentile(&[], 0.5), 0.0);
    }
}
