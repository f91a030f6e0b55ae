//! The command palette's commands, run against the app (`:audit`, `:recover`, `:stress`, …).

use super::{App, Effect, FlashKind, Outcome, View};
use crate::api::Command;
use crate::tui::actions::Action;
use crate::tui::palette::Run;
use crate::tui::screens::chaos::Chaos;
use crate::tui::screens::fl::Fl;
use crate::tui::screens::neurons;

impl App {
    /// Runs a palette command.
    pub(in crate::tui) fn run(&mut self, run: Run) -> Outcome {
        match run {
            Run::Neurons => self.on_action(Action::Show(View::Neurons)).or_redraw(),
            Run::Overview => self.on_action(Action::Show(View::Overview)).or_redraw(),
            Run::Audit(query) => {
                if let Some(refused) = self.refused(Action::Show(View::Audit)) {
                    self.set_flash(FlashKind::Error, refused);
                    return Outcome::redraw();
                }
                self.screens.audit.set_query(query);
                self.switch(View::Audit);
                Outcome::effect(Effect::Refresh)
            }
            Run::Rollouts => self.on_action(Action::Show(View::Rollouts)).or_redraw(),
            Run::Fl => match self.refused(Action::Show(View::Fl)) {
                Some(refused) => {
                    self.set_flash(FlashKind::Error, refused);
                    Outcome::redraw()
                }
                None => self.on_action(Action::Show(View::Fl)).or_redraw(),
            },
            Run::FlStart(spec) => {
                self.switch(View::Fl);
                self.act(|_, ctx| Fl::ask_start(ctx, *spec))
            }
            Run::Alerts => self.on_action(Action::Show(View::Alerts)).or_redraw(),
            Run::Silence(matchers, duration_ms) => {
                if let Some(refused) = self.refused(Action::SilenceAlert) {
                    self.set_flash(FlashKind::Error, refused);
                    return Outcome::redraw();
                }
                Outcome::effect(Effect::Submit(Command::SilenceCreate {
                    matchers,
                    duration_ms,
                    comment: "from the console".into(),
                }))
            }
            Run::Recover(id) => {
                if !self.neurons.iter().any(|n| *n.id == *id) {
                    self.set_flash(FlashKind::Error, format!("no neuron '{id}'"));
                    return Outcome::redraw();
                }
                self.act(|_, ctx| neurons::ask_recover(ctx, id))
            }
            Run::Broadcast(file) => self.act(|_, ctx| neurons::broadcast::ask_broadcast(ctx, file)),
            Run::Filter(text) => match self.set_filter(&text) {
                Ok(()) => Outcome::redraw(),
                Err(e) => {
                    self.set_flash(FlashKind::Error, e);
                    Outcome::redraw()
                }
            },
            Run::RenewSession => Outcome::effect(Effect::RenewSession),
            Run::Help => self.on_action(Action::Help),
            Run::Quit => Outcome::effect(Effect::Quit),
            Run::Stress(request) => {
                self.switch(View::Stress);
                self.act(|s, ctx| s.stress.run(ctx, request))
            }
            Run::Chaos(request) => {
                self.switch(View::Chaos);
                self.act(|s, ctx| Chaos::run(&mut s.chaos, ctx, request))
            }
        }
    }
}
