//! Bringing up the backend a face talks to: today the embedded engine with a simulated fleet.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::args::Global;
use crate::api::ApiError;
use crate::client::{Backend, BackendExt, Embedded};
use crate::engine::config::{EngineConfig, LinkConfig};
use crate::engine::{Engine, EngineOptions};
use crate::neuron::{SimConfig, SimFleet};

/// The platform data dir (e.g. ~/.local/share/plexus on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "plexus", "plexus").map(|d| d.data_dir().to_path_buf())
}

/// The OS user running this process.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn validate(global: &Global) -> Result<(), ApiError> {
    if !(0.0..=1.0).contains(&global.link_loss) {
        return Err(ApiError::bad_input(format!(
            "--link-loss must be between 0 and 1, got {}",
            global.link_loss
        )));
    }
    if global.link_latency_ms < 0.0 || global.link_jitter_ms < 0.0 {
        return Err(ApiError::bad_input(
            "--link-latency-ms and --link-jitter-ms must not be negative",
        ));
    }
    Ok(())
}

pub fn engine_config(global: &Global) -> EngineConfig {
    EngineConfig {
        federation: global.federation.clone(),
        environment: global.environment.clone(),
        heartbeat_ms: global.heartbeat_ms,
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
    validate(global)?;
    let config = engine_config(global);
    let fleet = SimFleet::new(&SimConfig {
        neurons: global.neurons as usize,
        heartbeat_ms: config.heartbeat_ms,
        seed: global.seed,
        ..SimConfig::default()
    });
    let data_dir = global.data_dir.clone().or_else(default_data_dir);
    let engine = Engine::start(
        EngineOptions {
            config,
            seed: global.seed,
            data_dir,
            virtual_time: global.virtual_time,
        },
        Box::new(fleet),
    )?;
    let backend = Embedded::new(engine, os_user(), "admin");
    inject_faults(&backend, global).await?;
    Ok(Arc::new(backend))
}

/// Inject the faults asked for with --fault (after boot, before anything else happens).
pub async fn inject_faults(backend: &Embedded, global: &Global) -> Result<(), ApiError> {
    for (id, fault) in &global.faults {
        backend.engine().inject(id, fault.clone()).await?;
    }
    Ok(())
}

/// Let the first heartbeats arrive: until no neuron is pending, or `limit` passed.
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
