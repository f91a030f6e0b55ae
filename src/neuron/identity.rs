//! A neuron's side of identity: its key pair (derived per generation from a secret seed, made
//! only when first needed), its credential, the session it MACs heartbeats with, renewal at two
//! thirds of the credential's life, and the identity-failure fault (which breaks exactly what the
//! engine verifies: nothing tells the engine about it).

use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

use super::keyforge::{KeyForge, Slot};
use crate::api::Millis;
use crate::api::identity::{
    Auth, Bytes32, Bytes64, Credential, Endorsement, Enroll, Handshake, IdentityMode, ReportAuth,
    agreed_session_key, enroll_bytes, handshake_bytes, heartbeat_mac_input, probe_ack_mac_input,
    report_digest, report_mac_input, spiffe_id,
};
use crate::api::wire::{Heartbeat, NeuronCommand, NeuronMessage};
use crate::engine::identity::mac;

struct Held {
    credential: Credential,
    /// The generation of the key it names: the key itself is derived again when it signs
    /// (rarely: a handshake, an endorsement), not kept (~220 bytes a neuron in a large fleet).
    generation: u32,
    /// Local time it was received: with its lifetime, when to renew and when it runs out.
    received: Millis,
    /// Taken from a saved state rather than received: how much of its life was left then.
    left_at_resume: Option<Millis>,
}

impl Held {
    fn life_left_from(&self) -> (Millis, Millis) {
        match self.left_at_resume {
            Some(left) => (self.received, left),
            None => (self.received, self.credential.lifetime_ms()),
        }
    }

    /// When to renew: with a third of the life left, less up to a twelfth by `spread` (0–255,
    /// fixed per neuron) — a fleet that enrolled in one burst does not renew in one.
    fn renew_at(&self, spread: u8) -> Millis {
        let (from, left) = self.life_left_from();
        let lifetime = self.credential.lifetime_ms();
        let renew_before_end = lifetime / 3 - lifetime / 12 * Millis::from(spread) / 255;
        from + left.saturating_sub(renew_before_end)
    }

    fn expired(&self, now: Millis) -> bool {
        let (from, left) = self.life_left_from();
        now >= from + left
    }
}

/// What an agent keeps on disk between its processes: the secret its keys derive from, which
/// generation it is on, and the credential it holds. Whoever reads it can act as the agent:
/// the file is 0600.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SavedKeys {
    pub secret: crate::api::identity::Bytes32,
    pub generation: u32,
    pub credential: Credential,
}

/// The longest wait before an identity request is repeated.
pub const MAX_RETRY_MS: Millis = 30_000;

pub struct Keyring {
    neuron: Box<str>,
    secret: [u8; 32],
    generation: u32,
    held: Option<Held>,
    session: Option<(u64, [u8; 32])>,
    /// An enrolment in flight: the key it asks a credential for, and when it was sent.
    // Boxed, as `rogue`: in flight for a moment per renewal, and a simulated fleet keeps
    // 100,000 keyrings.
    enrolling: Option<Box<(SigningKey, Millis)>>,
    handshake_sent: Option<Millis>,
    fault: Option<IdentityMode>,
    /// Requests repeated since the last answer: the retry back-off.
    unanswered: u32,
    /// What an unknown-CA fault presents instead of the real credential.
    rogue: Option<Box<Held>>,
    /// Agree session keys by X25519 (agents, whose messages cross a network) rather than be
    /// handed them (in-process simulated neurons).
    agree: bool,
    /// The X25519 share of the identity request in flight, and how many were made.
    // Boxed: a simulated fleet keeps 100,000 keyrings that never agree a key.
    pending_kx: Option<Box<x25519_dalek::StaticSecret>>,
    kx_made: u64,
    /// An agent's handshake was refused (its credential is not on record there, say the server
    /// lost its store): it enrols next, endorsed by the key it holds.
    handshake_refused: bool,
    /// The last report counter used (agents): grows for the life of the process.
    report_counter: std::sync::atomic::AtomicU64,
    /// Where the next key is made ahead (simulated neurons), and the order placed there.
    forge: Option<KeyForge>,
    ahead: Option<Slot>,
}

/// What the neuron should do after an identity command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityStep {
    /// Not an identity command.
    NotMine,
    Handled,
    /// A session was just established: heartbeat now rather than wait a whole interval.
    SessionUp,
}

impl Keyring {
    /// `secret` seeds every key this neuron will ever hold (simulated neurons derive it from the
    /// run's seed; agents from the OS's randomness).
    pub fn new(neuron: &str, secret: [u8; 32]) -> Self {
        Keyring {
            neuron: neuron.into(),
            secret,
            generation: 0,
            held: None,
            session: None,
            enrolling: None,
            handshake_sent: None,
            fault: None,
            unanswered: 0,
            rogue: None,
            agree: false,
            pending_kx: None,
            kx_made: 0,
            handshake_refused: false,
            report_counter: std::sync::atomic::AtomicU64::new(0),
            forge: None,
            ahead: None,
        }
    }

    /// An agent's keyring: session keys are agreed by X25519, never received.
    pub fn agreeing(neuron: &str, secret: [u8; 32]) -> Self {
        Keyring {
            agree: true,
            ..Keyring::new(neuron, secret)
        }
    }

    /// What to save for the next process (none before the first credential).
    pub fn save(&self) -> Option<SavedKeys> {
        let held = self.held.as_ref()?;
        Some(SavedKeys {
            secret: Bytes32(self.secret),
            generation: self.generation,
            credential: held.credential.clone(),
        })
    }

    /// An agent's keyring from what its previous process saved, at local time `now` and Unix
    /// time `now_unix`: it holds its credential again (to handshake, or to endorse a renewal if
    /// the credential ran out meanwhile).
    pub fn resume(neuron: &str, saved: SavedKeys, now: Millis, now_unix: i64) -> Self {
        let mut keys = Keyring::agreeing(neuron, saved.secret.0);
        keys.generation = saved.generation;
        let key = keys.key(saved.generation, b"plexus-neuron-key\0");
        if key.verifying_key().to_bytes() == saved.credential.public_key.0 {
            let left = (saved.credential.not_after - now_unix).max(0) as Millis;
            keys.held = Some(Held {
                credential: saved.credential,
                generation: saved.generation,
                received: now,
                left_at_resume: Some(left),
            });
        }
        keys
    }

    /// A signed registration: proof that this process holds the key its id is bound to.
    pub fn registration_proof(&self, now_unix: i64) -> Option<crate::api::wire::RegistrationProof> {
        let held = self.held.as_ref()?;
        let bytes = crate::api::wire::register_bytes(&spiffe_id(&self.neuron), now_unix);
        Some(crate::api::wire::RegistrationProof {
            at: now_unix,
            signature: sign(&self.held_key(held), &bytes),
        })
    }

    /// A fresh X25519 share for the identity request about to go out (agents only).
    fn next_kx(&mut self) -> Option<Bytes32> {
        if !self.agree {
            return None;
        }
        self.kx_made += 1;
        let bytes: [u8; 32] = Sha256::new()
            .chain_update(b"plexus-neuron-kx\0")
            .chain_update(self.secret)
            .chain_update(self.kx_made.to_be_bytes())
            .finalize()
            .into();
        let secret = x25519_dalek::StaticSecret::from(bytes);
        let public = Bytes32(x25519_dalek::PublicKey::from(&secret).to_bytes());
        self.pending_kx = Some(Box::new(secret));
        Some(public)
    }

    /// The session key an identity answer gives: agreed with our pending share, or handed over.
    fn session_from(
        &self,
        serial: u64,
        session_key: Option<&Bytes32>,
        kx: Option<&Bytes32>,
    ) -> Option<[u8; 32]> {
        match (kx, &self.pending_kx) {
            (Some(engine_kx), Some(ours)) => {
                let shared = ours.diffie_hellman(&x25519_dalek::PublicKey::from(engine_kx.0));
                if !shared.was_contributory() {
                    return None;
                }
                let our_kx = Bytes32(x25519_dalek::PublicKey::from(&**ours).to_bytes());
                Some(agreed_session_key(
                    shared.as_bytes(),
                    &our_kx,
                    engine_kx,
                    serial,
                ))
            }
            // Only an in-process neuron takes a key it is handed.
            _ if !self.agree => session_key.map(|k| k.0),
            _ => None,
        }
    }

    /// MAC a report's exact bytes under the session (none without one: the engine will refuse
    /// it and answer with an identity refusal).
    pub fn seal_report(&self, neuron: &str, body: &[u8]) -> Option<ReportAuth> {
        let (serial, key) = self.session_key()?;
        let counter = 1 + self
            .report_counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let digest = report_digest(body);
        Some(ReportAuth {
            serial,
            counter,
            mac: Bytes32(mac(&key, |feed| {
                report_mac_input(neuron, counter, &digest, feed)
            })),
        })
    }

    pub fn seeded(neuron: &str, seed: u64, index: u32) -> Self {
        let secret = Sha256::new()
            .chain_update(b"plexus-neuron-secret\0")
            .chain_update(seed.to_be_bytes())
            .chain_update(index.to_be_bytes())
            .finalize()
            .into();
        Keyring::new(neuron, secret)
    }

    fn key(&self, generation: u32, label: &[u8]) -> SigningKey {
        derive_key(&self.secret, generation, label)
    }

    /// The key `held` names.
    fn held_key(&self, held: &Held) -> SigningKey {
        neuron_key(&self.secret, held.generation)
    }

    pub fn has_session(&self) -> bool {
        self.session.is_some()
    }

    pub fn serial(&self) -> Option<u64> {
        self.held.as_ref().map(|h| h.credential.serial)
    }

    /// A wrong key for the bad-signature fault: same neuron, not the key its credential names.
    fn wrong_key(&self) -> SigningKey {
        self.key(self.generation, b"plexus-wrong-key\0")
    }

    /// The identity message to send at `now`, if one is due: enrolment, handshake or renewal.
    /// Unanswered requests are repeated after `retry_ms`, then twice as long each time (up to
    /// [`MAX_RETRY_MS`], spread by a per-neuron jitter): a CA that is slow to answer, say while
    /// a whole fleet enrols at once, is not buried under repeats.
    pub fn due(&mut self, now: Millis, retry_ms: Millis) -> Option<NeuronMessage> {
        let backoff = (retry_ms << self.unanswered.min(8)).min(MAX_RETRY_MS);
        let jitter = backoff * u64::from(self.secret[0]) / 512;
        let wait = backoff + jitter;
        let waited = |sent: Option<Millis>| sent.is_none_or(|t| now >= t + wait);
        let before = (self.handshake_sent, self.enrolling.as_ref().map(|e| e.1));
        let message = self.next_message(now, &waited);
        let after = (self.handshake_sent, self.enrolling.as_ref().map(|e| e.1));
        // A repeat (something was already in flight) widens the next wait.
        if message.is_some() && (before.0.is_some() || before.1.is_some()) && after != before {
            self.unanswered += 1;
        }
        message
    }

    fn next_message(
        &mut self,
        now: Millis,
        waited: &dyn Fn(Option<Millis>) -> bool,
    ) -> Option<NeuronMessage> {
        if self.session.is_none() {
            if !waited(self.handshake_sent) || !waited(self.enrolling.as_ref().map(|e| e.1)) {
                return None;
            }
            let presented = match self.fault {
                Some(IdentityMode::UnknownCa) => self.rogue.as_deref(),
                Some(IdentityMode::Expired) => self.held.as_ref(),
                _ if self.handshake_refused => None,
                _ => self.held.as_ref().filter(|h| !h.expired(now)),
            };
            if let Some(h) = presented {
                let id = spiffe_id(&self.neuron);
                let signer = match self.fault {
                    Some(IdentityMode::BadSignature) => self.wrong_key(),
                    _ => self.held_key(h),
                };
                let credential = h.credential.clone();
                let kx = self.next_kx();
                let signature = sign(
                    &signer,
                    &handshake_bytes(&id, credential.serial, kx.as_ref()),
                );
                self.handshake_sent = Some(now);
                return Some(NeuronMessage::Handshake(Box::new(Handshake {
                    credential,
                    signature,
                    kx,
                })));
            }
            return self.enroll(now);
        }
        let renew = self.held.as_ref().is_some_and(|h| {
            now >= h.renew_at(self.secret[1]) && self.fault != Some(IdentityMode::Expired)
        });
        if renew && waited(self.enrolling.as_ref().map(|e| e.1)) {
            return self.enroll(now);
        }
        None
    }

    /// Ask for a credential for the next key, endorsed by the current one when there is one;
    /// `None` while that key is still being made (see [`KeyForge`]).
    fn enroll(&mut self, now: Millis) -> Option<NeuronMessage> {
        let material = self.next_material()?;
        self.enrolling = Some(Box::new((material.key, now)));
        Some(NeuronMessage::Enroll(Box::new(Enroll {
            public_key: material.public_key,
            proof: material.proof,
            endorsement: material.endorsement,
            kx: material.kx,
        })))
    }

    /// The next key's material: forged ahead where it can be (a simulated neuron without an
    /// identity fault), else made here. `None`: ordered from the forge and not ready yet.
    fn next_material(&mut self) -> Option<EnrolmentMaterial> {
        let generation = self.generation + 1;
        if let Some(forge) = self
            .forge
            .clone()
            .filter(|_| self.fault.is_none() && !self.agree)
        {
            let slot = match self.ahead.take() {
                Some(slot) => slot,
                None => self.order_next(&forge),
            };
            let Some(made) = forge.collect(&slot) else {
                self.ahead = Some(slot);
                return None;
            };
            // Made for the state the order was placed in: if a credential came or went since,
            // it is of no use and the material is made here instead.
            let endorsed_by = self.held.as_ref().map(|h| h.credential.serial);
            if made.generation == generation && made.endorsed_by() == endorsed_by {
                return Some(made);
            }
        }
        let kx = self.next_kx();
        let mut made =
            enrolment_material(&self.neuron, &self.secret, generation, kx, self.endorser());
        if self.fault == Some(IdentityMode::BadSignature) {
            let bytes = enroll_bytes(&spiffe_id(&self.neuron), &made.public_key, kx.as_ref());
            made.proof = sign(&self.wrong_key(), &bytes);
        }
        Some(made)
    }

    /// Order this neuron's next key from `forge`, endorsed by the credential it holds.
    fn order_next(&self, forge: &KeyForge) -> Slot {
        forge.order(
            &self.neuron,
            &self.secret,
            self.generation + 1,
            self.endorser(),
        )
    }

    /// What endorses the next key: the generation of the held credential's key, and its serial.
    fn endorser(&self) -> Option<(u32, u64)> {
        self.held
            .as_ref()
            .map(|h| (h.generation, h.credential.serial))
    }

    /// Have the forge make this neuron's next key ahead (simulated neurons; see [`KeyForge`]).
    pub fn forge_ahead(&mut self, forge: &KeyForge) {
        self.forge = Some(forge.clone());
        self.ahead = Some(self.order_next(forge));
    }

    fn session_key(&self) -> Option<(u64, [u8; 32])> {
        let (serial, mut key) = self.session?;
        if self.fault == Some(IdentityMode::BadSignature) {
            key[0] ^= 0x5a;
        }
        Some((serial, key))
    }

    /// MAC a heartbeat under the session (none without one: the engine will refuse it).
    pub fn seal(&self, hb: &mut Heartbeat) {
        hb.auth = self.session_key().map(|(serial, key)| Auth {
            serial,
            mac: Bytes32(mac(&key, |feed| heartbeat_mac_input(hb, feed))),
        });
    }

    pub fn seal_ack(&self, nonce: u64) -> Option<Auth> {
        self.session_key().map(|(serial, key)| Auth {
            serial,
            mac: Bytes32(mac(&key, |feed| probe_ack_mac_input(nonce, feed))),
        })
    }

    /// Handle an identity command from the engine.
    pub fn on_command(&mut self, now: Millis, command: &NeuronCommand) -> IdentityStep {
        let had = self.session.is_some();
        self.unanswered = 0;
        match command {
            NeuronCommand::Credential {
                credential,
                session_key,
                kx,
            } => {
                let Some(agreed) =
                    self.session_from(credential.serial, session_key.as_ref(), kx.as_ref())
                else {
                    return IdentityStep::Handled;
                };
                let asked = self
                    .enrolling
                    .take_if(|e| e.0.verifying_key().to_bytes() == credential.public_key.0);
                if asked.is_none() {
                    return IdentityStep::Handled;
                }
                self.generation += 1;
                self.pending_kx = None;
                self.handshake_refused = false;
                self.session = Some((credential.serial, agreed));
                self.held = Some(Held {
                    credential: credential.clone(),
                    generation: self.generation,
                    received: now,
                    left_at_resume: None,
                });
            }
            NeuronCommand::Session {
                serial,
                session_key,
                kx,
            } => {
                self.handshake_sent = None;
                let ours = match self.fault {
                    Some(IdentityMode::UnknownCa) => self.rogue.as_deref(),
                    _ => self.held.as_ref(),
                };
                if ours.is_some_and(|h| h.credential.serial == *serial)
                    && let Some(key) = self.session_from(*serial, session_key.as_ref(), kx.as_ref())
                {
                    self.pending_kx = None;
                    self.handshake_refused = false;
                    self.session = Some((*serial, key));
                }
            }
            NeuronCommand::IdentityRefused { enrolment, .. } => {
                self.enrolling = None;
                // Only agents change course (a simulated neuron under an identity fault must
                // keep presenting what the fault broke, so that it is detected).
                if !enrolment && self.agree && self.handshake_sent.is_some() {
                    self.handshake_refused = true;
                }
                if !enrolment {
                    self.session = None;
                    self.handshake_sent = None;
                }
                return IdentityStep::Handled;
            }
            NeuronCommand::Reenroll if self.agree && self.held.is_some() => {
                // An agent's id is bound to its key: it renews, endorsed by the key it holds.
                self.session = None;
                self.enrolling = None;
                self.handshake_sent = None;
                self.handshake_refused = true;
                return IdentityStep::Handled;
            }
            NeuronCommand::Reenroll => {
                // A broken identity stays broken until the fault is reverted.
                if self.fault.is_none() {
                    self.session = None;
                    self.held = None;
                    self.enrolling = None;
                    self.handshake_sent = None;
                }
                return IdentityStep::Handled;
            }
            _ => return IdentityStep::NotMine,
        }
        if !had && self.session.is_some() {
            IdentityStep::SessionUp
        } else {
            IdentityStep::Handled
        }
    }

    /// The process restarted: keys and credential are on disk, the session is not.
    pub fn restarted(&mut self) {
        self.session = None;
        self.enrolling = None;
        self.handshake_sent = None;
    }

    pub fn inject(&mut self, mode: IdentityMode) {
        self.fault = Some(mode);
        if mode == IdentityMode::UnknownCa {
            self.rogue = Some(Box::new(self.self_issued()));
            self.session = None;
            self.handshake_sent = None;
        }
    }

    pub fn clear_fault(&mut self) {
        if self.fault.take().is_some() {
            self.rogue = None;
            self.restarted();
        }
    }

    /// A credential for the current key signed by a CA of the neuron's own making.
    fn self_issued(&self) -> Held {
        let rogue_ca = self.key(0, b"plexus-rogue-ca\0");
        let generation = self.held.as_ref().map_or(1, |h| h.generation);
        let key = neuron_key(&self.secret, generation);
        let serial = self.held.as_ref().map_or(1, |h| h.credential.serial);
        let mut credential = Credential {
            id: spiffe_id(&self.neuron),
            public_key: Bytes32(key.verifying_key().to_bytes()),
            serial,
            not_before: 0,
            not_after: i64::MAX / 2,
            issuer: Bytes32(rogue_ca.verifying_key().to_bytes()),
            signature: Bytes64([0; 64]),
        };
        credential.signature = sign(&rogue_ca, &credential.signed_bytes());
        Held {
            credential,
            generation,
            received: 0,
            left_at_resume: None,
        }
    }
}

/// Key `generation` of the neuron whose secret is `secret`.
pub fn neuron_key(secret: &[u8; 32], generation: u32) -> SigningKey {
    derive_key(secret, generation, b"plexus-neuron-key\0")
}

fn derive_key(secret: &[u8; 32], generation: u32, label: &[u8]) -> SigningKey {
    let bytes: [u8; 32] = Sha256::new()
        .chain_update(label)
        .chain_update(secret)
        .chain_update(generation.to_be_bytes())
        .finalize()
        .into();
    SigningKey::from_bytes(&bytes)
}

/// What an enrolment request carries for one new key: the key, its proof of possession over
/// the neuron's id (and X25519 share, if any), and the endorsement of the credential it renews.
#[derive(Clone)]
pub struct EnrolmentMaterial {
    pub generation: u32,
    pub key: SigningKey,
    pub public_key: Bytes32,
    pub proof: Bytes64,
    pub endorsement: Option<Endorsement>,
    pub kx: Option<Bytes32>,
}

impl EnrolmentMaterial {
    /// The serial of the credential that endorses it, if any.
    pub fn endorsed_by(&self) -> Option<u64> {
        self.endorsement.as_ref().map(|e| e.serial)
    }
}

/// Sign `neuron`'s enrolment of `key` (its generation `generation`), endorsed by `endorser`.
/// Key `generation` of the neuron whose secret is `secret`, its proof of possession, and the
/// endorsement by the key of generation `endorser.0` (whose credential is serial `endorser.1`).
pub fn enrolment_material(
    neuron: &str,
    secret: &[u8; 32],
    generation: u32,
    kx: Option<Bytes32>,
    endorser: Option<(u32, u64)>,
) -> EnrolmentMaterial {
    let key = neuron_key(secret, generation);
    let public_key = Bytes32(key.verifying_key().to_bytes());
    let bytes = enroll_bytes(&spiffe_id(neuron), &public_key, kx.as_ref());
    EnrolmentMaterial {
        generation,
        proof: sign(&key, &bytes),
        endorsement: endorser.map(|(endorsing, serial)| Endorsement {
            serial,
            signature: sign(&neuron_key(secret, endorsing), &bytes),
        }),
        public_key,
        key,
        kx,
    }
}

fn sign(key: &SigningKey, bytes: &[u8]) -> Bytes64 {
    Bytes64(key.sign(bytes).to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_falls_between_two_thirds_and_three_quarters_of_the_life_spread_per_neuron() {
        let held = Held {
            credential: Credential {
                id: spiffe_id("n-0001"),
                public_key: Bytes32([0; 32]),
                serial: 1,
                not_before: 0,
                not_after: 600_000,
                issuer: Bytes32([0; 32]),
                signature: Bytes64([0; 64]),
            },
            generation: 1,
            received: 1_000,
            left_at_resume: None,
        };
        assert_eq!(
            held.renew_at(0),
            1_000 + 400_000,
            "the earliest: two thirds"
        );
        assert_eq!(
            held.renew_at(255),
            1_000 + 450_000,
            "the latest: three quarters"
        );
        assert!(held.renew_at(128) > held.renew_at(0) && held.renew_at(128) < held.renew_at(255));
    }
}
