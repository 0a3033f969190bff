//! The JSON API under `/api/v1/`: one handler per service operation.
//!
//! Paths and shapes that tests and integrations rely on:
//! `GET /api/v1/clients`, `GET /api/v1/clients/{id}`,
//! `GET /api/v1/clients/{id}/guidance` (the same JSON as
//! `praxis guidance ID --json`), `GET /api/v1/clients/{id}/insurance`, `POST /api/v1/clients/{id}/sessions`,
//! `GET /api/v1/clients/{id}/sessions`, `GET /api/v1/appointments?from=&days=`.
//! Lists are pages: `{"items": [...], "total": N, "offset": O, "limit": L}`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use praxis_sdk::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::{ApiError, AppState, Problem, blocking};
use crate::service::{Actor, ClientChanges, IntakeInput, OverrideInput, SessionInput};
use crate::store::PracticeExport;

/// The API's routes (state still to be given); `import_limit` bounds the
/// body of `POST /api/v1/import` (`[store] max_import_mib`; other bodies keep
/// axum's 2 MB).
pub fn routes(import_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/clients", get(list_clients).post(add_client))
        .route("/api/v1/clients/{id}", get(get_client).patch(update_client))
        .route("/api/v1/clients/{id}/intake", get(get_intake).put(put_intake))
        .route("/api/v1/clients/{id}/guidance", get(client_guidance))
        .route("/api/v1/clients/{id}/insurance", get(client_insurance))
        .route("/api/v1/clients/{id}/overrides", post(add_override))
        .route("/api/v1/clients/{id}/sessions", get(list_sessions).post(record_session))
        .route("/api/v1/sessions/{id}/follow-up", post(follow_up))
        .route("/api/v1/guidance", get(all_guidance))
        .route("/api/v1/appointments", get(appointments))
        .route("/api/v1/schedule/plan", post(plan_schedule))
        .route("/api/v1/schedule/book", post(book_schedule))
        .route("/api/v1/appointments/{id}/cancel", post(cancel_appointment))
        .route("/api/v1/appointments/{id}/move", post(move_appointment))
        .route("/api/v1/appointments/{id}/no-show", post(no_show))
        .route("/api/v1/reports/outcomes", get(outcomes))
        .route("/api/v1/reports/utilisation", get(utilisation))
        .route("/api/v1/export", get(export))
        .route("/api/v1/import", post(import).layer(axum::extract::DefaultBodyLimit::max(import_limit)))
        .route("/api/v1/plugins", get(plugins))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/config/reload", post(reload_config))
        .fallback(not_found)
}

/// The OpenAPI 3.1 document of the API, generated from the handlers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Praxis API", description = "The practice service of Praxis, for a clinic's own tools and integrations."),
    paths(
        health, login, logout, me, list_clients, add_client, get_client, update_client, get_intake, put_intake, client_guidance,
        client_insurance,
        add_override, list_sessions, record_session, follow_up, all_guidance, appointments, outcomes, utilisation, export, import,
        plugins, reload_config, audit, plan_schedule, book_schedule, cancel_appointment, move_appointment, no_show
    ),
    components(schemas(Problem, LoginInput, Me, PlanInput, CancelInput, MoveInput, ClientChanges, crate::service::insurance::InsuranceStatus, IntakeInput, SessionInput, OverrideInput, FollowUpInput, Health, crate::utilisation::Utilisation, crate::utilisation::UtilisationRow)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

// ----- extractors ------------------------------------------------------------

/// The person (or integration) a request acts for, from its bearer token.
/// A handler that takes it cannot run unauthenticated.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The person: the token's user.
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized = |why: &str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "{why}: log in (POST /api/v1/login), or send `Authorization: Bearer TOKEN` (make one with `praxis token create NAME --user LOGIN`)"
                ),
            )
        };
        if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let Some(secret) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim) else {
                return Err(unauthorized("the Authorization header is not a bearer token"));
            };
            let secret = secret.to_owned();
            let actor = blocking(state, move |s| s.authenticate(&secret)).await.map_err(|e| {
                if e.status() == StatusCode::UNAUTHORIZED {
                    unauthorized("the token is unknown, revoked, or its user is disabled")
                } else {
                    e
                }
            })?;
            return Ok(Authenticated { actor });
        }
        let Some(secret) = session_cookie(&parts.headers) else {
            return Err(unauthorized("no credentials"));
        };
        let session = blocking(state, move |s| s.web_session(&secret)).await?;
        let Some((actor, csrf)) = session else {
            return Err(unauthorized(
                "the session has ended (logged out, idle for too long, or the account was disabled)",
            ));
        };
        let safe = matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD);
        if !safe {
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
            if !constant_time_eq(given.as_bytes(), csrf.as_bytes()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "a change made with a session cookie needs the session's CSRF token in the X-CSRF-Token header (from the login answer)",
                ));
            }
        }
        Ok(Authenticated { actor })
    }
}

/// The cookie that carries a web session.
pub const SESSION_COOKIE: &str = "praxis_session";

/// The header that carries the CSRF token on a cookie-authenticated change.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session secret from a request's cookies.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// Compares two secrets in time that depends only on their length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Set-Cookie` value of a session: HttpOnly, SameSite=Strict, Secure over TLS.
pub fn session_set_cookie(secret: &str, tls: bool) -> String {
    format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict{}", if tls { "; Secure" } else { "" })
}

/// A JSON body whose rejection is a problem document (400 for malformed
/// JSON, 415 for another content type, 422 for the wrong shape).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> ApiError {
    let status = match &rejection {
        JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
        JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "the body is larger than the server accepts: for an import, raise `[store] max_import_mib` in praxis.toml"
                .to_owned(),
        );
    }
    ApiError::new(status, format!("{}: send a JSON body as the API document describes", rejection.body_text()))
}

/// Query parameters whose rejection is a problem document (400).
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(rejection) => Err(query_problem(rejection)),
        }
    }
}

fn query_problem(rejection: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, format!("{}: check the query parameters", rejection.body_text()))
}

// ----- pages -----------------------------------------------------------------

/// Which part of a list to answer with.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// How many items to skip (default 0).
    pub offset: Option<usize>,
    /// How many items at most (default 100, at most 1000).
    #[param(maximum = 1000, minimum = 1)]
    pub limit: Option<usize>,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items the whole list has.
    pub total: usize,
    /// The offset of the first item.
    pub offset: usize,
    /// The page size asked for.
    pub limit: usize,
}

impl Paging {
    fn page<T>(self, all: Vec<T>) -> Result<Page<T>, ApiError> {
        let limit = self.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, format!("limit must be 1 to 1000, not {limit}")));
        }
        let offset = self.offset.unwrap_or(0);
        let total = all.len();
        let items = all.into_iter().skip(offset).take(limit).collect();
        Ok(Page { items, total, offset, limit })
    }
}

type ApiResult<T> = Result<T, ApiError>;

// ----- handlers --------------------------------------------------------------

/// The server's health.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: &'static str,
    /// The practice's name.
    pub practice: String,
    /// The Praxis version.
    pub version: &'static str,
}

/// Whether the server is up. Needs no token.
#[utoipa::path(get, path = "/api/v1/health", security(()), responses((status = 200, body = Health)))]
async fn health(State(state): State<AppState>) -> Json<Health> {
    let practice = state.service.config().file.practice.name.clone();
    Json(Health { status: "ok", practice, version: env!("CARGO_PKG_VERSION") })
}

/// This document.
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint: see /api/v1/openapi.json")
}

/// The practice's clients, by id.
#[utoipa::path(get, path = "/api/v1/clients", params(Paging), responses(
    (status = 200, description = "A page of clients", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
async fn list_clients(
    State(state): State<AppState>,
    who: Authenticated,
    Params(paging): Params<Paging>,
) -> ApiResult<Response> {
    let clients = blocking(&state, move |s| s.clients(&who.actor)).await?;
    Ok(Json(paging.page(clients)?).into_response())
}

/// Registers a client.
#[utoipa::path(post, path = "/api/v1/clients", request_body = ClientChanges, responses(
    (status = 201, description = "The saved client", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn add_client(
    State(state): State<AppState>,
    who: Authenticated,
    Body(changes): Body<ClientChanges>,
) -> ApiResult<Response> {
    let client = blocking(&state, move |s| s.add_client(&changes, &who.actor)).await?;
    Ok((StatusCode::CREATED, Json(client)).into_response())
}

/// One client's record.
#[utoipa::path(get, path = "/api/v1/clients/{id}", params(("id" = String, Path, description = "Client id")), responses(
    (status = 200, description = "The client", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn get_client(State(state): State<AppState>, who: Authenticated, Path(id): Path<String>) -> ApiResult<Response> {
    let client = blocking(&state, move |s| s.client_by_id(&id, &who.actor)).await?;
    Ok(Json(client).into_response())
}

/// The client's insurance today: the plan's terms from the practice config,
/// the sessions used in the period (counted from the session records, plus
/// those used elsewhere) and remaining; `null` when none is on file. The
/// front desk may read it: it carries no clinical field.
#[utoipa::path(get, path = "/api/v1/clients/{id}/insurance", params(("id" = String, Path, description = "Client id")), responses(
    (status = 200, description = "The insurance, or null", body = Option<crate::service::insurance::InsuranceStatus>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn client_insurance(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let status = blocking(&state, move |s| s.insurance_status(&id, None, &who.actor)).await?;
    Ok(Json(status).into_response())
}

/// Changes a client's record.
#[utoipa::path(patch, path = "/api/v1/clients/{id}", params(("id" = String, Path, description = "Client id")), request_body = ClientChanges, responses(
    (status = 200, description = "The saved client", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn update_client(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Body(changes): Body<ClientChanges>,
) -> ApiResult<Response> {
    let client = blocking(&state, move |s| {
        s.client_by_id(&id, &who.actor)?;
        s.update_client(&id, &changes, &who.actor)
    })
    .await?;
    Ok(Json(client).into_response())
}

/// A client's intake.
#[utoipa::path(get, path = "/api/v1/clients/{id}/intake", params(("id" = String, Path, description = "Client id")), responses(
    (status = 200, description = "The intake, or null when none is recorded", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn get_intake(State(state): State<AppState>, who: Authenticated, Path(id): Path<String>) -> ApiResult<Response> {
    let record = blocking(&state, move |s| {
        s.client_by_id(&id, &who.actor)?;
        s.client_record(&id, &who.actor)
    })
    .await?;
    Ok(Json(record.intake).into_response())
}

/// Records a client's intake (replacing an earlier one).
#[utoipa::path(put, path = "/api/v1/clients/{id}/intake", params(("id" = String, Path, description = "Client id")), request_body = IntakeInput, responses(
    (status = 200, description = "The saved intake", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn put_intake(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Body(intake): Body<IntakeInput>,
) -> ApiResult<Response> {
    let saved = blocking(&state, move |s| {
        s.client_by_id(&id, &who.actor)?;
        s.record_intake(&id, &intake, &who.actor)
    })
    .await?;
    Ok(Json(saved).into_response())
}

/// The day a question is about.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// The day (YYYY-MM-DD; default today in the practice's time zone).
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

/// Guidance for one client: the same JSON as `praxis guidance ID --json`.
#[utoipa::path(get, path = "/api/v1/clients/{id}/guidance", params(("id" = String, Path, description = "Client id"), AsOf), responses(
    (status = 200, description = "The client's guidance", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn client_guidance(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Response> {
    let g = blocking(&state, move |s| {
        s.client_by_id(&id, &who.actor)?;
        s.guidance(&id, q.as_of, &who.actor)
    })
    .await?;
    Ok(Json(g).into_response())
}

/// Guidance for every client.
#[utoipa::path(get, path = "/api/v1/guidance", params(Paging, AsOf), responses(
    (status = 200, description = "A page of guidance, by client id", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
async fn all_guidance(
    State(state): State<AppState>,
    who: Authenticated,
    Params(paging): Params<Paging>,
    Params(q): Params<AsOf>,
) -> ApiResult<Response> {
    let list = blocking(&state, move |s| s.all_guidance(q.as_of, &who.actor)).await?;
    Ok(Json(paging.page(list)?).into_response())
}

/// Overrides a critical card for the client's next booking, with a reason.
#[utoipa::path(post, path = "/api/v1/clients/{id}/overrides", params(("id" = String, Path, description = "Client id")), request_body = OverrideInput, responses(
    (status = 201, description = "The override", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn add_override(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Body(input): Body<OverrideInput>,
) -> ApiResult<Response> {
    let ov = blocking(&state, move |s| {
        s.client_by_id(&id, &who.actor)?;
        s.override_card(&id, &input, &who.actor)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ov)).into_response())
}

/// A client's sessions, oldest first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/sessions", params(("id" = String, Path, description = "Client id"), Paging), responses(
    (status = 200, description = "A page of sessions", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn list_sessions(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Params(paging): Params<Paging>,
) -> ApiResult<Response> {
    let sessions = blocking(&state, move |s| {
        s.client_by_id(&id, &who.actor)?;
        s.sessions(&id, &who.actor)
    })
    .await?;
    Ok(Json(paging.page(sessions)?).into_response())
}

/// Records a session that took place. Answered once it is on disk.
#[utoipa::path(post, path = "/api/v1/clients/{id}/sessions", params(("id" = String, Path, description = "Client id")), request_body = SessionInput, responses(
    (status = 201, description = "The saved session", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn record_session(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Body(input): Body<SessionInput>,
) -> ApiResult<Response> {
    let session = blocking(&state, move |s| {
        s.client_by_id(&id, &who.actor)?;
        s.record_session(&id, &input, &who.actor)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(session)).into_response())
}

/// The 24-48 hour follow-up pain report.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpInput {
    /// Pain now, 0-10.
    #[schema(maximum = 10)]
    pub pain: u8,
}

/// Adds the follow-up pain report to a session.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/follow-up", params(("id" = String, Path, description = "Session id")), request_body = FollowUpInput, responses(
    (status = 200, description = "The saved session", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn follow_up(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Body(input): Body<FollowUpInput>,
) -> ApiResult<Response> {
    let session = blocking(&state, move |s| s.follow_up(&id, input.pain, &who.actor)).await?;
    Ok(Json(session).into_response())
}

/// Which appointments.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppointmentQuery {
    /// First day (YYYY-MM-DD; default today).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Number of days (default 7, 1 to 366).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<u32>,
    /// Only this practitioner.
    pub practitioner: Option<String>,
    /// How many items to skip (default 0).
    pub offset: Option<usize>,
    /// How many items at most (default 100, at most 1000).
    #[param(maximum = 1000, minimum = 1)]
    pub limit: Option<usize>,
}

/// Booked appointments in time order.
#[utoipa::path(get, path = "/api/v1/appointments", params(AppointmentQuery), responses(
    (status = 200, description = "A page of appointments", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn appointments(
    State(state): State<AppState>,
    who: Authenticated,
    Params(q): Params<AppointmentQuery>,
) -> ApiResult<Response> {
    let paging = Paging { offset: q.offset, limit: q.limit };
    let list =
        blocking(&state, move |s| s.appointments(q.from, q.days.unwrap_or(7), q.practitioner.as_deref(), &who.actor))
            .await?;
    Ok(Json(paging.page(list)?).into_response())
}

/// Which outcomes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutcomesQuery {
    /// Only this client (id).
    pub client: Option<String>,
    /// Weeks the per-week figures cover (default 8, 1 to 520).
    #[param(minimum = 1, maximum = 520)]
    pub weeks: Option<u32>,
    /// The report date (YYYY-MM-DD; default today).
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

/// Pain trends, flares, sessions against the plan, medication use.
#[utoipa::path(get, path = "/api/v1/reports/outcomes", params(OutcomesQuery), responses(
    (status = 200, description = "The outcomes report", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn outcomes(
    State(state): State<AppState>,
    who: Authenticated,
    Params(q): Params<OutcomesQuery>,
) -> ApiResult<Response> {
    let weeks = q.weeks.unwrap_or(8);
    if !(1..=520).contains(&weeks) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, format!("weeks must be 1 to 520, not {weeks}")));
    }
    let report = blocking(&state, move |s| {
        if let Some(id) = &q.client {
            s.client_by_id(id, &who.actor)?;
        }
        s.outcomes(q.client.as_deref(), q.as_of, weeks, &who.actor)
    })
    .await?;
    Ok(Json(report).into_response())
}

/// Which days the utilisation report covers.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UtilisationQuery {
    /// First day (YYYY-MM-DD; default the Monday of this week).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Number of days (default 7, 1 to 366).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<u32>,
}

/// Utilisation per practitioner and room: available and booked minutes.
#[utoipa::path(get, path = "/api/v1/reports/utilisation", params(UtilisationQuery), responses(
    (status = 200, description = "Available, booked and no-show minutes per practitioner and room", body = crate::utilisation::Utilisation),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn utilisation(
    State(state): State<AppState>,
    who: Authenticated,
    Params(q): Params<UtilisationQuery>,
) -> ApiResult<Response> {
    let days = q.days.unwrap_or(7);
    let report = blocking(&state, move |s| s.utilisation(q.from, days, &who.actor)).await?;
    Ok(Json(report).into_response())
}

/// The whole practice as an export document (health data: handle it as such).
#[utoipa::path(get, path = "/api/v1/export", responses(
    (status = 200, description = "The export document (see `praxis schema`)", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
async fn export(State(state): State<AppState>, who: Authenticated) -> ApiResult<Response> {
    let export = blocking(&state, move |s| s.export(&who.actor)).await?;
    Ok(Json(export).into_response())
}

/// Imports a practice export, all or nothing.
#[utoipa::path(post, path = "/api/v1/import", request_body(content = serde_json::Value, description = "An export document (see `praxis schema`)"), responses(
    (status = 200, description = "What was imported", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Larger than `[store] max_import_mib`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn import(
    State(state): State<AppState>,
    who: Authenticated,
    Body(export): Body<PracticeExport>,
) -> ApiResult<Response> {
    let report = blocking(&state, move |s| s.import(&export, &who.actor)).await?;
    Ok(Json(report).into_response())
}

/// The plugins the server loaded or refused, with reasons.
#[utoipa::path(get, path = "/api/v1/plugins", responses(
    (status = 200, description = "Every plugin file found, loaded or refused", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
async fn plugins(State(state): State<AppState>, who: Authenticated) -> ApiResult<Response> {
    let reports = blocking(&state, move |s| s.plugin_reports(&who.actor)).await?;
    Ok(Json(reports).into_response())
}

/// Re-reads praxis.toml and puts it in force; a bad file keeps the old one.
#[utoipa::path(post, path = "/api/v1/config/reload", responses(
    (status = 200, description = "What changed", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn reload_config(State(state): State<AppState>, who: Authenticated) -> ApiResult<Response> {
    let report =
        blocking(&state, move |s| match s.execute(crate::service::protocol::Request::ReloadConfig, &who.actor)? {
            crate::service::protocol::Response::Reloaded(r) => Ok(r),
            other => Err(crate::service::ServiceError::Failed(format!("unexpected answer {other:?}"))),
        })
        .await?;
    Ok(Json(report).into_response())
}

/// A login.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// The login.
    pub login: String,
    /// The password.
    pub password: String,
}

/// Who is logged in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The login (or the local account's name).
    pub login: String,
    /// The role.
    pub role: String,
    /// The CSRF token to send as `X-CSRF-Token` with every change (login only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

/// Logs in with a password: sets the session cookie (HttpOnly,
/// SameSite=Strict, Secure over TLS) and answers the CSRF token. Failures
/// are answered after a growing delay; repeated ones lock the account.
#[utoipa::path(post, path = "/api/v1/login", security(()), request_body = LoginInput, responses(
    (status = 200, description = "Logged in", body = Me),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn login(State(state): State<AppState>, Body(input): Body<LoginInput>) -> ApiResult<Response> {
    let service = state.service.clone();
    let outcome = tokio::task::spawn_blocking(move || service.login(&input.login, &input.password))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the login task failed: {e}")))?;
    match outcome {
        Ok((actor, session)) => {
            let me = Me { login: actor.name().to_owned(), role: actor.role().to_string(), csrf: Some(session.csrf) };
            let cookie = session_set_cookie(&session.secret, state.tls);
            Ok(([(axum::http::header::SET_COOKIE, cookie)], Json(me)).into_response())
        }
        Err(refused) => {
            tokio::time::sleep(refused.delay).await;
            Err(refused.error.into())
        }
    }
}

/// Ends the session of the cookie (audited) and clears the cookie.
#[utoipa::path(post, path = "/api/v1/logout", security(()), responses((status = 204, description = "Logged out")))]
async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> ApiResult<Response> {
    if let Some(secret) = session_cookie(&headers) {
        let service = state.service.clone();
        let _ = tokio::task::spawn_blocking(move || service.logout(&secret)).await;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(axum::http::header::SET_COOKIE, clear)]).into_response())
}

/// Who the request acts for.
#[utoipa::path(get, path = "/api/v1/me", responses(
    (status = 200, description = "The person", body = Me),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
async fn me(who: Authenticated) -> Json<Me> {
    Json(Me { login: who.actor.name().to_owned(), role: who.actor.role().to_string(), csrf: None })
}

/// The audit log, oldest first: who read and who changed what.
#[utoipa::path(get, path = "/api/v1/audit", params(crate::service::AuditFilter, Paging), responses(
    (status = 200, description = "A page of audit entries", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn audit(
    State(state): State<AppState>,
    who: Authenticated,
    Params(filter): Params<AuditQuery>,
) -> ApiResult<Response> {
    let paging = Paging { offset: filter.offset, limit: filter.limit };
    let f = crate::service::AuditFilter { client: filter.client, user: filter.user, since: filter.since };
    let entries = blocking(&state, move |s| s.audit_log(&f, &who.actor)).await?;
    Ok(Json(paging.page(entries)?).into_response())
}

/// The audit filter with paging.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    client: Option<String>,
    user: Option<String>,
    since: Option<Date>,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// What to plan.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PlanInput {
    /// The first day (YYYY-MM-DD, after today; default tomorrow).
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Weeks (1 to 52; default the practice's horizon).
    #[schema(minimum = 1, maximum = 52)]
    pub weeks: Option<u32>,
}

/// Plans the next weeks for every care plan, checked by the host's checker,
/// and saves it as the current proposal (the same store and day give the same plan).
#[utoipa::path(post, path = "/api/v1/schedule/plan", request_body = PlanInput, responses(
    (status = 200, description = "The plan, with unmet and late demand and their reasons", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn plan_schedule(
    State(state): State<AppState>,
    who: Authenticated,
    Body(input): Body<PlanInput>,
) -> ApiResult<Response> {
    if let Some(w) = input.weeks
        && !(1..=52).contains(&w)
    {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("weeks must be 1 to 52, not {w}")));
    }
    let outcome = blocking(&state, move |s| s.plan_schedule(input.from, input.weeks, false, &who.actor)).await?;
    Ok(Json(outcome.plan).into_response())
}

/// Books the saved proposal after re-checking it (409 says what changed).
#[utoipa::path(post, path = "/api/v1/schedule/book", responses(
    (status = 200, description = "The booked appointments", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn book_schedule(State(state): State<AppState>, who: Authenticated) -> ApiResult<Response> {
    let booked = blocking(&state, move |s| s.book_schedule(&who.actor)).await?;
    Ok(Json(booked).into_response())
}

/// Why an appointment is cancelled.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// The reason (kept with the appointment and in the audit log).
    pub reason: String,
}

/// Cancels a booked appointment with its visit; its demand re-opens for the next plan.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/cancel", params(("id" = String, Path, description = "Appointment id")), request_body = CancelInput, responses(
    (status = 200, description = "The cancelled appointments (the whole visit)", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn cancel_appointment(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Body(input): Body<CancelInput>,
) -> ApiResult<Response> {
    let list = blocking(&state, move |s| s.cancel_appointment(&id, &input.reason, &who.actor)).await?;
    Ok(Json(list).into_response())
}

/// Where to move an appointment.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    /// The new start, local time (YYYY-MM-DDTHH:MM).
    #[schema(value_type = String, example = "2027-01-05T10:00")]
    pub to: praxis_sdk::DateTime,
    /// A new practitioner.
    pub practitioner: Option<String>,
    /// A new room.
    pub room: Option<String>,
}

/// Moves a booked appointment with its visit, checked by the host's checker.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/move", params(("id" = String, Path, description = "Appointment id")), request_body = MoveInput, responses(
    (status = 200, description = "The moved appointments", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn move_appointment(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Body(input): Body<MoveInput>,
) -> ApiResult<Response> {
    let to = crate::scheduling::MoveTo { start: input.to, practitioner: input.practitioner, room: input.room };
    let list = blocking(&state, move |s| s.move_appointment(&id, &to, &who.actor)).await?;
    Ok(Json(list).into_response())
}

/// Records that the client did not come (it counts in the outcomes).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/no-show", params(("id" = String, Path, description = "Appointment id")), responses(
    (status = 200, description = "The appointments recorded as a no-show", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn no_show(State(state): State<AppState>, who: Authenticated, Path(id): Path<String>) -> ApiResult<Response> {
    let list = blocking(&state, move |s| s.no_show(&id, &who.actor)).await?;
    Ok(Json(list).into_response())
}
