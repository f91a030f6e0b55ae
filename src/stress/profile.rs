//! Load profiles: TOML files with phases (arrival rates, ramps), weighted scenarios and
//! thresholds. Every mistake names the file, the line and the field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

use super::threshold::{Scope, Threshold};
use crate::config::SourceError;

/// What one request does (see docs/stress.md for what each one sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    Register,
    Heartbeat,
    ConfigPush,
    Status,
    Telemetry,
    Subscribe,
    FlRound,
    Predict,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::Register,
        Scenario::Heartbeat,
        Scenario::ConfigPush,
        Scenario::Status,
        Scenario::Telemetry,
        Scenario::Subscribe,
        Scenario::FlRound,
        Scenario::Predict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Register => "register",
            Scenario::Heartbeat => "heartbeat",
            Scenario::ConfigPush => "config-push",
            Scenario::Status => "status",
            Scenario::Telemetry => "telemetry",
            Scenario::Subscribe => "subscribe",
            Scenario::FlRound => "fl-round",
            Scenario::Predict => "predict",
        }
    }

    pub fn parse(text: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    pub name: String,
    pub duration: Duration,
    /// Requests per second at the start of the phase.
    pub arrival_rate: f64,
    /// Requests per second at its end (linear ramp); equal to `arrival_rate` when flat.
    pub ramp_to: f64,
    /// WebSocket subscribers held on the server's event stream during this phase.
    pub subscribers: u32,
    /// A closed phase: this many workers, each sending its next request as soon as its last
    /// one answered (as wrk and oha do; 0 for an open phase, paced by `arrival_rate`). Its
    /// latency is from the actual send: a closed loop cannot see the requests it never sent.
    pub concurrency: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// Mock neurons registered before the first phase (heartbeat, telemetry and config-push
    /// address them).
    pub neurons: u32,
    /// Requests in flight at most; more wait up to `max_wait`, then count as dropped.
    pub max_in_flight: usize,
    pub max_wait: Duration,
    pub abort_on_breach: bool,
    pub phases: Vec<Phase>,
    pub scenarios: Vec<(Scenario, u32)>,
    pub thresholds: Vec<Threshold>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    description: String,
    neurons: Option<Spanned<i64>>,
    max_in_flight: Option<Spanned<i64>>,
    max_wait: Option<Spanned<String>>,
    #[serde(default)]
    abort_on_breach: bool,
    phases: Vec<Spanned<RawPhase>>,
    scenarios: Vec<Spanned<RawScenario>>,
    #[serde(default)]
    thresholds: BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    name: String,
    duration: Spanned<String>,
    arrival_rate: Option<Spanned<f64>>,
    ramp_to: Option<Spanned<f64>>,
    subscribers: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    weight: Spanned<i64>,
}

/// The highest arrival rate a profile may ask for (a typo guard, not a capability claim).
pub const MAX_RATE: f64 = 1_000_000.0;
/// The most closed-loop workers a phase may run (a typo guard too).
pub const MAX_CONCURRENCY: i64 = 100_000;
/// The most WebSocket subscribers a phase may hold (a typo guard too).
pub const MAX_SUBSCRIBERS: i64 = 100_000;

/// `"30s"`, `"5m"`, `"1h"`, `"250ms"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "ms" => n,
        "s" => n * 1e3,
        "m" => n * 60e3,
        "h" => n * 3600e3,
        _ => return None,
    };
    (ms.is_finite() && (0.0..=30.0 * 86_400e3).contains(&ms))
        .then(|| Duration::from_micros((ms * 1e3) as u64))
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, offset: usize, key: String, message: impl Into<String>) -> SourceError {
        SourceError::new(self.file, message)
            .at(self.text, Some(offset))
            .key(key)
    }
}

impl Profile {
    /// Parse profile `text`, read from `file` (named in errors).
    pub fn parse(file: &str, text: &str) -> Result<Profile, SourceError> {
        let raw: RawProfile =
            toml::from_str(text).map_err(|e| SourceError::from_toml(file, text, &e))?;
        let cx = Ctx { file, text };
        if raw.name.trim().is_empty() {
            return Err(SourceError::new(file, "the profile has an empty name").key("name"));
        }
        let count = |v: &Option<Spanned<i64>>, key: &str, default: i64, max: i64| match v {
            None => Ok(default),
            Some(s) if (0..=max).contains(s.get_ref()) => Ok(*s.get_ref()),
            Some(s) => Err(cx.err(
                s.span().start,
                key.into(),
                format!("must be between 0 and {max}"),
            )),
        };
        let neurons = count(&raw.neurons, "neurons", 20, 100_000)? as u32;
        let max_in_flight = count(&raw.max_in_flight, "max_in_flight", 256, 100_000)?.max(1);
        let max_wait = match &raw.max_wait {
            None => Duration::from_secs(1),
            Some(s) => parse_duration(s.get_ref()).ok_or_else(|| {
                cx.err(
                    s.span().start,
                    "max_wait".into(),
                    "use a duration like \"500ms\" or \"1s\"",
                )
            })?,
        };
        if raw.phases.is_empty() {
            return Err(
                SourceError::new(file, "a profile needs at least one [[phases]]").key("phases"),
            );
        }
        let phases = raw
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| phase(&cx, i, p))
            .collect::<Result<Vec<_>, _>>()?;
        let scenarios = raw
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| scenario(&cx, i, s))
            .collect::<Result<Vec<_>, _>>()?;
        if scenarios.iter().map(|(_, w)| *w as u64).sum::<u64>() == 0 {
            return Err(
                SourceError::new(file, "the scenarios' weights add up to 0").key("scenarios")
            );
        }
        let mut thresholds = Vec::new();
        for (scope, exprs) in &raw.thresholds {
            let key = format!("thresholds.{scope}");
            let scope =
                Scope::parse(scope).map_err(|m| cx.err(exprs.span().start, key.clone(), m))?;
            for e in exprs.get_ref() {
                let t = Threshold::parse_in(scope.clone(), e.get_ref())
                    .map_err(|m| cx.err(e.span().start, key.clone(), m))?;
                thresholds.push(t);
            }
        }
        Ok(Profile {
            name: raw.name,
            description: raw.description,
            neurons,
            max_in_flight: max_in_flight as usize,
            max_wait,
            abort_on_breach: raw.abort_on_breach,
            phases,
            scenarios,
            thresholds,
        })
    }

    /// The whole run's length.
    pub fn duration(&self) -> Duration {
        self.phases.iter().map(|p| p.duration).sum()
    }

    /// Scale every phase so the run lasts `total` (keeps the shape; `--duration`).
    pub fn scale_to(&mut self, total: Duration) {
        let now = self.duration().as_secs_f64();
        if now <= 0.0 {
            return;
        }
        let k = total.as_secs_f64() / now;
        for p in &mut self.phases {
            p.duration = Duration::from_secs_f64(p.duration.as_secs_f64() * k);
        }
    }
}

fn phase(cx: &Ctx, i: usize, p: &Spanned<RawPhase>) -> Result<Phase, SourceError> {
    let r = p.get_ref();
    let key = |f: &str| format!("phases[{i}].{f}");
    let duration = parse_duration(r.duration.get_ref()).ok_or_else(|| {
        cx.err(
            r.duration.span().start,
            key("duration"),
            "use a duration like \"30s\", \"5m\" or \"250ms\"",
        )
    })?;
    let rate = |s: &Spanned<f64>, f: &str| {
        let v = *s.get_ref();
        if v.is_finite() && (0.0..=MAX_RATE).contains(&v) {
            Ok(v)
        } else {
            Err(cx.err(
                s.span().start,
                key(f),
                format!("requests per second between 0 and {MAX_RATE}"),
            ))
        }
    };
    let (arrival_rate, ramp_to, concurrency) = match (&r.arrival_rate, &r.concurrency) {
        (Some(a), None) => {
            let arrival_rate = rate(a, "arrival_rate")?;
            let ramp_to = match &r.ramp_to {
                Some(s) => rate(s, "ramp_to")?,
                None => arrival_rate,
            };
            (arrival_rate, ramp_to, 0)
        }
        (None, Some(c)) if (1..=MAX_CONCURRENCY).contains(c.get_ref()) => {
            if let Some(ramp) = &r.ramp_to {
                return Err(cx.err(
                    ramp.span().start,
                    key("ramp_to"),
                    "a closed phase (concurrency) has no arrival rate to ramp",
                ));
            }
            (0.0, 0.0, *c.get_ref() as u32)
        }
        (None, Some(c)) => {
            return Err(cx.err(
                c.span().start,
                key("concurrency"),
                format!("workers between 1 and {MAX_CONCURRENCY}"),
            ));
        }
        (Some(_), Some(c)) => {
            return Err(cx.err(
                c.span().start,
                key("concurrency"),
                "either arrival_rate (open: requests start on schedule) or concurrency (closed: \
                 workers send back to back), not both",
            ));
        }
        (None, None) => {
            return Err(cx.err(
                p.span().start,
                key("arrival_rate"),
                "a phase needs arrival_rate (requests per second) or concurrency (workers)",
            ));
        }
    };
    if r.name.trim().is_empty() {
        return Err(cx.err(p.span().start, key("name"), "the phase has an empty name"));
    }
    let subscribers = match &r.subscribers {
        None => 0,
        Some(s) if (0..=MAX_SUBSCRIBERS).contains(s.get_ref()) => *s.get_ref() as u32,
        Some(s) => {
            return Err(cx.err(
                s.span().start,
                key("subscribers"),
                format!("must be between 0 and {MAX_SUBSCRIBERS}"),
            ));
        }
    };
    Ok(Phase {
        name: r.name.clone(),
        duration,
        arrival_rate,
        ramp_to,
        subscribers,
        concurrency,
    })
}

fn scenario(cx: &Ctx, i: usize, s: &Spanned<RawScenario>) -> Result<(Scenario, u32), SourceError> {
    let r = s.get_ref();
    let name = Scenario::parse(r.name.get_ref()).ok_or_else(|| {
        let all: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
        cx.err(
            r.name.span().start,
            format!("scenarios[{i}].name"),
            format!(
                "unknown scenario '{}' (one of: {})",
                r.name.get_ref(),
                all.join(", ")
            ),
        )
    })?;
    let weight = *r.weight.get_ref();
    if !(0..=1_000_000).contains(&weight) {
        return Err(cx.err(
            r.weight.span().start,
            format!("scenarios[{i}].weight"),
            "a weight between 0 and 1000000",
        ));
    }
    Ok((name, weight as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
[[phases]]
name = "warm"
duration = "2s"
arrival_rate = 5
ramp_to = 10
[[scenarios]]
name = "status"
weight = 3
[thresholds]
global = ["p95 < 250ms", "error_rate < 0.1%"]
"phase:warm" = ["p99 < 1s"]
"#;

    #[test]
    fn a_good_profile_parses() {
        let p = Profile::parse("t.toml", GOOD).expect("parses");
        assert_eq!(p.phases[0].duration, Duration::from_secs(2));
        assert_eq!(p.phases[0].ramp_to, 10.0);
        assert_eq!(p.scenarios, vec![(Scenario::Status, 3)]);
        assert_eq!(p.thresholds.len(), 3);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let bad = GOOD.replace("\"2s\"", "\"2 parsecs\"");
        let e = Profile::parse("t.toml", &bad).unwrap_err();
        assert_eq!(e.line, Some(5));
        assert_eq!(e.key.as_deref(), Some("phases[0].duration"));
        let bad = GOOD.replace("\"status\"", "\"dance\"");
        let e = Profile::parse("t.toml", &bad).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(9), Some("scenarios[0].name"))
        );
        let bad = GOOD.replace("p99 < 1s", "p99 <");
        let e = Profile::parse("t.toml", &bad).unwrap_err();
        assert_eq!(e.line, Some(13));
        assert!(
            e.to_string()
                .starts_with("t.toml:13: key 'thresholds.phase:warm'")
        );
    }

    #[test]
    fn a_phase_is_open_or_closed_never_both_nor_neither() {
        let closed = GOOD.replace("arrival_rate = 5\nramp_to = 10", "concurrency = 64");
        let p = Profile::parse("t.toml", &closed).expect("parses");
        assert_eq!(
            (p.phases[0].concurrency, p.phases[0].arrival_rate),
            (64, 0.0)
        );
        let both = GOOD.replace("ramp_to = 10", "concurrency = 64");
        let e = Profile::parse("t.toml", &both).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(7), Some("phases[0].concurrency"))
        );
        let neither = GOOD.replace("arrival_rate = 5\nramp_to = 10\n", "");
        let e = Profile::parse("t.toml", &neither).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("phases[0].arrival_rate"));
        let ramped = GOOD.replace("arrival_rate = 5", "concurrency = 8");
        let e = Profile::parse("t.toml", &ramped).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("phases[0].ramp_to"));
        let zero = closed.replace("concurrency = 64", "concurrency = 0");
        assert!(Profile::parse("t.toml", &zero).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("x"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_input_gives_a_profile_or_an_error(text in "\\PC{0,400}") {
            let _ = Profile::parse("p.toml", &text);
        }

        #[test]
        fn mutated_good_profiles_never_panic(at in 0usize..300, junk in "\\PC{0,8}") {
            let mut t = GOOD.to_string();
            let at = at.min(t.len());
            if t.is_char_boundary(at) {
                t.insert_str(at, &junk);
            }
            let _ = Profile::parse("p.toml", &t);
        }
    }
}

#[cfg(test)]
mod shipped {
    use super::Profile;

    #[test]
    fn every_shipped_profile_parses() {
        for (name, _) in crate::stress::BUILTIN_PROFILES {
            let file = format!("{}/assets/profiles/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&file).expect("shipped profile");
            let p = Profile::parse(&file, &text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.name, name);
        }
    }
}
