//! The CA secret on disk: 64 hex digits in `ca.key` in the data dir, made on first use with mode
//! 0600 (or a file given with `--ca-key`). A file readable by others is refused: whoever reads it
//! can issue credentials for any neuron.

use std::io::Write;
use std::path::Path;

use super::ca::Ca;

/// The CA key's file name in the data dir.
pub const CA_KEY_FILE: &str = "ca.key";

/// Read a CA secret from `path`.
pub fn load(path: &Path) -> Result<[u8; 32], String> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("CA key {shown}: cannot read: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("CA key {shown}: {e}"))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "CA key {shown}: mode {:o} lets others read it; chmod 600 {shown}",
                mode & 0o777
            ));
        }
    }
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret)
        .map_err(|_| format!("CA key {shown}: line 1: expected 64 hex digits"))?;
    Ok(secret)
}

/// The data dir's CA secret, made (random, 0600) when the dir is first used.
pub fn load_or_create(dir: &Path) -> Result<[u8; 32], String> {
    load_or_create_at(&dir.join(CA_KEY_FILE))
}

/// A 32-byte secret kept at `path`, made (random, 0600) when missing.
pub fn load_or_create_at(path: &Path) -> Result<[u8; 32], String> {
    let path = path.to_path_buf();
    if path.exists() {
        return load(&path);
    }
    let secret = Ca::generate().secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{}\n", hex::encode(secret)).as_bytes()));
    match written {
        Ok(()) => Ok(secret),
        // Another process on the same data dir made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load(&path),
        Err(e) => Err(format!("CA key {}: cannot write: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_dir_gets_a_private_random_key_that_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap(), first, "kept");
        let other = tempfile::tempdir().unwrap();
        assert_ne!(load_or_create(other.path()).unwrap(), first, "random");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join(CA_KEY_FILE);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = load(&path).unwrap_err();
            assert!(err.contains("lets others read it"), "{err}");
        }
    }
}
