//! Quality table on digits: 20 neurons, Dirichlet α = 0.5, 50 sync rounds, every rule × attack,
//! plus streaming throughput (`cargo bench --bench fl_quality`). Prints Markdown for docs/fl.md.

use plexus::api::fl::{Attack, Mode, Rule};
use plexus::engine::fl::aggregate::Params;
use plexus::engine::fl::coordinator::{self, FlConfig};
use plexus::engine::fl::liveness::AllAlive;

fn run(cfg: FlConfig) -> Result<plexus::api::fl::RunSummary, String> {
    coordinator::run(cfg, &mut AllAlive, None, &mut |_| {}).map_err(|e| e.0)
}

fn main() {
    let cols = [
        (Attack::None, 0.0),
        (Attack::SignFlip, 0.3),
        (Attack::Gaussian, 0.3),
        (Attack::Lie, 0.2),
    ];
    println!("| rule | clean | sign-flip 30% | gaussian 30% | lie 20% |");
    println!("|---|---|---|---|---|");
    for rule in Rule::ALL {
        let mut cells = Vec::new();
        for (attack, share) in cols {
            let cfg = FlConfig {
                rule: *rule,
                attack,
                byzantine: share,
                params: Params {
                    f: Params::AUTO_F,
                    beta: 0.3,
                    keep: None,
                },
                ..FlConfig::default()
            };
            let f = (share * 20.0f64).round() as usize;
            cells.push(if *rule == Rule::Bulyan && 20 < 4 * f + 3 {
                format!("n/a (f={f} needs n ≥ {})", 4 * f + 3)
            } else {
                match run(cfg) {
                    Ok(s) => format!(
                        "{:.1}%{}",
                        100.0 * s.final_accuracy,
                        if s.diverged { " (diverged)" } else { "" }
                    ),
                    Err(e) => format!("error: {e}"),
                }
            });
        }
        println!("| {rule} | {} |", cells.join(" | "));
    }
    for (attack, share) in [(Attack::None, 0.0), (Attack::SignFlip, 0.3)] {
        let cfg = FlConfig {
            mode: Mode::Streaming,
            attack,
            byzantine: share,
            lr: 0.05,
            rounds: 100,
            ..FlConfig::default()
        };
        if let Ok(s) = run(cfg) {
            println!(
                "\nstreaming ({attack}, {:.0}%): {:.0} updates/s, final accuracy {:.1}%",
                share * 100.0,
                s.updates_per_sec.unwrap_or(0.0),
                100.0 * s.final_accuracy
            );
        }
    }
}
