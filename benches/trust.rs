//! What trust at the boundary costs: an agent's enrolment and handshake with the X25519 key
//! agreement (engine side and neuron side), checking one report's MAC, and the token check every
//! HTTP request now passes before its body is read (a revocation bites at the next request).
//! Run: `cargo bench --bench trust` (prints medians of 7 rounds).

use std::time::Instant;

use plexus::api::wire::{NeuronCommand, NeuronMessage};
use plexus::engine::identity::IdentityBook;
use plexus::engine::identity::ca::Ca;
use plexus::neuron::identity::Keyring;

const T0: i64 = 1_767_225_600_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// µs per operation over `n` runs of `f`, median of 7 rounds.
fn per_op(n: u32, mut f: impl FnMut(u32)) -> f64 {
    median(
        (0..7)
            .map(|round| {
                let t = Instant::now();
                (0..n).for_each(|i| f(round * n + i));
                t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
            })
            .collect(),
    )
}

fn enrolments(agree: bool) -> (f64, f64) {
    const N: u32 = 300;
    let mut book = IdentityBook::new(Ca::from_seed(1), 600_000);
    let mut requests: Vec<(u32, String, NeuronMessage, Keyring)> = (0..7 * N)
        .map(|i| {
            let id = format!("a-{i}");
            let mut secret = [0u8; 32];
            secret[..4].copy_from_slice(&i.to_be_bytes());
            let mut keys = if agree {
                Keyring::agreeing(&id, secret)
            } else {
                Keyring::new(&id, secret)
            };
            let message = keys.due(0, 1000).expect("enrols");
            (i, id, message, keys)
        })
        .collect();
    let mut replies: Vec<Option<NeuronCommand>> = vec![None; requests.len()];
    let engine = per_op(N, |i| {
        let (idx, id, message, _) = &requests[i as usize];
        book.open_enrolment(*idx);
        let NeuronMessage::Enroll(e) = message else {
            unreachable!()
        };
        let issued = book.enroll(*idx, id, e, T0, agree).expect("issued");
        replies[i as usize] = Some(issued.reply);
    });
    let neuron = per_op(N, |i| {
        let reply = replies[i as usize].take().expect("a reply");
        let keys = &mut requests[i as usize].3;
        keys.on_command(0, &reply);
        assert!(keys.has_session());
    });
    (engine, neuron)
}

fn reports() -> f64 {
    let mut book = IdentityBook::new(Ca::from_seed(1), 600_000);
    book.open_enrolment(0);
    let mut keys = Keyring::agreeing("a-0", [1; 32]);
    let Some(NeuronMessage::Enroll(e)) = keys.due(0, 1000) else {
        unreachable!()
    };
    let issued = book.enroll(0, "a-0", &e, T0, true).unwrap();
    keys.on_command(0, &issued.reply);
    let body = br#"{"message":{"type":"heartbeat","seq":42,"incarnation":1,"config_version":"v1","config":{"status":"applied"},"telemetry":{"requests_total":12345,"rps":36.0,"latency_p50_ms":12.5,"latency_p95_ms":54.0,"error_rate":0.001,"load":0.39}},"logs":[]}"#;
    let sealed: Vec<_> = (0..7 * 5000)
        .map(|_| keys.seal_report("a-0", body).unwrap())
        .collect();
    per_op(5000, |i| {
        let digest = plexus::api::identity::report_digest(body);
        book.check_report(0, "a-0", Some(&sealed[i as usize]), &digest, T0 + 1)
            .expect("verifies");
    })
}

fn token_checks() -> f64 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = plexus::engine::Engine::start(
            plexus::engine::EngineOptions {
                config: Default::default(),
                seed: 1,
                data_dir: None,
                virtual_time: true,
                virtual_epoch_unix_ms: None,
                security: Default::default(),
                first_admin: "bench".into(),
                ca_key: None,
            },
            Box::new(plexus::neuron::SimFleet::new(&plexus::neuron::SimConfig {
                neurons: 0,
                ..Default::default()
            })),
        )
        .unwrap();
        let admin = plexus::client::Embedded::connect(engine.clone(), "bench", "bench", false)
            .await
            .unwrap();
        use plexus::client::Backend;
        let token = match admin
            .submit(plexus::api::Command::IssueToken {
                name: "bench".into(),
            })
            .await
            .unwrap()
        {
            plexus::api::CommandReply::TokenIssued { token, .. } => token,
            other => panic!("{other:?}"),
        };
        engine.advance(10).await.unwrap();
        assert!(engine.token_valid(&token));
        per_op(20_000, |_| {
            std::hint::black_box(engine.token_valid(&token));
        })
    })
}

fn main() {
    let (engine_kx, neuron_kx) = enrolments(true);
    let (engine_plain, neuron_plain) = enrolments(false);
    println!(
        "enrolment, engine side: {engine_kx:.1} µs with X25519 (agents) vs {engine_plain:.1} µs handed key (in-process neurons)"
    );
    println!(
        "enrolment answer, neuron side: {neuron_kx:.1} µs with X25519 vs {neuron_plain:.1} µs"
    );
    println!(
        "report MAC check (SHA-256 of a 250-byte body + HMAC + replay window): {:.2} µs",
        reports()
    );
    println!(
        "token check per HTTP request (SHA-256 + set lookup): {:.3} µs",
        token_checks()
    );
}
