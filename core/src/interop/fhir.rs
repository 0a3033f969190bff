//! The practice as HL7 FHIR R4 (4.0.1) resources.
//!
//! | Praxis record | FHIR resource |
//! |---|---|
//! | client | `Patient`, and one `Consent` per consent given (treatment, data processing) |
//! | practitioner | `Practitioner`, and one `PractitionerRole` per discipline |
//! | room | `Location` |
//! | condition | `Condition`: SNOMED CT code; clinical status `active`, `relapse` (flare) or `remission` |
//! | session | `Encounter` (`finished`, class `AMB`) |
//! | pain score | `Observation`: LOINC 72514-3, `valueInteger` 0-10, linked to its `Encounter`; before, after and follow-up told apart by a category coding of [`PAIN_TIMING_SYSTEM`] |
//! | therapies | `CarePlan` with one activity per discipline |
//! | booked appointment | `Appointment` (`booked`) with the patient, practitioner and room as participants |
//!
//! Every entry's `fullUrl` is a `urn:uuid:` name derived from the record's
//! kind and id (the same record gets the same name in every export), and every
//! reference between resources is one of those names, so references resolve
//! within the bundle. Resource ids are the Praxis ids where FHIR allows them
//! (`[A-Za-z0-9.-]{1,64}`), otherwise a digest of the id; the Praxis id is
//! always kept as an `identifier` ([`CLIENT_ID_SYSTEM`], ...).
//!
//! Times: sessions and appointments are kept in the practice's local time;
//! FHIR instants carry the practice zone's offset at that moment.

use std::collections::BTreeMap;

use praxis_sdk::model::PAIN_SCORE_LOINC;
use praxis_sdk::{ConditionStatus, DateTime, Discipline, snomed};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{InteropError, zoned};
use crate::store::{Appointment, AppointmentStatus, Client, PracticeExport, Session};

/// The FHIR version these resources follow.
pub const FHIR_VERSION: &str = "4.0.1";
/// Identifier system of a Praxis client id.
pub const CLIENT_ID_SYSTEM: &str = "urn:praxis:client";
/// Identifier system of a Praxis practitioner id.
pub const PRACTITIONER_ID_SYSTEM: &str = "urn:praxis:practitioner";
/// Identifier system of a Praxis room id.
pub const ROOM_ID_SYSTEM: &str = "urn:praxis:room";
/// Identifier system of a Praxis session id.
pub const SESSION_ID_SYSTEM: &str = "urn:praxis:session";
/// Identifier system of a Praxis appointment id.
pub const APPOINTMENT_ID_SYSTEM: &str = "urn:praxis:appointment";
/// Code system of the disciplines (`massage`, `tai_chi`, ...), local to Praxis.
pub const DISCIPLINE_SYSTEM: &str = "urn:praxis:discipline";
/// Code system telling the three pain scores of a session apart: `before`,
/// `after` and `follow-up` (the 24-48 hour report).
pub const PAIN_TIMING_SYSTEM: &str = "urn:praxis:pain-timing";
/// LOINC's system URI.
pub const LOINC_SYSTEM: &str = "http://loinc.org";
/// FHIR's condition clinical status code system.
pub const CONDITION_CLINICAL_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";

/// The FHIR resource id for a Praxis id: the id itself when FHIR allows it,
/// else `x` and 32 hex digits of its SHA-256.
pub fn resource_id(id: &str) -> String {
    let valid = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        return id.to_owned();
    }
    let digest = Sha256::digest(id.as_bytes());
    format!("x{}", digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The `urn:uuid:` full URL of a resource: a name-based UUID (version 8, from
/// SHA-256 of the resource type and the Praxis id), the same in every export.
pub fn full_url(resource_type: &str, id: &str) -> String {
    let digest = Sha256::digest(format!("praxis/{resource_type}/{id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    format!("urn:uuid:{}", uuid::Uuid::from_bytes(b))
}

fn reference(resource_type: &str, id: &str) -> Value {
    json!({ "reference": full_url(resource_type, id) })
}

fn identifier(system: &str, value: &str) -> Value {
    json!({ "system": system, "value": value })
}

fn discipline_concept(d: &Discipline) -> Value {
    json!({
        "coding": [{ "system": DISCIPLINE_SYSTEM, "code": d.as_str(), "display": d.as_str().replace('_', " ") }],
        "text": d.as_str().replace('_', " "),
    })
}

/// A local date and time as a FHIR instant with the zone's offset.
fn instant(at: DateTime, tz: &jiff::tz::TimeZone) -> String {
    zoned(at, tz).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The clinical status code of a condition status.
pub fn clinical_status_code(status: ConditionStatus) -> &'static str {
    match status {
        ConditionStatus::Active | ConditionStatus::Unknown => "active",
        ConditionStatus::Flare => "relapse",
        ConditionStatus::Remission => "remission",
    }
}

/// Builds FHIR resources from a practice's records.
#[derive(Debug)]
pub struct FhirExporter<'a> {
    records: &'a PracticeExport,
    tz: jiff::tz::TimeZone,
    practice_name: String,
}

/// One bundle entry: its full URL and resource.
type Entry = (String, Value);

impl<'a> FhirExporter<'a> {
    /// An exporter over these records, with the practice's time zone and name.
    pub fn new(records: &'a PracticeExport, tz: jiff::tz::TimeZone, practice_name: &str) -> FhirExporter<'a> {
        FhirExporter { records, tz, practice_name: practice_name.to_owned() }
    }

    /// The whole practice as a `Bundle` of type `collection`.
    pub fn bundle(&self) -> Value {
        let mut entries = Vec::new();
        for p in &self.records.practitioners {
            entries.extend(self.practitioner(p));
        }
        for r in &self.records.rooms {
            entries.push(self.location(r));
        }
        for c in &self.records.clients {
            entries.extend(self.client_resources(c));
        }
        let id = resource_id(&format!("practice-{}", jiff::Timestamp::now().as_second()));
        bundle_of("collection", &id, entries, None)
    }

    /// One client's `Patient` resource.
    pub fn patient(&self, client_id: &str) -> Result<Value, InteropError> {
        let client = self.client_by_resource_id(client_id)?;
        Ok(self.patient_resource(client).1)
    }

    /// `Patient/{id}/$everything`: a `searchset` Bundle with the patient and
    /// every resource about them (consents, conditions, encounters, pain
    /// observations, care plan, appointments), plus the practitioners and
    /// rooms those reference, so that every reference resolves.
    pub fn everything(&self, client_id: &str, base_url: &str) -> Result<Value, InteropError> {
        let client = self.client_by_resource_id(client_id)?;
        let mut entries = self.client_resources(client);
        let mut practitioners = std::collections::BTreeSet::new();
        let mut rooms = std::collections::BTreeSet::new();
        for s in self.sessions_of(&client.id) {
            practitioners.insert(s.practitioner.as_str());
        }
        for a in self.booked_of(&client.id) {
            practitioners.insert(a.practitioner.as_str());
            rooms.insert(a.room.as_str());
        }
        for p in self.records.practitioners.iter().filter(|p| practitioners.contains(p.id.as_str())) {
            entries.extend(self.practitioner(p));
        }
        for r in self.records.rooms.iter().filter(|r| rooms.contains(r.id.as_str())) {
            entries.push(self.location(r));
        }
        let self_link = format!("{}/Patient/{}/$everything", base_url.trim_end_matches('/'), resource_id(&client.id));
        let id = resource_id(&format!("everything-{}", resource_id(&client.id)));
        Ok(bundle_of("searchset", &id, entries, Some(&self_link)))
    }

    fn client_by_resource_id(&self, id: &str) -> Result<&'a Client, InteropError> {
        self.records
            .clients
            .iter()
            .find(|c| c.id == id || resource_id(&c.id) == id)
            .ok_or_else(|| InteropError::NotFound { kind: "Patient", id: id.to_owned() })
    }

    fn sessions_of<'s>(&'s self, client: &'s str) -> impl Iterator<Item = &'a Session> + 's {
        self.records.sessions.iter().filter(move |s| s.client == client)
    }

    fn booked_of<'s>(&'s self, client: &'s str) -> impl Iterator<Item = &'a Appointment> + 's {
        self.records.appointments.iter().filter(move |a| a.client == client && a.status == AppointmentStatus::Booked)
    }

    /// Everything about one client: Patient, Consents, Conditions, Encounters
    /// with their pain Observations, CarePlan, booked Appointments.
    fn client_resources(&self, c: &Client) -> Vec<Entry> {
        let mut out = vec![self.patient_resource(c)];
        out.extend(self.consents(c));
        for (i, cond) in c.conditions.iter().enumerate() {
            out.push(self.condition(c, i, cond));
        }
        for s in self.sessions_of(&c.id) {
            out.push(self.encounter(s));
            out.extend(self.pain_observations(s));
        }
        if !c.therapies.is_empty() {
            out.push(self.care_plan(c));
        }
        for a in self.booked_of(&c.id) {
            out.push(self.appointment(a));
        }
        out
    }

    fn patient_resource(&self, c: &Client) -> Entry {
        let mut identifiers = vec![identifier(CLIENT_ID_SYSTEM, &c.id)];
        identifiers.extend(c.identifiers.iter().map(|i| identifier(&i.system, &i.value)));
        let mut name = json!({ "use": "official", "text": c.name });
        let words: Vec<&str> = c.name.split_whitespace().collect();
        if let Some((family, given)) = words.split_last()
            && !given.is_empty()
        {
            name["family"] = json!(family);
            name["given"] = json!(given);
        }
        let mut p = json!({
            "resourceType": "Patient",
            "id": resource_id(&c.id),
            "identifier": identifiers,
            "active": true,
            "name": [name],
        });
        let mut telecom = Vec::new();
        if let Some(phone) = &c.contact.phone {
            telecom.push(json!({ "system": "phone", "value": phone }));
        }
        if let Some(email) = &c.contact.email {
            telecom.push(json!({ "system": "email", "value": email }));
        }
        if !telecom.is_empty() {
            p["telecom"] = json!(telecom);
        }
        if let Some(address) = &c.contact.address {
            p["address"] = json!([{ "text": address }]);
        }
        if let Some(dob) = c.date_of_birth {
            p["birthDate"] = json!(dob.to_string());
        }
        (full_url("Patient", &c.id), p)
    }

    fn consents(&self, c: &Client) -> Vec<Entry> {
        let given = [
            (c.consent.treatment, "treatment", "Treatment"),
            (c.consent.data_processing, "patient-privacy", "Privacy Consent"),
        ];
        given
            .into_iter()
            .filter(|(yes, _, _)| *yes)
            .map(|(_, scope, display)| {
                let key = format!("{}/{scope}", c.id);
                let mut consent = json!({
                    "resourceType": "Consent",
                    "id": resource_id(&format!("{}-{scope}", resource_id(&c.id))),
                    "status": "active",
                    "scope": { "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": scope, "display": display }] },
                    "category": [{ "coding": [{ "system": LOINC_SYSTEM, "code": "59284-0", "display": "Patient Consent" }] }],
                    "patient": reference("Patient", &c.id),
                    "policyRule": { "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "OPTIN", "display": "opt-in" }] },
                    "provision": { "type": "permit" },
                });
                if let Some(day) = c.consent.recorded {
                    consent["dateTime"] = json!(format!("{day}T00:00:00{}", self.offset_of_day(day)));
                }
                (full_url("Consent", &key), consent)
            })
            .collect()
    }

    fn offset_of_day(&self, day: praxis_sdk::Date) -> String {
        zoned(DateTime::new(day, praxis_sdk::TimeOfDay::MIDNIGHT), &self.tz).strftime("%:z").to_string()
    }

    fn condition(&self, c: &Client, index: usize, cond: &praxis_sdk::Condition) -> Entry {
        let key = format!("{}/{index}", c.id);
        let status = clinical_status_code(cond.status);
        let display =
            if cond.name.trim().is_empty() { known_condition_name(&cond.code).to_owned() } else { cond.name.clone() };
        let mut coding = json!({ "system": snomed::SYSTEM, "code": cond.code });
        if !display.is_empty() {
            coding["display"] = json!(display);
        }
        let mut r = json!({
            "resourceType": "Condition",
            "id": resource_id(&format!("{}-c{index}", resource_id(&c.id))),
            "clinicalStatus": { "coding": [{ "system": CONDITION_CLINICAL_SYSTEM, "code": status }],
                "text": match cond.status { ConditionStatus::Flare => "in flare", _ => status } },
            "verificationStatus": { "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed" }] },
            "category": [{ "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                "code": "problem-list-item", "display": "Problem List Item" }] }],
            "code": { "coding": [coding], "text": if display.is_empty() { cond.code.clone() } else { display } },
            "subject": reference("Patient", &c.id),
        });
        if let Some(since) = cond.since {
            r["onsetDateTime"] = json!(since.to_string());
        }
        (full_url("Condition", &key), r)
    }

    fn encounter(&self, s: &Session) -> Entry {
        let end = s.start.add_minutes(i64::from(s.minutes));
        let r = json!({
            "resourceType": "Encounter",
            "id": resource_id(&s.id),
            "identifier": [identifier(SESSION_ID_SYSTEM, &s.id)],
            "status": "finished",
            "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory" },
            "type": [discipline_concept(&s.discipline)],
            "subject": reference("Patient", &s.client),
            "participant": [{ "individual": reference("Practitioner", &s.practitioner) }],
            "period": { "start": instant(s.start, &self.tz), "end": instant(end, &self.tz) },
            "length": { "value": s.minutes, "unit": "min", "system": "http://unitsofmeasure.org", "code": "min" },
        });
        (full_url("Encounter", &s.id), r)
    }

    fn pain_observations(&self, s: &Session) -> Vec<Entry> {
        let end = s.start.add_minutes(i64::from(s.minutes));
        let follow_up_period = json!({
            "start": instant(end.add_minutes(24 * 60), &self.tz),
            "end": instant(end.add_minutes(48 * 60), &self.tz),
        });
        let scores = [
            (
                s.pain_before,
                "before",
                "Pain before the session",
                json!({ "effectiveDateTime": instant(s.start, &self.tz) }),
            ),
            (s.pain_after, "after", "Pain after the session", json!({ "effectiveDateTime": instant(end, &self.tz) })),
            (
                s.follow_up_pain,
                "follow-up",
                "Pain at the 24-48 hour follow-up",
                json!({ "effectivePeriod": follow_up_period }),
            ),
        ];
        scores
            .into_iter()
            .filter_map(|(score, timing, label, effective)| {
                let score = score?;
                let key = format!("{}/{timing}", s.id);
                let mut r = json!({
                    "resourceType": "Observation",
                    "id": resource_id(&format!("{}-pain-{timing}", resource_id(&s.id))),
                    "status": "final",
                    "category": [
                        { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "survey", "display": "Survey" }] },
                        { "coding": [{ "system": PAIN_TIMING_SYSTEM, "code": timing, "display": label }], "text": label },
                    ],
                    "code": { "coding": [{ "system": LOINC_SYSTEM, "code": PAIN_SCORE_LOINC,
                        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported" }], "text": label },
                    "subject": reference("Patient", &s.client),
                    "encounter": reference("Encounter", &s.id),
                    "performer": [reference("Practitioner", &s.practitioner)],
                    "valueInteger": score,
                });
                if let (Value::Object(r), Value::Object(e)) = (&mut r, effective) {
                    r.extend(e);
                }
                Some((full_url("Observation", &key), r))
            })
            .collect()
    }

    fn care_plan(&self, c: &Client) -> Entry {
        let activities: Vec<Value> = c
            .therapies
            .iter()
            .map(|t| {
                json!({ "detail": {
                    "kind": "Appointment",
                    "code": discipline_concept(&t.discipline),
                    "status": "scheduled",
                    "scheduledTiming": { "repeat": {
                        "frequency": 1, "period": t.every_days, "periodUnit": "d",
                        "duration": t.minutes, "durationUnit": "min" } },
                    "description": format!("{} every {} days, {} minutes",
                        t.discipline.as_str().replace('_', " "), t.every_days, t.minutes),
                } })
            })
            .collect();
        let addresses: Vec<Value> =
            (0..c.conditions.len()).map(|i| reference("Condition", &format!("{}/{i}", c.id))).collect();
        let mut r = json!({
            "resourceType": "CarePlan",
            "id": resource_id(&format!("{}-plan", resource_id(&c.id))),
            "status": "active",
            "intent": "plan",
            "title": "Combined therapies",
            "subject": reference("Patient", &c.id),
            "activity": activities,
        });
        if !addresses.is_empty() {
            r["addresses"] = json!(addresses);
        }
        (full_url("CarePlan", &c.id), r)
    }

    fn appointment(&self, a: &Appointment) -> Entry {
        let end = a.start.add_minutes(i64::from(a.minutes));
        let mut r = json!({
            "resourceType": "Appointment",
            "id": resource_id(&a.id),
            "identifier": [identifier(APPOINTMENT_ID_SYSTEM, &a.id)],
            "status": "booked",
            "serviceType": [discipline_concept(&a.discipline)],
            "start": instant(a.start, &self.tz),
            "end": instant(end, &self.tz),
            "minutesDuration": a.minutes,
            "participant": [
                { "actor": reference("Patient", &a.client), "required": "required", "status": "accepted" },
                { "actor": reference("Practitioner", &a.practitioner), "required": "required", "status": "accepted" },
                { "actor": reference("Location", &a.room), "required": "required", "status": "accepted" },
            ],
        });
        if let Some(adjunct) = a.adjunct {
            let what = match adjunct {
                praxis_sdk::Adjunct::HeatBefore => "heat before the massage",
                praxis_sdk::Adjunct::ColdAfter => "cold after the massage",
            };
            r["description"] = json!(what);
        }
        (full_url("Appointment", &a.id), r)
    }

    fn practitioner(&self, p: &crate::store::Practitioner) -> Vec<Entry> {
        let mut out = vec![(
            full_url("Practitioner", &p.id),
            json!({
                "resourceType": "Practitioner",
                "id": resource_id(&p.id),
                "identifier": [identifier(PRACTITIONER_ID_SYSTEM, &p.id)],
                "active": true,
                "name": [{ "text": p.name }],
            }),
        )];
        for d in &p.disciplines {
            let key = format!("{}/{}", p.id, d.as_str());
            out.push((
                full_url("PractitionerRole", &key),
                json!({
                    "resourceType": "PractitionerRole",
                    "id": resource_id(&format!("{}-{}", resource_id(&p.id), d.as_str().replace('_', "-"))),
                    "active": true,
                    "practitioner": reference("Practitioner", &p.id),
                    "organization": { "display": self.practice_name },
                    "code": [discipline_concept(d)],
                }),
            ));
        }
        out
    }

    fn location(&self, r: &crate::store::Room) -> Entry {
        let kind =
            serde_json::to_value(r.kind).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default();
        (
            full_url("Location", &r.id),
            json!({
                "resourceType": "Location",
                "id": resource_id(&r.id),
                "identifier": [identifier(ROOM_ID_SYSTEM, &r.id)],
                "status": "active",
                "mode": "instance",
                "name": r.name,
                "description": format!("{kind}, capacity {}", r.capacity),
                "managingOrganization": { "display": self.practice_name },
            }),
        )
    }
}

/// The display name of a SNOMED CT code Praxis knows by name, or `""`.
pub fn known_condition_name(code: &str) -> &'static str {
    match code {
        snomed::FIBROMYALGIA => "Fibromyalgia",
        snomed::RHEUMATOID_ARTHRITIS => "Rheumatoid arthritis",
        snomed::OSTEOARTHRITIS => "Osteoarthritis",
        snomed::LOW_BACK_PAIN => "Low back pain",
        snomed::NECK_PAIN => "Neck pain",
        _ => "",
    }
}

fn bundle_of(kind: &str, id: &str, entries: Vec<Entry>, self_link: Option<&str>) -> Value {
    let searchset = kind == "searchset";
    let total = entries.len();
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|(url, resource)| {
            let mut e = json!({ "fullUrl": url, "resource": resource });
            if searchset {
                e["search"] = json!({ "mode": "match" });
            }
            e
        })
        .collect();
    let mut b = json!({
        "resourceType": "Bundle",
        "id": id,
        "meta": { "lastUpdated": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string() },
        "type": kind,
        "timestamp": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "entry": entries,
    });
    if searchset {
        b["total"] = json!(total);
    }
    if let Some(link) = self_link {
        b["link"] = json!([{ "relation": "self", "url": link }]);
    }
    b
}

/// The `CapabilityStatement` of Praxis's read-only FHIR endpoint
/// (`GET /fhir/r4/metadata`): `Patient` read and `$everything`, JSON only.
pub fn capability_statement(base_url: &str, software_version: &str) -> Value {
    json!({
        "resourceType": "CapabilityStatement",
        "id": "praxis",
        "status": "active",
        "date": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "publisher": "Praxis",
        "kind": "instance",
        "software": { "name": "Praxis", "version": software_version },
        "implementation": { "description": "Praxis practice records, read-only", "url": base_url },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "resource": [{
                "type": "Patient",
                "interaction": [{ "code": "read" }],
                "operation": [{ "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything" }],
            }],
        }],
    })
}

/// Counts the resources of a bundle by type, for reports and tests.
pub fn count_by_type(bundle: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in bundle["entry"].as_array().into_iter().flatten() {
        if let Some(t) = e["resource"]["resourceType"].as_str() {
            *counts.entry(t.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// The whole practice from a store as a FHIR `collection` Bundle.
pub fn export_store(
    store: &crate::store::Store,
    tz: jiff::tz::TimeZone,
    practice_name: &str,
) -> Result<Value, InteropError> {
    let records = store.export()?;
    Ok(FhirExporter::new(&records, tz, practice_name).bundle())
}

/// `GET /fhir/r4/Patient/{id}`.
pub fn patient_of_store(
    store: &crate::store::Store,
    config: &crate::config::PracticeConfig,
    id: &str,
) -> Result<Value, InteropError> {
    let records = store.export()?;
    FhirExporter::new(&records, config.time_zone(), &config.file.practice.name).patient(id)
}

/// `GET /fhir/r4/Patient/{id}/$everything`; `base_url` is the FHIR base (`.../fhir/r4`).
pub fn everything_of_store(
    store: &crate::store::Store,
    config: &crate::config::PracticeConfig,
    id: &str,
    base_url: &str,
) -> Result<Value, InteropError> {
    let records = store.export()?;
    FhirExporter::new(&records, config.time_zone(), &config.file.practice.name).everything(id, base_url)
}
