//! The neurons table's order: a sort over one column, built once per new data or new sort as an
//! index, so a frame never sorts.

use std::cmp::Ordering;

use crate::api::{NeuronState, NeuronView};

/// A column of the neurons table, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    State,
    Phi,
    Heartbeat,
    Latency,
    ErrorRate,
    Config,
    Zone,
}

impl Column {
    pub const ALL: [Column; 8] = [
        Column::Id,
        Column::State,
        Column::Phi,
        Column::Heartbeat,
        Column::Latency,
        Column::ErrorRate,
        Column::Config,
        Column::Zone,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Id => "ID",
            Column::State => "STATE",
            Column::Phi => "PHI",
            Column::Heartbeat => "HB AGE",
            Column::Latency => "LAT",
            Column::ErrorRate => "ERR%",
            Column::Config => "CONFIG",
            Column::Zone => "ZONE",
        }
    }

    pub fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }

    /// Compares two rows by this column alone. Missing numbers sort after present ones.
    pub fn compare(self, a: &NeuronView, b: &NeuronView) -> Ordering {
        fn opt(a: Option<f64>, b: Option<f64>) -> Ordering {
            match (a, b) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        match self {
            Column::Id => crate::tui::natural::cmp(&a.id, &b.id),
            Column::State => severity(a.state).cmp(&severity(b.state)),
            Column::Phi => opt(a.observed_phi(), b.observed_phi()),
            Column::Heartbeat => opt(
                a.last_heartbeat_ms.map(|v| v as f64),
                b.last_heartbeat_ms.map(|v| v as f64),
            ),
            Column::Latency => opt(a.latency_ms, b.latency_ms),
            Column::ErrorRate => opt(a.error_rate, b.error_rate),
            Column::Config => crate::tui::natural::cmp(&a.config_version, &b.config_version),
            Column::Zone => crate::tui::natural::cmp(&a.zone, &b.zone),
        }
    }
}

/// Sorting by state orders by how bad it is (healthy first; `S` puts the worst on top).
fn severity(state: NeuronState) -> u8 {
    match state {
        NeuronState::Healthy => 0,
        NeuronState::Pending => 1,
        NeuronState::Recovering => 2,
        NeuronState::Suspect => 3,
        NeuronState::Degraded => 4,
        NeuronState::ConfigFailed => 5,
        NeuronState::Offline => 6,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

/// An order-preserving integer key for the numeric columns (and state), so sorting compares
/// plain integers instead of chasing each row; `None` for the text columns. Missing numbers map
/// to `u64::MAX` (last when ascending).
fn numeric_key(column: Column, n: &NeuronView) -> Option<u64> {
    fn f64_key(v: Option<f64>) -> u64 {
        match v {
            // Flip the sign bit (positives) or all bits (negatives): IEEE order becomes u64 order.
            Some(v) => {
                let bits = v.to_bits();
                if bits >> 63 == 1 {
                    !bits
                } else {
                    bits | 1 << 63
                }
            }
            None => u64::MAX,
        }
    }
    match column {
        Column::State => Some(u64::from(severity(n.state))),
        Column::Phi => Some(f64_key(n.observed_phi())),
        Column::Heartbeat => Some(
            n.last_heartbeat_ms
                .map_or(u64::MAX, |v| v.min(u64::MAX - 1)),
        ),
        Column::Latency => Some(f64_key(n.latency_ms)),
        Column::ErrorRate => Some(f64_key(n.error_rate)),
        Column::Id | Column::Config | Column::Zone => None,
    }
}

/// The sorted, index-only view of the neurons: frames read it, only new data or a new sort
/// rebuilds it. Ties keep the backend's order (by index), so rows do not jump between refreshes.
pub fn sorted_order(neurons: &[NeuronView], sort: Sort) -> Vec<u32> {
    if neurons
        .first()
        .is_some_and(|n| numeric_key(sort.column, n).is_some())
    {
        let mut keyed: Vec<(u64, u32)> = neurons
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let key = numeric_key(sort.column, n).unwrap_or(u64::MAX);
                (if sort.descending { !key } else { key }, i as u32)
            })
            .collect();
        keyed.sort_unstable();
        return keyed.into_iter().map(|(_, i)| i).collect();
    }
    let mut order: Vec<u32> = (0..neurons.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let primary = sort
            .column
            .compare(&neurons[a as usize], &neurons[b as usize]);
        let primary = if sort.descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then(a.cmp(&b))
    });
    order
}
