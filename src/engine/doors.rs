//! Where the engine knocks when an agent has something waiting: each open push channel
//! registers a door under its agent's id, and the engine thread notifies the doors of the agents
//! it queued commands for (see `fleet::agents::AgentBook::take_woken`). A notification is only a
//! wake-up: the channel then fetches through the gate, bound to the agent's identity session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

#[derive(Default)]
pub struct AgentDoors {
    open: Mutex<HashMap<String, Arc<Notify>>>,
}

/// An open door; it closes when dropped (unless a newer channel of the same agent replaced it).
pub struct AgentDoor {
    doors: Arc<AgentDoors>,
    id: String,
    pub bell: Arc<Notify>,
}

impl AgentDoors {
    /// Open the door of agent `id`; a second channel of the same agent takes the door over (the
    /// older one then hears nothing more and is closed by its agent or its idle check).
    pub fn open(self: &Arc<Self>, id: &str) -> AgentDoor {
        let bell = Arc::new(Notify::new());
        self.lock().insert(id.to_string(), bell.clone());
        AgentDoor {
            doors: self.clone(),
            id: id.to_string(),
            bell,
        }
    }

    /// Ring the doors of these agents (those without an open channel are skipped).
    pub fn ring<'a>(&self, ids: impl Iterator<Item = &'a str>) {
        let open = self.lock();
        if open.is_empty() {
            return;
        }
        for id in ids {
            if let Some(bell) = open.get(id) {
                // Stores a permit when nobody waits: a knock between two fetches is not lost.
                bell.notify_one();
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Notify>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for AgentDoor {
    fn drop(&mut self) {
        let mut open = self.doors.lock();
        if open
            .get(&self.id)
            .is_some_and(|b| Arc::ptr_eq(b, &self.bell))
        {
            open.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_knock_reaches_the_open_door_even_before_anyone_waits() {
        let doors = Arc::new(AgentDoors::default());
        let door = doors.open("lab-1");
        doors.ring(["lab-2", "lab-1"].into_iter());
        // The permit was stored: this returns at once.
        tokio::time::timeout(std::time::Duration::from_millis(100), door.bell.notified())
            .await
            .expect("the knock was kept");
        drop(door);
        assert!(doors.is_empty(), "a dropped door closes");
    }

    #[test]
    fn a_newer_channel_takes_the_door_and_the_older_one_does_not_close_it() {
        let doors = Arc::new(AgentDoors::default());
        let old = doors.open("lab-1");
        let new = doors.open("lab-1");
        drop(old);
        assert_eq!(doors.len(), 1, "the newer door stays open");
        drop(new);
        assert!(doors.is_empty());
    }
}
