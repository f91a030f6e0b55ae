//! A canned FL run for fake backends, snapshot tests and the demo: Multi-Krum on 10 neurons,
//! n-0003 under the byzantine fault and excluded each round, n-0007 crashed from round 5.

use crate::api::fl::{Attack, Rule};
use crate::api::fl_run::{
    ExcludedClient, FlRoundView, FlRunDetail, FlRunSpec, FlRunState, FlRunView,
};

/// (loss, accuracy) per round, as a real 12-round digits run printed them.
const CURVE: [(f64, f64); 12] = [
    (1.412, 0.712),
    (0.934, 0.826),
    (0.702, 0.861),
    (0.581, 0.883),
    (0.507, 0.894),
    (0.455, 0.903),
    (0.418, 0.911),
    (0.392, 0.914),
    (0.371, 0.919),
    (0.356, 0.922),
    (0.344, 0.925),
    (0.335, 0.926),
];

fn round(i: usize) -> FlRoundView {
    let (loss, accuracy) = CURVE[i];
    let crashed = i >= 4;
    FlRoundView {
        round: i as u32 + 1,
        loss,
        accuracy,
        learning_rate: 0.05,
        participants: if crashed { 9 } else { 10 },
        dropped: u32::from(crashed),
        excluded: vec![ExcludedClient {
            neuron: "n-0003".into(),
            score: Some(412.5 - i as f64 * 3.0),
        }],
        down_weighted: Vec::new(),
        byzantine_events: 0,
        update_norm: 1.0 / (i as f64 + 1.0),
        convergence: "training".into(),
    }
}

fn spec() -> FlRunSpec {
    FlRunSpec {
        rule: Rule::MultiKrum,
        attack: Attack::None,
        rounds: 20,
        f: Some(1),
        ..FlRunSpec::default()
    }
}

fn view(id: &str, done: usize) -> FlRunView {
    let last = round(done - 1);
    FlRunView {
        id: id.into(),
        state: FlRunState::Running,
        spec: spec(),
        started_by: "alice".into(),
        clients: 10,
        attackers: Vec::new(),
        round: done as u32,
        rounds: 20,
        loss: Some(last.loss),
        accuracy: Some(last.accuracy),
        learning_rate: Some(last.learning_rate),
        convergence: "training".into(),
        final_accuracy: None,
        converged_round: None,
        diverged: false,
        error: None,
    }
}

pub fn runs() -> Vec<FlRunView> {
    vec![view("fl-1", CURVE.len())]
}

pub fn detail(id: &str) -> FlRunDetail {
    FlRunDetail {
        run: view(id, CURVE.len()),
        history: (0..CURVE.len()).map(round).collect(),
    }
}
