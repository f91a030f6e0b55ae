//! Identity requests at scale. Enrolments and handshakes cost signatures; a fleet that starts
//! at once asks within one heartbeat interval. So the ones that arrive over the link wait in an
//! [`IdentityQueue`] and each step answers at most `identity.requests_per_tick` of them, oldest
//! first, their enrolment proofs verified as one batch. The step stays short, the guard sees no
//! stall, and a neuron that asked is not suspected for waiting on the engine.

use super::Core;
use crate::api::Millis;
use crate::api::identity::{Enroll, enroll_bytes, spiffe_id};
use crate::api::wire::NeuronMessage;
use crate::engine::effects::Effects;
use crate::engine::fleet::tracked::Liveness;
use crate::engine::identity::batch::{Signed, verify_all};

/// What was already checked about a message before the engine takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Nothing: its own MAC or signature is checked.
    Raw,
    /// It came in an agent's report whose MAC verified on arrival (the MAC covers the
    /// message's exact bytes), so it needs no MAC of its own.
    Enveloped,
    /// An enrolment whose proof verified in a batch; the rest is checked as usual.
    ProofVerified,
}

/// An enrolment or handshake: answered by the CA, within the per-step budget.
pub fn is_identity_request(message: &NeuronMessage) -> bool {
    matches!(
        message,
        NeuronMessage::Enroll(_) | NeuronMessage::Handshake(_)
    )
}

impl Core {
    /// How long the CA needs to answer `neurons` enrolments at its per-step budget: a fleet
    /// that starts together is given that long, beyond the usual first deadline, before a
    /// neuron never heard from is probed (its first word may wait behind the others').
    pub(super) fn enrolment_allowance(&self, neurons: u64) -> Millis {
        let per_step = self.cfg.identity.requests_per_tick.max(1) as u64;
        // The first step's share waits for nothing.
        neurons.div_ceil(per_step).saturating_sub(1) * self.cfg.tick_ms
    }

    /// Queue an identity request that arrived at `at`.
    pub(super) fn queue_identity(&mut self, at: Millis, idx: u32, message: NeuronMessage) {
        if self.registry.neurons.get(idx as usize).is_some() {
            self.identity_queue.push(at, idx, message);
        }
    }

    /// A neuron never heard from whose first request waits in the queue is not late: the wait
    /// is the engine's. Its first deadline starts over from now (true: its timer was re-armed).
    pub(super) fn waits_for_identity(&mut self, idx: u32, now: Millis) -> bool {
        let pending = self
            .registry
            .neurons
            .get(idx as usize)
            .is_some_and(|n| n.liveness == Liveness::Pending);
        if !pending || !self.identity_queue.holds(idx) {
            return false;
        }
        self.registry.timers[idx as usize] = self.detector.first_deadline(now);
        true
    }

    /// Answer this step's share of the waiting identity requests.
    pub(super) fn answer_identity(&mut self, now: Millis, fx: &mut Effects) {
        if self.identity_queue.is_empty() {
            return;
        }
        let batch = self
            .identity_queue
            .take(self.cfg.identity.requests_per_tick.max(1));
        // The enrolments among them, with the bytes each proof signs; checked as one batch.
        let proven = {
            let proofs: Vec<(usize, &Enroll, Vec<u8>)> = batch
                .iter()
                .enumerate()
                .filter_map(|(i, w)| match &w.message {
                    NeuronMessage::Enroll(e) => {
                        let id = spiffe_id(&self.registry.neurons.get(w.idx as usize)?.id);
                        Some((i, &**e, enroll_bytes(&id, &e.public_key, e.kx.as_ref())))
                    }
                    _ => None,
                })
                .collect();
            let signed: Vec<Signed<'_>> = proofs
                .iter()
                .map(|(_, e, bytes)| Signed {
                    key: &e.public_key.0,
                    bytes,
                    signature: &e.proof.0,
                })
                .collect();
            let mut proven = vec![false; batch.len()];
            for ((i, ..), ok) in proofs.iter().zip(verify_all(&signed)) {
                proven[*i] = ok;
            }
            proven
        };
        for (waiting, proven) in batch.into_iter().zip(proven) {
            // A proof that failed the batch is checked again on its own, which names the
            // failure in the refusal.
            let trust = if proven {
                Trust::ProofVerified
            } else {
                Trust::Raw
            };
            // Taken in its own step, it is answered when it arrived; one that waited, now.
            let at = waiting.since.max(now.saturating_sub(self.cfg.tick_ms));
            self.ingest_as(at, waiting.idx, waiting.message, trust, fx);
        }
    }
}
