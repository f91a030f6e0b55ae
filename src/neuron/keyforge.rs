//! Simulated neurons' enrolment material, made on a thread of its own. A simulated fleet runs
//! inside the engine's step, so a neuron making its key (~25 µs) and signing its proof
//! (~25 µs) there would cost the engine 100,000 × 50 µs when a large fleet starts. The forge
//! makes each neuron's next key, proof and endorsement ahead, on another core, in the order the
//! neurons will ask; a neuron whose material is not ready yet is still starting and asks at its
//! next wake. On a virtual clock a neuron waits for its material instead, so a run is the same
//! whatever the threads' speeds.

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

use super::identity::{EnrolmentMaterial, enrolment_material};

/// Where a neuron's material appears once made.
pub type Slot = Arc<OnceLock<EnrolmentMaterial>>;

struct Job {
    neuron: Box<str>,
    secret: [u8; 32],
    generation: u32,
    /// The generation of the key that endorses it, and its credential's serial.
    endorser: Option<(u32, u64)>,
    slot: Slot,
}

impl Job {
    /// In-process neurons are handed their session key: no X25519 share.
    fn make(&self) -> EnrolmentMaterial {
        enrolment_material(
            &self.neuron,
            &self.secret,
            self.generation,
            None,
            self.endorser,
        )
    }
}

/// A handle to the forge thread; clones share it, and it ends when the last is dropped.
#[derive(Clone)]
pub struct KeyForge {
    jobs: mpsc::Sender<Job>,
    wait: bool,
}

impl KeyForge {
    /// Start the forge. `wait`: a neuron whose material is not ready waits for it (virtual
    /// time: reproducible runs) rather than ask later (real time: the engine never waits).
    pub fn start(wait: bool) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("plexus-keyforge".into())
            .spawn(move || {
                for job in queue {
                    let _ = job.slot.set(job.make());
                }
            })
            .expect("spawn the key forge thread");
        KeyForge { jobs, wait }
    }

    /// Order the material for key `generation` of `neuron`, endorsed by `endorser` (the
    /// generation of the key of the credential it holds, and that credential's serial).
    pub fn order(
        &self,
        neuron: &str,
        secret: &[u8; 32],
        generation: u32,
        endorser: Option<(u32, u64)>,
    ) -> Slot {
        let slot = Slot::default();
        let job = Job {
            neuron: neuron.into(),
            secret: *secret,
            generation,
            endorser,
            slot: slot.clone(),
        };
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            // The forge is gone (only when the process is ending): make it here.
            let _ = slot.set(job.make());
        }
        slot
    }

    /// The material in `slot`: now, or (waiting forge) once made.
    pub fn collect(&self, slot: &Slot) -> Option<EnrolmentMaterial> {
        if self.wait {
            Some(slot.wait().clone())
        } else {
            slot.get().cloned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forge_makes_what_the_neuron_would_make_itself() {
        let forge = KeyForge::start(true);
        let secret = [9u8; 32];
        let slot = forge.order("n-0001", &secret, 2, Some((1, 5)));
        let made = forge.collect(&slot).expect("waits for it");
        let here = enrolment_material("n-0001", &secret, 2, None, Some((1, 5)));
        assert_eq!(made.public_key, here.public_key);
        assert_eq!(made.proof, here.proof);
        assert_eq!(made.endorsement, here.endorsement);
        assert_eq!(made.endorsed_by(), Some(5));
    }

    #[test]
    fn a_forge_that_does_not_wait_answers_none_until_ready() {
        let forge = KeyForge::start(false);
        let slot = Slot::default();
        assert!(forge.collect(&slot).is_none());
        let ordered = forge.order("n-0002", &[1; 32], 1, None);
        while forge.collect(&ordered).is_none() {
            std::thread::yield_now();
        }
        assert_eq!(forge.collect(&ordered).unwrap().generation, 1);
    }
}
