//! The tamper-evident audit log. Every command writes exactly one record, allowed, denied or
//! failed, in the same store transaction as the change it made. Records are hash-chained: each
//! record's hash covers the previous hash and the record's canonical encoding, so an edited,
//! deleted or reordered record breaks the chain at its sequence number.

pub mod export;
pub mod head;
pub mod prune;
pub mod verify;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::{AuditOutcome, AuditRecord};

/// The previous hash of the first record ever written.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A record before the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at_unix_ms: i64,
    pub user: String,
    pub role: String,
    pub session: String,
    pub source: String,
    pub action: String,
    pub target: String,
    pub params_digest: String,
    pub outcome: AuditOutcome,
    pub error_code: Option<String>,
    pub message: Option<String>,
}

/// The fields a record's hash covers, in a fixed order (serde keeps declaration order), so the
/// encoding is canonical.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: u64,
    at: &'a str,
    user: &'a str,
    role: &'a str,
    session: &'a str,
    source: &'a str,
    action: &'a str,
    target: &'a str,
    params_digest: &'a str,
    outcome: &'a str,
    error_code: Option<&'a str>,
    message: Option<&'a str>,
}

/// The hash a record must carry given the previous hash.
pub fn record_hash(prev_hash: &str, r: &AuditRecord) -> String {
    let canonical = Canonical {
        seq: r.seq,
        at: &r.at,
        user: &r.user,
        role: &r.role,
        session: &r.session,
        source: &r.source,
        action: &r.action,
        target: &r.target,
        params_digest: &r.params_digest,
        outcome: r.outcome.as_str(),
        error_code: r.error_code.as_deref(),
        message: r.message.as_deref(),
    };
    let encoded = serde_json::to_string(&canonical).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(encoded.as_bytes());
    hex::encode(hasher.finalize())
}

/// SHA-256 of a command's parameters in canonical JSON.
pub fn digest_params<T: Serialize>(params: &T) -> String {
    let encoded = serde_json::to_string(params).unwrap_or_default();
    hex::encode(Sha256::digest(encoded.as_bytes()))
}

impl AuditEntry {
    /// Place the entry in the chain after `prev_hash` as number `seq`.
    pub fn seal(&self, seq: u64, prev_hash: &str) -> AuditRecord {
        let mut record = AuditRecord {
            seq,
            at: crate::engine::clock::rfc3339(self.at_unix_ms),
            user: self.user.clone(),
            role: self.role.clone(),
            session: self.session.clone(),
            source: self.source.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            params_digest: self.params_digest.clone(),
            outcome: self.outcome,
            error_code: self.error_code.clone(),
            message: self.message.clone(),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        record.hash = record_hash(prev_hash, &record);
        record
    }
}
