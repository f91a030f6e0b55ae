//! Neuron identities on a fake clock: every neuron enrols with the federation's CA, MACs its
//! heartbeats under a session, rotates its credential before expiry without a gap, and each
//! identity-failure mode is caught by verification alone.

use plexus::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Selector};
use plexus::api::identity::IdentityMode;
use plexus::api::{Event, FailureMode, Fault, Millis, NeuronState};
use plexus::engine::config::EngineConfig;
use plexus::engine::testkit::SimRun;

const TTL_MS: Millis = 30_000;

fn run(neurons: usize) -> SimRun {
    let mut cfg = EngineConfig {
        heartbeat_ms: 500,
        ..EngineConfig::default()
    };
    cfg.identity.credential_ttl_ms = TTL_MS;
    let mut run = SimRun::with_config(neurons, cfg, 11);
    run.run_for(5_000);
    run
}

fn identity_failure(target: &str, mode: IdentityMode) -> ChaosSpec {
    ChaosSpec {
        kind: ChaosKind::IdentityFailure,
        target: Selector::parse(target).unwrap(),
        duration_ms: None,
        params: ChaosParams {
            mode,
            ..ChaosParams::default()
        },
    }
}

/// The evidence of every identity failure detected on `neuron`.
fn identity_evidence(run: &SimRun, neuron: &str) -> Vec<String> {
    run.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::FailureDetected {
                neuron: n,
                mode: FailureMode::Identity,
                evidence,
            } if n == neuron => Some(evidence.clone()),
            _ => None,
        })
        .collect()
}

fn healthy(run: &SimRun) -> u64 {
    run.core.registry.count(NeuronState::Healthy)
}

#[test]
fn every_neuron_enrols_and_its_heartbeats_verify() {
    let run = run(12);
    assert_eq!(healthy(&run), 12);
    let detail = run.core.detail("n-0007", run.now).unwrap();
    let identity = detail.identity.expect("enrolled");
    assert_eq!(identity.id, "plexus://federation/neuron/n-0007");
    assert!(identity.session);
    assert_eq!(identity.issued, 1);
    assert_eq!(identity.key_fingerprint.len(), 16);
    // Distinct keys per neuron.
    let other = run
        .core
        .detail("n-0008", run.now)
        .unwrap()
        .identity
        .unwrap();
    assert_ne!(identity.key_fingerprint, other.key_fingerprint);
}

#[test]
fn credentials_rotate_before_expiry_without_a_gap() {
    let mut run = run(12);
    run.take_events();
    let first = run
        .core
        .detail("n-0001", run.now)
        .unwrap()
        .identity
        .unwrap();
    // Four credential lifetimes: every neuron renews at 2/3 of each.
    run.run_for(4 * TTL_MS);
    let rotations = run.count(|e| matches!(e, Event::CredentialRotated { .. }));
    assert!(rotations >= 12 * 5, "{rotations} rotations");
    let changes = run.count(|e| matches!(e, Event::NeuronStateChanged { .. }));
    assert_eq!(changes, 0, "a rotation never interrupts a neuron");
    assert_eq!(healthy(&run), 12);
    let now = run
        .core
        .detail("n-0001", run.now)
        .unwrap()
        .identity
        .unwrap();
    assert!(now.serial > first.serial);
    assert_ne!(
        now.key_fingerprint, first.key_fingerprint,
        "a new key each time"
    );
    assert!(now.issued >= 6);
}

/// Inject one mode into n-0003, expect the verifier's reason, never healthy while it holds, and
/// a recovery once it is reverted.
fn drill(mode: IdentityMode, reason: &str, detect_within: Millis) {
    let mut run = run(12);
    let fault = run.chaos(identity_failure("n-0003", mode)).unwrap();
    let detected = run.run_until(detect_within, |r| {
        !identity_evidence(r, "n-0003").is_empty()
    });
    assert!(detected.is_some(), "{mode:?} not detected");
    let evidence = identity_evidence(&run, "n-0003");
    assert!(evidence[0].contains(reason), "{mode:?}: {evidence:?}");
    // Held for a while: the neuron stays refused, its neighbours untouched.
    let since = run.now;
    run.run_for(20_000);
    assert!(
        run.entered("n-0003", NeuronState::Healthy)
            .iter()
            .all(|at| *at < since),
        "{mode:?}: healthy while its identity was broken"
    );
    assert_ne!(run.state("n-0003"), NeuronState::Healthy);
    assert_eq!(healthy(&run), 11);
    for other in ["n-0001", "n-0002", "n-0004"] {
        assert!(identity_evidence(&run, other).is_empty());
    }
    run.chaos_stop(&fault.id).unwrap();
    let back = run.run_until(60_000, |r| r.state("n-0003") == NeuronState::Healthy);
    assert!(back.is_some(), "{mode:?}: not recovered after revert");
    assert_eq!(healthy(&run), 12);
}

#[test]
fn a_bad_signature_is_caught_by_the_mac() {
    drill(IdentityMode::BadSignature, "does not verify", 5_000);
}

#[test]
fn an_expired_credential_is_refused() {
    // It stops renewing: caught once its credential runs out, within one lifetime.
    drill(IdentityMode::Expired, "expired at", TTL_MS + 5_000);
}

#[test]
fn a_credential_from_an_unknown_ca_is_refused() {
    drill(IdentityMode::UnknownCa, "unknown CA", 5_000);
}

#[test]
fn a_neuron_with_a_forged_credential_never_becomes_healthy() {
    let mut cfg = EngineConfig {
        heartbeat_ms: 500,
        ..EngineConfig::default()
    };
    cfg.identity.credential_ttl_ms = TTL_MS;
    let mut run = SimRun::with_config(6, cfg, 3);
    // Broken before it ever enrolled: it presents only a self-issued credential.
    run.inject(
        "n-0002",
        Fault::Identity {
            mode: IdentityMode::UnknownCa,
        },
    );
    run.run_for(60_000);
    assert!(run.entered("n-0002", NeuronState::Healthy).is_empty());
    assert!(
        run.core
            .detail("n-0002", run.now)
            .unwrap()
            .identity
            .is_none()
    );
    assert_eq!(healthy(&run), 5);
}

#[test]
fn recovery_reissues_a_credential_the_neuron_can_no_longer_renew() {
    let mut run = run(6);
    let fault = run
        .chaos(identity_failure("n-0004", IdentityMode::Expired))
        .unwrap();
    run.run_until(TTL_MS + 5_000, |r| {
        !identity_evidence(r, "n-0004").is_empty()
    })
    .expect("detected");
    let before = run
        .core
        .detail("n-0004", run.now)
        .unwrap()
        .identity
        .unwrap();
    run.chaos_stop(&fault.id).unwrap();
    run.run_until(60_000, |r| r.state("n-0004") == NeuronState::Healthy)
        .expect("recovered");
    let after = run
        .core
        .detail("n-0004", run.now)
        .unwrap()
        .identity
        .unwrap();
    // Its credential had expired: only a fresh enrolment (opened by recovery) brings it back.
    assert!(after.serial > before.serial);
    assert!(
        run.count(|e| matches!(
            e,
            Event::RecoveryStarted { neuron, strategy, .. }
                if neuron == "n-0004" && strategy == "reissue-credential"
        )) >= 1
    );
}
