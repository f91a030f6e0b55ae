//! Every command and query from every face passes here: the gate admits it (authenticate →
//! authorize → rate-limit), it executes, and one audit record joins the same store batch as the
//! change it made, so both commit in one transaction and the reply waits for that commit.

use super::audit::{AuditEntry, digest_params};
use super::core::Core;
use super::effects::Effects;
use super::fleet::host::NeuronSpec;
use super::gate::{Gate, Principal};
use super::rollout::Push;
use super::store::{StoreOp, StoreReader};
use crate::api::Permission;
use crate::api::rollout::RolloutKind;
use crate::api::stress::Verdict;
use crate::api::{ApiError, AuditOutcome, Command, CommandReply, ErrorCode, Event, Millis, Query};

/// What the audit record says about who acted.
pub fn audit_entry(
    principal: Option<&Principal>,
    session: &str,
    command_name: &str,
    target: String,
    params_digest: String,
    result: Result<(), &ApiError>,
    at_unix_ms: i64,
) -> AuditEntry {
    let (outcome, error_code, message) = match result {
        Ok(()) => (AuditOutcome::Allowed, None, None),
        Err(e) => {
            let outcome = if e.code == ErrorCode::Denied {
                AuditOutcome::Denied
            } else {
                AuditOutcome::Failed
            };
            let code = serde_json::to_value(e.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string));
            (outcome, code, Some(e.message.clone()))
        }
    };
    AuditEntry {
        at_unix_ms,
        target: bounded_target(target),
        user: principal.map_or("-".into(), |p| p.user.clone()),
        role: principal.map_or("-".into(), |p| p.role.as_str().into()),
        session: session.to_string(),
        source: principal.map_or("-".into(), |p| p.source.clone()),
        action: command_name.to_string(),
        params_digest,
        outcome,
        error_code,
        message,
    }
}

/// The longest audit target kept whole; a longer one is cut and its SHA-256 appended, so two
/// long targets still differ in the log and a record cannot be made huge.
pub const AUDIT_TARGET_MAX: usize = 256;

fn bounded_target(target: String) -> String {
    if target.len() <= AUDIT_TARGET_MAX {
        return target;
    }
    use sha2::{Digest, Sha256};
    let mut cut = AUDIT_TARGET_MAX - 24;
    while !target.is_char_boundary(cut) {
        cut -= 1;
    }
    let hash = hex::encode(&Sha256::digest(target.as_bytes())[..8]);
    format!("{}…#{hash}", &target[..cut])
}

/// Admit, execute and audit one command; the returned effects carry the audit record.
pub fn command(
    core: &mut Core,
    gate: &mut Gate,
    reader: &dyn StoreReader,
    session: &str,
    command: Command,
    now: Millis,
    fx: &mut Effects,
) -> Result<CommandReply, ApiError> {
    let wall = fx.wall(now);
    let action = command.action();
    let digest = digest_params(&command);
    let (name, target) = (command.name(), command.target());
    let (principal, result) = match gate.admit(session, action, wall) {
        Err((principal, denial)) => (principal, Err(denial)),
        Ok(principal) => {
            if gate.is_limited(action) {
                fx.store(StoreOp::RateAdmitted {
                    user: principal.user.clone(),
                    action: action.as_str(),
                    at: wall,
                });
            }
            // Nonsense is refused before anything acts on it (and audited as such).
            let result = command
                .check()
                .and_then(|()| execute(core, gate, reader, &principal.user, command, now, fx));
            // Events a command raised count for the event rules like a tick's.
            core.alerts.note_events(&fx.events, wall);
            (Some(principal), result)
        }
    };
    fx.store(StoreOp::Audit(audit_entry(
        principal.as_ref(),
        session,
        name,
        target,
        digest,
        result.as_ref().map(|_| ()),
        wall,
    )));
    result
}

fn execute(
    core: &mut Core,
    gate: &mut Gate,
    reader: &dyn StoreReader,
    by: &str,
    command: Command,
    now: Millis,
    fx: &mut Effects,
) -> Result<CommandReply, ApiError> {
    let wall = fx.wall(now);
    match command {
        Command::Recover { neuron } => {
            let (attempt, strategy) = core.recover(&neuron, now, fx)?;
            let idx = core.find(&neuron)?;
            Ok(CommandReply::RecoveryStarted {
                attempt_id: core.recovery.active_attempt_id(idx).unwrap_or_default(),
                neuron,
                attempt,
                strategy: strategy.into(),
            })
        }
        Command::InjectFault { neuron, fault } => {
            let text = fault.to_string();
            core.inject(&neuron, fault, now, fx)?;
            Ok(CommandReply::FaultInjected {
                neuron,
                fault: text,
            })
        }
        Command::ClearFaults { neuron } => {
            core.clear_faults(&neuron, now, fx)?;
            Ok(CommandReply::FaultsCleared { neuron })
        }
        Command::AddUser { name, role } => {
            let user = gate.add_user(&name, role, wall, &mut fx.store)?;
            Ok(CommandReply::UserAdded { user })
        }
        Command::IssueToken { name } => {
            let token = gate.issue_token(&name, &mut fx.store)?;
            Ok(CommandReply::TokenIssued { name, token })
        }
        Command::InviteAgent { neuron, ttl_ms } => {
            let (invite, expires_at) = gate.invite(&neuron, ttl_ms, wall, &mut fx.store);
            Ok(CommandReply::AgentInvited {
                neuron,
                invite,
                expires: crate::engine::clock::rfc3339(expires_at),
            })
        }
        Command::ForgetNeuron { neuron } => {
            core.forget_agent(&neuron, now, fx)?;
            Ok(CommandReply::NeuronForgotten { neuron })
        }
        Command::RevokeToken { name } => {
            let sessions_ended = gate.revoke_token(&name, &mut fx.store)?;
            Ok(CommandReply::UserChanged {
                name,
                change: "token revoked".into(),
                sessions_ended,
            })
        }
        Command::RemoveUser { name } => {
            let sessions_ended = gate.remove_user(&name, &mut fx.store)?;
            Ok(CommandReply::UserChanged {
                name,
                change: "removed".into(),
                sessions_ended,
            })
        }
        Command::SetRole { name, role } => {
            let sessions_ended = gate.set_role(&name, role, &mut fx.store)?;
            Ok(CommandReply::UserChanged {
                name,
                change: format!("role is now {role}"),
                sessions_ended,
            })
        }
        Command::ExportAudit { filter, .. } => Ok(CommandReply::AuditExported {
            records: reader.audit(&filter).map_err(audit_unreadable)?,
        }),
        Command::ChaosInject { spec } => Ok(CommandReply::ChaosInjected {
            fault: core.chaos_inject(spec, now, fx)?,
        }),
        Command::ChaosStop { id } => Ok(CommandReply::ChaosStopped {
            fault: core.chaos_stop(&id, now, fx)?,
        }),
        Command::StressStart { test_id, .. } => {
            if test_id.trim().is_empty() {
                return Err(ApiError::bad_input("the stress test id is empty"));
            }
            core.stress_running.insert(test_id.clone());
            Ok(CommandReply::StressAdmitted { test_id })
        }
        Command::StressStop { test_id } => Ok(CommandReply::StressStopping { test_id }),
        Command::StressFinished { test_id, verdicts } => {
            let breached: Vec<_> = verdicts.into_iter().filter(|v| !v.passed).collect();
            for v in &breached {
                fx.event(Event::StressThresholdBreached {
                    test_id: test_id.clone(),
                    threshold: v.threshold.clone(),
                    detail: breach_detail(v),
                });
            }
            // The test's mock neurons leave the fleet with it (once no other test uses them).
            core.stress_running.remove(&test_id);
            let mocks_removed = if core.stress_running.is_empty() {
                core.remove_mock_neurons(fx)
            } else {
                0
            };
            Ok(CommandReply::StressRecorded {
                test_id,
                breached: breached.len(),
                mocks_removed,
            })
        }
        Command::TestCleanup => Ok(CommandReply::CleanedUp {
            neurons: core.remove_mock_neurons(fx),
        }),
        Command::BroadcastConfig {
            config,
            selector,
            expected_version,
            dry_run,
            plan,
        } => {
            let push = Push {
                kind: RolloutKind::Config,
                config: *config,
                selector,
                expected: expected_version,
                dry_run,
                plan,
                experiment_ms: None,
                back_to: None,
            };
            start_rollout(core, push, by, now, fx)
        }
        Command::BroadcastExperiment {
            experiment,
            expected_version,
            dry_run,
        } => {
            let push = core
                .rollouts
                .experiment_push(&experiment, expected_version, dry_run)?;
            start_rollout(core, push, by, now, fx)
        }
        Command::Rollback { to } => {
            let rollout = core.rollouts.rollback(to, by, &core.registry, now, fx)?;
            core.send_downlink(now, fx);
            Ok(CommandReply::RolloutStarted {
                rollout,
                dry_run: false,
            })
        }
        Command::AlertAck { fingerprint } => Ok(CommandReply::AlertAcked {
            alert: Box::new(core.alerts.ack(&fingerprint, by, wall, fx)?),
        }),
        Command::SilenceCreate {
            matchers,
            duration_ms,
            comment,
        } => Ok(CommandReply::SilenceCreated {
            silence: core
                .alerts
                .silence(matchers, duration_ms, by, comment, wall, fx)?,
        }),
        Command::SilenceExpire { id } => Ok(CommandReply::SilenceExpired {
            silence: core.alerts.expire(&id, wall, fx)?,
        }),
        Command::FlStart { config } => Ok(CommandReply::FlStarted {
            run: Box::new(core.fl_start(config, by, now)?),
        }),
        Command::FlStop { id } => {
            core.fl_stop(&id)?;
            Ok(CommandReply::FlStopping { id })
        }
        Command::FlUpdate { id, update } => {
            let round = core.fl_runs.queue_update(&id, update)?;
            Ok(CommandReply::FlUpdateQueued { id, round })
        }
    }
}

fn start_rollout(
    core: &mut Core,
    push: Push,
    by: &str,
    now: Millis,
    fx: &mut Effects,
) -> Result<CommandReply, ApiError> {
    let dry_run = push.dry_run;
    let rollout = core.rollouts.start(push, by, &core.registry, now, fx)?;
    core.send_downlink(now, fx);
    Ok(CommandReply::RolloutStarted { rollout, dry_run })
}

/// A query is admitted like a command; only refusals are audited (reads at console refresh
/// rates would drown the log).
pub fn admit_query(
    gate: &mut Gate,
    session: &str,
    query: &Query,
    wall: i64,
    fx: &mut Effects,
) -> Result<(), ApiError> {
    match gate.admit(session, query.action(), wall) {
        Ok(_) => query.check(),
        Err((principal, denial)) => {
            fx.store(StoreOp::Audit(audit_entry(
                principal.as_ref(),
                session,
                query.action().as_str(),
                query.name().to_string(),
                digest_params(query),
                Err(&denial),
                wall,
            )));
            Err(denial)
        }
    }
}

/// An invited agent's principal acts for its own id alone (Kubernetes' NodeRestriction).
pub fn acts_for(principal: &Principal, neuron: &str) -> Result<(), ApiError> {
    match &principal.agent_of {
        Some(own) if own != neuron => Err(ApiError::new(
            ErrorCode::Denied,
            format!("agent '{own}' may register and report only as itself, not as '{neuron}'"),
        )),
        _ => Ok(()),
    }
}

/// An agent joins: admitted like a command (neuron.register) and audited.
pub fn register_agent(
    core: &mut Core,
    gate: &mut Gate,
    session: &str,
    spec: NeuronSpec,
    proof: Option<crate::api::wire::RegistrationProof>,
    now: Millis,
    fx: &mut Effects,
) -> Result<(), ApiError> {
    let wall = fx.wall(now);
    let digest = digest_params(&(&spec.id, &spec.zone, &spec.labels));
    let target = spec.id.clone();
    let (principal, result) = match gate.admit(session, Permission::NeuronRegister, wall) {
        Err((principal, denial)) => (principal, Err(denial)),
        Ok(principal) => {
            let result = acts_for(&principal, &spec.id)
                .and_then(|()| gate.admit_registration(&principal.user, wall))
                .and_then(|()| check_registration(&spec))
                .and_then(|()| {
                    core.register_agent(spec, proof.as_ref(), now, fx)
                        .map(|_| ())
                });
            (Some(principal), result)
        }
    };
    fx.store(StoreOp::Audit(audit_entry(
        principal.as_ref(),
        session,
        "neuron.register",
        target,
        digest,
        result.as_ref().map(|_| ()),
        wall,
    )));
    result
}

/// What an agent says of itself becomes ids, labels and rows on screens: no control characters,
/// bounded sizes.
fn check_registration(spec: &NeuronSpec) -> Result<(), ApiError> {
    use crate::api::bounds::{MAX_ITEMS, count, id};
    id("zone", &spec.zone)?;
    id("config_version", &spec.config_version)?;
    count("labels", spec.labels.len() as u64, 0, MAX_ITEMS as u64)?;
    for (i, (k, v)) in spec.labels.iter().enumerate() {
        id(&format!("labels[{i}].key"), k)?;
        id(&format!("labels[{i}].value"), v)?;
    }
    Ok(())
}

/// `p95 < 250ms` breached: what was seen, and where.
fn breach_detail(v: &Verdict) -> String {
    let observed = v.observed.map_or("-".to_string(), |o| format!("{o:.3}"));
    format!("{} observed {observed} ({})", v.threshold, v.scope)
}

/// The audit log could not be read: said as a failure of the store, naming it.
pub fn audit_unreadable(e: super::store::StoreError) -> ApiError {
    ApiError::failed(e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_audit_target_is_cut_and_hashed() {
        let long = "x".repeat(10_000);
        let a = super::bounded_target(long.clone());
        let b = super::bounded_target(format!("{long}y"));
        assert!(a.len() <= super::AUDIT_TARGET_MAX + 4, "{}", a.len());
        assert!(a.contains("…#"));
        assert_ne!(a, b, "different targets stay different");
        assert_eq!(super::bounded_target("n-0001".into()), "n-0001");
    }
}
