//! Where Plexus keeps its files: config dir (`PLEXUS_CONFIG_DIR` overrides the platform one),
//! data dir, and the user theme and keymap folders inside the config dir.

use std::path::PathBuf;

pub const CONFIG_DIR_ENV: &str = "PLEXUS_CONFIG_DIR";

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "plexus", "plexus")
}

/// The config dir: `$PLEXUS_CONFIG_DIR`, else the platform one (e.g. ~/.config/plexus).
pub fn config_dir() -> Option<PathBuf> {
    match std::env::var_os(CONFIG_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => project().map(|p| p.config_dir().to_path_buf()),
    }
}

pub fn config_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

/// The user's keymap overrides.
pub fn keymap_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("keymap.toml"))
}

/// User themes (`NAME.toml`) that add to or replace the bundled ones.
pub fn themes_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("themes"))
}

/// Where a log file would go (the data dir's `plexus.log`).
pub fn log_file(data_dir: Option<&std::path::Path>) -> Option<PathBuf> {
    data_dir
        .map(std::path::Path::to_path_buf)
        .or_else(|| project().map(|p| p.data_dir().to_path_buf()))
        .map(|d| d.join("plexus.log"))
}
