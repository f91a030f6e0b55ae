//! A neuron's own log: a small ring of its most recent lines.

use std::collections::VecDeque;

use crate::api::Millis;
use crate::engine::fleet::host::RawLogLine;

/// Lines kept per neuron.
pub const LOG_KEPT: usize = 32;

#[derive(Debug, Default)]
pub struct LogRing {
    /// Empty until the first line: an empty VecDeque does not allocate.
    lines: VecDeque<Line>,
}

#[derive(Debug, Clone)]
struct Line {
    at: Millis,
    level: &'static str,
    body: Body,
}

/// A line as kept: the lines every neuron writes again and again (what it served, each minute;
/// each credential, every renewal) as their numbers, written out only when someone reads the log
/// (100,000 rings in a large fleet: ~50 bytes a line instead of ~150); the rest as text.
#[derive(Debug, Clone)]
enum Body {
    Text(String),
    Served(Served),
    Credential { serial: u64, valid_s: u64 },
}

/// What a neuron served so far, for its periodic log line.
#[derive(Debug, Clone, Copy)]
pub struct Served {
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub error_rate: f64,
}

impl Body {
    fn text(&self, whose: &str) -> String {
        match self {
            Body::Text(text) => text.clone(),
            Body::Credential { serial, valid_s } => {
                format!("credential #{serial} issued for {whose} (valid {valid_s} s)")
            }
            Body::Served(s) => format!(
                "served {} requests so far; now {:.0} req/s, p50 {:.0} ms, errors {:.2}%",
                s.requests,
                s.rps,
                s.p50_ms,
                s.error_rate * 100.0
            ),
        }
    }
}

impl LogRing {
    pub fn push(&mut self, at: Millis, level: &'static str, message: String) {
        self.keep(at, level, Body::Text(message));
    }

    /// "credential #… issued for … (valid … s)".
    pub fn push_credential(&mut self, at: Millis, serial: u64, valid_s: u64) {
        self.keep(at, "info", Body::Credential { serial, valid_s });
    }

    /// The periodic "served …" line.
    pub fn push_served(&mut self, at: Millis, served: Served) {
        self.keep(at, "info", Body::Served(served));
    }

    fn keep(&mut self, at: Millis, level: &'static str, body: Body) {
        if self.lines.len() == LOG_KEPT {
            self.lines.pop_front();
        }
        self.lines.push_back(Line { at, level, body });
    }

    /// The last `tail` lines, oldest first; `whose` is the identity lines name (its SPIFFE id).
    pub fn tail(&self, tail: usize, whose: &str) -> Vec<RawLogLine> {
        let skip = self.lines.len().saturating_sub(tail);
        self.lines
            .iter()
            .skip(skip)
            .map(|l| RawLogLine {
                at: l.at,
                level: l.level,
                message: l.body.text(whose),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_lines() {
        let mut ring = LogRing::default();
        for i in 0..(LOG_KEPT as u64 + 5) {
            ring.push(i, "info", format!("line {i}"));
        }
        let tail = ring.tail(3, "");
        assert_eq!(
            tail.iter().map(|l| l.at).collect::<Vec<_>>(),
            vec![
                LOG_KEPT as u64 + 2,
                LOG_KEPT as u64 + 3,
                LOG_KEPT as u64 + 4
            ]
        );
        assert_eq!(ring.tail(1000, "").len(), LOG_KEPT);
    }

    #[test]
    fn a_serving_line_is_kept_as_numbers_and_read_as_text() {
        let mut ring = LogRing::default();
        ring.push_served(
            5,
            Served {
                requests: 1200,
                rps: 48.4,
                p50_ms: 12.6,
                error_rate: 0.0125,
            },
        );
        ring.push_credential(6, 3, 600);
        let lines = ring.tail(2, "plexus://federation/neuron/n-0001");
        assert_eq!((lines[0].at, lines[0].level), (5, "info"));
        assert_eq!(
            lines[0].message,
            "served 1200 requests so far; now 48 req/s, p50 13 ms, errors 1.25%"
        );
        assert_eq!(
            lines[1].message,
            "credential #3 issued for plexus://federation/neuron/n-0001 (valid 600 s)"
        );
    }
}
