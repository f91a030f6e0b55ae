//! The RBAC matrix of README (The gate) as one exhaustive table. Deny by default: a new [`Permission`]
//! without a rule here does not compile, because the match has no wildcard.
//!
//! System-level actions (not in the matrix; decided here): stress tests, chaos
//! experiments (and fault drills) and test cleanup are allowed to Admin and Operator — the people
//! who run production exercises — and denied to Neuron Manager and Viewer. Agent registration
//! and reporting (neuron.register) is neuron management: Admin and Neuron Manager.

use super::security::{Permission, Role};

pub fn allowed(role: Role, action: Permission) -> bool {
    use Role::*;
    match action {
        // Neuron management: all view; admin, operator and neuron manager may update (recover).
        Permission::NeuronView => true,
        Permission::NeuronRecover => matches!(role, Admin | Operator | NeuronManager),
        // Agents joining and reporting: the neuron manager role is made to run neurons (give
        // agents a neuron-manager token, never an admin one).
        Permission::NeuronRegister => matches!(role, Admin | NeuronManager),
        // Config push: admin all, operator push, neuron manager and viewer view.
        Permission::ConfigView => true,
        Permission::ConfigPush => matches!(role, Admin | Operator),
        // Experiments: admin all, operator deploy, the others view.
        Permission::ExperimentView => true,
        Permission::ExperimentDeploy => matches!(role, Admin | Operator),
        // Audit: admin export (and view), operator and viewer view, neuron manager none.
        Permission::AuditView => matches!(role, Admin | Operator | Viewer),
        Permission::AuditExport => matches!(role, Admin),
        // System admin: admin only.
        Permission::UsersManage => matches!(role, Admin),
        // System-level actions (documented above).
        Permission::NeuronFault
        | Permission::StressRun
        | Permission::ChaosRun
        | Permission::TestCleanup => {
            matches!(role, Admin | Operator)
        }
        // Alerts (docs/alerts.md): acknowledging says "I am on it" — anyone who may recover
        // a neuron may say so; a silence hides alerts from everyone, so only the roles that
        // run production exercises (admin, operator) may create or expire one. Viewing alerts
        // is neuron.view.
        Permission::AlertAck => matches!(role, Admin | Operator | NeuronManager),
        Permission::AlertSilence => matches!(role, Admin | Operator),
    }
}

/// Why a role may not do an action, in words for the hint bar and error messages.
pub fn refusal(role: Role, action: Permission) -> String {
    let who: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| allowed(*r, action))
        .map(Role::as_str)
        .collect();
    format!(
        "role {role} may not {action} (allowed to: {})",
        who.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_matches_the_product_brief() {
        use Permission::*;
        let expect: [(Role, &[Permission]); 4] = [
            (Role::Admin, &Permission::ALL),
            (
                Role::Operator,
                &[
                    NeuronView,
                    NeuronRecover,
                    NeuronFault,
                    ConfigView,
                    ConfigPush,
                    ExperimentView,
                    ExperimentDeploy,
                    AuditView,
                    StressRun,
                    ChaosRun,
                    TestCleanup,
                    AlertAck,
                    AlertSilence,
                ],
            ),
            (
                Role::NeuronManager,
                &[
                    NeuronView,
                    NeuronRecover,
                    NeuronRegister,
                    ConfigView,
                    ExperimentView,
                    AlertAck,
                ],
            ),
            (
                Role::Viewer,
                &[NeuronView, ConfigView, ExperimentView, AuditView],
            ),
        ];
        for (role, allowed_actions) in expect {
            for action in Permission::ALL {
                assert_eq!(
                    allowed(role, action),
                    allowed_actions.contains(&action),
                    "{role} × {action}"
                );
            }
        }
    }

    #[test]
    fn a_refusal_names_who_may() {
        assert_eq!(
            refusal(Role::Viewer, Permission::ConfigPush),
            "role viewer may not config.push (allowed to: admin, operator)"
        );
    }
}
