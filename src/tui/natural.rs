//! Natural order for ids: runs of digits compare as numbers, so `stress-n2` sorts before
//! `stress-n10` (as the headless output lists them), and everything else compares as text.

use std::cmp::Ordering;

/// Compares `a` and `b` with digit runs taken as numbers (leading zeros ignored; on a tie the
/// shorter run first, so the order is total and stable).
pub fn cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (da, ra) = digits(a);
                let (db, rb) = digits(b);
                let (ta, tb) = (trim_zeros(da), trim_zeros(db));
                let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                match by_value.then_with(|| da.len().cmp(&db.len())) {
                    Ordering::Equal => (a, b) = (ra, rb),
                    other => return other,
                }
            }
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Equal => (a, b) = (&a[1..], &b[1..]),
                other => return other,
            },
        }
    }
}

fn digits(s: &[u8]) -> (&[u8], &[u8]) {
    let end = s
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    s.split_at(end)
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|c| *c != b'0').unwrap_or(s.len());
    &s[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn digit_runs_compare_as_numbers() {
        let mut ids = vec![
            "stress-n10",
            "stress-n2",
            "n-0003",
            "n-0010",
            "n-0002",
            "a",
            "stress-n1",
        ];
        ids.sort_by(|a, b| cmp(a, b));
        assert_eq!(
            ids,
            [
                "a",
                "n-0002",
                "n-0003",
                "n-0010",
                "stress-n1",
                "stress-n2",
                "stress-n10"
            ]
        );
        assert_eq!(
            cmp("v-2", "v-02"),
            Ordering::Less,
            "equal values: shorter run first"
        );
    }

    proptest! {
        #[test]
        fn it_is_a_total_order(a in "[a-c0-9-]{0,8}", b in "[a-c0-9-]{0,8}", c in "[a-c0-9-]{0,8}") {
            prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse());
            prop_assert_eq!(cmp(&a, &b) == Ordering::Equal, a == b);
            if cmp(&a, &b) != Ordering::Greater && cmp(&b, &c) != Ordering::Greater {
                prop_assert_ne!(cmp(&a, &c), Ordering::Greater);
            }
        }
    }
}
