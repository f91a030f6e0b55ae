//! `:broadcast FILE`: a config pushed to the whole fleet in waves, behind a dialog that wants the
//! federation's name typed first.

use crate::api::Command;
use crate::tui::chrome::{Button, Confirm, Outcome, Typed};
use crate::tui::screens::Ctx;

/// `:broadcast FILE`: a fleet-wide push; the dialog wants the federation name typed before it
/// arms.
pub fn ask_broadcast(ctx: &mut Ctx, file: String) -> Outcome {
    if ctx.read_only {
        ctx.error("broadcast: not available in a read-only session");
        return Outcome::redraw();
    }
    // Checked before the dialog opens: a bad document never reaches the confirm.
    let config = match crate::config::read_text(&file)
        .map_err(|e| format!("{file}: {e}"))
        .and_then(|text| {
            crate::api::rollout_doc::parse_config(&file, &text).map_err(|e| e.to_string())
        }) {
        Ok(config) => config,
        Err(e) => {
            ctx.error(format!("broadcast: {e}"));
            return Outcome::redraw();
        }
    };
    let touches = ctx.fleet.neurons.len();
    let federation = ctx.federation.to_string();
    ctx.ask(Confirm {
        title: "Broadcast config to the whole fleet".into(),
        question: format!(
            "Roll {file} (model {}) out to ALL {touches} neurons of {federation} in waves? Type the federation name to arm Confirm.",
            config.model
        ),
        confirm_label: "Broadcast",
        command: Command::BroadcastConfig {
            config: Box::new(config),
            selector: String::new(),
            expected_version: None,
            dry_run: false,
            plan: Default::default(),
        },
        focus: Button::Cancel,
        touches,
        then: None,
        typed: Some(Typed {
            expected: federation,
            input: tui_input::Input::default(),
        }),
    })
}
