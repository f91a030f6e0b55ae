//! `plexus alerts` end to end (the real binary on virtual time): shapes, silences that persist
//! in the data dir, and bad input — matchers, durations, rules files — exiting 2 with the file,
//! line and key named.

use crate::support;

use std::path::Path;
use std::process::Command;

use plexus::api::ask;
use plexus::client::Backend;
use plexus::client::BackendExt;

fn plexus(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_plexus"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--virtual-time", "--seed", "7", "--neurons", "6"])
        .args(args)
        .env_remove("PLEXUS_DATA_DIR")
        .env("XDG_CONFIG_HOME", dir)
        .output()
        .expect("run plexus");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn alerts_list_silence_and_expire_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = plexus(dir.path(), &["alerts", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["groups"].is_array() && v["resolved"].is_array());

    let (code, out, err) = plexus(
        dir.path(),
        &[
            "alerts",
            "silence",
            "alertname=NeuronOffline",
            "zone=~eu-.*",
            "--for",
            "2h",
            "--comment",
            "maintenance",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"], "silence_created");
    let id = v["silence"]["id"].as_str().unwrap().to_string();
    assert_eq!(v["silence"]["matchers"][1]["op"], "=~");

    // The silence is durable: a later run on the same data dir lists it (virtual time starts
    // at the same instant, so it is still active).
    let (code, out, _) = plexus(dir.path(), &["alerts", "silences"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&id) && out.contains("alertname=NeuronOffline,zone=~eu-.*"),
        "{out}"
    );
    let (code, out, err) = plexus(dir.path(), &["alerts", "expire", &id]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("expired"), "{out}");
    let (_, out, _) = plexus(dir.path(), &["alerts", "silences"]);
    assert_eq!(out.trim(), "no silences");
}

#[test]
fn bad_alert_input_exits_2_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = plexus(dir.path(), &["alerts", "silence", "neuron", "--for", "1h"]);
    assert_eq!(code, 2);
    assert!(err.contains("no operator"), "{err}");
    let (code, _, err) = plexus(dir.path(), &["alerts", "silence", "a=b", "--for", "soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("--for"), "{err}");
    let (code, _, err) = plexus(dir.path(), &["alerts", "ack", "ffffffff"]);
    assert_eq!(code, 2);
    assert!(err.contains("no alert"), "{err}");
    let (code, _, _) = plexus(dir.path(), &["alerts", "expire", "s-99"]);
    assert_eq!(code, 2);

    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"Loud\"\ncondition = \"neuron_offline\"\nseverity = \"loud\"\n",
    )
    .unwrap();
    let (code, _, err) = plexus(
        dir.path(),
        &["--alert-rules", rules.to_str().unwrap(), "alerts"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("rules.toml:4") && err.contains("rule[0].severity"),
        "{err}"
    );
}

#[test]
fn a_headless_read_on_an_embedded_store_shows_its_alerts_as_stored_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // An engine on the data dir leaves a firing alert behind (a crash loop, no recovery).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fingerprint = runtime.block_on(async {
        let engine = support::engine_with(dir.path(), 6, |cfg| cfg.recovery.enabled = false);
        let admin = support::session(&engine, support::ADMIN).await;
        engine.advance(3_000).await.unwrap();
        admin
            .submit(plexus::api::Command::InjectFault {
                neuron: "n-0002".into(),
                fault: plexus::api::Fault::Crash { persistent: true },
            })
            .await
            .unwrap();
        engine.advance(30_000).await.unwrap();
        let report = admin.ask(ask::alerts()).await.unwrap();
        let alert = report.active().find(|a| a.rule == "NeuronOffline").unwrap();
        engine.shutdown();
        alert.fingerprint.clone()
    });
    // Twice: the first read must not have resolved it for the second (its own fleet is healthy).
    for _ in 0..2 {
        let (code, out, err) = plexus(dir.path(), &["alerts", "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let firing: Vec<&str> = v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["alerts"].as_array().unwrap())
            .filter(|a| a["state"] == "firing")
            .map(|a| a["fingerprint"].as_str().unwrap())
            .collect();
        assert_eq!(firing, [fingerprint.as_str()], "{out}");
        assert!(v["resolved"].as_array().unwrap().is_empty(), "{out}");
    }
    let (code, _, err) = plexus(dir.path(), &["alerts"]);
    assert_eq!(code, 0);
    assert!(err.contains("not re-evaluated"), "{err}");
}
