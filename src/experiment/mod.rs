//! Chaos experiments: scenario files, the recovery monitor, the runner and its report.

pub mod monitor;
pub mod report;
pub mod run;
pub mod scenario;

pub use run::{Journal, Verdict, run};
pub use scenario::Scenario;
