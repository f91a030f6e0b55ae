//! Chaos state survives the engine: a fault still held when the engine stops is reverted at the
//! next start (nothing stays applied forever) and the record says so; fault ids carry on.

use crate::support;

use plexus::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Selector};
use plexus::api::{Command, CommandReply, ask};
use plexus::client::Backend;
use plexus::client::BackendExt;

fn held(kind: ChaosKind, target: &str) -> Command {
    Command::ChaosInject {
        spec: ChaosSpec {
            kind,
            target: Selector::parse(target).unwrap(),
            duration_ms: None,
            params: ChaosParams::default(),
        },
    }
}

async fn faults(admin: &dyn Backend) -> Vec<plexus::api::chaos::ChaosFaultView> {
    admin.ask(ask::chaos()).await.unwrap()
}

#[tokio::test]
async fn a_fault_held_across_a_restart_is_reverted_at_start_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = support::engine(dir.path(), 6);
        let admin = support::session(&engine, support::ADMIN).await;
        engine.advance(3_000).await.unwrap();
        let reply = admin
            .submit(held(ChaosKind::Partition, "n-0002"))
            .await
            .unwrap();
        let CommandReply::ChaosInjected { fault } = reply else {
            panic!("{reply:?}");
        };
        assert_eq!(fault.id, "c-1");
        let reply = admin.submit(held(ChaosKind::Slow, "n-0003")).await.unwrap();
        let CommandReply::ChaosInjected { fault } = reply else {
            panic!("{reply:?}");
        };
        // One of the two is stopped before the engine goes down: only the other is left over.
        admin
            .submit(Command::ChaosStop { id: fault.id })
            .await
            .unwrap();
        engine.advance(1_000).await.unwrap();
        engine.shutdown();
    }
    let engine = support::engine(dir.path(), 6);
    let admin = support::session(&engine, support::ADMIN).await;
    let list = faults(&admin).await;
    assert!(list.iter().all(|f| !f.active()), "{list:?}");
    let left = list
        .iter()
        .find(|f| f.id == "c-1")
        .expect("the held fault is listed");
    assert_eq!(left.reverted_by, "engine restart");
    assert_eq!(left.neurons, vec!["n-0002"]);
    assert!(
        list.iter().all(|f| f.id != "c-2"),
        "a stopped fault is not left over"
    );
    // The partition is gone: every neuron is heard from.
    engine.advance(5_000).await.unwrap();
    let status = admin.ask(ask::status()).await.unwrap();
    assert_eq!(status.neurons.healthy, 6);
    // Ids carry on rather than reuse c-1.
    let reply = admin.submit(held(ChaosKind::Hang, "n-0001")).await.unwrap();
    let CommandReply::ChaosInjected { fault } = reply else {
        panic!("{reply:?}");
    };
    assert_eq!(fault.id, "c-3");
}
