//! The one API error type: an HTTP status and the contract's error body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sheepdog_model::{ErrorCode, EventError};

/// An error answer: status plus `{"error":{"code","message","field"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: EventError,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status, body: EventError::new(code, None, message) }
    }

    pub fn code(&self) -> ErrorCode {
        self.body.code
    }
}

impl From<EventError> for ApiError {
    fn from(body: EventError) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, body }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}
