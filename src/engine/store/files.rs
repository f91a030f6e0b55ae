//! The data dir holds tokens' hashes, the audit chain and the CA key: it is made 0700 and its
//! files kept 0600, and a dir or file others can read is reported at start.

use std::path::Path;

/// The store's files (SQLite keeps a WAL and a shared-memory file beside the database).
const STORE_FILES: [&str; 3] = ["plexus.db", "plexus.db-wal", "plexus.db-shm"];

/// Create `dir` (0700) if it is missing; warn when an existing one is open to others.
pub fn private_dir(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("data dir {}: {e}", dir.display()))?;
        }
        return Ok(());
    }
    warn_if_open(dir);
    Ok(())
}

/// Make the store's files 0600 (SQLite creates them with the process's umask).
pub fn private_files(dir: &Path) {
    #[cfg(unix)]
    for name in STORE_FILES {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.permissions().mode() & 0o077 != 0
        {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
    }
}

fn warn_if_open(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                eprintln!(
                    "plexus: warning: data dir {} has mode {mode:o}; others may read tokens' hashes and the audit log (chmod 700 {})",
                    dir.display(),
                    dir.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_new_data_dir_is_private_and_so_are_its_files() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let db = dir.join("plexus.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_files(&dir);
        let mode = std::fs::metadata(&db).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
