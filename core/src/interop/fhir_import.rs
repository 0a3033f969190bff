//! FHIR import for clinics that move in: a `Bundle` of `Patient`s with their
//! `Condition`s (and pain `Observation`s, if present) becomes Praxis clients.
//!
//! - A `Patient` becomes a client: its name (`text`, or `given` and `family`),
//!   `birthDate`, phone, e-mail and address; its identifiers are kept as the
//!   client's external identifiers (so an EHR's MRN maps to the client).
//! - A `Condition` whose code is one of the SNOMED CT codes Praxis knows
//!   (fibromyalgia 203082005, rheumatoid arthritis 69896004, osteoarthritis
//!   396275006, low back pain 279039007, neck pain 81680005) becomes one of the
//!   client's conditions, its clinical status mapped (`active`; `recurrence`,
//!   `relapse` as flare; `remission`, `inactive` as remission). Other codes,
//!   and `resolved` conditions, are reported, not imported.
//! - A pain `Observation` (LOINC 72514-3) is checked (0-10, its patient in
//!   the bundle) and counted: Praxis keeps pain scores on its sessions, which
//!   need a practitioner and a discipline that a plain observation lacks.
//! - Any other resource type is reported as skipped.
//!
//! Every check runs before anything is written; the clients then go to the
//! store's all-or-nothing [`Store::import`](crate::store::Store::import).
//! Bad input is an [`InteropError::Invalid`] naming the entry and the field.

use std::collections::{BTreeMap, HashMap};

use praxis_sdk::model::PAIN_SCORE_LOINC;
use praxis_sdk::{Condition, ConditionStatus, Date, snomed};
use serde::Serialize;
use serde_json::Value;

use super::InteropError;
use super::fhir::known_condition_name;
use crate::store::{Client, ExternalId, ImportReport, PracticeExport, Store, new_id};

/// The largest Bundle an import reads (project default, not a FHIR limit): 64 MiB.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// What a FHIR import read, wrote and could not map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FhirImportReport {
    /// Patients imported as clients.
    pub patients: usize,
    /// Conditions imported.
    pub conditions: usize,
    /// Pain observations read and checked (not imported: see the module docs).
    pub pain_observations: usize,
    /// What was not mapped, one line each, naming the entry.
    pub not_mapped: Vec<String>,
    /// Skipped resources by type.
    pub skipped: BTreeMap<String, usize>,
    /// What the store wrote.
    pub store: ImportReport,
}

/// The clients a Bundle maps to, and what could not be mapped; nothing is written.
#[derive(Debug, Clone, Default)]
pub struct FhirImport {
    /// The clients, in Bundle order.
    pub clients: Vec<Client>,
    /// The report so far (without the store's part).
    pub report: FhirImportReport,
}

fn at(i: usize, field: &str) -> String {
    if field.is_empty() { format!("entry[{i}]") } else { format!("entry[{i}].resource.{field}") }
}

/// A FHIR `date` or the date of a `dateTime`: `YYYY-MM-DD` (a partial date,
/// `YYYY` or `YYYY-MM`, gives `None`).
fn fhir_date(text: &str) -> Result<Option<Date>, String> {
    let day = text.get(..10).unwrap_or(text);
    let partial = text.len() == 4 || text.len() == 7;
    if partial && text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Ok(None);
    }
    if text.len() > 10 && !text[10..].starts_with('T') {
        return Err(format!("`{text}` is not a FHIR date (YYYY-MM-DD) or dateTime (YYYY-MM-DDThh:mm:ss+zz:zz)"));
    }
    day.parse::<Date>()
        .map(Some)
        .map_err(|_| format!("`{text}` is not a FHIR date (YYYY-MM-DD) or dateTime (YYYY-MM-DDThh:mm:ss+zz:zz)"))
}

fn str_at<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// Reads a Bundle and maps it, checking everything. `today` bounds birth and onset dates.
pub fn parse_bundle(text: &str, today: Date) -> Result<FhirImport, InteropError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(InteropError::TooLarge { bytes: text.len(), limit: MAX_IMPORT_BYTES });
    }
    let bundle: Value = serde_json::from_str(text)
        .map_err(|e| InteropError::invalid("bundle", format!("not JSON: {e}: give a FHIR R4 Bundle in JSON")))?;
    let Some(kind) = bundle.get("resourceType") else {
        return Err(InteropError::invalid("bundle", "no `resourceType`: give a FHIR R4 Bundle in JSON"));
    };
    if kind != "Bundle" {
        return Err(InteropError::invalid(
            "bundle.resourceType",
            format!("{kind} is not `Bundle`: give a FHIR R4 Bundle of Patients and Conditions"),
        ));
    }
    let entries = match bundle.get("entry") {
        None => return Ok(FhirImport::default()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(InteropError::invalid("bundle.entry", "is not a list of entries")),
    };

    // First the patients, so that any entry may reference any patient.
    let mut out = FhirImport::default();
    let mut by_ref: HashMap<String, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(r) = e.get("resource") else {
            return Err(InteropError::invalid(at(i, ""), "has no `resource`"));
        };
        let Some(t) = str_at(r, "resourceType") else {
            return Err(InteropError::invalid(at(i, "resourceType"), "is missing or not text"));
        };
        if t != "Patient" {
            continue;
        }
        let client = patient(i, r, today)?;
        let n = out.clients.len();
        if let Some(url) = str_at(e, "fullUrl") {
            by_ref.insert(url.to_owned(), n);
        }
        if let Some(id) = str_at(r, "id") {
            by_ref.insert(format!("Patient/{id}"), n);
            if let Some(url) = str_at(e, "fullUrl") {
                // An absolute fullUrl ending in Patient/{id} also answers to that.
                by_ref.insert(url.trim_end_matches('/').to_owned(), n);
            }
        }
        out.clients.push(client);
    }
    let subject = |i: usize, r: &Value, field: &str| -> Result<usize, InteropError> {
        let reference = r.get(field).and_then(|s| str_at(s, "reference")).ok_or_else(|| {
            InteropError::invalid(
                at(i, field),
                "has no `reference` to a Patient: every Condition and Observation needs its patient",
            )
        })?;
        let tail = reference.rsplit_once("Patient/").map(|(_, id)| format!("Patient/{id}"));
        by_ref.get(reference).or_else(|| tail.as_ref().and_then(|t| by_ref.get(t))).copied().ok_or_else(|| {
            InteropError::invalid(
                at(i, &format!("{field}.reference")),
                format!("`{reference}` is no Patient of this Bundle: include the Patient, or remove the entry"),
            )
        })
    };

    for (i, e) in entries.iter().enumerate() {
        let r = &e["resource"];
        match str_at(r, "resourceType").unwrap_or_default() {
            "Patient" => {}
            "Condition" => {
                let who = subject(i, r, "subject")?;
                if let Some(c) = condition(i, r, today, &mut out.report.not_mapped)? {
                    out.clients[who].conditions.push(c);
                    out.report.conditions += 1;
                }
            }
            "Observation" => {
                let is_pain = r["code"]["coding"]
                    .as_array()
                    .is_some_and(|cs| cs.iter().any(|c| str_at(c, "code") == Some(PAIN_SCORE_LOINC)));
                if !is_pain {
                    out.report.not_mapped.push(format!(
                        "{}: an Observation that is not a pain score (LOINC {PAIN_SCORE_LOINC})",
                        at(i, "")
                    ));
                    continue;
                }
                subject(i, r, "subject")?;
                let value = r.get("valueInteger").or_else(|| r.get("valueQuantity").and_then(|q| q.get("value")));
                let Some(v) = value else {
                    return Err(InteropError::invalid(at(i, "valueInteger"), "a pain score needs a value 0-10"));
                };
                match v.as_f64() {
                    Some(x) if (0.0..=10.0).contains(&x) && x.fract() == 0.0 => {}
                    _ => {
                        return Err(InteropError::invalid(
                            at(i, "valueInteger"),
                            format!("{v} is not a pain score: give a whole number 0-10 (LOINC {PAIN_SCORE_LOINC})"),
                        ));
                    }
                }
                if let Some(when) = str_at(r, "effectiveDateTime") {
                    fhir_date(when).map_err(|m| InteropError::invalid(at(i, "effectiveDateTime"), m))?;
                }
                out.report.pain_observations += 1;
            }
            other => *out.report.skipped.entry(other.to_owned()).or_insert(0) += 1,
        }
    }
    if out.report.pain_observations > 0 {
        out.report.not_mapped.push(format!(
            "{} pain observations were checked but not imported: Praxis keeps pain scores on sessions, which need a practitioner and discipline",
            out.report.pain_observations
        ));
    }
    out.report.patients = out.clients.len();
    Ok(out)
}

fn patient(i: usize, r: &Value, today: Date) -> Result<Client, InteropError> {
    let names = r.get("name").and_then(Value::as_array);
    let name = names
        .and_then(|ns| ns.iter().find(|n| str_at(n, "use") == Some("official")).or_else(|| ns.first()))
        .and_then(|n| {
            str_at(n, "text").map(str::to_owned).or_else(|| {
                let mut parts: Vec<String> =
                    n["given"].as_array().into_iter().flatten().filter_map(|g| g.as_str().map(str::to_owned)).collect();
                parts.extend(str_at(n, "family").map(str::to_owned));
                (!parts.is_empty()).then(|| parts.join(" "))
            })
        })
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            InteropError::invalid(at(i, "name"), "a Patient needs a name (`text`, or `given` and `family`)")
        })?;
    let mut client = Client::new(new_id(), name);
    if let Some(dob) = r.get("birthDate") {
        let Some(text) = dob.as_str() else {
            return Err(InteropError::invalid(at(i, "birthDate"), "is not text"));
        };
        let day = fhir_date(text).map_err(|m| InteropError::invalid(at(i, "birthDate"), m))?;
        if let Some(day) = day
            && day > today
        {
            return Err(InteropError::invalid(at(i, "birthDate"), format!("{day} is in the future")));
        }
        client.date_of_birth = day;
    }
    for t in r["telecom"].as_array().into_iter().flatten() {
        match (str_at(t, "system"), str_at(t, "value")) {
            (Some("phone"), Some(v)) if client.contact.phone.is_none() => client.contact.phone = Some(v.to_owned()),
            (Some("email"), Some(v)) if client.contact.email.is_none() => client.contact.email = Some(v.to_owned()),
            _ => {}
        }
    }
    if let Some(a) = r["address"].as_array().and_then(|a| a.first()) {
        let text = str_at(a, "text").map(str::to_owned).or_else(|| {
            let mut parts: Vec<String> =
                a["line"].as_array().into_iter().flatten().filter_map(|l| l.as_str().map(str::to_owned)).collect();
            parts.extend(["city", "postalCode", "country"].iter().filter_map(|k| str_at(a, k).map(str::to_owned)));
            (!parts.is_empty()).then(|| parts.join(", "))
        });
        client.contact.address = text;
    }
    if let Some(id) = str_at(r, "id") {
        client.identifiers.push(ExternalId { system: "urn:fhir:Patient".to_owned(), value: id.to_owned() });
    }
    for (k, ident) in r["identifier"].as_array().into_iter().flatten().enumerate() {
        let (Some(system), Some(value)) = (str_at(ident, "system"), str_at(ident, "value")) else {
            return Err(InteropError::invalid(at(i, &format!("identifier[{k}]")), "needs a `system` and a `value`"));
        };
        let ext = ExternalId { system: system.to_owned(), value: value.to_owned() };
        if !client.identifiers.contains(&ext) {
            client.identifiers.push(ext);
        }
    }
    Ok(client)
}

fn condition(
    i: usize,
    r: &Value,
    today: Date,
    not_mapped: &mut Vec<String>,
) -> Result<Option<Condition>, InteropError> {
    let codings = r["code"]["coding"]
        .as_array()
        .ok_or_else(|| InteropError::invalid(at(i, "code.coding"), "a Condition needs a coded `code`"))?;
    let known = [
        snomed::FIBROMYALGIA,
        snomed::RHEUMATOID_ARTHRITIS,
        snomed::OSTEOARTHRITIS,
        snomed::LOW_BACK_PAIN,
        snomed::NECK_PAIN,
    ];
    let found = codings.iter().find(|c| {
        str_at(c, "system") == Some(snomed::SYSTEM) && str_at(c, "code").is_some_and(|code| known.contains(&code))
    });
    let Some(coding) = found else {
        let shown: Vec<String> = codings
            .iter()
            .map(|c| format!("{}|{}", str_at(c, "system").unwrap_or("?"), str_at(c, "code").unwrap_or("?")))
            .collect();
        let label = r["code"]["text"].as_str().map(|t| format!(" ({t})")).unwrap_or_default();
        not_mapped.push(format!(
            "{}: Condition {}{label} is not a SNOMED CT code Praxis knows",
            at(i, ""),
            shown.join(", ")
        ));
        return Ok(None);
    };
    let code = str_at(coding, "code").unwrap_or_default().to_owned();
    let status_code = r["clinicalStatus"]["coding"].as_array().and_then(|cs| cs.iter().find_map(|c| str_at(c, "code")));
    let status = match status_code {
        None | Some("active") => ConditionStatus::Active,
        Some("recurrence" | "relapse") => ConditionStatus::Flare,
        Some("remission" | "inactive") => ConditionStatus::Remission,
        Some("resolved") => {
            not_mapped
                .push(format!("{}: Condition {code} is resolved; Praxis records conditions the client has", at(i, "")));
            return Ok(None);
        }
        Some(other) => {
            return Err(InteropError::invalid(
                at(i, "clinicalStatus"),
                format!(
                    "`{other}` is not a clinical status: use active, recurrence, relapse, inactive, remission or resolved"
                ),
            ));
        }
    };
    let since = match r.get("onsetDateTime") {
        None => None,
        Some(v) => {
            let text = v.as_str().ok_or_else(|| InteropError::invalid(at(i, "onsetDateTime"), "is not text"))?;
            let day = fhir_date(text).map_err(|m| InteropError::invalid(at(i, "onsetDateTime"), m))?;
            if let Some(d) = day
                && d > today
            {
                return Err(InteropError::invalid(at(i, "onsetDateTime"), format!("{d} is in the future")));
            }
            day
        }
    };
    let name = str_at(coding, "display").map(str::to_owned).unwrap_or_else(|| known_condition_name(&code).to_owned());
    Ok(Some(Condition { code, name, status, since }))
}

/// Imports a Bundle into the store, all or nothing: every check of
/// [`parse_bundle`], then the store's own checks and its journaled import.
pub fn import_bundle(store: &Store, text: &str, today: Date, actor: &str) -> Result<FhirImportReport, InteropError> {
    let FhirImport { clients, mut report } = parse_bundle(text, today)?;
    let export = PracticeExport { clients, ..PracticeExport::default() };
    report.store = store.import(&export, today, actor)?;
    tracing::info!(
        patients = report.patients,
        conditions = report.conditions,
        not_mapped = report.not_mapped.len(),
        "FHIR import"
    );
    Ok(report)
}
