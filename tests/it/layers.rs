//! The layering rules of docs/ARCHITECTURE.md, checked on the sources: each top-level module
//! names only the modules its row allows, plus the exceptions the document names. A new import
//! across a layer fails here until the document (and this table) says why.

use std::path::Path;

/// Module → the modules it may name (besides itself), as in docs/ARCHITECTURE.md's table.
const ALLOWED: &[(&str, &[&str])] = &[
    ("api", &[]),
    ("markup", &[]),
    ("engine", &["api"]),
    ("neuron", &["api", "engine"]),
    ("client", &["api", "engine", "stress::service"]),
    ("stress", &["api", "client", "config", "markup"]),
    ("experiment", &["api", "client", "config"]),
    ("server", &["api", "engine", "client", "stress::service"]),
    ("config", &["api", "engine::alerts"]),
    // The console talks to a Backend: never the engine, the server or a neuron.
    (
        "tui",
        &["api", "client", "config", "stress", "experiment", "markup"],
    ),
    ("cli", &["*"]),
];

/// The exceptions docs/ARCHITECTURE.md names ("Exceptions").
const EXCEPTIONS: &[(&str, &str)] = &[
    ("engine", "neuron"),
    ("stress", "engine::fl"),
    ("stress", "neuron::identity"),
];

const MODULES: &[&str] = &[
    "api",
    "markup",
    "engine",
    "neuron",
    "client",
    "stress",
    "experiment",
    "server",
    "config",
    "tui",
    "cli",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::a::b` path in `text`, as "a::b" (or "a").
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        found.push(path.trim_end_matches(':').to_string());
    }
    found
}

fn allowed(module: &str, path: &str) -> bool {
    let top = path.split("::").next().unwrap_or_default();
    if top == module || !MODULES.contains(&top) {
        return true;
    }
    let rules = ALLOWED.iter().find(|(m, _)| *m == module).map(|(_, a)| *a);
    let permits =
        |rule: &str| rule == "*" || path == rule || path.starts_with(&format!("{rule}::"));
    rules.unwrap_or_default().iter().any(|r| permits(r))
        || EXCEPTIONS
            .iter()
            .any(|(m, rule)| *m == module && permits(rule))
}

#[test]
fn every_module_imports_only_what_its_layer_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut broken = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        // Test harnesses (the `testkit` feature) may reach anywhere.
        let name = relative.to_string_lossy();
        if !MODULES.contains(&module.as_str()) || name.ends_with("fixtures.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for path in crate_paths(&text) {
            if !allowed(&module, &path) {
                broken.push(format!("{name}: crate::{path}"));
            }
        }
    }
    broken.sort();
    broken.dedup();
    assert!(
        broken.is_empty(),
        "imports across layers:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_catches_a_console_that_reaches_into_the_engine() {
    assert!(!allowed("tui", "engine::gate::rbac"));
    assert!(allowed("tui", "api::rbac"));
    assert!(!allowed("api", "engine"));
    assert!(allowed("stress", "engine::fl::data"));
    assert!(!allowed("stress", "engine::core"));
}

#[test]
fn the_architecture_document_names_every_exception() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md"))
            .unwrap();
    for (module, path) in EXCEPTIONS {
        assert!(
            doc.contains(&format!("`{module}` → `{path}`")),
            "docs/ARCHITECTURE.md does not name the exception {module} → {path}"
        );
    }
}
