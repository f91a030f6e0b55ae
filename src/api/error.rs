//! Errors every face shows the same way, with a stable code that maps to an exit code.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The operation was attempted and failed (exit 1).
    Failed,
    /// Bad input or usage (exit 2).
    BadInput,
    /// No such neuron / object (exit 2: the input named something that does not exist).
    NotFound,
    /// Refused by the gate (exit 3).
    Denied,
    /// No credential, or one that matches nobody (exit 3; HTTP 401).
    Unauthenticated,
    /// The orchestrator could not be reached (exit 4).
    Unreachable,
    /// Someone else changed it first (a push that expected another version; exit 1).
    Conflict,
    /// The session idled past its timeout: open a new one (exit 3; HTTP 401).
    SessionExpired,
}

impl ErrorCode {
    /// The process exit code documented in README.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Failed => 1,
            ErrorCode::BadInput | ErrorCode::NotFound => 2,
            ErrorCode::Denied | ErrorCode::Unauthenticated | ErrorCode::SessionExpired => 3,
            ErrorCode::Unreachable => 4,
            ErrorCode::Conflict => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Failed, message)
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadInput, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unreachable, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    pub fn session_expired(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::SessionExpired, message)
    }
    pub fn unknown_neuron(id: &str) -> Self {
        Self::not_found(format!(
            "unknown neuron '{id}' (ids look like n-0001; `plexus neurons` lists them)"
        ))
    }
}
