//! Property tests of the config parser: no input panics; every refused document names a field,
//! and when one field is wrong (missing, unknown, out of range, wrong type) it is that field.

use plexus::api::rollout_doc::parse_config;
use proptest::prelude::*;

/// A document's fields as (key, TOML/JSON literal).
fn valid_fields() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        "[a-z][a-z0-9-]{0,12}",
        1u32..=4096,
        1u32..=10_000,
        100u64..=60_000,
        1u32..=1000,
    )
        .prop_map(|(model, batch, conc, hb, lr)| {
            vec![
                ("model".into(), format!("\"{model}\"")),
                ("model_version".into(), "\"1.2.3\"".into()),
                ("batch_size".into(), batch.to_string()),
                ("learning_rate".into(), format!("{}", lr as f64 / 100.0)),
                ("heartbeat_interval_ms".into(), hb.to_string()),
                ("max_concurrency".into(), conc.to_string()),
            ]
        })
}

fn render(fields: &[(String, String)], json: bool) -> String {
    if json {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("  \"{k}\": {v}"))
            .collect();
        format!("{{\n{}\n}}\n", body.join(",\n"))
    } else {
        fields.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
    }
}

#[derive(Debug, Clone)]
enum Break {
    Missing(usize),
    Unknown(String),
    OutOfRange(usize, String),
    WrongType(usize),
}

fn breakage() -> impl Strategy<Value = Break> {
    prop_oneof![
        (0usize..6).prop_map(Break::Missing),
        "zz[a-z_]{1,10}".prop_map(Break::Unknown),
        prop_oneof![
            Just((2usize, "0")),
            Just((2, "4097")),
            Just((2, "-3")),
            Just((3, "0")),
            Just((3, "10.5")),
            Just((3, "-0.1")),
            Just((4, "99")),
            Just((4, "60001")),
            Just((5, "0")),
            Just((5, "10001")),
            Just((5, "99999999999")),
            Just((0, "\"  \"")),
        ]
        .prop_map(|(i, v)| Break::OutOfRange(i, v.to_string())),
        (0usize..6).prop_map(Break::WrongType),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_input_panics_and_every_refusal_names_a_field(text in "\\PC{0,200}", json in any::<bool>()) {
        let file = if json { "c.json" } else { "c.toml" };
        if let Err(e) = parse_config(file, &text) {
            prop_assert!(!e.field.is_empty());
            prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1, "{e}");
            prop_assert!(e.to_string().starts_with(file));
        }
    }

    #[test]
    fn valid_documents_parse_in_both_formats(fields in valid_fields(), json in any::<bool>()) {
        let file = if json { "c.json" } else { "c.toml" };
        let config = parse_config(file, &render(&fields, json));
        prop_assert!(config.is_ok(), "{:?}", config);
    }

    #[test]
    fn one_broken_field_is_the_field_named(
        mut fields in valid_fields(),
        broken in breakage(),
        json in any::<bool>(),
    ) {
        let file = if json { "c.json" } else { "c.toml" };
        let expected = match &broken {
            Break::Missing(i) => fields.remove(*i).0,
            Break::Unknown(key) => {
                fields.push((key.clone(), "1".into()));
                key.clone()
            }
            Break::OutOfRange(i, v) => {
                fields[*i].1 = v.clone();
                fields[*i].0.clone()
            }
            Break::WrongType(i) => {
                // Strings become numbers, numbers become strings.
                fields[*i].1 = if fields[*i].1.starts_with('"') { "7".into() } else { "\"seven\"".into() };
                fields[*i].0.clone()
            }
        };
        let text = render(&fields, json);
        let e = parse_config(file, &text).expect_err("a broken document is refused");
        prop_assert_eq!(&e.field, &expected, "{} in\n{}", e, text);
        if !matches!(broken, Break::Missing(_)) {
            let line = text.lines().nth(e.line - 1).unwrap_or_default();
            prop_assert!(line.contains(&expected), "line {} is '{}': {}", e.line, line, e);
        }
    }
}
