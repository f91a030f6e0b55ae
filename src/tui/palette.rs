//! The `:` command palette: a registry of verbs (each view adds its own), aliases from the config,
//! Tab completion of verbs and neuron ids. Resolving a line is pure; the app runs the result.

use std::collections::BTreeMap;

use crate::api::security::AuditFilter;

/// What a palette line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Run {
    Neurons,
    Overview,
    Audit(AuditFilter),
    Recover(String),
    /// Push a config version to the whole fleet (asks for the federation name first).
    Broadcast(String),
    Rollouts,
    Filter(String),
    Fl,
    /// Start an FL run (asks first).
    FlStart(Box<crate::api::fl_run::FlRunSpec>),
    RenewSession,
    Help,
    Quit,
    /// The alerts view.
    Alerts,
    /// Silence the alerts the matchers select for this long (ms).
    Silence(Vec<crate::api::alert::Matcher>, u64),
    /// Open the stress view; with a request, start a test.
    Stress(Option<crate::api::stress::StressRequest>),
    /// Open the chaos view; with a request, run an experiment or inject a drill.
    Chaos(Option<super::screens::chaos::ChaosRequest>),
}

/// One verb: `:name args`.
#[derive(Debug, Clone)]
pub struct Verb {
    pub name: &'static str,
    pub usage: &'static str,
    pub help: &'static str,
    /// Whether the first argument is a neuron id (for Tab completion).
    pub takes_neuron: bool,
    pub parse: fn(&[&str]) -> Result<Run, String>,
}

fn no_args(run: Run) -> impl Fn(&[&str]) -> Result<Run, String> {
    move |args| {
        if args.is_empty() {
            Ok(run.clone())
        } else {
            Err(format!("takes no arguments, got '{}'", args.join(" ")))
        }
    }
}

fn one_arg<'a>(args: &[&'a str], what: &str) -> Result<&'a str, String> {
    match args {
        [one] => Ok(one),
        [] => Err(format!("needs {what}")),
        _ => Err(format!("takes one {what}, got '{}'", args.join(" "))),
    }
}

fn audit(args: &[&str]) -> Result<Run, String> {
    let mut filter = AuditFilter::default();
    for arg in args {
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("expected user=, action= or outcome=, got '{arg}'"))?;
        let slot = match key {
            "user" => &mut filter.user,
            "action" => &mut filter.action,
            "outcome" if matches!(value, "allowed" | "denied" | "failed") => &mut filter.outcome,
            "outcome" => {
                return Err(format!(
                    "outcome is allowed, denied or failed, not '{value}'"
                ));
            }
            other => {
                return Err(format!(
                    "unknown audit filter '{other}' (user, action, outcome)"
                ));
            }
        };
        *slot = Some(value.to_string());
    }
    Ok(Run::Audit(filter))
}

/// The verbs every console has. Later views register theirs with [`Palette::register`].
pub fn standard_verbs() -> Vec<Verb> {
    vec![
        Verb {
            name: "neurons",
            usage: "",
            help: "Show the neurons table",
            takes_neuron: false,
            parse: |a| no_args(Run::Neurons)(a),
        },
        Verb {
            name: "overview",
            usage: "",
            help: "Show the fleet overview",
            takes_neuron: false,
            parse: |a| no_args(Run::Overview)(a),
        },
        Verb {
            name: "audit",
            usage: "[user=U] [action=A] [outcome=allowed|denied|failed]",
            help: "Show the audit log, optionally filtered",
            takes_neuron: false,
            parse: audit,
        },
        Verb {
            name: "recover",
            usage: "ID",
            help: "Force recovery of a neuron (asks first)",
            takes_neuron: true,
            parse: |a| one_arg(a, "a neuron id").map(|id| Run::Recover(id.into())),
        },
        Verb {
            name: "broadcast",
            usage: "FILE",
            help: "Roll a config file out to every neuron (asks for the federation name)",
            takes_neuron: false,
            parse: |a| one_arg(a, "a config file").map(|v| Run::Broadcast(v.into())),
        },
        Verb {
            name: "rollouts",
            usage: "",
            help: "Show rollouts: waves, per-neuron results, rollback cause",
            takes_neuron: false,
            parse: |a| {
                if a.is_empty() {
                    Ok(Run::Rollouts)
                } else {
                    Err("takes no arguments".into())
                }
            },
        },
        Verb {
            name: "filter",
            usage: "RE | !RE | field=value",
            help: "Filter the current table",
            takes_neuron: false,
            parse: |a| {
                if a.is_empty() {
                    Err("needs a filter".into())
                } else {
                    Ok(Run::Filter(a.join(" ")))
                }
            },
        },
        Verb {
            name: "session",
            usage: "",
            help: "Start a new session (after the old one expired)",
            takes_neuron: false,
            parse: |a| no_args(Run::RenewSession)(a),
        },
        Verb {
            name: "help",
            usage: "",
            help: "Show the keys of this view",
            takes_neuron: false,
            parse: |a| no_args(Run::Help)(a),
        },
        Verb {
            name: "quit",
            usage: "",
            help: "Leave Plexus",
            takes_neuron: false,
            parse: |a| no_args(Run::Quit)(a),
        },
        Verb {
            name: "fl",
            usage: super::screens::fl::palette::USAGE,
            help: "Show federated learning, or start a run (asks first)",
            takes_neuron: false,
            parse: super::screens::fl::palette::parse,
        },
        Verb {
            name: "alerts",
            usage: "",
            help: "Show alerts: firing and pending, grouped",
            takes_neuron: false,
            parse: |a| no_args(Run::Alerts)(a),
        },
        Verb {
            name: "silence",
            usage: "MATCHERS… DURATION",
            help: "Silence the alerts the matchers select, e.g. alertname=NeuronOffline 1h",
            takes_neuron: false,
            parse: silence,
        },
    ]
}

/// `:silence alertname=X zone=~a.* 2h`: matchers, then the duration last.
fn silence(args: &[&str]) -> Result<Run, String> {
    let Some((duration, matchers)) = args.split_last() else {
        return Err("needs matchers and a duration, e.g. alertname=NeuronOffline 1h".into());
    };
    let ms = crate::api::chaos::parse_duration_ms(duration)?;
    let matchers = crate::api::alert::Matcher::parse_list(&matchers.join(","))?;
    Ok(Run::Silence(matchers, ms))
}

#[derive(Debug, Clone)]
pub struct Palette {
    verbs: Vec<Verb>,
    aliases: BTreeMap<String, String>,
}

impl Default for Palette {
    fn default() -> Self {
        Palette::new(BTreeMap::new())
    }
}

impl Palette {
    pub fn new(aliases: BTreeMap<String, String>) -> Self {
        let mut aliases = aliases;
        aliases.entry("q".into()).or_insert_with(|| "quit".into());
        let mut palette = Palette {
            verbs: standard_verbs(),
            aliases,
        };
        palette.register(super::screens::stress::verb());
        palette.register(super::screens::chaos::verb());
        palette
    }

    /// Adds a verb (a later view's `:fl`, `:chaos`, …). A verb of the same name is replaced.
    pub fn register(&mut self, verb: Verb) {
        self.verbs.retain(|v| v.name != verb.name);
        self.verbs.push(verb);
    }

    pub fn verbs(&self) -> &[Verb] {
        &self.verbs
    }

    /// The verbs the line's first word could still become, by name.
    pub fn matching(&self, line: &str) -> Vec<&Verb> {
        let first = line.trim_start().split(' ').next().unwrap_or("");
        let mut found: Vec<&Verb> = self
            .verbs
            .iter()
            .filter(|v| v.name.starts_with(first))
            .collect();
        found.sort_by_key(|v| v.name);
        found
    }

    /// The line with a leading alias expanded.
    fn expand(&self, line: &str) -> String {
        let line = line.trim().trim_start_matches(':');
        let (first, rest) = line.split_once(' ').unwrap_or((line, ""));
        match self.aliases.get(first) {
            Some(expansion) if rest.is_empty() => expansion.clone(),
            Some(expansion) => format!("{expansion} {rest}"),
            None => line.to_string(),
        }
    }

    pub fn resolve(&self, line: &str) -> Result<Run, String> {
        let expanded = self.expand(line);
        let words: Vec<&str> = expanded.split_whitespace().collect();
        let Some((name, args)) = words.split_first() else {
            return Err("type a command, e.g. neurons".into());
        };
        let Some(verb) = self.verbs.iter().find(|v| v.name == *name) else {
            return Err(format!(
                "unknown command ':{name}': Tab completes a command; ? then Tab lists them all"
            ));
        };
        (verb.parse)(args).map_err(|e| format!(":{name} {e}"))
    }

    /// Tab: completes the verb, or a neuron id for verbs that take one. `None` when nothing fits.
    pub fn complete(&self, line: &str, neuron_ids: &dyn Fn(&str) -> Vec<String>) -> Option<String> {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            [word] => {
                let mut names: Vec<&str> = self
                    .verbs
                    .iter()
                    .map(|v| v.name)
                    .chain(self.aliases.keys().map(String::as_str))
                    .filter(|n| n.starts_with(word))
                    .collect();
                names.sort_unstable();
                names.dedup();
                complete_from(word, &names).map(
                    |c| {
                        if names.len() == 1 { format!("{c} ") } else { c }
                    },
                )
            }
            [verb, arg] => {
                let expanded = self.expand(verb);
                let takes = self
                    .verbs
                    .iter()
                    .any(|v| v.name == expanded && v.takes_neuron);
                if !takes {
                    return None;
                }
                let ids = neuron_ids(arg);
                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                complete_from(arg, &refs).map(|c| format!("{verb} {c}"))
            }
            _ => None,
        }
    }
}

/// The longest common prefix of `candidates` when it extends `typed`.
fn complete_from(typed: &str, candidates: &[&str]) -> Option<String> {
    let first = candidates.first()?;
    let mut prefix: &str = first;
    for c in &candidates[1..] {
        let common = prefix
            .char_indices()
            .zip(c.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, ch), _)| i + ch.len_utf8());
        prefix = &prefix[..common];
    }
    (prefix.len() >= typed.len() && (prefix != typed || candidates.len() == 1))
        .then(|| prefix.to_string())
}

/// Up/Down through earlier lines, newest first; typing starts over.
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: Vec<String>,
    position: Option<usize>,
}

impl History {
    pub fn push(&mut self, line: &str) {
        let line = line.trim();
        if !line.is_empty() && self.entries.last().map(String::as_str) != Some(line) {
            self.entries.push(line.to_string());
        }
        self.position = None;
    }

    pub fn reset(&mut self) {
        self.position = None;
    }

    pub fn older(&mut self) -> Option<&str> {
        let next = match self.position {
            None => self.entries.len().checked_sub(1)?,
            Some(p) => p.saturating_sub(1),
        };
        self.position = Some(next);
        self.entries.get(next).map(String::as_str)
    }

    pub fn newer(&mut self) -> Option<&str> {
        let p = self.position?;
        if p + 1 >= self.entries.len() {
            self.position = None;
            return Some("");
        }
        self.position = Some(p + 1);
        self.entries.get(p + 1).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(prefix: &str) -> Vec<String> {
        ["n-0001", "n-0002", "n-0010"]
            .iter()
            .filter(|i| i.starts_with(prefix))
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn verbs_aliases_and_unknowns() {
        let mut aliases = BTreeMap::new();
        aliases.insert("n".to_string(), "neurons".to_string());
        aliases.insert("r".to_string(), "recover".to_string());
        let p = Palette::new(aliases);
        assert_eq!(p.resolve(":neurons"), Ok(Run::Neurons));
        assert_eq!(p.resolve("n"), Ok(Run::Neurons));
        assert_eq!(p.resolve("r n-0002"), Ok(Run::Recover("n-0002".into())));
        assert_eq!(p.resolve("q"), Ok(Run::Quit));
        assert!(
            p.resolve("train")
                .is_err_and(|e| e.starts_with("unknown command ':train'"))
        );
        assert!(
            p.resolve("recover")
                .is_err_and(|e| e == ":recover needs a neuron id")
        );
        let audit = p.resolve("audit user=bob outcome=denied");
        assert!(
            matches!(audit, Ok(Run::Audit(f)) if f.user.as_deref() == Some("bob") && f.outcome.as_deref() == Some("denied"))
        );
        assert!(p.resolve("audit outcome=maybe").is_err());
    }

    #[test]
    fn tab_completes_verbs_and_ids() {
        let p = Palette::default();
        assert_eq!(p.complete("ne", &ids), Some("neurons ".into()));
        assert_eq!(p.complete("rec", &ids), Some("recover ".into()));
        assert_eq!(
            p.complete("recover n-00", &ids),
            None,
            "already the common prefix"
        );
        assert_eq!(
            p.complete("recover n-001", &ids),
            Some("recover n-0010".into())
        );
        assert_eq!(p.complete("zz", &ids), None);
    }

    #[test]
    fn plugins_register_verbs() {
        let mut p = Palette::default();
        assert!(p.resolve("train").is_err());
        p.register(Verb {
            name: "train",
            usage: "",
            help: "A plugin's verb",
            takes_neuron: false,
            parse: |_| Ok(Run::Overview),
        });
        assert_eq!(p.resolve("train"), Ok(Run::Overview));
    }

    #[test]
    fn history_walks_back_and_forth() {
        let mut h = History::default();
        h.push("neurons");
        h.push("audit");
        h.push("audit");
        assert_eq!(h.older(), Some("audit"));
        assert_eq!(h.older(), Some("neurons"));
        assert_eq!(h.older(), Some("neurons"));
        assert_eq!(h.newer(), Some("audit"));
        assert_eq!(h.newer(), Some(""));
    }
}
