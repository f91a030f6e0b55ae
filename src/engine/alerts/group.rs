//! Grouping and notification timing after Alertmanager: alerts sharing the group-by labels go
//! out together; a new group waits `group_wait` to gather its alerts, later changes go out at
//! most every `group_interval`, and an unchanged firing group is re-sent every
//! `repeat_interval`. What each group was last told is durable (the notification log), so a
//! restarted engine does not send the same notification again.

use std::collections::{BTreeMap, BTreeSet};

use super::config::AlertConfig;
use crate::api::alert::{Alert, AlertState, Labels, Notification};

/// One group's notification log entry, as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupLog {
    pub key: String,
    pub labels: Labels,
    /// Fingerprints last notified as firing.
    pub notified: BTreeSet<String>,
    /// Wall ms of the last notification sent.
    pub last_sent: Option<i64>,
}

#[derive(Debug)]
struct Group {
    log: GroupLog,
    next_flush: i64,
}

/// What one flush decided: notifications to send and log entries to store or drop.
#[derive(Debug, Default)]
pub struct Flush {
    pub notifications: Vec<Notification>,
    pub logged: Vec<GroupLog>,
    pub dropped: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Dispatcher {
    groups: BTreeMap<String, Group>,
}

/// `{a="x",b="y"}` over the group-by labels.
pub fn group_labels(group_by: &[String], labels: &Labels) -> Labels {
    group_by
        .iter()
        .map(|name| (name.clone(), labels.get(name).cloned().unwrap_or_default()))
        .collect()
}

pub fn group_key(labels: &Labels) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", parts.join(","))
}

impl Dispatcher {
    /// Continue from the notification log; restored groups flush at once (sending only what
    /// changed while the engine was down).
    pub fn restore(logs: Vec<GroupLog>, wall: i64) -> Self {
        let groups = logs
            .into_iter()
            .map(|log| {
                (
                    log.key.clone(),
                    Group {
                        log,
                        next_flush: wall,
                    },
                )
            })
            .collect();
        Dispatcher { groups }
    }

    /// Whether some group still refers to this alert (a resolved alert is kept until its
    /// resolution was notified).
    pub fn holds(&self, fingerprint: &str) -> bool {
        self.groups
            .values()
            .any(|g| g.log.notified.contains(fingerprint))
    }

    pub fn flush(
        &mut self,
        cfg: &AlertConfig,
        alerts: &BTreeMap<String, Alert>,
        wall: i64,
    ) -> Flush {
        // Candidates per group: firing and not muted, or resolved after being notified firing.
        let mut members: BTreeMap<String, (Labels, Vec<&Alert>)> = BTreeMap::new();
        for alert in alerts.values() {
            let labels = group_labels(&cfg.group_by, &alert.labels);
            let key = group_key(&labels);
            let notified = self
                .groups
                .get(&key)
                .is_some_and(|g| g.log.notified.contains(&alert.fingerprint));
            let include = match alert.state {
                AlertState::Firing => !alert.muted(),
                AlertState::Resolved => notified,
                AlertState::Pending => false,
            };
            if include {
                members
                    .entry(key)
                    .or_insert_with(|| (labels, Vec::new()))
                    .1
                    .push(alert);
            }
        }
        for (key, (labels, list)) in &members {
            if list.iter().any(|a| a.state == AlertState::Firing) && !self.groups.contains_key(key)
            {
                self.groups.insert(
                    key.clone(),
                    Group {
                        log: GroupLog {
                            key: key.clone(),
                            labels: labels.clone(),
                            ..GroupLog::default()
                        },
                        next_flush: wall + cfg.group_wait_ms as i64,
                    },
                );
            }
        }
        let mut out = Flush::default();
        let keys: Vec<String> = self.groups.keys().cloned().collect();
        for key in keys {
            let group = self.groups.get_mut(&key).expect("listed");
            if wall < group.next_flush {
                continue;
            }
            group.next_flush = wall + cfg.group_interval_ms as i64;
            let payload: Vec<Alert> = members
                .get(&key)
                .map(|(_, l)| l.iter().map(|a| (*a).clone()).collect())
                .unwrap_or_default();
            let firing: BTreeSet<String> = payload
                .iter()
                .filter(|a| a.state == AlertState::Firing)
                .map(|a| a.fingerprint.clone())
                .collect();
            let changed = firing != group.log.notified
                || payload.iter().any(|a| a.state == AlertState::Resolved);
            let repeat = !firing.is_empty()
                && group
                    .log
                    .last_sent
                    .is_some_and(|at| wall - at >= cfg.repeat_interval_ms as i64);
            let send = !payload.is_empty() && (changed || repeat);
            if send {
                out.notifications.push(Notification {
                    group_key: key.clone(),
                    group_labels: group.log.labels.clone(),
                    status: if firing.is_empty() {
                        "resolved"
                    } else {
                        "firing"
                    }
                    .into(),
                    alerts: payload,
                    at: wall,
                });
                group.log.last_sent = Some(wall);
            }
            let log_changed = group.log.notified != firing || send;
            group.log.notified = firing;
            if group.log.notified.is_empty() {
                // Nothing left to tell this group about: it ends (a new one waits group_wait).
                out.dropped.push(key.clone());
                self.groups.remove(&key);
            } else if log_changed {
                out.logged.push(group.log.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::alert::Severity;

    fn firing(name: &str, neuron: &str) -> Alert {
        let mut labels = Labels::new();
        labels.insert("alertname".into(), name.into());
        labels.insert("neuron".into(), neuron.into());
        Alert {
            fingerprint: crate::engine::alerts::fingerprint::fingerprint(&labels),
            rule: name.into(),
            labels,
            annotations: Labels::new(),
            severity: Severity::Critical,
            state: AlertState::Firing,
            active_since: 0,
            fired_at: Some(0),
            resolved_at: None,
            acked_by: None,
            acked_at: None,
            silenced_by: Vec::new(),
            inhibited_by: None,
        }
    }

    fn map(alerts: &[Alert]) -> BTreeMap<String, Alert> {
        alerts
            .iter()
            .map(|a| (a.fingerprint.clone(), a.clone()))
            .collect()
    }

    /// Flush every second from `from` to `to` (inclusive); the times something was sent.
    fn run(
        d: &mut Dispatcher,
        cfg: &AlertConfig,
        alerts: &BTreeMap<String, Alert>,
        from: i64,
        to: i64,
    ) -> Vec<(i64, usize)> {
        (from..=to)
            .step_by(1000)
            .flat_map(|t| {
                d.flush(cfg, alerts, t)
                    .notifications
                    .into_iter()
                    .map(move |n| (t, n.alerts.len()))
            })
            .collect()
    }

    #[test]
    fn group_wait_then_group_interval_then_repeat_interval() {
        let cfg = AlertConfig::default();
        let mut d = Dispatcher::default();
        let one = map(&[firing("NeuronOffline", "n-1")]);
        // First notification after group_wait, then silence while nothing changes.
        assert_eq!(run(&mut d, &cfg, &one, 0, 600_000), [(30_000, 1)]);
        // A second alert joins: it goes out at the next group_interval tick, not at once.
        let two = map(&[
            firing("NeuronOffline", "n-1"),
            firing("NeuronOffline", "n-2"),
        ]);
        assert_eq!(run(&mut d, &cfg, &two, 601_000, 1_000_000), [(630_000, 2)]);
        // Unchanged: re-sent once repeat_interval (4 h) has passed, at a group_interval tick.
        let sent = run(
            &mut d,
            &cfg,
            &two,
            1_001_000,
            630_000 + 4 * 3_600_000 + 300_000,
        );
        assert_eq!(sent, [(630_000 + 4 * 3_600_000, 2)]);
    }

    #[test]
    fn a_resolution_is_notified_once_and_ends_the_group() {
        let cfg = AlertConfig::default();
        let mut d = Dispatcher::default();
        let mut alert = firing("NeuronOffline", "n-1");
        run(&mut d, &cfg, &map(std::slice::from_ref(&alert)), 0, 30_000);
        assert!(d.holds(&alert.fingerprint));
        alert.state = AlertState::Resolved;
        alert.resolved_at = Some(40_000);
        let resolved = map(&[alert.clone()]);
        let flushes: Vec<Flush> = (31..=700)
            .map(|s| d.flush(&cfg, &resolved, s * 1000))
            .collect();
        let sent: Vec<&Notification> = flushes.iter().flat_map(|f| &f.notifications).collect();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].status, "resolved");
        assert!(!d.holds(&alert.fingerprint));
        assert!(flushes.iter().any(|f| !f.dropped.is_empty()));
    }
}
