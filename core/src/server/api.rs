//! The JSON API under `/api/v1/`: one handler per service operation.
//!
//! Paths and shapes that tests and integrations rely on:
//! `GET /api/v1/clients`, `GET /api/v1/clients/{id}`,
//! `GET /api/v1/clients/{id}/guidance` (the same JSON as
//! `praxis guidance ID --json`), `POST /api/v1/clients/{id}/sessions`,
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
use crate::store::{ApiToken, PracticeExport};

/// The API's routes (state still to be given).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/clients", get(list_clients).post(add_client))
        .route("/api/v1/clients/{id}", get(get_client).patch(update_client))
        .route("/api/v1/clients/{id}/intake", get(get_intake).put(put_intake))
        .route("/api/v1/clients/{id}/guidance", get(client_guidance))
        .route("/api/v1/clients/{id}/overrides", post(add_override))
        .route("/api/v1/clients/{id}/sessions", get(list_sessions).post(record_session))
        .route("/api/v1/sessions/{id}/follow-up", post(follow_up))
        .route("/api/v1/guidance", get(all_guidance))
        .route("/api/v1/appointments", get(appointments))
        .route("/api/v1/reports/outcomes", get(outcomes))
        .route("/api/v1/export", get(export))
        .route("/api/v1/import", post(import))
        .route("/api/v1/plugins", get(plugins))
        .route("/api/v1/config/reload", post(reload_config))
        .fallback(not_found)
}

/// The OpenAPI 3.1 document of the API, generated from the handlers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Praxis API", description = "The practice service of Praxis, for a clinic's own tools and integrations."),
    paths(
        health, list_clients, add_client, get_client, update_client, get_intake, put_intake, client_guidance,
        add_override, list_sessions, record_session, follow_up, all_guidance, appointments, outcomes, export, import,
        plugins, reload_config
    ),
    components(schemas(Problem, ClientChanges, IntakeInput, SessionInput, OverrideInput, FollowUpInput, Health)),
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
    /// The token the request carried.
    pub token: ApiToken,
    /// The audit actor.
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized = |why: &str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!("{why}: send `Authorization: Bearer TOKEN` (make one with `praxis token create NAME`)"),
            )
        };
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Err(unauthorized("no credentials"));
        };
        let Some(secret) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim) else {
            return Err(unauthorized("the Authorization header is not a bearer token"));
        };
        let secret = secret.to_owned();
        let token = blocking(state, move |s| s.authenticate(&secret))
            .await?
            .ok_or_else(|| unauthorized("the token is unknown or revoked"))?;
        let actor = Actor::new(&format!("token:{}", token.name)).map_err(ApiError::from)?;
        Ok(Authenticated { token, actor })
    }
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
        _ => StatusCode::BAD_REQUEST,
    };
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
))]
async fn list_clients(
    State(state): State<AppState>,
    _who: Authenticated,
    Params(paging): Params<Paging>,
) -> ApiResult<Response> {
    let clients = blocking(&state, |s| s.clients()).await?;
    Ok(Json(paging.page(clients)?).into_response())
}

/// Registers a client.
#[utoipa::path(post, path = "/api/v1/clients", request_body = ClientChanges, responses(
    (status = 201, description = "The saved client", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
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
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn get_client(State(state): State<AppState>, _who: Authenticated, Path(id): Path<String>) -> ApiResult<Response> {
    let client = blocking(&state, move |s| s.client_by_id(&id)).await?;
    Ok(Json(client).into_response())
}

/// Changes a client's record.
#[utoipa::path(patch, path = "/api/v1/clients/{id}", params(("id" = String, Path, description = "Client id")), request_body = ClientChanges, responses(
    (status = 200, description = "The saved client", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
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
        s.client_by_id(&id)?;
        s.update_client(&id, &changes, &who.actor)
    })
    .await?;
    Ok(Json(client).into_response())
}

/// A client's intake.
#[utoipa::path(get, path = "/api/v1/clients/{id}/intake", params(("id" = String, Path, description = "Client id")), responses(
    (status = 200, description = "The intake, or null when none is recorded", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn get_intake(State(state): State<AppState>, _who: Authenticated, Path(id): Path<String>) -> ApiResult<Response> {
    let record = blocking(&state, move |s| {
        s.client_by_id(&id)?;
        s.client_record(&id)
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
        s.client_by_id(&id)?;
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
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn client_guidance(
    State(state): State<AppState>,
    _who: Authenticated,
    Path(id): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Response> {
    let g = blocking(&state, move |s| {
        s.client_by_id(&id)?;
        s.guidance(&id, q.as_of)
    })
    .await?;
    Ok(Json(g).into_response())
}

/// Guidance for every client.
#[utoipa::path(get, path = "/api/v1/guidance", params(Paging, AsOf), responses(
    (status = 200, description = "A page of guidance, by client id", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
async fn all_guidance(
    State(state): State<AppState>,
    _who: Authenticated,
    Params(paging): Params<Paging>,
    Params(q): Params<AsOf>,
) -> ApiResult<Response> {
    let list = blocking(&state, move |s| s.all_guidance(q.as_of)).await?;
    Ok(Json(paging.page(list)?).into_response())
}

/// Overrides a critical card for the client's next booking, with a reason.
#[utoipa::path(post, path = "/api/v1/clients/{id}/overrides", params(("id" = String, Path, description = "Client id")), request_body = OverrideInput, responses(
    (status = 201, description = "The override", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
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
        s.client_by_id(&id)?;
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
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn list_sessions(
    State(state): State<AppState>,
    _who: Authenticated,
    Path(id): Path<String>,
    Params(paging): Params<Paging>,
) -> ApiResult<Response> {
    let sessions = blocking(&state, move |s| {
        s.client_by_id(&id)?;
        s.sessions(&id)
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
        s.client_by_id(&id)?;
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
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn appointments(
    State(state): State<AppState>,
    _who: Authenticated,
    Params(q): Params<AppointmentQuery>,
) -> ApiResult<Response> {
    let paging = Paging { offset: q.offset, limit: q.limit };
    let list =
        blocking(&state, move |s| s.appointments(q.from, q.days.unwrap_or(7), q.practitioner.as_deref())).await?;
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
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
async fn outcomes(
    State(state): State<AppState>,
    _who: Authenticated,
    Params(q): Params<OutcomesQuery>,
) -> ApiResult<Response> {
    let weeks = q.weeks.unwrap_or(8);
    if !(1..=520).contains(&weeks) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, format!("weeks must be 1 to 520, not {weeks}")));
    }
    let report = blocking(&state, move |s| {
        if let Some(id) = &q.client {
            s.client_by_id(id)?;
        }
        s.outcomes(q.client.as_deref(), q.as_of, weeks)
    })
    .await?;
    Ok(Json(report).into_response())
}

/// The whole practice as an export document (health data: handle it as such).
#[utoipa::path(get, path = "/api/v1/export", responses(
    (status = 200, description = "The export document (see `praxis schema`)", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
async fn export(State(state): State<AppState>, _who: Authenticated) -> ApiResult<Response> {
    let export = blocking(&state, |s| s.export()).await?;
    Ok(Json(export).into_response())
}

/// Imports a practice export, all or nothing.
#[utoipa::path(post, path = "/api/v1/import", request_body(content = serde_json::Value, description = "An export document (see `praxis schema`)"), responses(
    (status = 200, description = "What was imported", body = serde_json::Value),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
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
))]
async fn plugins(State(state): State<AppState>, _who: Authenticated) -> ApiResult<Response> {
    let reports = blocking(&state, |s| Ok(s.plugins().reports().to_vec())).await?;
    Ok(Json(reports).into_response())
}

/// Re-reads praxis.toml and puts it in force; a bad file keeps the old one.
#[utoipa::path(post, path = "/api/v1/config/reload", responses(
    (status = 200, description = "What changed", body = serde_json::Value),
    (status = 401, body = Problem, content_type = "application/problem+json"),
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
