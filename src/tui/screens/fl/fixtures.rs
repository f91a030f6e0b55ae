//! A real FL run for fake backends, snapshot tests and the demo: Multi-Krum (f = 1) on 10
//! neurons of digits, n-0003 attacking with sign-flip. The figures are the first 12 rounds of
//! the engine-owned run `{"rule":"multi-krum","f":1,"attack":"sign-flip","byzantine":0.1,
//! "rounds":20}` on the 10-neuron test fleet (seed 1), copied from its history.

use crate::api::fl::{Attack, FlRound, Rule};
use crate::api::fl_run::{FlRunDetail, FlRunSpec, FlRunState, FlRunView};

/// (loss, accuracy, participants, dropped, Krum score of n-0003, update norm) per round.
const ROUNDS: [(f64, f64, u32, u32, f64, f64); 12] = [
    (1.319, 0.903, 10, 0, 180.8, 0.904),
    (0.912, 0.928, 10, 0, 88.0, 0.584),
    (0.706, 0.928, 10, 0, 52.3, 0.420),
    (0.586, 0.928, 10, 0, 34.3, 0.325),
    (0.509, 0.928, 10, 0, 24.8, 0.265),
    (0.455, 0.928, 10, 0, 19.7, 0.223),
    (0.416, 0.936, 10, 0, 15.8, 0.193),
    (0.386, 0.936, 10, 0, 12.9, 0.173),
    (0.361, 0.936, 10, 0, 11.2, 0.156),
    (0.341, 0.936, 10, 0, 10.0, 0.141),
    (0.325, 0.939, 9, 1, 7.9, 0.138),
    (0.311, 0.939, 10, 0, 8.6, 0.121),
];

fn round(i: usize) -> FlRound {
    let (loss, accuracy, participants, dropped, score, update_norm) = ROUNDS[i];
    FlRound {
        round: i as u32 + 1,
        loss,
        accuracy,
        learning_rate: 0.05,
        participants,
        agents: 1,
        dropped,
        excluded: vec!["n-0003".into()],
        excluded_scores: vec![Some(score)],
        down_weighted: Vec::new(),
        byzantine_events: 0,
        update_norm,
        convergence: "training".into(),
        detection: Default::default(),
        model: Vec::new(),
    }
}

fn spec() -> FlRunSpec {
    FlRunSpec {
        rule: Rule::MultiKrum,
        attack: Attack::SignFlip,
        byzantine: 0.1,
        rounds: 20,
        f: Some(1),
        ..FlRunSpec::default()
    }
}

fn view(id: &str) -> FlRunView {
    let last = round(ROUNDS.len() - 1);
    FlRunView {
        id: id.into(),
        state: FlRunState::Running,
        spec: spec(),
        started_by: "alice".into(),
        clients: 10,
        attackers: vec!["n-0003".into()],
        agents: vec!["lab-1".into()],
        round: ROUNDS.len() as u32,
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
    vec![view("fl-1")]
}

pub fn detail(id: &str) -> FlRunDetail {
    FlRunDetail {
        run: view(id),
        history: (0..ROUNDS.len()).map(round).collect(),
        summary: None,
    }
}
