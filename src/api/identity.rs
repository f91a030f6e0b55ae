//! Neuron identity on the wire: SPIFFE-like ids, credentials issued by the federation's CA, the
//! enrolment and handshake messages, and the MAC every heartbeat carries. The byte strings that
//! are signed or MAC'd are defined here once, so the neuron and the engine cannot disagree.
//!
//! Asymmetric once per credential (ed25519: enrolment and handshake), symmetric per message
//! (HMAC-SHA256 under a session key the engine hands out after a verified handshake), as TLS does.

use serde::{Deserialize, Serialize};

use super::wire::{ConfigStatus, Heartbeat};

/// The trust domain every id lives in.
pub const TRUST_DOMAIN: &str = "plexus://federation";

/// `plexus://federation/neuron/n-0001`.
pub fn spiffe_id(neuron: &str) -> String {
    format!("{TRUST_DOMAIN}/neuron/{neuron}")
}

/// 32 bytes on the wire as 64 hex digits (keys, MACs).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bytes32(pub [u8; 32]);

/// 64 bytes on the wire as 128 hex digits (signatures).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bytes64(pub [u8; 64]);

macro_rules! hex_bytes {
    ($ty:ident, $n:literal) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex::encode(self.0))
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                let mut out = [0u8; $n];
                hex::decode_to_slice(&text, &mut out).map_err(|e| {
                    serde::de::Error::custom(format!("expected {} hex digits: {e}", 2 * $n))
                })?;
                Ok($ty(out))
            }
        }
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // Short: enough to tell two apart in a log.
                write!(f, "{}…", hex::encode(&self.0[..6]))
            }
        }
    };
}
hex_bytes!(Bytes32, 32);
hex_bytes!(Bytes64, 64);

/// What the CA vouches for: this id holds this public key between these times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub id: String,
    pub public_key: Bytes32,
    /// Per engine, increasing: names the credential (and the session made with it).
    pub serial: u64,
    /// Unix milliseconds.
    pub not_before: i64,
    pub not_after: i64,
    /// The CA's public key (a verifier trusts a fixed set of these).
    pub issuer: Bytes32,
    pub signature: Bytes64,
}

impl Credential {
    /// The bytes the CA signs.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(160);
        b.extend_from_slice(b"plexus-credential-v1\0");
        b.extend_from_slice(self.id.as_bytes());
        b.push(0);
        b.extend_from_slice(&self.public_key.0);
        b.extend_from_slice(&self.serial.to_be_bytes());
        b.extend_from_slice(&self.not_before.to_be_bytes());
        b.extend_from_slice(&self.not_after.to_be_bytes());
        b.extend_from_slice(&self.issuer.0);
        b
    }

    pub fn lifetime_ms(&self) -> u64 {
        (self.not_after - self.not_before).max(0) as u64
    }
}

/// Neuron → engine: issue me a credential for this key. `proof` is made with the new key (the
/// neuron holds it); `endorsement` with the key of the credential being renewed (the same neuron
/// asks). Without an endorsement the engine issues only when it has opened enrolment (first
/// join, or a re-issue it asked for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enroll {
    pub public_key: Bytes32,
    pub proof: Bytes64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsement: Option<Endorsement>,
    /// The neuron's ephemeral X25519 public key: the session key is agreed, never sent. Agents
    /// must send one; an in-process simulated neuron may leave it out and is handed its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kx: Option<Bytes32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endorsement {
    /// The credential whose key signed.
    pub serial: u64,
    pub signature: Bytes64,
}

/// The bytes an enrolment's proof and endorsement sign (the key-agreement share included, so a
/// replayed enrolment cannot carry someone else's share).
pub fn enroll_bytes(id: &str, public_key: &Bytes32, kx: Option<&Bytes32>) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    b.extend_from_slice(b"plexus-enroll-v1\0");
    b.extend_from_slice(id.as_bytes());
    b.push(0);
    b.extend_from_slice(&public_key.0);
    if let Some(kx) = kx {
        b.extend_from_slice(b"kx");
        b.extend_from_slice(&kx.0);
    }
    b
}

/// Neuron → engine: here is my credential, and a signature with its key; give me a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handshake {
    pub credential: Credential,
    pub signature: Bytes64,
    /// The neuron's ephemeral X25519 public key (see [`Enroll::kx`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kx: Option<Bytes32>,
}

/// The bytes a handshake signs.
pub fn handshake_bytes(id: &str, serial: u64, kx: Option<&Bytes32>) -> Vec<u8> {
    let mut b = Vec::with_capacity(96);
    b.extend_from_slice(b"plexus-handshake-v1\0");
    b.extend_from_slice(id.as_bytes());
    b.push(0);
    b.extend_from_slice(&serial.to_be_bytes());
    if let Some(kx) = kx {
        b.extend_from_slice(b"kx");
        b.extend_from_slice(&kx.0);
    }
    b
}

/// The session key both sides derive from an X25519 agreement: the shared secret bound to both
/// shares and the credential it is for.
pub fn agreed_session_key(
    shared: &[u8; 32],
    neuron_kx: &Bytes32,
    engine_kx: &Bytes32,
    serial: u64,
) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(b"plexus-session-v2\0")
        .chain_update(shared)
        .chain_update(neuron_kx.0)
        .chain_update(engine_kx.0)
        .chain_update(serial.to_be_bytes())
        .finalize()
        .into()
}

/// The MAC an agent's report carries over HTTP, in the `X-Plexus-Auth` header: under the
/// session of credential `serial`, over the exact bytes of the body, numbered by `counter` (which
/// must grow within a session, so a captured report cannot be sent again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportAuth {
    pub serial: u64,
    pub counter: u64,
    pub mac: Bytes32,
}

/// The header that carries a [`ReportAuth`].
pub const REPORT_AUTH_HEADER: &str = "x-plexus-auth";

impl ReportAuth {
    /// `SERIAL.COUNTER.MAC` (decimal, decimal, 64 hex digits).
    pub fn header(&self) -> String {
        format!(
            "{}.{}.{}",
            self.serial,
            self.counter,
            hex::encode(self.mac.0)
        )
    }

    pub fn parse(text: &str) -> Result<ReportAuth, String> {
        let mut parts = text.trim().split('.');
        let (Some(serial), Some(counter), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("expected SERIAL.COUNTER.MAC".into());
        };
        let number = |s: &str, what: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("{what} '{s}' is not a whole number"))
        };
        let mut out = [0u8; 32];
        hex::decode_to_slice(mac, &mut out).map_err(|_| "MAC: expected 64 hex digits")?;
        Ok(ReportAuth {
            serial: number(serial, "serial")?,
            counter: number(counter, "counter")?,
            mac: Bytes32(out),
        })
    }
}

/// SHA-256 of a report's body: what its MAC covers, with the neuron and the counter.
pub fn report_digest(body: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(body).into()
}

/// Feed a report's MAC input: its neuron, counter and body digest.
pub fn report_mac_input(
    neuron: &str,
    counter: u64,
    digest: &[u8; 32],
    mut feed: impl FnMut(&[u8]),
) {
    feed(b"plexus-report-v1\0");
    feed(neuron.as_bytes());
    feed(&[0]);
    feed(&counter.to_be_bytes());
    feed(digest);
}

/// The MAC a message carries: made with the session of credential `serial`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Auth {
    pub serial: u64,
    pub mac: Bytes32,
}

/// Which way an identity-failure fault breaks the neuron's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityMode {
    /// Signs and MACs with a key that is not the one its credential names.
    #[default]
    BadSignature,
    /// Stops renewing and keeps presenting its credential after it expired.
    Expired,
    /// Presents a credential it issued itself under a CA the federation does not know.
    UnknownCa,
}

impl IdentityMode {
    pub const ALL: [IdentityMode; 3] = [
        IdentityMode::BadSignature,
        IdentityMode::Expired,
        IdentityMode::UnknownCa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IdentityMode::BadSignature => "bad-signature",
            IdentityMode::Expired => "expired",
            IdentityMode::UnknownCa => "unknown-ca",
        }
    }

    pub fn parse(text: &str) -> Result<IdentityMode, String> {
        IdentityMode::ALL
            .into_iter()
            .find(|m| m.name() == text)
            .ok_or_else(|| {
                format!("unknown identity mode '{text}' (bad-signature, expired, unknown-ca)")
            })
    }
}

/// Feed a heartbeat's content into a MAC, field by field (no serialisation on the hot path).
pub fn heartbeat_mac_input(hb: &Heartbeat, mut feed: impl FnMut(&[u8])) {
    feed(b"hb\0");
    feed(&hb.seq.to_be_bytes());
    feed(&hb.incarnation.to_be_bytes());
    feed(&(hb.config_version.len() as u32).to_be_bytes());
    feed(hb.config_version.as_bytes());
    match &hb.config {
        ConfigStatus::Applied => feed(&[0]),
        ConfigStatus::Failed { version, reason } => {
            feed(&[1]);
            for s in [version, reason] {
                feed(&(s.len() as u32).to_be_bytes());
                feed(s.as_bytes());
            }
        }
    }
    match &hb.telemetry {
        None => feed(&[0]),
        Some(t) => {
            feed(&[1]);
            feed(&t.requests_total.to_be_bytes());
            for v in [
                t.rps,
                t.latency_p50_ms,
                t.latency_p95_ms,
                t.error_rate,
                t.load,
            ] {
                feed(&v.to_bits().to_be_bytes());
            }
        }
    }
}

/// Feed a probe answer into a MAC.
pub fn probe_ack_mac_input(nonce: u64, mut feed: impl FnMut(&[u8])) {
    feed(b"ack\0");
    feed(&nonce.to_be_bytes());
}

/// A neuron's credential as `neurons show` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityView {
    pub id: String,
    pub serial: u64,
    /// The first 16 hex digits of the public key.
    pub key_fingerprint: String,
    pub not_before: String,
    pub not_after: String,
    /// Credentials issued to this neuron since the engine started (1 = never rotated).
    pub issued: u32,
    pub session: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_fields_round_trip_and_bad_lengths_are_refused() {
        let auth = Auth {
            serial: 3,
            mac: Bytes32([7; 32]),
        };
        let json = serde_json::to_string(&auth).unwrap();
        assert!(json.contains(&"07".repeat(32)));
        assert_eq!(serde_json::from_str::<Auth>(&json).unwrap(), auth);
        let short = r#"{"serial":3,"mac":"0707"}"#;
        let err = serde_json::from_str::<Auth>(short).unwrap_err().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
    }

    #[test]
    fn modes_parse_by_name() {
        for m in IdentityMode::ALL {
            assert_eq!(IdentityMode::parse(m.name()), Ok(m));
        }
        assert!(IdentityMode::parse("forged").is_err());
        assert_eq!(spiffe_id("n-0001"), "plexus://federation/neuron/n-0001");
    }
}
