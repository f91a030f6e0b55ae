//! A neuron's own log: a small ring, allocated on first use so idle neurons cost nothing.

use std::collections::VecDeque;

use crate::api::Millis;
use crate::engine::fleet::host::RawLogLine;

/// Lines kept per neuron.
pub const LOG_KEPT: usize = 32;

#[derive(Debug, Default)]
pub struct LogRing {
    lines: Option<Box<VecDeque<RawLogLine>>>,
}

impl LogRing {
    pub fn push(&mut self, at: Millis, level: &'static str, message: String) {
        let lines = self
            .lines
            .get_or_insert_with(|| Box::new(VecDeque::with_capacity(LOG_KEPT)));
        if lines.len() == LOG_KEPT {
            lines.pop_front();
        }
        lines.push_back(RawLogLine { at, level, message });
    }

    /// The last `tail` lines, oldest first.
    pub fn tail(&self, tail: usize) -> Vec<RawLogLine> {
        match &self.lines {
            None => Vec::new(),
            Some(lines) => {
                let skip = lines.len().saturating_sub(tail);
                lines.iter().skip(skip).cloned().collect()
            }
        }
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
