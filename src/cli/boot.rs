//! Bringing up the backend a face talks to: today the embedded engine with a simulated fleet.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::args::Global;
use crate::api::{ApiError, Command};
use crate::client::{Backend, BackendExt, Embedded, Remote};
use crate::engine::alerts::config::AlertConfig;
use crate::engine::config::{EngineConfig, LinkConfig};
use crate::engine::gate::SecurityConfig;
use crate::engine::{Engine, EngineOptions};
use crate::neuron::{SimConfig, SimFleet};

/// The platform data dir (e.g. ~/.local/share/plexus on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "plexus", "plexus").map(|d| d.data_dir().to_path_buf())
}

/// The name of a Unix user id, from the password database.
fn user_name(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes into the buffers we own and sets `result` to `pwd` or null.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return None;
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    name.to_str().ok().map(str::to_string)
}

/// The OS user running this process.
pub fn os_user() -> String {
    // SAFETY: geteuid has no preconditions.
    user_name(unsafe { libc::geteuid() })
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The OS user who owns `dir` (who becomes Admin on its first use), or the current user for a
/// dir that does not exist yet (this process will create it).
pub fn owner_of(dir: &std::path::Path) -> String {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir)
        .ok()
        .and_then(|m| user_name(m.uid()))
        .unwrap_or_else(os_user)
}

/// Where a local session comes from, for the audit record.
pub fn local_source() -> String {
    // SAFETY: ttyname returns null or a pointer to a static NUL-terminated string.
    let tty = unsafe {
        let name = libc::ttyname(0);
        if name.is_null() {
            "none".to_string()
        } else {
            std::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        }
    };
    format!("local tty={tty} pid={}", std::process::id())
}

fn validate(global: &Global) -> Result<(), ApiError> {
    use crate::api::bounds::{MAX_LATENCY_MS, number};
    number("--link-loss", global.link_loss, 0.0, 1.0)?;
    number(
        "--link-latency-ms",
        global.link_latency_ms,
        0.0,
        MAX_LATENCY_MS,
    )?;
    number(
        "--link-jitter-ms",
        global.link_jitter_ms,
        0.0,
        MAX_LATENCY_MS,
    )
}

pub fn engine_config(global: &Global) -> EngineConfig {
    EngineConfig {
        federation: global.federation.clone(),
        environment: global.environment.clone(),
        heartbeat_ms: global.heartbeat_ms,
        tick_ms: global.tick_ms,
        link: LinkConfig {
            latency_ms: global.link_latency_ms,
            jitter_ms: global.link_jitter_ms,
            loss: global.link_loss,
        },
        ..EngineConfig::default()
    }
}

/// Start the embedded engine with its simulated fleet, with the faults of --fault injected.
pub async fn embedded(global: &Global) -> Result<Arc<dyn Backend>, ApiError> {
    let engine = engine(global)?;
    let user = global.as_user.clone().unwrap_or_else(os_user);
    let backend = Embedded::connect(engine, &user, &local_source(), global.read_only).await?;
    inject_faults(&backend, global).await?;
    Ok(Arc::new(backend))
}

/// Inject the faults asked for with --fault (after boot, before anything else happens).
pub async fn inject_faults(backend: &Embedded, global: &Global) -> Result<(), ApiError> {
    for (id, fault) in &global.faults {
        backend
            .submit(Command::InjectFault {
                neuron: id.clone(),
                fault: fault.clone(),
            })
            .await?;
    }
    Ok(())
}

/// The backend the global flags ask for: a server with --connect, else the embedded engine.
pub async fn backend(global: &Global) -> Result<Arc<dyn Backend>, ApiError> {
    let Some(url) = &global.connect else {
        return embedded(global).await;
    };
    let token = global.token.as_deref().ok_or_else(|| {
        ApiError::bad_input(
            "--connect needs --token (or PLEXUS_TOKEN); `plexus users token NAME` issues one",
        )
    })?;
    let token = usable_token(token)?;
    let remote = Remote::connect(url, token).await?;
    for (id, fault) in &global.faults {
        remote
            .submit(Command::InjectFault {
                neuron: id.clone(),
                fault: fault.clone(),
            })
            .await?;
    }
    Ok(Arc::new(remote))
}

/// A token as pasted: surrounding whitespace (a newline from a file) dropped; anything else that
/// an HTTP header cannot carry is named here, not reported later as an unreachable server.
fn usable_token(raw: &str) -> Result<&str, ApiError> {
    let token = raw.trim();
    if token.is_empty() {
        return Err(ApiError::bad_input("--token (or PLEXUS_TOKEN) is empty"));
    }
    if let Some((at, c)) = token.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
        return Err(ApiError::bad_input(format!(
            "--token (or PLEXUS_TOKEN) holds {c:?} at character {}: a token is one word of \
             printable ASCII, as `plexus users token NAME` prints it",
            at + 1
        )));
    }
    Ok(token)
}

/// config.toml's alert keys, where no flag said otherwise.
pub fn alert_settings_from(global: &mut Global, config: &crate::config::Config) {
    if global.alert_rules.is_none() {
        global.alert_rules = config.alert_rules.clone();
    }
    if global.alertmanager.is_none() {
        global.alertmanager = config.alertmanager.clone();
    }
    if global.alert_ndjson.is_none() {
        global.alert_ndjson = config.alert_ndjson.clone();
    }
    global
        .alert_webhooks
        .extend(config.alert_webhooks.iter().cloned());
}

/// The alert rules file and sinks the flags name; a bad rules file is bad input (exit 2) naming
/// the file, line and key.
fn alert_config(global: &Global, base: AlertConfig) -> Result<AlertConfig, ApiError> {
    let mut cfg = match &global.alert_rules {
        Some(path) => crate::config::alert_rules::load(path, &base)
            .map_err(|e| ApiError::bad_input(e.to_string()))?,
        None => base,
    };
    cfg.sinks.alertmanager = global.alertmanager.clone();
    cfg.sinks.webhooks = global.alert_webhooks.clone();
    cfg.sinks.ndjson = global.alert_ndjson.clone();
    if let Some(url) = cfg
        .sinks
        .webhooks
        .iter()
        .chain(&cfg.sinks.alertmanager)
        .find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
    {
        return Err(ApiError::bad_input(format!(
            "alert sink URL '{url}' must start with http:// or https://"
        )));
    }
    Ok(cfg)
}

/// Start the engine for `plexus serve`.
pub fn engine(global: &Global) -> Result<Engine, ApiError> {
    validate(global)?;
    let mut config = engine_config(global);
    config.alerts = alert_config(global, std::mem::take(&mut config.alerts))?;
    config.alerts.evaluate = !global.alerts_as_stored;
    let fleet = SimFleet::new(&SimConfig {
        neurons: global.neurons as usize,
        heartbeat_ms: config.heartbeat_ms,
        seed: global.seed,
        wait_for_keys: global.virtual_time,
        ..SimConfig::default()
    });
    let data_dir = global.data_dir.clone().or_else(default_data_dir);
    let first_admin = data_dir.as_deref().map_or_else(os_user, owner_of);
    Engine::start(
        EngineOptions {
            config,
            seed: global.seed,
            data_dir,
            virtual_time: global.virtual_time,
            // The warm-up advances engine time by at most WARM_UP for free: starting that much
            // before the wall's now, what the run records is never dated in the future.
            virtual_epoch_unix_ms: global
                .virtual_epoch_now
                .then(|| chrono::Utc::now().timestamp_millis() - WARM_UP.as_millis() as i64),
            security: SecurityConfig::default(),
            first_admin,
            ca_key: global.ca_key.clone(),
        },
        Box::new(fleet),
    )
}

/// Let the first heartbeats arrive: until no neuron is pending, or `limit` passed.
/// How long a headless command waits (in engine time, at most) for the first heartbeats.
pub const WARM_UP: Duration = Duration::from_secs(2);

pub async fn warm_up(backend: &dyn Backend, limit: Duration) -> Result<(), ApiError> {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while waited < limit {
        backend.sleep(step).await;
        waited += step;
        let status = backend.status().await?;
        if status.neurons.total == 0 {
            break;
        }
        if status.neurons.pending == 0 {
            // One more snapshot period so every row carries its first telemetry.
            backend.sleep(Duration::from_millis(300)).await;
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::usable_token;

    #[test]
    fn a_pasted_token_loses_its_newline_and_stray_text_is_named() {
        assert_eq!(usable_token("plx_abc\n").unwrap(), "plx_abc");
        let err = usable_token("plx_abc\ntoken for vic: shown once").unwrap_err();
        assert_eq!(err.code, crate::api::ErrorCode::BadInput);
        assert!(
            err.message.contains("'\\n' at character 8"),
            "{}",
            err.message
        );
        assert!(usable_token("  ").is_err());
    }
}
