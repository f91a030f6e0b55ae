//! Chaos faults as they cross a boundary: what to inject (kind, parameters), into whom (a
//! selector), for how long, and what the engine reports about each fault it holds.

use serde::{Deserialize, Serialize};

use super::Millis;

/// The kinds of fault a drill or an experiment can inject (CLI names in [`ChaosKind::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChaosKind {
    Crash,
    Hang,
    Slow,
    Partition,
    Latency,
    PacketLoss,
    Byzantine,
    ConfigFailure,
    AnalyticsFailure,
    IdentityFailure,
}

impl ChaosKind {
    pub const ALL: [ChaosKind; 10] = [
        ChaosKind::Crash,
        ChaosKind::Hang,
        ChaosKind::Slow,
        ChaosKind::Partition,
        ChaosKind::Latency,
        ChaosKind::PacketLoss,
        ChaosKind::Byzantine,
        ChaosKind::ConfigFailure,
        ChaosKind::AnalyticsFailure,
        ChaosKind::IdentityFailure,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ChaosKind::Crash => "crash",
            ChaosKind::Hang => "hang",
            ChaosKind::Slow => "slow",
            ChaosKind::Partition => "partition",
            ChaosKind::Latency => "latency",
            ChaosKind::PacketLoss => "packet-loss",
            ChaosKind::Byzantine => "byzantine",
            ChaosKind::ConfigFailure => "config-failure",
            ChaosKind::AnalyticsFailure => "analytics-failure",
            ChaosKind::IdentityFailure => "identity-failure",
        }
    }

    pub fn parse(text: &str) -> Result<ChaosKind, String> {
        ChaosKind::ALL
            .into_iter()
            .find(|k| k.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = ChaosKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown fault kind '{text}' ({})", names.join(", "))
            })
    }

    /// Faults that act on the link rather than on the neuron.
    pub fn is_network(self) -> bool {
        matches!(
            self,
            ChaosKind::Partition | ChaosKind::Latency | ChaosKind::PacketLoss
        )
    }
}

impl std::fmt::Display for ChaosKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which neurons a fault hits, resolved by the engine when it is injected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "select", rename_all = "snake_case")]
pub enum Selector {
    One {
        neuron: String,
    },
    All,
    /// The first `count` neurons in registry order.
    Count {
        count: usize,
    },
    /// This share of the fleet (0..=100), rounded up, in registry order.
    Percent {
        percent: f64,
    },
    Zone {
        zone: String,
    },
    /// `count` neurons drawn with a seeded generator: the same seed picks the same neurons.
    Random {
        count: usize,
        seed: u64,
    },
}

impl Selector {
    /// `n-0001`, `all`, `count:5`, `10%`, `zone:eu-west`, `random:3` or `random:3:SEED`.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        let number = |s: &str, what: &str| -> Result<usize, String> {
            s.parse::<usize>()
                .map_err(|_| format!("'{s}' is not a whole number ({what}) in selector '{text}'"))
        };
        if text.is_empty() {
            return Err("the target selector is empty".into());
        }
        if text == "all" {
            return Ok(Selector::All);
        }
        if let Some(p) = text.strip_suffix('%') {
            let percent: f64 = p
                .parse()
                .map_err(|_| format!("'{p}' is not a percentage in selector '{text}'"))?;
            if !(0.0..=100.0).contains(&percent) || percent == 0.0 {
                return Err(format!("percentage {percent} is outside 0 < p <= 100"));
            }
            return Ok(Selector::Percent { percent });
        }
        if let Some(rest) = text.strip_prefix("count:") {
            return Ok(Selector::Count {
                count: number(rest, "count")?,
            });
        }
        if let Some(zone) = text.strip_prefix("zone:") {
            if zone.is_empty() {
                return Err("zone selector without a zone (zone:NAME)".into());
            }
            return Ok(Selector::Zone { zone: zone.into() });
        }
        if let Some(rest) = text.strip_prefix("random:") {
            let (count, seed) = match rest.split_once(':') {
                Some((c, s)) => (
                    number(c, "count")?,
                    s.parse::<u64>()
                        .map_err(|_| format!("'{s}' is not a seed in selector '{text}'"))?,
                ),
                None => (number(rest, "count")?, 1),
            };
            return Ok(Selector::Random { count, seed });
        }
        if text.contains(':') {
            return Err(format!(
                "unknown selector '{text}' (ID, all, count:N, P%, zone:NAME, random:N[:SEED])"
            ));
        }
        Ok(Selector::One {
            neuron: text.into(),
        })
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::One { neuron } => f.write_str(neuron),
            Selector::All => f.write_str("all"),
            Selector::Count { count } => write!(f, "count:{count}"),
            Selector::Percent { percent } => write!(f, "{percent}%"),
            Selector::Zone { zone } => write!(f, "zone:{zone}"),
            Selector::Random { count, seed } => write!(f, "random:{count}:{seed}"),
        }
    }
}

/// Which way a network fault acts, seen from the neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Both,
    /// Neuron → engine (heartbeats, probe answers).
    Up,
    /// Engine → neuron (probes, restarts, configs).
    Down,
}

/// Parameters of a fault; each kind reads the ones it needs and ignores the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChaosParams {
    /// latency: added one-way delay.
    pub latency_ms: f64,
    /// latency: ± jitter.
    pub jitter_ms: f64,
    /// packet-loss: share of messages lost (0..1).
    pub loss: f64,
    /// slow: how many times slower requests get.
    pub factor: f64,
    /// Network faults: which way.
    pub direction: Direction,
    /// crash: crash again after every restart; slow/analytics/byzantine: survive restarts.
    pub persistent: bool,
    /// analytics-failure: send invalid numbers instead of nothing.
    pub garbage: bool,
    /// identity-failure: how the identity breaks.
    pub mode: super::identity::IdentityMode,
}

impl Default for ChaosParams {
    fn default() -> Self {
        ChaosParams {
            latency_ms: 400.0,
            jitter_ms: 100.0,
            loss: 0.1,
            factor: 8.0,
            direction: Direction::Both,
            persistent: false,
            garbage: false,
            mode: super::identity::IdentityMode::BadSignature,
        }
    }
}

/// One fault to inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChaosSpec {
    pub kind: ChaosKind,
    pub target: Selector,
    /// Reverted by the engine after this long; `None` holds it until stopped.
    pub duration_ms: Option<Millis>,
    #[serde(default)]
    pub params: ChaosParams,
}

/// A fault the engine holds or held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChaosFaultView {
    /// `c-1`, `c-2`, … per engine.
    pub id: String,
    pub kind: ChaosKind,
    pub target: String,
    pub neurons: Vec<String>,
    /// Engine time (ms since start) it was injected at, and wall time.
    pub injected_ms: Millis,
    pub injected_at: String,
    pub until_ms: Option<Millis>,
    pub reverted_ms: Option<Millis>,
    /// `duration`, `stopped`, or empty while active.
    pub reverted_by: String,
    /// Engine time the engine first saw it (a failure of one of its neurons that this kind
    /// causes), and the event that counted; recorded once by the engine, read by every face.
    #[serde(default)]
    pub detected_ms: Option<Millis>,
    #[serde(default)]
    pub detection: Option<String>,
    /// Engine time from which its neurons were healthy for the stability window after the
    /// revert (or after the engine's own recovery, for a one-shot fault).
    #[serde(default)]
    pub recovered_ms: Option<Millis>,
}

impl ChaosFaultView {
    pub fn active(&self) -> bool {
        self.reverted_ms.is_none()
    }
}

/// `30s`, `500ms`, `2m`, `1h`, or bare seconds.
pub fn parse_duration_ms(text: &str) -> Result<Millis, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 500ms, 30s, 2m, 1h)"))?;
    let scale = match unit {
        "ms" => 1.0,
        "" | "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(format!("unknown unit '{unit}' in duration '{text}'")),
    };
    Ok((value * scale).round() as Millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_and_print_back() {
        for text in [
            "n-0003",
            "all",
            "count:5",
            "10%",
            "zone:eu-west",
            "random:3:7",
        ] {
            assert_eq!(Selector::parse(text).unwrap().to_string(), text);
        }
        assert!(Selector::parse("bogus:3").is_err());
        assert!(Selector::parse("150%").is_err());
        assert!(Selector::parse("count:x").is_err());
    }

    #[test]
    fn durations_and_kinds_parse() {
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("30s"), Ok(30_000));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert!(parse_duration_ms("3 weeks").is_err());
        for kind in ChaosKind::ALL {
            assert_eq!(ChaosKind::parse(kind.name()), Ok(kind));
        }
        assert!(ChaosKind::parse("meteor").is_err());
    }
}
