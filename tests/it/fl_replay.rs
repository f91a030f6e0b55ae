//! `plexus fl replay`: golden output on a captured round, and malformed files → exit 2 with the
//! file, line/column and field in the message. `fl run --capture` writes files replay accepts.

use std::path::Path;
use std::process::Command;

fn plexus(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const ROUND: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fl_round.json");

#[test]
fn replay_krum_matches_the_golden_file() {
    let (code, stdout, stderr) = plexus(&[
        "fl",
        "replay",
        ROUND,
        "--rule",
        "multi-krum",
        "--f",
        "1",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fl_replay_multi_krum.golden.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, stdout.replace(ROUND, "__ROUND__")).expect("write golden");
    }
    let expected =
        std::fs::read_to_string(&golden).expect("golden file (UPDATE_GOLDEN=1 to create)");
    assert_eq!(stdout.replace(ROUND, "__ROUND__"), expected);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["report"]["excluded"], serde_json::json!(["n-0005"]));
}

#[test]
fn replay_median_ignores_the_outlier() {
    let (code, stdout, _) = plexus(&["fl", "replay", ROUND, "--rule", "median", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let w: Vec<f64> = serde_json::from_value(v["weights"].clone()).expect("weights");
    assert!(
        (w[0] - 0.10).abs() < 1e-6 && (w[1] - 0.20).abs() < 1e-6 && (w[2] - 0.30).abs() < 1e-6,
        "{w:?}"
    );
    assert_eq!(v["report"]["down_weighted"], serde_json::json!(["n-0005"]));
}

#[test]
fn a_malformed_file_exits_2_naming_file_position_and_field() {
    let bad = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fl_bad_field.json"
    );
    let (code, _, stderr) = plexus(&["fl", "replay", bad, "--rule", "krum", "--json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fl_bad_field.json:2:"), "{stderr}");
    assert!(stderr.contains("invalid type: string \"oops\""), "{stderr}");

    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing_field.json");
    std::fs::write(
        &missing,
        r#"{"updates":[{"neuron":"n-0001","weights":[1.0]}]}"#,
    )
    .expect("write");
    let (code, _, stderr) = plexus(&[
        "fl",
        "replay",
        missing.to_str().expect("utf8"),
        "--rule",
        "mean",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("missing_field.json:1:") && stderr.contains("missing field `examples`"),
        "{stderr}"
    );

    let (code, _, stderr) = plexus(&["fl", "replay", "/nonexistent/round.json", "--rule", "mean"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/round.json"), "{stderr}");
}

#[test]
fn run_captures_rounds_that_replay_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf8");
    let (code, stdout, stderr) = plexus(&[
        "fl",
        "run",
        "--rounds",
        "2",
        "--neurons",
        "8",
        "--byzantine",
        "0.25",
        "--attack",
        "sign-flip",
        "--rule",
        "median",
        "--dataset",
        "breast-cancer",
        "--capture",
        d,
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["rounds"].as_array().map(Vec::len), Some(2));
    for key in ["round", "loss", "accuracy", "excluded"] {
        assert!(v["rounds"][0].get(key).is_some(), "{key}");
    }
    assert!(v.get("final_accuracy").is_some() && v.get("converged_round").is_some());
    let file = dir.path().join("round-0002.json");
    let (code, stdout, stderr) = plexus(&[
        "fl",
        "replay",
        file.to_str().expect("utf8"),
        "--rule",
        "krum",
        "--f",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"excluded\""));
}

#[test]
fn fedavg_under_sign_flip_diverges_with_exit_1() {
    let (code, _, _) = plexus(&[
        "fl",
        "run",
        "--rounds",
        "10",
        "--neurons",
        "10",
        "--byzantine",
        "0.3",
        "--attack",
        "sign-flip",
        "--json",
    ]);
    assert_eq!(code, 1);
}
