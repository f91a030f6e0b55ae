//! The audit log's head, kept outside the database: the last record's number and hash, with an
//! HMAC under a key that is not in the database either. Deleting the newest records (which
//! leaves a chain that verifies) then shows as a head that points past the end of the log.
//!
//! How far to trust it: the head catches anyone who can change the database but cannot also
//! rewrite `audit.head` with a valid MAC, i.e. who cannot read `audit.key`. Someone who can read
//! the key and write both files can still truncate and re-sign; keep the key elsewhere
//! (`PLEXUS_AUDIT_KEY=FILE`, e.g. a secret mount) to raise that bar.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// File names in the data dir.
pub const HEAD_FILE: &str = "audit.head";
pub const KEY_FILE: &str = "audit.key";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
    pub mac: String,
}

#[derive(Clone)]
pub struct HeadFile {
    path: PathBuf,
    key: [u8; 32],
}

fn mac_of(key: &[u8; 32], seq: u64, hash: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"plexus-audit-head-v1\0");
    m.update(&seq.to_be_bytes());
    m.update(hash.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

impl HeadFile {
    /// The head file of `dir`, its key from `key_file` (default `audit.key` in `dir`, made on
    /// first use).
    pub fn open(dir: &Path, key_file: Option<&Path>) -> Result<HeadFile, String> {
        let key_path = key_file.map_or_else(|| dir.join(KEY_FILE), Path::to_path_buf);
        let key = crate::engine::identity::keyfile::load_or_create_at(&key_path)
            .map_err(|e| format!("audit key: {e}"))?;
        Ok(HeadFile {
            path: dir.join(HEAD_FILE),
            key,
        })
    }

    /// Record `seq`/`hash` as the head unless the file already points further (another process
    /// on the same store appended after us).
    pub fn advance(&self, seq: u64, hash: &str) -> std::io::Result<()> {
        if let Ok(Some(current)) = self.read()
            && current.seq >= seq
        {
            return Ok(());
        }
        let head = Head {
            seq,
            hash: hash.to_string(),
            mac: mac_of(&self.key, seq, hash),
        };
        let temp = self.path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        use std::io::Write;
        let mut file = options.open(&temp)?;
        file.write_all(
            serde_json::to_string(&head)
                .expect("a head serialises")
                .as_bytes(),
        )?;
        file.sync_all()?;
        std::fs::rename(&temp, &self.path)
    }

    /// The head, if one was written; an error when it does not carry a valid MAC.
    pub fn read(&self) -> Result<Option<Head>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", self.path.display())),
        };
        let head: Head = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not an audit head: {e}", self.path.display()))?;
        if head.mac != mac_of(&self.key, head.seq, &head.hash) {
            return Err(format!(
                "{}: its MAC does not verify (the head was rewritten without the audit key)",
                self.path.display()
            ));
        }
        Ok(Some(head))
    }
}
