//! The standards at the edges, over HTTP: CDS Hooks 2.0 (`/cds-services`),
//! FHIR R4 reads (`/fhir/r4/...`, with the role rules of the API), and the
//! practitioners' iCalendar feeds (`/calendar/practitioner/{id}.ics?token=`).
//! Each handler calls one operation of the service.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::api::{Authenticated, Params};
use super::{ApiError, AppState, blocking};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cds-services", get(discovery))
        .route("/cds-services/{id}", post(call))
        .route("/cds-services/{id}/feedback", post(feedback))
        .route("/fhir/r4/metadata", get(metadata))
        .route("/fhir/r4/Patient/{id}", get(patient))
        .route("/fhir/r4/Patient/{id}/$everything", get(everything))
        .route("/calendar/practitioner/{file}", get(calendar))
}

fn authorization(headers: &HeaderMap) -> Option<String> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("{}://{host}/fhir/r4", if state.tls { "https" } else { "http" })
}

fn fhir_json(value: serde_json::Value) -> Response {
    let mut r = Json(value).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/fhir+json"));
    r
}

async fn discovery(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.service.cds_discovery())
}

async fn call(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let auth = authorization(&headers);
    let cards = blocking(&state, move |s| s.cds_call(&id, auth.as_deref(), &body)).await?;
    Ok(Json(cards).into_response())
}

async fn feedback(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let auth = authorization(&headers);
    let n = blocking(&state, move |s| s.cds_feedback(&id, auth.as_deref(), &body)).await?;
    Ok(Json(serde_json::json!({ "recorded": n })).into_response())
}

async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    fhir_json(state.service.fhir_metadata(&base_url(&state, &headers)))
}

async fn patient(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let p = blocking(&state, move |s| s.fhir_patient(&id, &who.actor)).await?;
    Ok(fhir_json(p))
}

async fn everything(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = base_url(&state, &headers);
    let bundle = blocking(&state, move |s| s.fhir_everything(&id, &base, &who.actor)).await?;
    Ok(fhir_json(bundle))
}

/// The feed's secret.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    token: String,
}

async fn calendar(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Params(q): Params<FeedQuery>,
) -> Result<Response, ApiError> {
    let Some(practitioner) = file.strip_suffix(".ics").map(str::to_owned) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "a feed is /calendar/practitioner/ID.ics?token=TOKEN"));
    };
    let feed = blocking(&state, move |s| s.practitioner_feed(&practitioner, &q.token)).await?;
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], feed).into_response())
}
