//! The web workspace: server-rendered pages for the front desk, therapists
//! and the owner, at `/` beside the JSON API.
//!
//! Pages are askama templates (`core/templates/`), compiled into the binary;
//! htmx and the style sheet are served from the binary too (`/static/`), so
//! no request leaves the machine. A page calls the practice service with the
//! logged-in [`Actor`] and shows what it returns: the service decides who may
//! do what and redacts what a role may not see ([`crate::service::redact_for`]),
//! never the page.
//!
//! Sessions are cookies ([`super::api::session_set_cookie`]); every form that
//! changes something carries the session's CSRF token in a hidden `csrf`
//! field, and a post without it is refused (403). An idle session sends the
//! person back to the login page with a message.

mod pages;

use axum::Router;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::api::{constant_time_eq, session_cookie};
use super::{AppState, blocking};
use crate::service::{Actor, ErrorKind, ServiceError};

/// The workspace's routes (state still to be given).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/today", get(pages::today))
        .route("/clients", get(pages::clients).post(pages::register))
        .route("/clients/{id}", get(pages::chart))
        .route("/clients/{id}/sessions", post(pages::record_session))
        .route("/clients/{id}/intake", post(pages::record_intake))
        .route("/clients/{id}/overrides", post(pages::add_override))
        .route("/clients/{id}/insurance", post(pages::update_insurance))
        .route("/follow-ups", get(pages::follow_ups))
        .route("/sessions/{id}/follow-up", post(pages::follow_up))
        .route("/calendar", get(pages::calendar))
        .route("/appointments/{id}", get(pages::appointment))
        .route("/appointments/{id}/move", post(pages::move_appointment))
        .route("/appointments/{id}/cancel", post(pages::cancel_appointment))
        .route("/appointments/{id}/no-show", post(pages::no_show))
        .route("/plan", get(pages::plan_page).post(pages::plan))
        .route("/book", post(pages::book))
        .route("/outcomes", get(pages::outcomes))
        .route("/utilisation", get(pages::utilisation))
        .route("/plugins", get(pages::plugins))
        .route("/users", get(pages::users))
        .route("/audit", get(pages::audit))
        .route("/static/htmx.min.js", get(htmx))
        .route("/static/app.css", get(css))
}

const HTMX: &str = include_str!("../../../static/htmx.min.js");
const CSS: &str = include_str!("../../../static/app.css");

async fn htmx() -> Response {
    static_file(HTMX, "text/javascript; charset=utf-8")
}

async fn css() -> Response {
    static_file(CSS, "text/css; charset=utf-8")
}

fn static_file(body: &'static str, kind: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    r
}

/// The person logged in to this request, with the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Who, with their role.
    pub actor: Actor,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
}

impl Staff {
    /// Refuses a form whose `csrf` field is not this session's token.
    pub fn check_csrf(&self, given: &str) -> Result<(), PageError> {
        if given.is_empty() || !constant_time_eq(given.as_bytes(), self.csrf.as_bytes()) {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This form was not sent from this session of Praxis (its security token is missing or old). Reload the page and send it again.",
            ));
        }
        Ok(())
    }
}

async fn staff_of(parts: &Parts, state: &AppState) -> Result<Option<Staff>, Response> {
    let Some(secret) = session_cookie(&parts.headers) else { return Ok(None) };
    let found = blocking(state, move |s| s.web_session(&secret)).await.map_err(IntoResponse::into_response)?;
    match found {
        Some((actor, csrf)) => Ok(Some(Staff { actor, csrf })),
        // A cookie whose session ended: idle logout, a restart, or a disabled account.
        None => Err(Redirect::to("/login?expired=1").into_response()),
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match staff_of(parts, state).await? {
            Some(staff) => Ok(staff),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

impl OptionalFromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        match staff_of(parts, state).await {
            Ok(found) => Ok(found),
            Err(_) => Ok(None),
        }
    }
}

/// An error as a page: the status, and what to do, in plain words.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    /// A page with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError { status, message: message.into() }
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> PageError {
        let status = match e.kind() {
            ErrorKind::BadInput => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "page failed");
        }
        PageError { status, message: e.to_string() }
    }
}

impl From<super::ApiError> for PageError {
    fn from(e: super::ApiError) -> PageError {
        PageError { status: e.status(), message: e.detail }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} - Praxis</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"narrow\"><h1>{title}</h1><p role=\"alert\" class=\"error\">{}</p><p><a href=\"/\">Back to the workspace</a></p></main></body></html>",
            escape(&self.message)
        );
        (self.status, Html(body)).into_response()
    }
}

/// HTML-escapes text for the few pages built without a template.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Renders an askama template as a page.
pub(crate) fn render(t: &impl askama::Template) -> Result<Response, PageError> {
    render_with(StatusCode::OK, t)
}

/// Renders an askama template with a status (422 for a form with errors).
pub(crate) fn render_with(status: StatusCode, t: &impl askama::Template) -> Result<Response, PageError> {
    let body = t
        .render()
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the page could not be drawn: {e}")))?;
    Ok((status, Html(body)).into_response())
}
