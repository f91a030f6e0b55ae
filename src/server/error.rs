//! Errors as HTTP: the same `ApiError` JSON everywhere, with a status that matches its code.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::{ApiError, ErrorCode};

/// An `ApiError` on its way out as a response (with its status, unless one is forced).
pub struct HttpError(pub ApiError, pub Option<StatusCode>);

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadInput => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Denied => StatusCode::FORBIDDEN,
        ErrorCode::Unauthenticated | ErrorCode::SessionExpired => StatusCode::UNAUTHORIZED,
        // The request was understood and allowed; the operation did not succeed.
        ErrorCode::Failed => StatusCode::CONFLICT,
        ErrorCode::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Conflict => StatusCode::CONFLICT,
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = self.1.unwrap_or_else(|| status_of(self.0.code));
        (status, Json(self.0)).into_response()
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e, None)
    }
}

impl From<JsonRejection> for HttpError {
    fn from(rejection: JsonRejection) -> Self {
        // serde's message names the field and the line/column that is wrong; a body over the
        // limit keeps its 413.
        let status = rejection.status();
        let forced = (status == StatusCode::PAYLOAD_TOO_LARGE).then_some(status);
        HttpError(
            ApiError::bad_input(format!("malformed request body: {}", rejection.body_text())),
            forced,
        )
    }
}

impl From<QueryRejection> for HttpError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_input(format!("malformed query string: {}", rejection.body_text())).into()
    }
}
