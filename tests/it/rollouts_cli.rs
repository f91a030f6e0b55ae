//! The rollout commands of the real binary on virtual time: exit codes (0 committed, 1 aborted
//! or conflict, 2 bad document), JSON on stdout, state that carries over to the next command.

use std::path::Path;
use std::process::Command;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn plexus(dir: &Path, args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_plexus"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--virtual-time", "--seed", "7", "--neurons", "6"])
        .args(args)
        .env_remove("PLEXUS_DATA_DIR")
        .output()
        .expect("run plexus");
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const CONFIG: &str = "tests/fixtures/rollout_config.toml";

#[test]
fn a_broadcast_commits_and_the_next_command_sees_the_fleet_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = plexus(dir.path(), &["broadcast", "config", CONFIG, "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["summary"]["phase"], "committed");
    assert_eq!(v["summary"]["version"], "v2");
    let took = v["summary"]["took_ms"].as_u64().unwrap();
    assert!(took > 0, "{v}");
    // A later process restores it from the store, with how long it took (not 0 ms).
    let out = plexus(dir.path(), &["rollouts", "show", "1", "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(shown["summary"]["took_ms"], took, "{shown}");
    let out = plexus(dir.path(), &["rollouts", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["head"], "v2");
    assert_eq!(r["versions"][0]["neurons"], 6);
    // Pushing against a version that is gone is a conflict: exit 1, nothing applied.
    let out = plexus(
        dir.path(),
        &["broadcast", "config", CONFIG, "--expect", "v1"],
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("the fleet is on v2"), "{}", out.stderr);
    let out = plexus(dir.path(), &["rollback", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["summary"]["version"], "v1");
}

#[test]
fn a_nack_exits_1_and_a_bad_document_exits_2_naming_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let out = plexus(
        dir.path(),
        &[
            "--fault",
            "n-0004=config-failure",
            "broadcast",
            "config",
            CONFIG,
        ],
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("n-0004 voted NACK"), "{}", out.stdout);
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(CONFIG)
            .unwrap()
            .replace("0.01", "12"),
    )
    .unwrap();
    let out = plexus(dir.path(), &["broadcast", "config", bad.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("bad.toml:5: field `learning_rate`"),
        "{}",
        out.stderr
    );
    let out = plexus(dir.path(), &["rollouts", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        r["rollouts"].as_array().unwrap().len(),
        1,
        "the bad one never started"
    );
}

#[test]
fn an_experiment_runs_on_its_selection() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exp.toml");
    std::fs::write(
        &file,
        "name = \"b\"\nvariant = \"model-b\"\ntraffic_percent = 10\nselector = \"zone=eu-west\"\nduration = \"1h\"\n",
    )
    .unwrap();
    let out = plexus(
        dir.path(),
        &["broadcast", "experiment", file.to_str().unwrap(), "--json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["summary"]["phase"], "running");
    assert_eq!(v["summary"]["targets"], 2);
    assert_eq!(v["config"]["model"], "model-b");
    assert_eq!(v["config"]["experiment"]["traffic_percent"], 10);
}
