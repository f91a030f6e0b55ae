//! Errors as HTTP: the same `ApiError` JSON everywhere, with a status that matches its code.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::{ApiError, ErrorCode};

/// An `ApiError` on its way out as a response.
pub struct HttpError(pub ApiError);

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadInput => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Denied => StatusCode::FORBIDDEN,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        // The request was understood and allowed; the operation did not succeed.
        ErrorCode::Failed => StatusCode::CONFLICT,
        ErrorCode::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (status_of(self.0.code), Json(self.0)).into_response()
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e)
    }
}

impl From<JsonRejection> for HttpError {
    fn from(rejection: JsonRejection) -> Self {
        // serde's message names the field and the line/column that is wrong.
        HttpError(ApiError::bad_input(format!(
            "malformed request body: {}",
            rejection.body_text()
        )))
    }
}

impl From<QueryRejection> for HttpError {
    fn from(rejection: QueryRejection) -> Self {
        HttpError(ApiError::bad_input(format!(
            "malformed query string: {}",
            rejection.body_text()
        )))
    }
}

/// Paths of the original API whose feature has not been built yet: an honest 501.
pub fn not_built(feature: &str) -> HttpError {
    HttpError(ApiError::new(
        ErrorCode::Failed,
        format!("{feature} is not available in this version of Plexus"),
    ))
}
