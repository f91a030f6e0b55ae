//! Chaos experiments: scenario files, the recovery monitor, the runner and its report.

pub mod monitor;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;

pub use progress::Progress;
pub use run::{Journal, Verdict, run};
pub use scenario::Scenario;
