//! Number and time formatting shared by the views.

/// `850ms`, `2.9s`, `4m`, `3h`; `-` when unknown.
pub fn age(ms: Option<u64>) -> String {
    match ms {
        None => "-".into(),
        Some(ms) if ms < 1_000 => format!("{ms}ms"),
        Some(ms) if ms < 60_000 => format!("{:.1}s", ms as f64 / 1_000.0),
        Some(ms) if ms < 3_600_000 => format!("{}m", ms / 60_000),
        Some(ms) => format!("{}h", ms / 3_600_000),
    }
}

pub fn millis(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}ms"))
}

pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.2}%", v * 100.0))
}

pub fn number(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

/// The `HH:MM:SS` of an RFC 3339 time, or the whole string if it is not one.
pub fn clock(rfc3339: &str) -> &str {
    rfc3339.get(11..19).unwrap_or(rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(age(None), "-");
        assert_eq!(age(Some(850)), "850ms");
        assert_eq!(age(Some(2_940)), "2.9s");
        assert_eq!(age(Some(240_000)), "4m");
        assert_eq!(percent(Some(0.0123)), "1.23%");
        assert_eq!(clock("2025-03-14T09:26:53Z"), "09:26:53");
        assert_eq!(clock("soon"), "soon");
    }
}
