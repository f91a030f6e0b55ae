//! Stress tests running in this process (a server runs them for its callers), by id, so their
//! progress can be read and they can be stopped. Finished tests stay readable; the oldest are
//! forgotten beyond [`KEPT`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::run::Live;

pub const KEPT: usize = 64;

fn tests() -> &'static Mutex<BTreeMap<String, Arc<Live>>> {
    static TESTS: OnceLock<Mutex<BTreeMap<String, Arc<Live>>>> = OnceLock::new();
    TESTS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

pub fn insert(id: &str, live: Arc<Live>) {
    let mut t = tests().lock().expect("stress registry lock");
    t.insert(id.to_string(), live);
    // Ids sort by start time: drop the oldest.
    while t.len() > KEPT {
        let Some(oldest) = t.keys().next().cloned() else {
            break;
        };
        t.remove(&oldest);
    }
}

pub fn get(id: &str) -> Option<Arc<Live>> {
    tests()
        .lock()
        .expect("stress registry lock")
        .get(id)
        .cloned()
}

/// The newest test (ids sort by start time).
pub fn latest() -> Option<Arc<Live>> {
    tests()
        .lock()
        .expect("stress registry lock")
        .values()
        .next_back()
        .cloned()
}
