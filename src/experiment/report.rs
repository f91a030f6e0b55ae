//! A run's results directory: the journal as JSON and a Markdown report for people.

use std::path::Path;

use super::run::Journal;

pub fn write(dir: &Path, journal: &Journal) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(journal).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("journal.json"), json)?;
    std::fs::write(dir.join("report.md"), markdown(journal))
}

fn secs(ms: Option<u64>) -> String {
    ms.map_or("—".into(), |m| format!("{:.1} s", m as f64 / 1000.0))
}

pub fn markdown(j: &Journal) -> String {
    let mut s = format!(
        "# {}\n\nSource: `{}`  \nVerdict: **{:?}**  \nDuration: {}\n\n",
        j.title,
        j.source,
        j.verdict,
        secs(Some(j.duration_ms))
    );
    if !j.reasons.is_empty() {
        s += "## Why\n\n";
        for r in &j.reasons {
            s += &format!("- {r}\n");
        }
        s += "\n";
    }
    s += "## Faults\n\n| id | kind | target | neurons | injected | detected | reverted | recovered | time to detect | time to recover |\n|---|---|---|---|---|---|---|---|---|---|\n";
    for f in &j.faults {
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            f.id,
            f.kind,
            f.target,
            f.neurons.len(),
            secs(Some(f.injected_ms)),
            secs(f.detected_ms),
            secs(f.reverted_ms),
            secs(f.recovered_ms),
            secs(f.time_to_detect_ms),
            secs(f.time_to_recover_ms)
        );
    }
    s += "\n## Hypothesis\n\n| when | probe | value | holds |\n|---|---|---|---|\n";
    for (when, list) in [("before", &j.before), ("after", &j.after)] {
        for p in list {
            s += &format!("| {when} | {} | {:.3} | {} |\n", p.probe, p.value, p.holds);
        }
    }
    if !j.rollbacks.is_empty() {
        s += "\n## Rollbacks\n\n";
        for r in &j.rollbacks {
            s += &format!("- {r}\n");
        }
    }
    s
}
