//! `plexus fl run` is an engine-owned run like any other: admitted by the gate, audited, visible
//! to every face of the same engine, and it works over `--connect`. Embedded, it runs on a
//! virtual clock one round at a time, so the same seed prints the same run.

use std::process::Command;

use plexus::api::fl_run::FlRunState;
use plexus::api::{Role, ask};
use plexus::client::BackendExt;

use crate::support::{self, ADMIN, session};

fn plexus(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plexus"));
    command.args(args).env_remove("PLEXUS_DATA_DIR");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const RUN: [&str; 7] = ["fl", "run", "--rounds", "3", "--neurons", "6", "--json"];

#[test]
fn an_embedded_run_is_audited_and_the_same_seed_prints_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let with_dir = |extra: &[&'static str]| {
        let mut args = vec!["--data-dir".to_string(), d.to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let plexus = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        plexus(&args, &[])
    };
    let (code, first, stderr) = plexus(with_dir(&RUN));
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&first).expect("json");
    assert_eq!(v["rounds"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["neurons"], 6);
    assert_eq!(v["rounds"][2]["convergence"], "training");
    let (_, second, _) = plexus(with_dir(&RUN));
    assert_eq!(first, second, "one seed, one run");
    let (code, audit, stderr) = plexus(with_dir(&["audit", "list", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let records: Vec<serde_json::Value> = serde_json::from_str(&audit).expect("json");
    let starts: Vec<_> = records
        .iter()
        .filter(|r| r["action"] == "fl.start")
        .collect();
    assert_eq!(starts.len(), 2, "{audit}");
    assert!(
        starts.iter().all(|r| r["outcome"] == "allowed"),
        "{starts:?}"
    );
    // Virtual engine time, real wall time: the audit log says when it happened.
    for r in &starts {
        let at = chrono::DateTime::parse_from_rfc3339(r["at"].as_str().unwrap()).unwrap();
        let off = (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_seconds();
        assert!((0..600).contains(&off), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_over_connect_trains_on_the_server_and_a_viewer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 6, false);
    let admin = session(&engine, ADMIN).await;
    let token = support::token(&admin, ADMIN).await;
    drop(support::user_with_role(&engine, "vic", Role::Viewer).await);
    let viewer_token = support::token(&admin, "vic").await;
    let (url, _handle) = support::serve(&engine);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let args: Vec<String> = [
        "--connect",
        url.as_str(),
        "fl",
        "run",
        "--rounds",
        "2",
        "--round-ms",
        "100",
        "--json",
    ]
    .map(String::from)
    .to_vec();
    let (code, out, stderr) = {
        let (args, token) = (args.clone(), token.clone());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            plexus(&args, &[("PLEXUS_TOKEN", &token)])
        })
        .await
        .unwrap()
    };
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["rounds"].as_array().map(Vec::len), Some(2));
    // The server's engine owns it: every face of it sees the run, finished, started by admin.
    let runs = admin.ask(ask::fl_runs()).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].state, FlRunState::Finished);
    assert_eq!(runs[0].started_by, ADMIN);
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        plexus(&args, &[("PLEXUS_TOKEN", &viewer_token)])
    })
    .await
    .unwrap();
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("may not"), "{stderr}");
    assert_eq!(admin.ask(ask::fl_runs()).await.unwrap().len(), 1);
}
