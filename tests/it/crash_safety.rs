//! Crash safety: a child process issues commands as fast as it can and is killed with SIGKILL at
//! random moments, many times. Afterwards every command whose success was acknowledged has its
//! audit record (and its change), the database passes `PRAGMA integrity_check`, and the audit
//! chain verifies.

use crate::support;

use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plexus::api::{Command, Role};
use plexus::client::Backend;
use plexus::engine::audit::verify::verify;
use support::{ADMIN, engine_on, session};

const CHILD_DIR: &str = "PLEXUS_CRASH_CHILD_DIR";
const CHILD_ROUND: &str = "PLEXUS_CRASH_CHILD_ROUND";

/// The child: only does something when started by the parent test below.
#[tokio::test]
async fn crash_child_issues_commands_until_killed() {
    let (Ok(dir), Ok(round)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_ROUND)) else {
        return;
    };
    let engine = engine_on(std::path::Path::new(&dir), 0, false);
    let admin = session(&engine, ADMIN).await;
    let mut out = std::io::stdout();
    for i in 0.. {
        let name = format!("r{round}-u{i}");
        let reply = admin
            .submit(Command::AddUser {
                name: name.clone(),
                role: Role::Viewer,
            })
            .await;
        if reply.is_ok() {
            // Only now is the command acknowledged.
            let _ = writeln!(out, "ACK {name}");
            let _ = out.flush();
        }
    }
}

#[test]
fn acknowledged_commands_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261122);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..12 {
        let mut child = Process::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                &support::test_name(module_path!(), "crash_child_issues_commands_until_killed"),
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let sink = acked.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(name) = line.strip_prefix("ACK ") {
                    sink.lock().unwrap().push(name.to_string());
                }
            }
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(30..400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!("{} acknowledged commands", acked.len());
    assert!(
        acked.len() > 20,
        "the children got work done: {}",
        acked.len()
    );

    let conn = rusqlite::Connection::open(dir.path().join("plexus.db")).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let report = verify(&conn).unwrap();
    assert!(report.intact, "{report:?}");
    for name in &acked {
        let audited: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM audit WHERE action = 'users.add' AND target = ?1 AND outcome = 'allowed'",
                [name],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            audited, 1,
            "{name} was acknowledged but has no audit record"
        );
        let stored: i64 = conn
            .query_row("SELECT COUNT(*) FROM users WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(stored, 1, "{name} was acknowledged but not stored");
    }
}
