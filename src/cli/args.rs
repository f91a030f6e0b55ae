//! The command line, defined once (clap); completions and the man page come from it too.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use crate::api::security::ExportFormat;
use crate::api::{Fault, Role};

#[derive(Debug, Parser)]
#[command(
    name = "plexus",
    version,
    about = "Operations console for a neuron federation, with an embedded orchestrator",
    long_about = "Operations console for a neuron federation.\n\nWith no subcommand, opens the console on the embedded engine with a simulated fleet. \
Subcommands run headless: they boot the engine, let the first heartbeats arrive, act, print and exit.\n\n\
Exit codes: 0 ok, 1 the operation failed, 2 bad input or usage, 3 denied, 4 orchestrator unreachable."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<CommandLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Set for `plexus alerts` on an embedded store: show the alerts as stored, unevaluated.
    #[arg(skip)]
    pub alerts_as_stored: bool,
    /// Set for an embedded `plexus fl run`: its virtual clock starts at the wall clock's now
    /// (less the warm-up), so the audit log it writes tells the real time, never a future one.
    #[arg(skip)]
    pub virtual_epoch_now: bool,
    /// Simulated neurons in the embedded fleet (spread over 3 zones).
    #[arg(long, global = true, default_value_t = 24, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub neurons: u32,
    /// Seed of the simulation: the same seed replays the same fleet.
    #[arg(long, global = true, default_value_t = 1)]
    pub seed: u64,
    /// Where the store lives (default: the platform data dir, e.g. ~/.local/share/plexus).
    #[arg(long, global = true, env = "PLEXUS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The federation CA's key (64 hex digits, mode 0600). Default: `ca.key` in the data dir,
    /// random, made on first use; with --virtual-time and no key, derived from --seed.
    #[arg(long, global = true, env = "PLEXUS_CA_KEY", value_name = "FILE")]
    pub ca_key: Option<PathBuf>,
    /// Output format of headless commands.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Same as --output json.
    #[arg(long, global = true)]
    pub json: bool,
    /// Heartbeat interval of the simulated neurons, in ms (100..=60000).
    #[arg(long, global = true, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub heartbeat_ms: u64,
    /// The engine's step, in ms (10..=1000): detection, message delivery and rollout hops
    /// advance once per step.
    #[arg(long, global = true, default_value_t = 50, value_parser = clap::value_parser!(u64).range(10..=1000))]
    pub tick_ms: u64,
    /// One-way latency of the simulated link, in ms.
    #[arg(long, global = true, default_value_t = 5.0)]
    pub link_latency_ms: f64,
    /// Jitter of the simulated link (± ms).
    #[arg(long, global = true, default_value_t = 2.0)]
    pub link_jitter_ms: f64,
    /// Share of messages the simulated link loses, 0..1.
    #[arg(long, global = true, default_value_t = 0.0)]
    pub link_loss: f64,
    /// Federation name shown in the header and reports.
    #[arg(long, global = true, default_value = "plexus-sim")]
    pub federation: String,
    /// Environment label shown in the header (e.g. prod).
    #[arg(long, global = true, default_value = "dev")]
    pub environment: String,
    /// Run the embedded engine on simulated time: waits take no wall time and output is
    /// reproducible for a given --seed (used by tests and demos).
    #[arg(long, global = true)]
    pub virtual_time: bool,
    /// Inject a fault into a simulated neuron at start, as ID=KIND (repeatable). Kinds: crash,
    /// crash-loop, hang, slow, analytics-stop, analytics-garbage, config-failure.
    #[arg(long = "fault", global = true, value_name = "ID=KIND", value_parser = parse_fault)]
    pub faults: Vec<(String, Fault)>,
    /// Act as another registered user (embedded mode): how operators rehearse what a role can do.
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub as_user: Option<String>,
    /// Read-only session: every action that changes anything is hidden and refused.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Talk to a server (`plexus serve`) instead of the embedded engine.
    #[arg(long, global = true, env = "PLEXUS_URL", value_name = "URL")]
    pub connect: Option<String>,
    /// Bearer token for --connect (from `plexus users token NAME`).
    #[arg(long, global = true, env = "PLEXUS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Colour output: auto (honours NO_COLOR and the terminal), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<crate::config::ColorChoice>,
    /// Plain ASCII symbols and borders in the console (for limited fonts and terminals).
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Alert rules file (TOML, see docs/alerts.md); config.toml key `alert_rules`.
    #[arg(long, global = true, value_name = "FILE")]
    pub alert_rules: Option<PathBuf>,
    /// Push alerts to this Alertmanager (`POST URL/api/v2/alerts`), e.g. with `plexus serve`;
    /// config.toml key `alertmanager`.
    #[arg(long, global = true, value_name = "URL")]
    pub alertmanager: Option<String>,
    /// POST alert notifications (Alertmanager webhook JSON) to this URL (repeatable);
    /// config.toml key `alert_webhooks`.
    #[arg(long = "alert-webhook", global = true, value_name = "URL")]
    pub alert_webhooks: Vec<String>,
    /// Append alert notifications to this NDJSON file; config.toml key `alert_ndjson`.
    #[arg(long, global = true, value_name = "FILE")]
    pub alert_ndjson: Option<PathBuf>,
}

/// `n-0003=crash` → the neuron and its fault.
pub fn parse_fault(text: &str) -> Result<(String, Fault), String> {
    let (id, kind) = text
        .split_once('=')
        .ok_or_else(|| format!("expected ID=KIND (e.g. n-0003=crash), got '{text}'"))?;
    let fault = match kind {
        "crash" => Fault::Crash { persistent: false },
        "crash-loop" => Fault::Crash { persistent: true },
        "hang" => Fault::Hang,
        "slow" => Fault::Slow {
            factor: 20.0,
            persistent: false,
        },
        "analytics-stop" => Fault::AnalyticsFailure {
            garbage: false,
            persistent: false,
        },
        "analytics-garbage" => Fault::AnalyticsFailure {
            garbage: true,
            persistent: false,
        },
        "config-failure" => Fault::ConfigFailure,
        other => {
            return Err(format!(
                "unknown fault kind '{other}' (crash, crash-loop, hang, slow, analytics-stop, analytics-garbage, config-failure)"
            ));
        }
    };
    if id.is_empty() {
        return Err("the neuron id before '=' is empty".into());
    }
    Ok((id.to_string(), fault))
}

impl Global {
    pub fn format(&self) -> OutputFormat {
        if self.json {
            OutputFormat::Json
        } else {
            self.output
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CommandLine {
    /// The system health summary: counts per state, failures, recoveries.
    Status,
    /// List neurons, or show one.
    Neurons {
        #[command(subcommand)]
        show: Option<NeuronsCommand>,
    },
    /// A neuron's log.
    Logs {
        /// Neuron id, e.g. n-0001.
        id: String,
        /// Lines to show.
        #[arg(long, default_value_t = 20)]
        tail: usize,
    },
    /// Force recovery of a neuron now (manual override of the attempt limit).
    Recover {
        /// Neuron id, e.g. n-0001.
        id: String,
        /// Return once the attempt started instead of waiting for its outcome.
        #[arg(long)]
        no_wait: bool,
    },
    /// Users, roles and tokens (admin only).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Serve the engine over HTTP and WebSocket (with its simulated fleet; --neurons 0 for none).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7700")]
        listen: std::net::SocketAddr,
        /// PEM certificate for TLS (with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key for TLS (with --tls-cert).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Run a real neuron agent that joins a server.
    Neuron(crate::cli::neuron_args::NeuronArgs),
    /// Stream live events as NDJSON.
    Watch {
        /// Stop after this many events.
        #[arg(long)]
        count: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long = "for")]
        for_secs: Option<f64>,
    },
    /// Federated learning: run across the simulated fleet, replay a captured round.
    #[command(subcommand)]
    Fl(crate::cli::fl_args::FlCommand),
    /// Print a shell completion script (e.g. `plexus completions bash > /etc/bash_completion.d/plexus`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, generated from this command line (`plexus man > plexus.1`).
    Man,
    /// Every resolved path (config, data, themes, keymaps, log) and the active theme and keymap.
    Info {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Chaos: inject a fault (drill), stop it, list faults.
    Chaos {
        #[command(subcommand)]
        command: crate::cli::chaos_args::ChaosCommand,
    },
    /// Stress tests: run a load profile, follow or stop a running one, clean up mock neurons.
    #[command(subcommand)]
    Stress(StressCommand),
    /// Benchmarks that plan capacity: `bench scale` measures the engine at several fleet sizes.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Roll a config or an experiment out (prepare, durable decision, waves, watch; reverted on
    /// any failure). Waits for the outcome: exit 1 when it aborted or rolled back.
    #[command(subcommand)]
    Broadcast(BroadcastCommand),
    /// The fleet's config version, drift, and recent rollouts; or one rollout's waves and
    /// per-neuron results.
    Rollouts {
        #[command(subcommand)]
        show: Option<RolloutsCommand>,
    },
    /// Stop the rollout in progress (it reverts), or roll the fleet back to an earlier version.
    Rollback {
        /// The version to go back to (default: the one the current version replaced).
        #[arg(long)]
        to: Option<String>,
        /// Return once accepted instead of waiting for the outcome.
        #[arg(long)]
        no_wait: bool,
    },
    /// Alerts: list (default), acknowledge, silence, list silences, expire a silence. Exit 0
    /// ok, 2 bad matchers or an unknown fingerprint/silence, 3 denied.
    Alerts {
        #[command(subcommand)]
        command: Option<AlertsCommand>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Pending and firing alerts, grouped, and the recently resolved.
    List,
    /// Acknowledge an alert (admin, operator, neuron-manager).
    Ack {
        /// The alert's fingerprint (a unique prefix will do).
        fingerprint: String,
    },
    /// Silence the alerts all MATCHERS select (admin, operator), e.g.
    /// `alertname=NeuronOffline zone=~"eu-.*"`.
    Silence {
        #[arg(required = true)]
        matchers: Vec<String>,
        /// How long, e.g. 30m, 2h.
        #[arg(long = "for", value_name = "DURATION")]
        duration: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Active and pending silences.
    Silences,
    /// End a silence now.
    Expire { id: String },
}

#[derive(Debug, Subcommand)]
pub enum StressCommand {
    /// Run a load profile (a name from assets/profiles or a TOML file); exit 1 on a breached
    /// threshold.
    Run {
        /// smoke, federation, elasticity, baseline, medium, high, spike, soak, or a path to a profile file.
        #[arg(default_value = "smoke")]
        profile: String,
        /// Mock neurons to register before the run (default: the profile's `neurons`). The
        /// global --neurons sizes the embedded simulated fleet.
        #[arg(long)]
        mock_neurons: Option<u32>,
        /// Scale the profile's phases to last this many seconds in all.
        #[arg(long)]
        duration: Option<f64>,
        /// Results directory (default: test-results/<test-id>).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Extra threshold, k6-style: "p95 < 250ms", "phase:peak error_rate < 1%" (repeatable).
        #[arg(long = "threshold")]
        thresholds: Vec<String>,
        /// Stop the run as soon as a threshold is breached.
        #[arg(long)]
        abort_on_breach: bool,
        /// Compare with an earlier summary.json and print the deltas.
        #[arg(long)]
        baseline: Option<std::path::PathBuf>,
        /// Override the profile's in-flight cap.
        #[arg(long)]
        max_in_flight: Option<usize>,
        /// Hold this many WebSocket subscribers on the server's event stream through the run
        /// and report how many it kept and their fan-out lag (needs --connect).
        #[arg(long, default_value_t = 0)]
        subscribers: usize,
    },
    /// A test's progress (from the server with --connect, else its summary.json).
    Status {
        id: String,
        /// Where results are (default: test-results).
        #[arg(long, default_value = "test-results")]
        results: std::path::PathBuf,
    },
    /// Stop a test running on a server (--connect); a local run stops with Ctrl-C.
    Stop { id: String },
    /// Remove every mock neuron (ids starting `stress-`).
    Cleanup,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The engine's cost curve: a fresh `plexus serve --neurons N` per size, measured from
    /// outside (time to 99% healthy, CPU, RSS, verdict and status latency, shutdown), a model
    /// fitted per measure, and the size where a core, the memory budget or the verdict target
    /// runs out. Writes report.md, report.html and summary.json; exit 1 when a size never came up.
    Scale {
        /// Fleet sizes, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,30000,100000")]
        sizes: Vec<u64>,
        /// Seconds of steady running measured at each size.
        #[arg(long, default_value_t = 10.0)]
        window: f64,
        /// Seconds a size may take to be 99% healthy.
        #[arg(long, default_value_t = 120.0)]
        boot_limit: f64,
        /// Memory budget to predict against, MB.
        #[arg(long, default_value_t = 4096.0)]
        memory_budget: f64,
        /// Verdict latency p99 to predict against, ms (past one heartbeat, detection slips).
        #[arg(long, default_value_t = 1000.0)]
        verdict_target: f64,
        /// Results directory (default: test-results/scale-<time>).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct WaveArgs {
    /// Neurons in the canary wave (0: none).
    #[arg(long, default_value_t = 1)]
    pub canary: u32,
    /// Neurons per later wave (0: all the rest at once).
    #[arg(long, default_value_t = 0)]
    pub batch_size: u32,
    /// Commits in flight at once within a wave (0: the whole wave).
    #[arg(long, default_value_t = 0)]
    pub max_unavailable: u32,
    /// Health gate between waves, ms (default: two heartbeat intervals).
    #[arg(long)]
    pub gate_ms: Option<u64>,
    /// Watch window after the last wave, ms (default: three heartbeat intervals).
    #[arg(long)]
    pub watch_ms: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum BroadcastCommand {
    /// Roll a config document (TOML or JSON; docs/rollouts.md) out as a new version.
    Config {
        file: PathBuf,
        /// Which neurons: zone=eu-west, hw=gpu, id=n-0001, comma = and (default: all). Not
        /// `--neurons`: that global flag sizes the simulated fleet.
        #[arg(long, short = 's')]
        selector: Option<String>,
        /// Check the document and plan the waves; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// The fleet version this push replaces (default: the one read just before pushing).
        #[arg(long)]
        expect: Option<String>,
        #[command(flatten)]
        waves: WaveArgs,
        /// Return once accepted instead of waiting for the outcome.
        #[arg(long)]
        no_wait: bool,
    },
    /// Deploy an experiment (name, variant, traffic_percent, selector, duration); it reverts
    /// by itself when its duration ends, or with `plexus rollback`.
    Experiment {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        no_wait: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolloutsCommand {
    /// One rollout: waves, per-neuron results, the rollback cause.
    Show {
        /// r-3 or 3.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NeuronsCommand {
    /// Everything about one neuron: state, detector, history, failure, recovery, logs.
    Show {
        /// Neuron id, e.g. n-0001.
        id: String,
    },
    /// A one-time join token for agent ID (admin; audited): give it to that agent alone
    /// (`plexus neuron --id ID --token-file FILE`); registering spends it and hands the agent a
    /// token of its own that acts only as ID. Printed once.
    Invite {
        /// Agent id.
        id: String,
        /// How long the invite is valid, e.g. 30m, 1h, 2d (up to 30 days).
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: u64,
    },
    /// Release an agent id from the key that enrolled it (admin): the next agent to register
    /// with that id enrols a new key. Audited.
    Forget {
        /// Agent id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Registered users and their roles.
    List,
    /// Register a user with a role.
    Add {
        name: String,
        /// admin, operator, neuron-manager or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Issue a new bearer token for a user; it is printed once and stored only as a hash. The
    /// user's previous token, and every session opened with it, stop working at once.
    Token { name: String },
    /// Revoke a user's token; the sessions opened with it end at once.
    Revoke { name: String },
    /// Remove a user; their token and sessions end.
    Remove { name: String },
    /// Change a user's role; their sessions end.
    Role {
        name: String,
        /// admin, operator, neuron-manager or viewer.
        #[arg(value_parser = parse_role)]
        role: Role,
    },
}

/// `30m`, `1h`, `2d` as milliseconds.
pub fn parse_ttl(text: &str) -> Result<u64, String> {
    crate::api::chaos::parse_duration_ms(text)
}

pub fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{text}'")),
    }
}

pub fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text)
        .ok_or_else(|| format!("unknown role '{text}' (admin, operator, neuron-manager, viewer)"))
}

#[derive(Debug, Args, Default)]
pub struct AuditFilterArgs {
    /// Only records of this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only this action, e.g. neuron.recover or config.push.
    #[arg(long)]
    pub action: Option<String>,
    /// Only allowed, denied or failed records.
    #[arg(long, value_parser = ["allowed", "denied", "failed"])]
    pub outcome: Option<String>,
    /// Only records since a time: RFC 3339 (2026-11-22T10:00:00Z) or an age like 30m, 12h, 7d.
    #[arg(long)]
    pub since: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recent audit records, oldest first.
    List {
        #[command(flatten)]
        filter: AuditFilterArgs,
        /// At most this many (the newest).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Export audit records (admin only).
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        filter: AuditFilterArgs,
    },
    /// Check the hash chain: exit 0 when intact, 1 naming the first record that does not verify.
    Verify,
}
