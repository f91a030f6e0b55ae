//! `:fl` opens the FL view; `:fl start [--rule R] [--attack A] [--byzantine F] [--rounds N]`
//! asks to start a run. Names parse with the same `FromStr` as `plexus fl run`.

use crate::api::fl_run::FlRunSpec;
use crate::tui::palette::Run;

pub const USAGE: &str = "[start [--rule R] [--attack A] [--byzantine F] [--rounds N]]";

pub fn parse(args: &[&str]) -> Result<Run, String> {
    match args {
        [] => Ok(Run::Fl),
        ["start", rest @ ..] => start(rest).map(|spec| Run::FlStart(Box::new(spec))),
        [other, ..] => Err(format!("unknown fl verb '{other}' (start)")),
    }
}

fn start(args: &[&str]) -> Result<FlRunSpec, String> {
    let mut spec = FlRunSpec::default();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: String| format!("{flag}: {e}");
        match *flag {
            "--rule" => spec.rule = value.parse().map_err(bad)?,
            "--attack" => spec.attack = value.parse().map_err(bad)?,
            "--byzantine" => {
                spec.byzantine = value
                    .parse()
                    .map_err(|_| bad(format!("'{value}' is not a number")))?
            }
            "--rounds" => {
                spec.rounds = value
                    .parse()
                    .map_err(|_| bad(format!("'{value}' is not a count")))?
            }
            other => {
                return Err(format!(
                    "unknown option '{other}' (--rule, --attack, --byzantine, --rounds)"
                ));
            }
        }
    }
    if spec.byzantine > 0.0 && spec.attack == crate::api::fl::Attack::None {
        spec.attack = crate::api::fl::Attack::SignFlip;
    }
    spec.validate()?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fl::{Attack, Rule};

    #[test]
    fn start_options_parse_and_bad_ones_name_the_flag() {
        let Ok(Run::FlStart(spec)) = parse(&[
            "start",
            "--rule",
            "krum",
            "--byzantine",
            "0.2",
            "--rounds",
            "40",
        ]) else {
            panic!("parses");
        };
        assert_eq!(spec.rule, Rule::Krum);
        assert_eq!(
            spec.attack,
            Attack::SignFlip,
            "a Byzantine share implies an attack"
        );
        assert_eq!(spec.rounds, 40);
        assert_eq!(parse(&[]), Ok(Run::Fl));
        let e = parse(&["start", "--rule", "avg"]).unwrap_err();
        assert!(e.starts_with("--rule: unknown Rule 'avg'"), "{e}");
        assert!(
            parse(&["start", "--rounds"])
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            parse(&["start", "--byzantine", "1.5"])
                .unwrap_err()
                .contains("byzantine")
        );
        assert!(parse(&["stop"]).is_err());
    }
}
