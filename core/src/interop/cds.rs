//! HL7 CDS Hooks 2.0: the discovery document, request parsing, the cards of
//! `praxis guidance` in the specification's card shape, and feedback.
//!
//! Two services: `praxis-patient-view` (hook `patient-view`: every card of
//! the client's guidance) and `praxis-appointment-book` (hook
//! `appointment-book`: the critical cards, only when the client may not be
//! booked as things stand, i.e. when [`check_booking`] refuses).
//!
//! Card mapping ("CDS Service Response", "Card Attributes"): `uuid` (a new
//! UUID per card instance), `summary` (already under 140 characters, checked
//! by the host), `detail` (Markdown), `indicator` (`info`, `warning`,
//! `critical`), `source.label` and `source.url` (the rules document, anchored
//! at the rule id), `suggestions` with a `uuid` each and `selectionBehavior`
//! `any`, `overrideReasons` as codings with a system and a display, and the
//! rule id as the card's `extension` `{"praxis-rule": "F4"}` (the
//! specification's extension point). Empty lists are left out, as the
//! specification asks ("Null and empty JSON elements").
//!
//! A `patientId` maps to a client through the client's external identifiers
//! ([`find_client`]); an unknown patient gets an empty card list.

use praxis_sdk::{Card, Indicator};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::InteropError;
use crate::store::Client;
use crate::world::{ClientGuidance, OverrideGrant, check_booking};

/// The `patient-view` service id.
pub const PATIENT_VIEW_ID: &str = "praxis-patient-view";
/// The `appointment-book` service id.
pub const APPOINTMENT_BOOK_ID: &str = "praxis-appointment-book";
/// The code system of override reasons that carry none of their own.
pub const OVERRIDE_REASON_SYSTEM: &str = "urn:praxis:override-reason";
/// The card extension key that carries the rule id.
pub const RULE_EXTENSION: &str = "praxis-rule";
/// The largest request body read (project default): 4 MiB.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The hooks Praxis answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hook {
    /// `patient-view`.
    #[serde(rename = "patient-view")]
    PatientView,
    /// `appointment-book`.
    #[serde(rename = "appointment-book")]
    AppointmentBook,
}

impl Hook {
    /// The hook's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::PatientView => "patient-view",
            Hook::AppointmentBook => "appointment-book",
        }
    }

    /// The hook a service id answers.
    pub fn of_service(service_id: &str) -> Option<Hook> {
        match service_id {
            PATIENT_VIEW_ID => Some(Hook::PatientView),
            APPOINTMENT_BOOK_ID => Some(Hook::AppointmentBook),
            _ => None,
        }
    }
}

/// `GET /cds-services`: both services, with prefetch templates for the patient.
pub fn discovery() -> Value {
    json!({ "services": [
        {
            "hook": "patient-view",
            "id": PATIENT_VIEW_ID,
            "title": "Praxis guidance",
            "description": "The chronic-pain clinic's guidance cards for this patient (safety screen, protocol, insurance rules), each naming its rule.",
            "prefetch": { "patient": "Patient/{{context.patientId}}" },
        },
        {
            "hook": "appointment-book",
            "id": APPOINTMENT_BOOK_ID,
            "title": "Praxis booking check",
            "description": "Critical cards when the patient may not be booked for treatment without a recorded override reason.",
            "prefetch": { "patient": "Patient/{{context.patientId}}" },
        },
    ]})
}

/// A checked CDS Hooks request.
#[derive(Debug, Clone, PartialEq)]
pub struct CdsRequest {
    /// The hook.
    pub hook: Hook,
    /// The call's UUID.
    pub hook_instance: String,
    /// `context.userId`, if given.
    pub user_id: Option<String>,
    /// `context.patientId`.
    pub patient_id: String,
    /// `context.appointments` (appointment-book): the proposed FHIR Appointments.
    pub appointments: Vec<Value>,
    /// `prefetch`, as sent.
    pub prefetch: Option<Value>,
}

fn bad(at: &str, message: impl Into<String>) -> InteropError {
    InteropError::invalid(at, message)
}

/// Parses and checks a request to `POST /cds-services/{service_id}`
/// ("Calling a CDS Service", and the hooks' context tables).
pub fn parse_request(service_id: &str, body: &[u8]) -> Result<CdsRequest, InteropError> {
    let Some(expected) = Hook::of_service(service_id) else {
        return Err(InteropError::NotFound { kind: "CDS service", id: service_id.to_owned() });
    };
    if body.len() > MAX_REQUEST_BYTES {
        return Err(InteropError::TooLarge { bytes: body.len(), limit: MAX_REQUEST_BYTES });
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| bad("request", format!("not JSON: {e}")))?;
    let Some(obj) = v.as_object() else { return Err(bad("request", "is not a JSON object")) };
    let hook = obj.get("hook").and_then(Value::as_str).ok_or_else(|| bad("hook", "is required (a string)"))?;
    if hook != expected.as_str() {
        return Err(bad(
            "hook",
            format!("`{hook}` is not `{}`, the hook of service `{service_id}`", expected.as_str()),
        ));
    }
    let hook_instance =
        obj.get("hookInstance").and_then(Value::as_str).ok_or_else(|| bad("hookInstance", "is required (a UUID)"))?;
    if uuid::Uuid::parse_str(hook_instance).is_err() {
        return Err(bad("hookInstance", format!("`{hook_instance}` is not a UUID")));
    }
    if let Some(server) = obj.get("fhirServer") {
        if !server.is_string() {
            return Err(bad("fhirServer", "is not a URL string"));
        }
    } else if obj.contains_key("fhirAuthorization") {
        return Err(bad("fhirServer", "is required when fhirAuthorization is given"));
    }
    let context =
        obj.get("context").and_then(Value::as_object).ok_or_else(|| bad("context", "is required (an object)"))?;
    let patient_id = context
        .get("patientId")
        .and_then(Value::as_str)
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| bad("context.patientId", "is required (the FHIR id of the patient)"))?;
    let user_id = match context.get("userId") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("context.userId", "is not a string")),
    };
    let mut appointments = Vec::new();
    if expected == Hook::AppointmentBook {
        let bundle = context
            .get("appointments")
            .ok_or_else(|| bad("context.appointments", "is required: a Bundle of the Appointments being booked"))?;
        if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return Err(bad("context.appointments", "is not a FHIR Bundle"));
        }
        for (i, e) in bundle.get("entry").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let r = e.get("resource").cloned().unwrap_or(Value::Null);
            if r.get("resourceType").and_then(Value::as_str) != Some("Appointment") {
                return Err(bad(&format!("context.appointments.entry[{i}]"), "is not an Appointment"));
            }
            appointments.push(r);
        }
    }
    let prefetch = match obj.get("prefetch") {
        None => None,
        Some(p @ Value::Object(_)) => Some(p.clone()),
        Some(_) => return Err(bad("prefetch", "is not an object")),
    };
    Ok(CdsRequest {
        hook: expected,
        hook_instance: hook_instance.to_owned(),
        user_id,
        patient_id: patient_id.to_owned(),
        appointments,
        prefetch,
    })
}

/// The client a `patientId` names: one whose external identifiers hold it
/// (of `system`, when given), or, failing that, whose Praxis id (or FHIR
/// resource id) it is. `None` for an unknown patient.
pub fn find_client<'a>(clients: &'a [Client], patient_id: &str, system: Option<&str>) -> Option<&'a Client> {
    let id = patient_id.trim().trim_start_matches("Patient/");
    clients
        .iter()
        .find(|c| c.identifiers.iter().any(|i| i.value == id && system.is_none_or(|s| s == i.system)))
        .or_else(|| clients.iter().find(|c| c.id == id || super::fhir::resource_id(&c.id) == id))
}

/// Options of the card mapping.
#[derive(Debug, Clone)]
pub struct CardOptions {
    /// Where the rules are described; `source.url` is this with `#` and the rule id.
    pub rules_url: String,
}

/// One Praxis card in the CDS Hooks card shape.
pub fn card(c: &Card, options: &CardOptions) -> Value {
    let mut out = json!({
        "uuid": c.uuid.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        "summary": c.summary,
        "indicator": c.indicator.as_str(),
        "source": {
            "label": c.source.label,
            "url": format!("{}#{}", options.rules_url, c.rule.to_ascii_lowercase()),
        },
        "extension": { RULE_EXTENSION: c.rule },
    });
    if !c.detail.trim().is_empty() {
        out["detail"] = json!(c.detail);
    }
    if let Some(topic) = &c.source.topic {
        out["source"]["topic"] = coding(topic);
    }
    if !c.suggestions.is_empty() {
        let suggestions: Vec<Value> = c
            .suggestions
            .iter()
            .map(|s| {
                let mut v = json!({ "label": s.label, "uuid": uuid::Uuid::now_v7().to_string() });
                if let Some(r) = s.is_recommended {
                    v["isRecommended"] = json!(r);
                }
                // Praxis's actions carry no FHIR resource, which `create` and
                // `update` need ("Action"): they stay in the label.
                v
            })
            .collect();
        out["suggestions"] = json!(suggestions);
        out["selectionBehavior"] = json!("any");
    }
    if !c.override_reasons.is_empty() {
        out["overrideReasons"] = json!(c.override_reasons.iter().map(coding).collect::<Vec<_>>());
    }
    out
}

fn coding(c: &praxis_sdk::Coding) -> Value {
    json!({
        "system": c.system.clone().unwrap_or_else(|| OVERRIDE_REASON_SYSTEM.to_owned()),
        "code": c.code,
        "display": if c.display.trim().is_empty() { c.code.clone() } else { c.display.clone() },
    })
}

/// The response to a call: `{"cards": [...]}`. `guidance` is the client's
/// guidance today, `None` for an unknown patient (no cards); `overrides` are
/// the client's unused overrides, for `appointment-book`.
pub fn response(
    hook: Hook,
    guidance: Option<&ClientGuidance>,
    overrides: &[OverrideGrant],
    options: &CardOptions,
) -> Value {
    let Some(g) = guidance else { return json!({ "cards": [] }) };
    let cards: Vec<Value> = match hook {
        Hook::PatientView => g.cards.iter().map(|c| card(c, options)).collect(),
        Hook::AppointmentBook => match check_booking(g, overrides) {
            Ok(_) => Vec::new(),
            Err(refused) => {
                let mut cards: Vec<Value> = g
                    .cards
                    .iter()
                    .filter(|c| c.indicator == Indicator::Critical && refused.blockers.iter().any(|b| b.rule == c.rule))
                    .map(|c| card(c, options))
                    .collect();
                // A hold without a critical card of its own still blocks.
                for b in &refused.blockers {
                    if !g.cards.iter().any(|c| c.indicator == Indicator::Critical && c.rule == b.rule) {
                        let c = Card::new(
                            &b.rule,
                            Indicator::Critical,
                            b.summary.clone(),
                            format!("Booking is held by rule {}.", b.rule),
                        )
                        .with_source(&b.source);
                        cards.push(card(&c, options));
                    }
                }
                cards
            }
        },
    };
    json!({ "cards": cards })
}

/// One feedback item, as kept for the audit ("Feedback").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackRecord {
    /// The service it was sent to.
    pub service: String,
    /// The card's uuid.
    pub card: String,
    /// `accepted` or `overridden`.
    pub outcome: String,
    /// The accepted suggestions' uuids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_suggestions: Vec<String>,
    /// The override reason's code, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// The user's comment, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_comment: Option<String>,
    /// When the user acted (as sent, ISO 8601 UTC).
    pub outcome_timestamp: String,
}

/// Parses a `POST /cds-services/{id}/feedback` body into records for the audit.
pub fn parse_feedback(service_id: &str, body: &[u8]) -> Result<Vec<FeedbackRecord>, InteropError> {
    if Hook::of_service(service_id).is_none() {
        return Err(InteropError::NotFound { kind: "CDS service", id: service_id.to_owned() });
    }
    if body.len() > MAX_REQUEST_BYTES {
        return Err(InteropError::TooLarge { bytes: body.len(), limit: MAX_REQUEST_BYTES });
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| bad("feedback", format!("not JSON: {e}")))?;
    let list = v.get("feedback").and_then(Value::as_array).ok_or_else(|| bad("feedback", "is required (an array)"))?;
    list.iter()
        .enumerate()
        .map(|(i, f)| {
            let at = |k: &str| format!("feedback[{i}].{k}");
            let text = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_owned);
            let card = text("card").ok_or_else(|| bad(&at("card"), "is required (the card's uuid)"))?;
            let outcome = text("outcome").ok_or_else(|| bad(&at("outcome"), "is required"))?;
            if outcome != "accepted" && outcome != "overridden" {
                return Err(bad(&at("outcome"), format!("`{outcome}` is neither `accepted` nor `overridden`")));
            }
            let accepted: Vec<String> = f
                .get("acceptedSuggestions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            if outcome == "accepted" && accepted.is_empty() {
                return Err(bad(&at("acceptedSuggestions"), "is required for an `accepted` outcome"));
            }
            let ts = text("outcomeTimestamp").ok_or_else(|| bad(&at("outcomeTimestamp"), "is required"))?;
            if ts.parse::<jiff::Timestamp>().is_err() {
                return Err(bad(&at("outcomeTimestamp"), format!("`{ts}` is not an ISO 8601 timestamp")));
            }
            let reason = f.get("overrideReason");
            Ok(FeedbackRecord {
                service: service_id.to_owned(),
                card,
                outcome,
                accepted_suggestions: accepted,
                override_reason: reason.and_then(|r| r["reason"]["code"].as_str()).map(str::to_owned),
                user_comment: reason.and_then(|r| r["userComment"].as_str()).map(str::to_owned),
                outcome_timestamp: ts,
            })
        })
        .collect()
}

/// The overrides that still let a booking through: the latest of each rule,
/// if it is not yet tied to an appointment (as `praxis schedule` uses them).
pub fn pending_grants(overrides: &[crate::store::Override]) -> Vec<OverrideGrant> {
    let mut latest: std::collections::BTreeMap<&str, &crate::store::Override> = std::collections::BTreeMap::new();
    let mut all: Vec<&crate::store::Override> = overrides.iter().collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    for ov in all {
        latest.insert(ov.rule.as_str(), ov);
    }
    latest.into_values().filter(|o| o.appointment.is_none()).map(|o| OverrideGrant::new(&o.rule, &o.reason)).collect()
}

/// `POST /cds-services/{service_id}` after the JWT check: parses the body,
/// maps `context.patientId` to a client (through identifiers of
/// `patient_system`, when given), evaluates the client's guidance for
/// `as_of` (the client's insurance plan resolved against `plans`) and answers the hook's cards. An unknown patient gets `{"cards": []}`.
#[allow(clippy::too_many_arguments)]
pub fn answer(
    service_id: &str,
    body: &[u8],
    store: &crate::store::Store,
    registry: &crate::plugin_host::PluginRegistry,
    rules: &crate::world::HostRules,
    plans: &crate::world::Plans,
    as_of: praxis_sdk::Date,
    patient_system: Option<&str>,
    options: &CardOptions,
) -> Result<Value, InteropError> {
    let request = parse_request(service_id, body)?;
    let clients = store.clients()?;
    let Some(client) = find_client(&clients, &request.patient_id, patient_system) else {
        tracing::info!(hook = request.hook.as_str(), "CDS Hooks call for an unknown patient: no cards");
        return Ok(response(request.hook, None, &[], options));
    };
    let snapshot = store.snapshot(&client.id)?;
    let grants = pending_grants(&store.overrides_for(&client.id)?);
    let guidance =
        crate::world::evaluate_client_insured(registry, rules, plans, as_of, &snapshot, client.insurance.as_ref(), &[]);
    Ok(response(request.hook, Some(&guidance), &grants, options))
}

/// `POST /cds-services/{service_id}/feedback` after the JWT check: parses
/// the feedback and audits it as `actor` (such as `ehr:` and the JWT's `iss`).
pub fn record_feedback(
    service_id: &str,
    body: &[u8],
    store: &crate::store::Store,
    actor: &str,
) -> Result<usize, InteropError> {
    let records = parse_feedback(service_id, body)?;
    store.record_cds_feedback(&records, actor)?;
    Ok(records.len())
}
