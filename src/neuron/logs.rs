//! A neuron's own log: a small ring of its most recent lines.

use std::collections::VecDeque;

use crate::api::Millis;
use crate::engine::fleet::host::RawLogLine;

/// Lines kept per neuron.
pub const LOG_KEPT: usize = 32;

#[derive(Debug, Default)]
pub struct LogRing {
    /// Empty until the first line: an empty VecDeque does not allocate.
    lines: VecDeque<RawLogLine>,
}

impl LogRing {
    pub fn push(&mut self, at: Millis, level: &'static str, message: String) {
        if self.lines.len() == LOG_KEPT {
            self.lines.pop_front();
        }
        self.lines.push_back(RawLogLine { at, level, message });
    }

    /// The last `tail` lines, oldest first.
    pub fn tail(&self, tail: usize) -> Vec<RawLogLine> {
        let skip = self.lines.len().saturating_sub(tail);
        self.lines.iter().skip(skip).cloned().collect()
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
        let tail = ring.tail(3);
        assert_eq!(
            tail.iter().map(|l| l.at).collect::<Vec<_>>(),
            vec![
                LOG_KEPT as u64 + 2,
                LOG_KEPT as u64 + 3,
                LOG_KEPT as u64 + 4
            ]
        );
        assert_eq!(ring.tail(1000).len(), LOG_KEPT);
    }
}
