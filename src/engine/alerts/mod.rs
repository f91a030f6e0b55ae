//! Alerting: rules evaluated on engine time over what the engine observed, the
//! pending → firing → resolved lifecycle, inhibition, silences, acknowledgements, and grouped
//! notifications handed out as effects (delivered off the engine thread by [`notifier`]).
//! Everything that must survive a restart goes to the store through [`StoreOp`]s.

pub mod config;
pub mod fingerprint;
pub mod group;
pub mod inhibit;
pub mod notifier;
pub mod observe;
pub mod rules;
pub mod silence;

use std::collections::BTreeMap;

use self::config::AlertConfig;
use self::group::{Dispatcher, GroupLog, group_key, group_labels};
use self::observe::{EventMemory, Fleet, observe};
use self::silence::SilenceBook;
use super::effects::Effects;
use super::fleet::guard::HealthGuard;
use super::fleet::recovery::RecoveryBook;
use super::fleet::registry::Registry;
use super::store::StoreOp;
use crate::api::alert::{Alert, AlertGroup, AlertState, AlertsReport, Labels, Matcher, Silence};
use crate::api::{ApiError, Event, Millis};

/// What an earlier run left: alerts, silences and the notification log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredAlerts {
    pub alerts: Vec<Alert>,
    pub silences: Vec<Silence>,
    pub groups: Vec<GroupLog>,
}

pub struct AlertBook {
    pub cfg: AlertConfig,
    alerts: BTreeMap<String, Alert>,
    silences: SilenceBook,
    dispatcher: Dispatcher,
    events: EventMemory,
    next_eval: i64,
    next_push: i64,
}

impl AlertBook {
    pub fn new(cfg: AlertConfig, stored: StoredAlerts, wall: i64) -> Self {
        AlertBook {
            cfg,
            alerts: stored
                .alerts
                .into_iter()
                .map(|a| (a.fingerprint.clone(), a))
                .collect(),
            silences: SilenceBook::restore(stored.silences),
            dispatcher: Dispatcher::restore(stored.groups, wall),
            events: EventMemory::default(),
            next_eval: wall,
            next_push: wall,
        }
    }

    /// Remember events for the event rules (a command's; a tick notes its own).
    pub fn note_events(&mut self, events: &[Event], wall: i64) {
        self.events.note(events, wall);
    }

    /// One engine step: note this step's events; evaluate every `eval_ms`.
    pub fn tick(
        &mut self,
        now: Millis,
        registry: &Registry,
        guard: &HealthGuard,
        recovery: &RecoveryBook,
        fx: &mut Effects,
    ) {
        let wall = fx.wall(now);
        self.events.note(&fx.events, wall);
        if wall < self.next_eval || !self.cfg.evaluate {
            return;
        }
        self.next_eval = wall + self.cfg.eval_ms.max(1) as i64;
        let fleet = Fleet {
            registry,
            guard,
            recovery,
            now,
            wall,
        };
        self.evaluate(&fleet, fx);
    }

    fn evaluate(&mut self, fleet: &Fleet, fx: &mut Effects) {
        let wall = fleet.wall;
        let seen = observe(&self.cfg.rules, fleet, &self.events);
        let mut holding = BTreeMap::new();
        for inst in seen.instances {
            let rule = &self.cfg.rules[inst.rule];
            let mut labels = inst.labels;
            labels.extend(rule.labels.clone());
            labels.insert("alertname".into(), rule.name.clone());
            labels.insert("severity".into(), rule.severity.as_str().into());
            let fp = fingerprint::fingerprint(&labels);
            holding.insert(fp, (inst.rule, labels, inst.value, inst.since));
        }
        let mut changed = std::collections::BTreeSet::new();
        for (fp, (rule_idx, labels, value, since)) in &holding {
            let rule = &self.cfg.rules[*rule_idx];
            let summary = rules::render(&rule.summary, labels, value);
            let alert = self.alerts.entry(fp.clone()).or_insert_with(|| Alert {
                fingerprint: fp.clone(),
                rule: rule.name.clone(),
                labels: labels.clone(),
                annotations: Labels::new(),
                severity: rule.severity,
                state: AlertState::Resolved,
                active_since: wall,
                fired_at: None,
                resolved_at: None,
                acked_by: None,
                acked_at: None,
                silenced_by: Vec::new(),
                inhibited_by: None,
            });
            if alert.state == AlertState::Resolved {
                // A new incident: a fresh lifecycle and no acknowledgement carried over. Its
                // `for` counts from when the condition began, if the observation knows.
                alert.state = AlertState::Pending;
                alert.active_since = since.map_or(wall, |s| s.min(wall));
                alert.fired_at = None;
                alert.resolved_at = None;
                alert.acked_by = None;
                alert.acked_at = None;
                changed.insert(fp.clone());
            }
            if alert.state == AlertState::Pending && wall - alert.active_since >= rule.for_ms as i64
            {
                alert.state = AlertState::Firing;
                alert.fired_at = Some(wall);
                changed.insert(fp.clone());
            }
            alert.annotations.insert("summary".into(), summary);
        }
        let mut gone = Vec::new();
        for (fp, alert) in self.alerts.iter_mut() {
            if holding.contains_key(fp) || alert.state == AlertState::Resolved {
                continue;
            }
            // Not judged yet (a neuron registered but not heard from since a restart).
            if alert
                .labels
                .get("neuron")
                .is_some_and(|n| seen.unknown.contains(n))
            {
                continue;
            }
            if alert.state == AlertState::Firing {
                alert.state = AlertState::Resolved;
                alert.resolved_at = Some(wall);
                changed.insert(fp.clone());
            } else {
                gone.push(fp.clone());
            }
        }
        // Pending alerts were never stored or announced (see below): just forgotten.
        for fp in gone {
            self.alerts.remove(&fp);
        }
        inhibit::apply(&self.cfg.inhibit, &mut self.alerts);
        self.silences.prune(wall);
        for alert in self.alerts.values_mut() {
            self.silences.apply(alert, wall);
        }
        for fp in &changed {
            let alert = &self.alerts[fp];
            // Pending is not news: a lossy link makes neurons briefly suspect all the time. It
            // is neither announced nor stored (a restart restarts its `for`, as in Prometheus).
            if alert.state == AlertState::Pending {
                continue;
            }
            fx.event(Event::AlertChanged {
                fingerprint: fp.clone(),
                rule: alert.rule.clone(),
                severity: alert.severity,
                state: alert.state,
                summary: alert.summary().to_string(),
            });
            fx.store(StoreOp::AlertSaved(Box::new(alert.clone())));
        }
        let flush = self.dispatcher.flush(&self.cfg, &self.alerts, wall);
        for log in flush.logged {
            fx.store(StoreOp::AlertGroupLogged(log));
        }
        for key in flush.dropped {
            fx.store(StoreOp::AlertGroupDropped { key });
        }
        for n in &flush.notifications {
            fx.store(StoreOp::NotificationSent {
                group_key: n.group_key.clone(),
                status: n.status.clone(),
                alerts: n.alerts.len(),
                at: n.at,
            });
        }
        fx.notifications.extend(flush.notifications);
        if self.cfg.sinks.alertmanager.is_some() && (!changed.is_empty() || wall >= self.next_push)
        {
            self.next_push = wall + self.cfg.push_every_ms.max(1) as i64;
            fx.alert_push = Some(
                self.alerts
                    .values()
                    .filter(|a| a.state != AlertState::Pending && !a.muted())
                    .cloned()
                    .collect(),
            );
        }
        // Resolved alerts leave once notified and kept long enough.
        let kept = self.cfg.resolved_kept_ms as i64;
        let old: Vec<String> = self
            .alerts
            .values()
            .filter(|a| {
                a.state == AlertState::Resolved
                    && a.resolved_at.is_some_and(|at| wall - at >= kept)
                    && !self.dispatcher.holds(&a.fingerprint)
            })
            .map(|a| a.fingerprint.clone())
            .collect();
        for fp in old {
            self.alerts.remove(&fp);
            fx.store(StoreOp::AlertDeleted { fingerprint: fp });
        }
        let longest = self
            .cfg
            .rules
            .iter()
            .filter_map(|r| match &r.condition {
                rules::Condition::Event { hold_ms, .. } => Some(*hold_ms),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        self.events.prune(wall, longest);
    }

    pub fn ack(
        &mut self,
        fingerprint: &str,
        by: &str,
        wall: i64,
        fx: &mut Effects,
    ) -> Result<Alert, ApiError> {
        let alert = self.alerts.get_mut(fingerprint).ok_or_else(|| {
            ApiError::not_found(format!("no alert with fingerprint '{fingerprint}'"))
        })?;
        alert.acked_by = Some(by.into());
        alert.acked_at = Some(wall);
        fx.store(StoreOp::AlertSaved(Box::new(alert.clone())));
        fx.event(Event::AlertChanged {
            fingerprint: alert.fingerprint.clone(),
            rule: alert.rule.clone(),
            severity: alert.severity,
            state: alert.state,
            summary: format!("acknowledged by {by}"),
        });
        Ok(alert.clone())
    }

    /// A new silence; it applies from the next evaluation (at most `eval_ms` later).
    pub fn silence(
        &mut self,
        matchers: Vec<Matcher>,
        duration_ms: Millis,
        by: &str,
        comment: String,
        wall: i64,
        fx: &mut Effects,
    ) -> Result<Silence, ApiError> {
        let s = self
            .silences
            .create(matchers, duration_ms, by, comment, wall)?;
        fx.store(StoreOp::SilenceSaved(s.clone()));
        self.next_eval = self.next_eval.min(wall);
        Ok(s)
    }

    pub fn expire(&mut self, id: &str, wall: i64, fx: &mut Effects) -> Result<Silence, ApiError> {
        let s = self.silences.expire(id, wall)?;
        fx.store(StoreOp::SilenceSaved(s.clone()));
        self.next_eval = self.next_eval.min(wall);
        Ok(s)
    }

    pub fn silences(&self, wall: i64) -> Vec<Silence> {
        self.silences.current(wall)
    }

    pub fn get(&self, fingerprint: &str) -> Option<&Alert> {
        self.alerts.get(fingerprint)
    }

    /// Pending and firing alerts grouped as notifications are (most severe group first), and
    /// the resolved, newest first.
    pub fn report(&self) -> AlertsReport {
        let mut groups: BTreeMap<String, AlertGroup> = BTreeMap::new();
        let mut resolved = Vec::new();
        for alert in self.alerts.values() {
            if alert.state == AlertState::Resolved {
                resolved.push(alert.clone());
                continue;
            }
            let labels = group_labels(&self.cfg.group_by, &alert.labels);
            groups
                .entry(group_key(&labels))
                .or_insert_with(|| AlertGroup {
                    labels,
                    alerts: Vec::new(),
                })
                .alerts
                .push(alert.clone());
        }
        let mut groups: Vec<AlertGroup> = groups.into_values().collect();
        for g in &mut groups {
            g.alerts.sort_by(|a, b| {
                (a.state != AlertState::Firing, a.severity, &a.labels).cmp(&(
                    b.state != AlertState::Firing,
                    b.severity,
                    &b.labels,
                ))
            });
        }
        groups.sort_by_key(|g| g.alerts.iter().map(|a| a.severity).min());
        resolved.sort_by_key(|a| std::cmp::Reverse(a.resolved_at));
        AlertsReport { groups, resolved }
    }
}
