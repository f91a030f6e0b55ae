//! A neuron's own log: small rings of its most recent lines.

use std::collections::VecDeque;

use crate::api::Millis;
use crate::engine::fleet::host::RawLogLine;

/// Lines kept per neuron of what happened (starts, config, faults, identity trouble).
pub const LOG_KEPT: usize = 32;
/// Lines kept per neuron of each kind it writes again and again (what it served, each minute;
/// each credential, every renewal): without this bound a 100,000-neuron fleet's rings filled
/// with them and grew by ~200 MB over its first half hour.
pub const REPEATS_KEPT: usize = 4;

/// A neuron's log. Empty rings do not allocate; the repeated lines are kept as their numbers and
/// written out only when someone reads the log.
#[derive(Debug, Default)]
pub struct LogRing {
    events: VecDeque<Line>,
    served: VecDeque<(Millis, Served)>,
    credentials: VecDeque<(Millis, Issued)>,
}

#[derive(Debug, Clone)]
struct Line {
    at: Millis,
    level: &'static str,
    text: Box<str>,
}

/// What a neuron served so far, for its periodic log line.
#[derive(Debug, Clone, Copy)]
pub struct Served {
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub error_rate: f64,
}

#[derive(Debug, Clone, Copy)]
struct Issued {
    serial: u64,
    valid_s: u64,
}

impl Served {
    fn text(&self) -> String {
        format!(
            "served {} requests so far; now {:.0} req/s, p50 {:.0} ms, errors {:.2}%",
            self.requests,
            self.rps,
            self.p50_ms,
            self.error_rate * 100.0
        )
    }
}

/// Push onto a ring of at most `kept`, dropping the oldest; the first push allocates it whole.
fn keep_last<T>(ring: &mut VecDeque<T>, kept: usize, item: T) {
    if ring.len() == kept {
        ring.pop_front();
    } else if ring.capacity() == 0 {
        ring.reserve_exact(kept.min(REPEATS_KEPT));
    }
    ring.push_back(item);
}

impl LogRing {
    pub fn push(&mut self, at: Millis, level: &'static str, message: String) {
        let line = Line {
            at,
            level,
            text: message.into(),
        };
        keep_last(&mut self.events, LOG_KEPT, line);
    }

    /// "credential #… issued for … (valid … s)".
    pub fn push_credential(&mut self, at: Millis, serial: u64, valid_s: u64) {
        let issued = Issued { serial, valid_s };
        keep_last(&mut self.credentials, REPEATS_KEPT, (at, issued));
    }

    /// The periodic "served …" line.
    pub fn push_served(&mut self, at: Millis, served: Served) {
        keep_last(&mut self.served, REPEATS_KEPT, (at, served));
    }

    /// The last `tail` lines, oldest first; `whose` is the identity lines name (its SPIFFE id).
    pub fn tail(&self, tail: usize, whose: &str) -> Vec<RawLogLine> {
        let line = |at, level, message| RawLogLine { at, level, message };
        let mut lines: Vec<RawLogLine> = self
            .events
            .iter()
            .map(|l| line(l.at, l.level, l.text.to_string()))
            .chain(self.credentials.iter().map(|(at, c)| {
                let text = format!(
                    "credential #{} issued for {whose} (valid {} s)",
                    c.serial, c.valid_s
                );
                line(*at, "info", text)
            }))
            .chain(
                self.served
                    .iter()
                    .map(|(at, s)| line(*at, "info", s.text())),
            )
            .collect();
        // Stable: lines of one millisecond stay in the order of the rings above.
        lines.sort_by_key(|l| l.at);
        let skip = lines.len().saturating_sub(tail);
        lines.split_off(skip)
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

    #[test]
    fn repeated_lines_keep_only_the_last_few() {
        let mut ring = LogRing::default();
        ring.push(0, "info", "started (incarnation 1)".into());
        for minute in 1..=100u64 {
            let served = Served {
                requests: minute,
                rps: 1.0,
                p50_ms: 1.0,
                error_rate: 0.0,
            };
            ring.push_served(minute * 60_000, served);
            ring.push_credential(minute * 60_000 + 1, minute, 600);
        }
        let lines = ring.tail(1000, "n");
        assert_eq!(lines.len(), 1 + 2 * REPEATS_KEPT);
        assert_eq!(lines[0].message, "started (incarnation 1)");
        assert!(
            lines
                .last()
                .unwrap()
                .message
                .starts_with("credential #100 ")
        );
        assert!(ring.served.capacity() <= REPEATS_KEPT + 1);
    }
}
