//! Request bodies as JSON, with refusals that name the field. serde reports a wrong value inside
//! an internally tagged enum (every `Command` and `Query`) without its path, because the variant's
//! content is buffered before it is read; so on a refusal we find the field ourselves: the value
//! whose removal changes the error is the one serde choked on. Only refused bodies pay for it, and
//! the search is bounded in depth and breadth.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::ApiError;

/// Keys that carry a variant's name: removing one always changes the error, so they are never
/// blamed for a wrong value beside them.
const TAGS: [&str; 6] = ["command", "query", "select", "status", "type", "kind"];
const MAX_DEPTH: usize = 12;
const MAX_KEYS: usize = 64;

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let error = match serde_json::from_slice::<T>(bytes) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let refuse = |path: &str, message: String| {
        ApiError::bad_input(if path.is_empty() {
            format!("malformed request body: {message}")
        } else {
            format!("malformed request body: {path}: {message}")
        })
    };
    if !error.is_data() {
        return Err(refuse("", error.to_string()));
    }
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return Err(refuse("", error.to_string()));
    };
    let message = strip_position(&error.to_string());
    Err(refuse(&blame::<T>(&value, &message).join("."), message))
}

/// serde_json appends "at line 1 column 57" to data errors: true of the text, not of the field.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn error_of<T: DeserializeOwned>(value: Value) -> Option<String> {
    serde_json::from_value::<T>(value)
        .err()
        .map(|e| strip_position(&e.to_string()))
}

/// The path to the value serde refused with `message`.
fn blame<T: DeserializeOwned>(root: &Value, message: &str) -> Vec<String> {
    // An unknown variant names its own value: find where it stands.
    if let Some(name) = message
        .strip_prefix("unknown variant `")
        .and_then(|rest| rest.split('`').next())
    {
        let mut path = Vec::new();
        if find_string(root, name, &mut path, 0) {
            return path;
        }
    }
    let mut path: Vec<String> = Vec::new();
    'descend: while path.len() < MAX_DEPTH {
        let Some(node) = at(root, &path) else { break };
        let children: Vec<String> = match node {
            Value::Object(map) if map.len() <= MAX_KEYS => map
                .keys()
                .filter(|k| !TAGS.contains(&k.as_str()))
                .cloned()
                .collect(),
            Value::Array(items) if items.len() <= MAX_KEYS => {
                (0..items.len()).map(|i| format!("[{i}]")).collect()
            }
            _ => break,
        };
        for child in children {
            let mut trial = root.clone();
            remove(&mut trial, &path, &child);
            if error_of::<T>(trial).as_deref() != Some(message) {
                path.push(child);
                continue 'descend;
            }
        }
        break;
    }
    // `weights.[3]` reads better as `weights[3]`.
    let mut out: Vec<String> = Vec::new();
    for step in path {
        match out.last_mut() {
            Some(last) if step.starts_with('[') => last.push_str(&step),
            _ => out.push(step),
        }
    }
    out
}

fn at<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(root, |node, step| match step.strip_prefix('[') {
            Some(index) => node.get(index.trim_end_matches(']').parse::<usize>().ok()?),
            None => node.get(step),
        })
}

fn remove(root: &mut Value, path: &[String], child: &str) {
    let mut node = root;
    for step in path {
        let next = match step.strip_prefix('[') {
            Some(index) => index
                .trim_end_matches(']')
                .parse::<usize>()
                .ok()
                .and_then(|i| node.get_mut(i)),
            None => node.get_mut(step),
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    match (node, child.strip_prefix('[')) {
        (Value::Array(items), Some(index)) => {
            if let Ok(i) = index.trim_end_matches(']').parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        (Value::Object(map), None) => {
            map.remove(child);
        }
        _ => {}
    }
}

fn find_string(node: &Value, wanted: &str, path: &mut Vec<String>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match node {
        Value::String(s) => s == wanted,
        Value::Object(map) => map.iter().any(|(k, v)| {
            path.push(k.clone());
            let found = find_string(v, wanted, path, depth + 1);
            if !found {
                path.pop();
            }
            found
        }),
        Value::Array(items) => items.iter().enumerate().any(|(i, v)| {
            path.push(format!("[{i}]"));
            let found = find_string(v, wanted, path, depth + 1);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Command, Query};

    fn refusal<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        parse::<T>(body.as_bytes()).unwrap_err().message
    }

    #[test]
    fn a_wrong_type_inside_a_tagged_command_names_its_field() {
        let m = refusal::<Command>(
            r#"{"command":"chaos_inject","spec":{"kind":"latency","target":{"select":"all"},
                "duration_ms":1000,"params":{"jitter_ms":"lots"}}}"#,
        );
        assert!(m.contains("spec.params.jitter_ms: invalid type"), "{m}");
        let m = refusal::<Command>(r#"{"command":"recover","neuron":5}"#);
        assert!(m.contains(": neuron: invalid type: integer"), "{m}");
        let m = refusal::<Query>(r#"{"query":"logs","id":"n-1","tail":-3}"#);
        assert!(m.contains(": tail: invalid value"), "{m}");
    }

    #[test]
    fn an_unknown_variant_and_broken_json_are_named_too() {
        let m = refusal::<Command>(r#"{"command":"meltdown"}"#);
        assert!(m.contains("command: unknown variant `meltdown`"), "{m}");
        let m = refusal::<Command>(r#"{"command":"recover","#);
        assert!(m.contains("line 1 column"), "{m}");
    }
}
