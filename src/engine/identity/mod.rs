//! What the engine knows about each neuron's identity: the credential it last issued, the
//! sessions made from verified handshakes, and whether enrolment is open. Every heartbeat and
//! probe answer is checked here (a MAC, a few microseconds); signatures are checked only on
//! enrolment and handshake, once per credential.

pub mod batch;
pub mod ca;
pub mod keyfile;
pub mod queue;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::api::Millis;
use crate::api::identity::{
    Auth, Bytes32, Enroll, Handshake, IdentityView, REPORT_AUTH_HEADER, ReportAuth,
    agreed_session_key, enroll_bytes, handshake_bytes, report_mac_input, spiffe_id,
};
use crate::api::wire::NeuronCommand;
use crate::engine::clock::rfc3339;
use ca::{Ca, verify};

#[derive(Debug, Clone, Copy)]
struct Session {
    serial: u64,
    key: [u8; 32],
    not_after: i64,
    /// The highest report counter accepted under this session (agents' reports only), and
    /// which of the 64 below it were seen: a window, as IPsec and DTLS keep, so reports that
    /// overtake each other are taken once each and a replay never.
    counter: u64,
    seen: u64,
}

/// How far below the highest counter a late report is still taken.
const REPLAY_WINDOW: u64 = 64;

impl Session {
    /// Take `counter` once: false for a replay or one older than the window.
    fn accept(&mut self, counter: u64) -> bool {
        if counter > self.counter {
            let shift = counter - self.counter;
            self.seen = if shift >= REPLAY_WINDOW {
                0
            } else {
                self.seen << shift
            } | 1;
            self.counter = counter;
            return true;
        }
        let back = self.counter - counter;
        if back >= REPLAY_WINDOW || counter == 0 {
            return false;
        }
        let bit = 1u64 << back;
        if self.seen & bit != 0 {
            return false;
        }
        self.seen |= bit;
        true
    }
}

#[derive(Debug, Clone, Default)]
struct Keys {
    /// The newest session and the one before it: a renewal overlaps the two, so heartbeats
    /// MAC'd under the old one while the new credential is in flight still verify.
    sessions: [Option<Session>; 2],
    /// The newest credential issued: its key endorses the next renewal.
    latest: Option<(u64, Bytes32, i64, i64)>,
    enroll_open: bool,
    issued: u32,
    /// The holder of the bound key proved it at registration: a renewal it endorses is taken
    /// even if its credential ran out while it was away.
    proven: bool,
}

impl Keys {
    fn session(&self, serial: u64) -> Option<&Session> {
        self.sessions.iter().flatten().find(|s| s.serial == serial)
    }

    fn install(&mut self, mut s: Session) {
        // The same key again (a repeated request): the counter it reached stands, so a report
        // captured earlier in the session cannot be replayed.
        if let Some(old) = self.session(s.serial).filter(|old| old.key == s.key) {
            s.counter = old.counter;
            s.seen = old.seen;
        }
        match &self.sessions[0] {
            Some(cur) if cur.serial == s.serial => self.sessions[0] = Some(s),
            Some(cur) if cur.serial > s.serial => self.sessions[1] = Some(s),
            _ => self.sessions = [Some(s), self.sessions[0]],
        }
    }
}

/// The session a MAC names, if the engine made it and its credential has not expired.
fn live_session<S: std::ops::Deref<Target = Session>>(
    found: Option<S>,
    serial: u64,
    now_unix: i64,
) -> Result<S, String> {
    let Some(s) = found else {
        return Err(format!(
            "no session for credential #{serial} (no verified handshake)"
        ));
    };
    if now_unix > s.not_after {
        return Err(format!(
            "credential #{} expired at {}",
            s.serial,
            rfc3339(s.not_after)
        ));
    }
    Ok(s)
}

/// What an accepted enrolment produced.
#[derive(Debug)]
pub struct Issued {
    pub reply: NeuronCommand,
    pub serial: u64,
    pub not_after: i64,
    /// A renewal endorsed by the previous credential (a rotation), not a first or re-issue.
    pub rotation: bool,
}

pub struct IdentityBook {
    ca: Ca,
    ttl_ms: Millis,
    next_serial: u64,
    neurons: Vec<Keys>,
}

type HmacSha256 = Hmac<Sha256>;

/// The MAC of whatever `input` feeds, under `key`.
pub fn mac(key: &[u8; 32], input: impl FnOnce(&mut dyn FnMut(&[u8]))) -> [u8; 32] {
    keyed_mac(key, input).finalize().into_bytes().into()
}

/// An HMAC keyed with `key` and fed `input`. The pieces are gathered in a stack buffer first: a
/// heartbeat is some twenty small fields, and an update per field cost more than hashing them.
fn keyed_mac(key: &[u8], input: impl FnOnce(&mut dyn FnMut(&[u8]))) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    let mut buf = [0u8; 256];
    let mut len = 0;
    input(&mut |b: &[u8]| {
        if len + b.len() > buf.len() {
            m.update(&buf[..len]);
            len = 0;
        }
        if b.len() > buf.len() {
            m.update(b);
        } else {
            buf[len..len + b.len()].copy_from_slice(b);
            len += b.len();
        }
    });
    m.update(&buf[..len]);
    m
}

/// A session key and how the neuron learns it: the engine's X25519 share (agreed), or the key
/// itself (in-process simulated neurons, whose channel never leaves the process).
struct Agreed {
    key: [u8; 32],
    session_key: Option<Bytes32>,
    kx: Option<Bytes32>,
}

impl IdentityBook {
    /// Load neuron `idx`'s keys ahead (see [`crate::engine::prefetch`]).
    pub fn prefetch(&self, idx: usize) {
        crate::engine::prefetch::prefetch_at(&self.neurons, idx);
    }

    pub fn new(ca: Ca, ttl_ms: Millis) -> Self {
        IdentityBook {
            ca,
            ttl_ms,
            next_serial: 1,
            neurons: Vec::new(),
        }
    }

    /// The session key for credential `serial`: agreed with the neuron's X25519 share, or (no
    /// share, in-process only) derived and handed over. An agent must agree.
    fn agree(&self, serial: u64, kx: Option<&Bytes32>, agent: bool) -> Result<Agreed, String> {
        let Some(neuron_kx) = kx else {
            if agent {
                return Err(
                    "an agent must agree its session key (send kx, an X25519 share)".into(),
                );
            }
            let key = self.ca.derive(b"session", serial);
            return Ok(Agreed {
                key,
                session_key: Some(Bytes32(key)),
                kx: None,
            });
        };
        let ours = self.ca.kx_secret(neuron_kx, serial);
        let engine_kx = Bytes32(x25519_dalek::PublicKey::from(&ours).to_bytes());
        let shared = ours.diffie_hellman(&x25519_dalek::PublicKey::from(neuron_kx.0));
        if !shared.was_contributory() {
            return Err("the X25519 share is a low-order point".into());
        }
        Ok(Agreed {
            key: agreed_session_key(shared.as_bytes(), neuron_kx, &engine_kx, serial),
            session_key: None,
            kx: Some(engine_kx),
        })
    }

    pub fn ca_public(&self) -> Bytes32 {
        self.ca.public
    }

    fn keys(&mut self, idx: u32) -> &mut Keys {
        let i = idx as usize;
        if self.neurons.len() <= i {
            self.neurons.resize_with(i + 1, Keys::default);
        }
        &mut self.neurons[i]
    }

    /// A neuron was registered (or asked to enrol afresh by recovery): the next enrolment
    /// needs no endorsement, and the sessions it had are gone.
    pub fn open_enrolment(&mut self, idx: u32) {
        let k = self.keys(idx);
        k.enroll_open = true;
        k.sessions = [None, None];
    }

    /// Recovery asked a bound agent to enrol again: its sessions end, and only a renewal
    /// endorsed by its key (even an expired one) gets it a new credential.
    pub fn renewal_only(&mut self, idx: u32) {
        let k = self.keys(idx);
        k.sessions = [None, None];
        k.proven = true;
    }

    /// Forget everything about a slot (an id released, or a slot reused).
    pub fn clear(&mut self, idx: u32) {
        *self.keys(idx) = Keys::default();
    }

    /// The key an id is bound to (its latest credential), to keep across restarts.
    pub fn binding(&self, idx: u32) -> Option<(u64, Bytes32, i64, i64)> {
        self.neurons.get(idx as usize).and_then(|k| k.latest)
    }

    /// Bind a slot to a stored credential (an agent re-registered after a server restart).
    pub fn restore(&mut self, idx: u32, latest: (u64, Bytes32, i64, i64)) {
        let k = self.keys(idx);
        k.latest = Some(latest);
        self.next_serial = self.next_serial.max(latest.0 + 1);
    }

    /// The caller proved it holds the bound key (a signed registration).
    pub fn proven(&mut self, idx: u32) {
        self.keys(idx).proven = true;
    }

    pub fn enroll(
        &mut self,
        idx: u32,
        neuron: &str,
        e: &Enroll,
        now_unix: i64,
        agent: bool,
    ) -> Result<Issued, String> {
        let id = spiffe_id(neuron);
        let bytes = enroll_bytes(&id, &e.public_key, e.kx.as_ref());
        if !verify(&e.public_key, &bytes, &e.proof) {
            return Err("enrolment proof does not verify with the key it names".into());
        }
        self.issue(idx, id, &bytes, e, now_unix, agent)
    }

    /// [`IdentityBook::enroll`] for a request whose proof already verified (in a batch, see
    /// [`batch::verify_all`]); everything else is checked here.
    pub fn enroll_proven(
        &mut self,
        idx: u32,
        neuron: &str,
        e: &Enroll,
        now_unix: i64,
        agent: bool,
    ) -> Result<Issued, String> {
        let id = spiffe_id(neuron);
        let bytes = enroll_bytes(&id, &e.public_key, e.kx.as_ref());
        self.issue(idx, id, &bytes, e, now_unix, agent)
    }

    /// Everything about an enrolment but its proof: a repeat, the endorsement, whether
    /// enrolment is open; then the credential. `bytes` are what the proof and any endorsement
    /// sign.
    fn issue(
        &mut self,
        idx: u32,
        id: String,
        bytes: &[u8],
        e: &Enroll,
        now_unix: i64,
        agent: bool,
    ) -> Result<Issued, String> {
        let k = self.keys(idx);
        // A repeat of the enrolment just granted (its answer lost or still in flight): the
        // same credential again (ed25519 signing is deterministic), nothing new issued.
        if let Some((serial, key, not_before, not_after)) = k.latest
            && key == e.public_key
        {
            let agreed = self.agree(serial, e.kx.as_ref(), agent)?;
            self.keys(idx).install(Session {
                serial,
                key: agreed.key,
                not_after,
                counter: 0,
                seen: 0,
            });
            return Ok(Issued {
                reply: NeuronCommand::Credential {
                    credential: self.ca.issue(id, key, serial, not_before, not_after),
                    session_key: agreed.session_key,
                    kx: agreed.kx,
                },
                serial,
                not_after,
                rotation: false,
            });
        }
        let endorsed = match (&e.endorsement, &k.latest) {
            (Some(end), Some((serial, key, _, not_after))) if end.serial == *serial => {
                if now_unix > *not_after && !k.proven {
                    return Err(format!(
                        "renewal endorsed by credential #{serial}, which expired at {}",
                        rfc3339(*not_after)
                    ));
                }
                if !verify(key, bytes, &end.signature) {
                    return Err(format!(
                        "renewal endorsement does not verify with credential #{serial}'s key"
                    ));
                }
                true
            }
            (Some(end), _) if !k.enroll_open => {
                return Err(format!(
                    "renewal endorsed by credential #{}, which is not this neuron's latest",
                    end.serial
                ));
            }
            _ => false,
        };
        if !(endorsed || k.enroll_open) {
            return Err("enrolment without an endorsement while enrolment is closed".into());
        }
        let serial = self.next_serial;
        let agreed = self.agree(serial, e.kx.as_ref(), agent)?;
        self.next_serial += 1;
        let not_after = now_unix.saturating_add(self.ttl_ms as i64);
        let credential = self.ca.issue(id, e.public_key, serial, now_unix, not_after);
        let k = self.keys(idx);
        k.enroll_open = false;
        k.proven = false;
        k.issued += 1;
        k.latest = Some((serial, e.public_key, now_unix, not_after));
        k.install(Session {
            serial,
            key: agreed.key,
            not_after,
            counter: 0,
            seen: 0,
        });
        Ok(Issued {
            reply: NeuronCommand::Credential {
                credential,
                session_key: agreed.session_key,
                kx: agreed.kx,
            },
            serial,
            not_after,
            rotation: endorsed,
        })
    }

    pub fn handshake(
        &mut self,
        idx: u32,
        neuron: &str,
        h: &Handshake,
        now_unix: i64,
        agent: bool,
    ) -> Result<NeuronCommand, String> {
        let c = &h.credential;
        let id = spiffe_id(neuron);
        if c.id != id {
            return Err(format!("credential names {}, not {id}", c.id));
        }
        self.ca.vouches_for(c)?;
        // The id is bound to the key of its latest credential: an older credential (a key
        // replaced, or an id released and taken by another) opens nothing.
        match self.neurons.get(idx as usize).and_then(|k| k.latest) {
            Some((serial, key, ..)) if serial == c.serial && key == c.public_key => {}
            Some((serial, ..)) => {
                return Err(format!(
                    "credential #{} is not this neuron's latest (#{serial})",
                    c.serial
                ));
            }
            None => {
                return Err(format!(
                    "credential #{} names no credential on record for {id}; enrol",
                    c.serial
                ));
            }
        }
        if now_unix > c.not_after {
            return Err(format!(
                "credential #{} expired at {}",
                c.serial,
                rfc3339(c.not_after)
            ));
        }
        if now_unix < c.not_before {
            return Err(format!(
                "credential #{} is not valid before {}",
                c.serial,
                rfc3339(c.not_before)
            ));
        }
        let signed = handshake_bytes(&id, c.serial, h.kx.as_ref());
        if !verify(&c.public_key, &signed, &h.signature) {
            return Err(format!(
                "handshake signature does not verify with credential #{}'s key",
                c.serial
            ));
        }
        let agreed = self.agree(c.serial, h.kx.as_ref(), agent)?;
        self.keys(idx).install(Session {
            serial: c.serial,
            key: agreed.key,
            not_after: c.not_after,
            counter: 0,
            seen: 0,
        });
        Ok(NeuronCommand::Session {
            serial: c.serial,
            session_key: agreed.session_key,
            kx: agreed.kx,
        })
    }

    /// Check an agent's report: its MAC under a live session, over the exact bytes that
    /// travelled (their digest), with a counter above every one accepted before in the session.
    pub fn check_report(
        &mut self,
        idx: u32,
        neuron: &str,
        auth: Option<&ReportAuth>,
        digest: &[u8; 32],
        now_unix: i64,
    ) -> Result<(), String> {
        let Some(auth) = auth else {
            return Err(format!(
                "report without a MAC (the {REPORT_AUTH_HEADER} header)"
            ));
        };
        let s = live_session(
            self.neurons.get_mut(idx as usize).and_then(|k| {
                k.sessions
                    .iter_mut()
                    .flatten()
                    .find(|s| s.serial == auth.serial)
            }),
            auth.serial,
            now_unix,
        )?;
        let mut m = HmacSha256::new_from_slice(&s.key).expect("HMAC takes any key length");
        report_mac_input(neuron, auth.counter, digest, |b| m.update(b));
        m.verify_slice(&auth.mac.0).map_err(|_| {
            format!(
                "report MAC does not verify under the session of credential #{}",
                s.serial
            )
        })?;
        if !s.accept(auth.counter) {
            return Err(format!(
                "report #{} replayed or too old (the session is at #{})",
                auth.counter, s.counter
            ));
        }
        Ok(())
    }

    /// Whether the session of credential `serial` still stands for neuron `idx` (an agent's push
    /// channel is bound to the session its first verified report came under).
    pub fn session_live(&self, idx: u32, serial: u64, now_unix: i64) -> bool {
        let found = self
            .neurons
            .get(idx as usize)
            .and_then(|k| k.sessions.iter().flatten().find(|s| s.serial == serial));
        live_session(found, serial, now_unix).is_ok()
    }

    /// Check a message's MAC: under a session the engine handed out, whose credential has not
    /// expired.
    pub fn check(
        &self,
        idx: u32,
        auth: Option<&Auth>,
        input: impl FnOnce(&mut dyn FnMut(&[u8])),
        now_unix: i64,
    ) -> Result<(), String> {
        let Some(auth) = auth else {
            return Err("message without a MAC".into());
        };
        let s = live_session(
            self.neurons
                .get(idx as usize)
                .and_then(|k| k.session(auth.serial)),
            auth.serial,
            now_unix,
        )?;
        keyed_mac(&s.key, input)
            .verify_slice(&auth.mac.0)
            .map_err(|_| {
                format!(
                    "MAC does not verify under the session of credential #{}",
                    s.serial
                )
            })
    }

    pub fn view(&self, idx: u32, neuron: &str) -> Option<IdentityView> {
        let k = self.neurons.get(idx as usize)?;
        let (serial, key, not_before, not_after) = k.latest?;
        Some(IdentityView {
            id: spiffe_id(neuron),
            serial,
            key_fingerprint: hex::encode(&key.0[..8]),
            not_before: rfc3339(not_before),
            not_after: rfc3339(not_after),
            issued: k.issued,
            session: k.sessions[0].is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::identity::Endorsement;
    use crate::api::wire::NeuronMessage;
    use crate::neuron::identity::Keyring;

    const T0: i64 = 1_767_225_600_000;

    /// A neuron enrolled with a fresh book; returns the book and its credential.
    fn enrolled() -> (IdentityBook, Keyring, Credential) {
        let mut book = IdentityBook::new(Ca::from_seed(1), 60_000);
        book.open_enrolment(0);
        let mut keys = Keyring::seeded("n-0001", 1, 0);
        let Some(NeuronMessage::Enroll(e)) = keys.due(0, 500) else {
            panic!("enrols first");
        };
        let issued = book.enroll(0, "n-0001", &e, T0, false).unwrap();
        let NeuronCommand::Credential { credential, .. } = &issued.reply else {
            panic!("a credential");
        };
        let credential = credential.clone();
        keys.on_command(0, &issued.reply);
        (book, keys, credential)
    }

    use crate::api::identity::Credential;

    fn handshake_of(keys: &mut Keyring) -> Handshake {
        keys.on_command(
            0,
            &NeuronCommand::IdentityRefused {
                reason: "test".into(),
                enrolment: false,
            },
        );
        match keys.due(1, 500) {
            Some(NeuronMessage::Handshake(h)) => *h,
            other => panic!("expected a handshake, got {other:?}"),
        }
    }

    #[test]
    fn a_tampered_credential_fails_the_ca_signature() {
        let (mut book, mut keys, _) = enrolled();
        let mut h = handshake_of(&mut keys);
        assert!(book.handshake(0, "n-0001", &h, T0 + 1, false).is_ok());
        h.credential.not_after += 3_600_000;
        let err = book.handshake(0, "n-0001", &h, T0 + 1, false).unwrap_err();
        assert!(err.contains("CA signature does not verify"), "{err}");
    }

    #[test]
    fn a_credential_is_refused_after_expiry_and_for_another_neuron() {
        let (mut book, mut keys, credential) = enrolled();
        let h = handshake_of(&mut keys);
        let err = book
            .handshake(0, "n-0001", &h, credential.not_after + 1, false)
            .unwrap_err();
        assert!(err.contains("expired at"), "{err}");
        let err = book.handshake(1, "n-0002", &h, T0 + 1, false).unwrap_err();
        assert!(
            err.contains("not plexus://federation/neuron/n-0002"),
            "{err}"
        );
        // The session made with it stops verifying at expiry too.
        let check = |at| {
            book.check(
                0,
                keys.seal_ack(5).as_ref(),
                |f| crate::api::identity::probe_ack_mac_input(5, f),
                at,
            )
        };
        assert!(check(T0 + 10).is_err(), "no session since the refusal");
    }

    #[test]
    fn enrolment_is_closed_without_a_valid_endorsement() {
        let (mut book, _, credential) = enrolled();
        let mut other = Keyring::seeded("n-0001", 99, 0);
        let Some(NeuronMessage::Enroll(mut e)) = other.due(0, 500) else {
            panic!("enrols");
        };
        let err = book.enroll(0, "n-0001", &e, T0 + 1, false).unwrap_err();
        assert!(err.contains("enrolment is closed"), "{err}");
        // An endorsement by a key that is not the credential's.
        e.endorsement = Some(Endorsement {
            serial: credential.serial,
            signature: e.proof,
        });
        let err = book.enroll(0, "n-0001", &e, T0 + 1, false).unwrap_err();
        assert!(err.contains("endorsement does not verify"), "{err}");
        // Recovery opens it.
        book.open_enrolment(0);
        e.endorsement = None;
        assert!(book.enroll(0, "n-0001", &e, T0 + 1, false).is_ok());
    }

    #[test]
    fn a_mac_over_changed_content_or_from_another_session_does_not_verify() {
        let (book, keys, _) = enrolled();
        let input = |nonce| {
            move |f: &mut dyn FnMut(&[u8])| crate::api::identity::probe_ack_mac_input(nonce, f)
        };
        let auth = keys.seal_ack(7);
        assert!(book.check(0, auth.as_ref(), input(7), T0 + 1).is_ok());
        assert!(book.check(0, auth.as_ref(), input(8), T0 + 1).is_err());
        assert!(book.check(1, auth.as_ref(), input(7), T0 + 1).is_err());
        assert!(book.check(0, None, input(7), T0 + 1).is_err());
    }
}
