//! The load generator: profiles of phases and weighted scenarios, an open-model schedule,
//! HDR-histogram recording corrected for coordinated omission, thresholds and reports.
//!
//! It acts as a client — it drives a `dyn Backend` (or HTTP directly) like any face — so it lives
//! beside the faces, not inside the engine (docs/stress.md says why).

pub mod fl_round;
pub mod html;
pub mod http1;
pub mod job;
pub mod predict;
pub mod procfs;
pub mod profile;
pub mod recorder;
pub mod report;
pub mod run;
pub mod sample;
pub mod scale;
pub mod schedule;
pub mod summary;
pub mod target;
pub mod threshold;

/// The profiles shipped in assets/profiles, built into the binary: the product's own four, then
/// the seeds' five load profiles (docs/stress.md, "The seeds' profiles").
pub const BUILTIN_PROFILES: [(&str, &str); 8] = [
    ("smoke", include_str!("../../assets/profiles/smoke.toml")),
    (
        "federation",
        include_str!("../../assets/profiles/federation.toml"),
    ),
    (
        "elasticity",
        include_str!("../../assets/profiles/elasticity.toml"),
    ),
    (
        "baseline",
        include_str!("../../assets/profiles/baseline.toml"),
    ),
    ("medium", include_str!("../../assets/profiles/medium.toml")),
    ("high", include_str!("../../assets/profiles/high.toml")),
    ("spike", include_str!("../../assets/profiles/spike.toml")),
    ("soak", include_str!("../../assets/profiles/soak.toml")),
];

/// The built-in profiles' names, comma-separated, for help and errors.
pub fn builtin_names() -> String {
    BUILTIN_PROFILES.map(|(name, _)| name).join(", ")
}

/// A profile by built-in name or file path: (the name errors use, its text).
pub fn load_profile(name_or_path: &str) -> Result<profile::Profile, crate::config::SourceError> {
    let (file, text) = match BUILTIN_PROFILES.iter().find(|(n, _)| *n == name_or_path) {
        Some((n, t)) => (format!("built-in assets/profiles/{n}.toml"), t.to_string()),
        None => {
            let text = crate::config::read_text(name_or_path).map_err(|e| {
                crate::config::SourceError::new(
                    name_or_path,
                    format!(
                        "cannot read the profile ({e}); built-in: {}",
                        builtin_names()
                    ),
                )
            })?;
            (name_or_path.to_string(), text)
        }
    };
    profile::Profile::parse(&file, &text)
}
pub mod registry;
pub mod service;
pub mod ws;
