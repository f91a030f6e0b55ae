//! Every integration test in one binary (one link instead of one per file): each file is a
//! module, named as its file was. Run one with `cargo test --test it MODULE::` (e.g.
//! `cargo test --test it alerts_engine::a_zone`).

mod support;

mod agent_faults;
mod agent_push;
mod agent_serving;
mod agent_trust;
mod agents;
mod alerts_cli;
mod alerts_console;
mod alerts_durable;
mod alerts_engine;
mod alerts_http;
mod alerts_sinks;
mod audit;
mod boundary;
mod chaos_drills;
mod chaos_durable;
mod chaos_experiments;
mod cli;
mod console_ecosystem;
mod crash_safety;
mod detection;
mod fl_agents;
mod fl_cli;
mod fl_engine;
mod fl_replay;
mod fl_rules;
mod identity;
mod layers;
mod recovery;
mod remote;
mod rollout_doc_props;
mod rollouts;
mod rollouts_agents;
mod rollouts_cli;
mod rollouts_engine;
mod rollouts_http;
mod scale;
mod security;
mod server;
mod stress;
mod stress_view;
mod stress_ws;
mod tui_backend;
mod tui_chaos;
mod tui_e2e;
mod tui_files;
mod tui_fl;
mod tui_registry;
mod tui_safety;
mod tui_snapshots;
