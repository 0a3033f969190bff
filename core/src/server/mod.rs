//! `praxis serve`: one process owns the practice, and the whole team works at once.
//!
//! The server opens the store once, keeps the clinic world live
//! ([`PracticeService::open_live`]) and serves:
//!
//! - the JSON API under `/api/v1/` ([`api`]), described by the OpenAPI 3.1
//!   document at `/api/v1/openapi.json`, with errors as RFC 9457
//!   `application/problem+json`;
//! - the data folder's Unix socket ([`socket`]), through which the command
//!   line on the same machine runs its commands while the server runs.
//!
//! Nothing here decides who may do what or what a record may hold: handlers
//! parse, call one operation of the service, and render. Every service call
//! runs on tokio's blocking pool, since it may write to disk or call plugins.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use praxis_core::config::PracticeConfig;
//! use praxis_core::service::PracticeService;
//!
//! let config = PracticeConfig::load("clinic/praxis.toml".as_ref(), None)?;
//! let service = Arc::new(PracticeService::open_live(config)?);
//! let app = praxis_core::server::router(service, false);
//! let listener = tokio::net::TcpListener::bind(praxis_core::server::DEFAULT_LISTEN).await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod interop;
pub mod socket;
pub mod web;

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::{ErrorKind, PracticeService, ServiceError};

/// The address `praxis serve` listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// The name of the Unix socket in the data folder while a server runs.
pub const SOCKET_NAME: &str = "praxis.sock";

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The practice.
    pub service: Arc<PracticeService>,
    /// Whether the server speaks TLS (cookies are then `Secure`).
    pub tls: bool,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<AppState>();
};

/// The whole HTTP application of `praxis serve`.
pub fn router(service: Arc<PracticeService>, tls: bool) -> axum::Router {
    let import_limit = usize::try_from(service.config().max_import_bytes()).unwrap_or(usize::MAX);
    api::routes(import_limit).merge(interop::routes()).merge(web::routes()).with_state(AppState { service, tls })
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What is wrong and what to do, as the command line would say it.
    pub detail: String,
}

/// An error as an HTTP response: `application/problem+json`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
}

impl ApiError {
    /// A problem with this status and detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError { status, detail: detail.into() }
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        let status = match e.kind() {
            ErrorKind::BadInput => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
        }
        ApiError { status, detail: e.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let slug = title.to_ascii_lowercase().replace(' ', "-");
        let body = Problem {
            kind: format!("https://praxis.invalid/problems/{slug}"),
            title,
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Runs a service call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&PracticeService) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ApiError> {
    let service = state.service.clone();
    tokio::task::spawn_blocking(move || f(&service))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the request's task failed: {e}")))?
        .map_err(ApiError::from)
}
