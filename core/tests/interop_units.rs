//! `praxis_core::interop` without the binary: iCalendar text rules, the
//! VTIMEZONE, SEQUENCE from the audit log, feed tokens, FHIR import bad
//! input, CDS Hooks requests, cards and discovery against a JSON Schema
//! written from the CDS Hooks 2.0 specification, and the JWT check.

use praxis_core::interop::cds::{self, CardOptions, Hook};
use praxis_core::interop::fhir_import::{self, MAX_IMPORT_BYTES};
use praxis_core::interop::ics::{self, FeedInput, FeedTokens};
use praxis_core::interop::jwt::{self, JwtVerifier, TrustedEhr};
use praxis_core::interop::{InteropError, fhir};
use praxis_core::plugin_host::PluginRegistry;
use praxis_core::store::{Appointment, AppointmentStatus, Client, ExternalId, PracticeExport, Store, new_id};
use praxis_core::world::{HostRules, OverrideGrant, evaluate_client};
use praxis_sdk::{ClientSnapshot, Date, DateTime, Discipline, RedFlag, RedFlagKind, TimeOfDay};
use serde_json::{Value, json};

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap()
}

// ----- iCalendar -----

#[test]
fn text_is_escaped_and_lines_fold_at_75_octets() {
    #[track_caller]
    fn check(input: &str, escaped: &str) {
        assert_eq!(ics::escape_text(input), escaped);
    }
    check("plain", "plain");
    check("a,b;c\\d", "a\\,b\\;c\\\\d");
    check("two\nlines", "two\\nlines");
    check("crlf\r\nend", "crlf\\nend");

    for line in
        ["x".repeat(74), "x".repeat(75), "x".repeat(76), "é".repeat(100), format!("SUMMARY:{}", "ü€".repeat(60))]
    {
        let folded = ics::fold_line(&line);
        assert!(folded.ends_with("\r\n"));
        for (i, part) in folded.trim_end_matches("\r\n").split("\r\n").enumerate() {
            assert!(part.len() <= 75, "line {i} of {line:?} is {} octets", part.len());
            assert!(i == 0 || part.starts_with(' '), "a continuation starts with a space");
        }
        let unfolded = folded.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line, "unfolding gives the line back");
    }
}

#[test]
fn vtimezone_has_the_observance_in_force_and_each_transition_of_the_span() {
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let from: jiff::Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
    let to: jiff::Timestamp = "2026-12-10T00:00:00Z".parse().unwrap();
    let lines = ics::vtimezone(&tz, from, to).join("\n");
    let expected = "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\n\
        BEGIN:STANDARD\nDTSTART:20251026T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nTZNAME:CET\nEND:STANDARD\n\
        BEGIN:DAYLIGHT\nDTSTART:20260329T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nTZNAME:CEST\nEND:DAYLIGHT\n\
        BEGIN:STANDARD\nDTSTART:20261025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nTZNAME:CET\nEND:STANDARD\n\
        END:VTIMEZONE";
    assert_eq!(lines, expected);

    let utc = ics::vtimezone(&jiff::tz::TimeZone::UTC, from, to).join("\n");
    assert!(
        utc.contains("TZID:UTC\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0000\nTZOFFSETTO:+0000"),
        "{utc}"
    );
}

/// A store with one practitioner, one room and a client, for booking.
fn store_with_calendar() -> (tempfile::TempDir, Store, Client) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let p = praxis_core::store::Practitioner {
        id: "ana".into(),
        name: "Ana Lima".into(),
        disciplines: vec![Discipline::Massage],
        availability: vec![],
        time_off: vec![],
    };
    store.put_practitioner(&p, "test").unwrap();
    let room = praxis_core::store::Room {
        id: "room-1".into(),
        name: "Treatment room 1".into(),
        kind: praxis_sdk::RoomKind::TreatmentRoom,
        capacity: 1,
    };
    store.put_room(&room, "test").unwrap();
    let client = Client::new(new_id(), "Maria de la Santos");
    store.put_client_as_of(&client, day("2026-11-01"), "test").unwrap();
    (dir, store, client)
}

fn appointment(client: &str, start: &str, minutes: u16, visit: Option<&str>) -> Appointment {
    Appointment {
        id: new_id(),
        client: client.into(),
        practitioner: "ana".into(),
        room: "room-1".into(),
        discipline: Discipline::Massage,
        start: at(start),
        minutes,
        status: AppointmentStatus::Booked,
        visit: visit.map(str::to_owned),
        adjunct: None,
        class: None,
        status_reason: None,
    }
}

fn feed_of(store: &Store, names: praxis_core::config::ClientNames) -> String {
    let records = store.export().unwrap();
    ics::feed(&FeedInput {
        name: "Ana's appointments".into(),
        tz: jiff::tz::TimeZone::get("Europe/Berlin").unwrap(),
        appointments: &records.appointments,
        clients: &records.clients,
        rooms: &records.rooms,
        audit: &records.audit,
        client_names: names,
    })
}

fn event_with<'a>(feed: &'a str, uid: &str) -> &'a str {
    let start = feed.find(&format!("UID:{uid}@praxis")).unwrap_or_else(|| panic!("no event {uid} in\n{feed}"));
    let end = feed[start..].find("END:VEVENT").unwrap();
    &feed[start..start + end]
}

#[test]
fn feed_events_rise_in_sequence_with_every_change_and_stay_when_cancelled() {
    let (_dir, store, client) = store_with_calendar();
    let single = appointment(&client.id, "2026-12-02T09:00", 30, None);
    let mut heat = appointment(&client.id, "2026-12-03T10:00", 15, Some("visit-1"));
    heat.adjunct = Some(praxis_sdk::Adjunct::HeatBefore);
    let massage = appointment(&client.id, "2026-12-03T10:15", 45, Some("visit-1"));
    store.book(&[single.clone(), heat, massage], "test").unwrap();

    let feed = feed_of(&store, praxis_core::config::ClientNames::Initials);
    let ev = event_with(&feed, &single.id);
    assert!(ev.contains("SEQUENCE:0") && ev.contains("STATUS:CONFIRMED"), "{ev}");
    assert!(ev.contains("DTSTART;TZID=Europe/Berlin:20261202T090000"), "{ev}");
    assert!(ev.contains("SUMMARY:Massage - M.D.L.S."), "initials only: {ev}");
    assert!(!feed.contains("Maria"), "no names in an initials feed");
    let visit = event_with(&feed, "visit-1");
    assert!(visit.contains("DTSTART;TZID=Europe/Berlin:20261203T100000"), "{visit}");
    assert!(visit.contains("DTEND;TZID=Europe/Berlin:20261203T110000"), "one event spans the visit: {visit}");
    assert!(visit.contains("SUMMARY:Heat\\, massage - M.D.L.S."), "{visit}");
    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 2, "three appointments, two events");
    assert!(feed.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin"));

    store.set_appointment_status(&single.id, AppointmentStatus::Cancelled, "test").unwrap();
    let feed = feed_of(&store, praxis_core::config::ClientNames::Full);
    let ev = event_with(&feed, &single.id);
    assert!(ev.contains("SEQUENCE:1") && ev.contains("STATUS:CANCELLED"), "{ev}");
    assert!(ev.contains("SUMMARY:Massage - Maria de la Santos"), "full names when the practice allows: {ev}");
    let mut moved = single.clone();
    moved.start = at("2026-12-02T11:00");
    moved.status = AppointmentStatus::Booked;
    store.book(&[moved], "test").unwrap();
    let feed = feed_of(&store, praxis_core::config::ClientNames::Initials);
    assert!(event_with(&feed, &single.id).contains("SEQUENCE:2"), "each change raises SEQUENCE");

    let records = store.export().unwrap();
    let input = FeedInput {
        name: "confirmation".into(),
        tz: jiff::tz::TimeZone::UTC,
        appointments: &records.appointments,
        clients: &records.clients,
        rooms: &records.rooms,
        audit: &records.audit,
        client_names: praxis_core::config::ClientNames::Initials,
    };
    let conf = ics::confirmation(&single.id, "Riverside Clinic", &input).unwrap();
    assert!(
        conf.contains("SUMMARY:Massage at Riverside Clinic") && conf.contains("LOCATION:Treatment room 1"),
        "{conf}"
    );
    assert_eq!(conf.matches("BEGIN:VEVENT").count(), 1);
    assert!(matches!(ics::confirmation("nope", "x", &input), Err(InteropError::NotFound { .. })));
}

#[test]
fn feed_tokens_are_kept_hashed_checked_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let mut tokens = FeedTokens::load(dir.path()).unwrap();
    let t1 = tokens.create("ana").unwrap();
    let other = tokens.create("ben").unwrap();
    assert_eq!(t1.len(), 64);
    let kept = std::fs::read_to_string(dir.path().join(ics::FEED_TOKENS_FILE)).unwrap();
    assert!(!kept.contains(&t1), "only the digest is kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(ics::FEED_TOKENS_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "not readable by others: {mode:o}");
    }
    let tokens = FeedTokens::load(dir.path()).unwrap();
    assert!(tokens.check("ana", &t1));
    assert!(!tokens.check("ben", &t1), "a token opens its own practitioner's feed only");
    assert!(!tokens.check("ana", "0000"));
    let mut tokens = tokens;
    let t2 = tokens.create("ana").unwrap();
    assert!(!tokens.check("ana", &t1), "a new token revokes the old");
    assert!(tokens.check("ana", &t2));
    assert!(tokens.revoke("ana").unwrap());
    assert!(!FeedTokens::load(dir.path()).unwrap().check("ana", &t2));
    assert!(FeedTokens::load(dir.path()).unwrap().check("ben", &other));
    assert!(!tokens.revoke("ana").unwrap());
    std::fs::write(dir.path().join(ics::FEED_TOKENS_FILE), "{not json").unwrap();
    assert!(matches!(FeedTokens::load(dir.path()), Err(InteropError::Invalid { .. })));
}

// ----- FHIR import: bad input -----

fn bundle(entries: Value) -> String {
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries }).to_string()
}

fn patient(id: &str) -> Value {
    json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": {
        "resourceType": "Patient", "id": id, "name": [{ "given": ["Ines"], "family": "Moreau" }],
        "birthDate": "1970-05-06", "identifier": [{ "system": "urn:ehr:mrn", "value": "MRN-1" }] } })
}

fn condition(subject: &str, code: &str, extra: Value) -> Value {
    let mut r = json!({ "resourceType": "Condition",
        "code": { "coding": [{ "system": "http://snomed.info/sct", "code": code }] },
        "subject": { "reference": subject } });
    if let (Value::Object(r), Value::Object(e)) = (&mut r, extra) {
        r.extend(e);
    }
    json!({ "resource": r })
}

fn pain(subject: &str, value: Value) -> Value {
    json!({ "resource": { "resourceType": "Observation", "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "72514-3" }] },
        "subject": { "reference": subject }, "valueInteger": value } })
}

#[test]
fn fhir_import_refuses_bad_input_naming_the_place() {
    let today = day("2026-12-01");
    #[track_caller]
    fn check(text: &str, expected: &str) {
        match fhir_import::parse_bundle(text, day("2026-12-01")) {
            Ok(_) => panic!("accepted: {text:.200}"),
            Err(e) => assert!(e.to_string().contains(expected), "{e} (expected `{expected}`)"),
        }
    }
    check("not json", "not JSON");
    check("[]", "no `resourceType`");
    check(r#"{"resourceType":"Patient"}"#, "Patient\" is not `Bundle`");
    check(r#"{"resourceType":"Bundle","entry":{}}"#, "bundle.entry: is not a list");
    check(&bundle(json!([{ "fullUrl": "x" }])), "entry[0]: has no `resource`");
    check(
        &bundle(json!([condition("Patient/ghost", "203082005", json!({}))])),
        "`Patient/ghost` is no Patient of this Bundle",
    );
    check(
        &bundle(json!([patient("p1"), condition("Patient/p2", "203082005", json!({}))])),
        "entry[1].resource.subject.reference",
    );
    check(&bundle(json!([{ "resource": { "resourceType": "Patient", "name": [] } }])), "needs a name");
    let bad_dob =
        json!([{ "resource": { "resourceType": "Patient", "name": [{ "text": "A B" }], "birthDate": "1970-13-40" } }]);
    check(&bundle(bad_dob), "entry[0].resource.birthDate: `1970-13-40` is not a FHIR date");
    let future =
        json!([{ "resource": { "resourceType": "Patient", "name": [{ "text": "A B" }], "birthDate": "2099-01-01" } }]);
    check(&bundle(future), "in the future");
    check(
        &bundle(json!([patient("p1"), condition("Patient/p1", "203082005", json!({ "onsetDateTime": "yesterday" }))])),
        "onsetDateTime",
    );
    let status = json!({ "clinicalStatus": { "coding": [{ "code": "sleeping" }] } });
    check(
        &bundle(json!([patient("p1"), condition("Patient/p1", "203082005", status)])),
        "`sleeping` is not a clinical status",
    );
    check(&bundle(json!([patient("p1"), pain("Patient/p1", json!(11))])), "11 is not a pain score");
    check(&bundle(json!([patient("p1"), pain("Patient/p1", json!(-1))])), "-1 is not a pain score");
    check(&bundle(json!([patient("p1"), pain("Patient/p1", json!(2.5))])), "2.5 is not a pain score");
    check(&bundle(json!([patient("p1"), pain("Patient/ghost", json!(3))])), "no Patient of this Bundle");
    let huge = format!("{{\"resourceType\":\"Bundle\",\"x\":\"{}\"}}", " ".repeat(MAX_IMPORT_BYTES));
    match fhir_import::parse_bundle(&huge, today) {
        Err(e @ InteropError::TooLarge { .. }) => assert!(e.to_string().contains("over the limit")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fhir_import_maps_known_codes_and_reports_the_rest() {
    let entries = json!([
        patient("p1"),
        condition("urn:uuid:p1", "203082005", json!({ "onsetDateTime": "2020-03-04T10:00:00+01:00",
            "clinicalStatus": { "coding": [{ "code": "relapse" }] } })),
        condition("Patient/p1", "69896004", json!({ "clinicalStatus": { "coding": [{ "code": "remission" }] } })),
        condition("Patient/p1", "38341003", json!({})),
        condition("Patient/p1", "279039007", json!({ "clinicalStatus": { "coding": [{ "code": "resolved" }] } })),
        pain("Patient/p1", json!(6)),
        { "resource": { "resourceType": "Encounter", "status": "finished" } },
    ]);
    let out = fhir_import::parse_bundle(&bundle(entries), day("2026-12-01")).unwrap();
    assert_eq!(out.clients.len(), 1);
    let c = &out.clients[0];
    assert_eq!(c.name, "Ines Moreau");
    assert_eq!(c.date_of_birth, Some(day("1970-05-06")));
    assert!(c.identifiers.contains(&ExternalId { system: "urn:ehr:mrn".into(), value: "MRN-1".into() }));
    let got: Vec<(String, praxis_sdk::ConditionStatus, Option<Date>)> =
        c.conditions.iter().map(|x| (x.code.clone(), x.status, x.since)).collect();
    assert_eq!(
        got,
        vec![
            ("203082005".into(), praxis_sdk::ConditionStatus::Flare, Some(day("2020-03-04"))),
            ("69896004".into(), praxis_sdk::ConditionStatus::Remission, None),
        ]
    );
    assert_eq!(out.report.pain_observations, 1);
    assert_eq!(out.report.skipped.get("Encounter"), Some(&1));
    let notes = out.report.not_mapped.join("\n");
    assert!(notes.contains("entry[3]: Condition http://snomed.info/sct|38341003"), "{notes}");
    assert!(notes.contains("entry[4]: Condition 279039007 is resolved"), "{notes}");

    // All or nothing: a store refusal leaves nothing behind.
    let (_dir, store, _) = store_with_calendar();
    let before = store.clients().unwrap().len();
    let long = "x".repeat(5000);
    let bad = bundle(json!([patient("p1"), { "resource": { "resourceType": "Patient", "name": [{ "text": long }] } }]));
    assert!(fhir_import::import_bundle(&store, &bad, day("2026-12-01"), "test").is_err());
    assert_eq!(store.clients().unwrap().len(), before, "nothing half-written");
}

// ----- FHIR export -----

#[test]
fn references_resolve_and_pain_scores_are_told_apart() {
    let (_dir, store, mut client) = store_with_calendar();
    client.conditions.push(praxis_sdk::Condition {
        code: praxis_sdk::snomed::FIBROMYALGIA.into(),
        name: String::new(),
        status: praxis_sdk::ConditionStatus::Flare,
        since: None,
    });
    store.put_client_as_of(&client, day("2026-11-01"), "test").unwrap();
    let session = praxis_core::store::Session {
        id: new_id(),
        client: client.id.clone(),
        practitioner: "ana".into(),
        discipline: Discipline::Massage,
        start: at("2026-11-20T09:00"),
        minutes: 30,
        pressure: None,
        techniques: vec![],
        regions: vec![],
        pain_before: Some(6),
        pain_after: Some(4),
        follow_up_pain: Some(3),
        follow_up_at: None,
        adverse_event: Default::default(),
        adjuncts: vec![],
        notes: String::new(),
        pain_medication: None,
    };
    store.record_session(&session, day("2026-11-20"), "test").unwrap();
    store.book(&[appointment(&client.id, "2026-12-02T09:00", 30, None)], "test").unwrap();
    let records: PracticeExport = store.export().unwrap();
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let exporter = fhir::FhirExporter::new(&records, tz, "Clinic");
    let b = exporter.bundle();
    let urls: Vec<&str> = b["entry"].as_array().unwrap().iter().map(|e| e["fullUrl"].as_str().unwrap()).collect();
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, v)| match (k.as_str(), v) {
                ("reference", Value::String(s)) => out.push(s),
                _ => refs(v, out),
            }),
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&b, &mut all);
    assert!(all.len() > 10);
    for r in all {
        assert!(urls.contains(&r), "{r} does not resolve");
    }
    let obs: Vec<&Value> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Observation")
        .collect();
    let timing: Vec<(String, i64)> = obs
        .iter()
        .map(|o| {
            (o["category"][1]["coding"][0]["code"].as_str().unwrap().to_owned(), o["valueInteger"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(timing, vec![("before".into(), 6), ("after".into(), 4), ("follow-up".into(), 3)]);
    assert_eq!(obs[0]["effectiveDateTime"], "2026-11-20T09:00:00+01:00");
    assert_eq!(obs[1]["effectiveDateTime"], "2026-11-20T09:30:00+01:00");
    assert_eq!(obs[0]["code"]["coding"][0]["code"], "72514-3");
    let cond = b["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == "Condition").unwrap();
    assert_eq!(cond["resource"]["clinicalStatus"]["coding"][0]["code"], "relapse");

    let everything = exporter.everything(&client.id, "https://praxis.test/fhir/r4").unwrap();
    assert_eq!(everything["type"], "searchset");
    assert_eq!(everything["total"].as_u64().unwrap() as usize, everything["entry"].as_array().unwrap().len());
    assert!(matches!(exporter.patient("nobody"), Err(InteropError::NotFound { .. })));
    assert_eq!(exporter.patient(&client.id).unwrap()["name"][0]["family"], "Santos");
    assert_eq!(fhir::full_url("Patient", "a"), fhir::full_url("Patient", "a"), "stable names");
    assert_ne!(fhir::full_url("Patient", "a"), fhir::full_url("Encounter", "a"));
    assert_eq!(fhir::resource_id("room_1"), fhir::resource_id("room_1"));
    assert!(fhir::resource_id("room_1").starts_with('x'));
}

// ----- CDS Hooks -----

/// A JSON Schema written from the CDS Hooks 2.0 specification
/// (https://cds-hooks.hl7.org/2.0/), each definition with its section in `$comment`.
fn cds_schema() -> Value {
    serde_json::from_str(include_str!("interop/cds-hooks-2.0.schema.json")).expect("the schema is JSON")
}

fn validator(def: &str) -> jsonschema::Validator {
    let mut schema = cds_schema();
    schema["$ref"] = json!(format!("#/$defs/{def}"));
    jsonschema::options().should_validate_formats(true).build(&schema).expect("the schema compiles")
}

#[track_caller]
fn assert_valid(def: &str, value: &Value) {
    let v = validator(def);
    let errors: Vec<String> = v.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{def} does not follow CDS Hooks 2.0: {errors:#?}\n{value:#}");
}

/// A client whose guidance has a critical card (S1, recent injury), a warning (S3, no intake).
fn guidance_for_injured_client() -> praxis_core::world::ClientGuidance {
    let snapshot = ClientSnapshot {
        id: "c1".into(),
        red_flags: vec![RedFlag {
            kind: RedFlagKind::RecentInjury,
            region: Some("shoulder".into()),
            date: Some(day("2026-11-25")),
            resolved: None,
            note: String::new(),
        }],
        ..ClientSnapshot::default()
    };
    evaluate_client(&PluginRegistry::default(), &HostRules::default(), day("2026-12-01"), &snapshot)
}

#[test]
fn discovery_cards_and_feedback_follow_the_specification() {
    let d = cds::discovery();
    assert_valid("discovery", &d);
    let hooks: Vec<&str> = d["services"].as_array().unwrap().iter().map(|s| s["hook"].as_str().unwrap()).collect();
    assert_eq!(hooks, ["patient-view", "appointment-book"]);

    let options = CardOptions { rules_url: "https://praxis.test/rules".into() };
    let g = guidance_for_injured_client();
    assert!(g.rules().contains(&"S1") && g.rules().contains(&"S3"), "{:?}", g.rules());
    let view = cds::response(Hook::PatientView, Some(&g), &[], &options);
    assert_valid("response", &view);
    let rules: Vec<&str> =
        view["cards"].as_array().unwrap().iter().map(|c| c["extension"]["praxis-rule"].as_str().unwrap()).collect();
    assert_eq!(rules, g.rules(), "the same cards as `praxis guidance`, in order");
    let s1 = &view["cards"][0];
    assert_eq!(s1["indicator"], "critical");
    assert_eq!(s1["source"]["url"], "https://praxis.test/rules#s1");
    assert!(s1["overrideReasons"][0]["system"].is_string() && s1["overrideReasons"][0]["display"].is_string());
    let uuids: std::collections::HashSet<&str> =
        view["cards"].as_array().unwrap().iter().map(|c| c["uuid"].as_str().unwrap()).collect();
    assert_eq!(uuids.len(), g.cards.len(), "one uuid per card");

    let book = cds::response(Hook::AppointmentBook, Some(&g), &[], &options);
    assert_valid("response", &book);
    let book_rules: Vec<&str> =
        book["cards"].as_array().unwrap().iter().map(|c| c["extension"]["praxis-rule"].as_str().unwrap()).collect();
    assert_eq!(book_rules, ["S1"], "critical cards only, when booking is refused");
    let overridden =
        cds::response(Hook::AppointmentBook, Some(&g), &[OverrideGrant::new("S1", "provider-cleared")], &options);
    assert_eq!(overridden, json!({ "cards": [] }), "nothing to say when the client may be booked");
    let unknown = cds::response(Hook::PatientView, None, &[], &options);
    assert_valid("response", &unknown);
    assert_eq!(unknown, json!({ "cards": [] }));

    // The schema catches what the specification forbids.
    let mut long = s1.clone();
    long["summary"] = json!("x".repeat(140));
    assert!(!validator("card").is_valid(&long), "summary must be under 140 characters");
    let mut no_behaviour = s1.clone();
    no_behaviour["suggestions"] = json!([{ "label": "a" }]);
    no_behaviour.as_object_mut().unwrap().remove("selectionBehavior");
    assert!(!validator("card").is_valid(&no_behaviour), "suggestions need selectionBehavior");
    assert!(
        !validator("card").is_valid(&json!({ "summary": "s", "indicator": "hard-stop", "source": { "label": "x" } }))
    );

    let feedback = json!({ "feedback": [
        { "card": "c1", "outcome": "accepted", "acceptedSuggestions": [{ "id": "s1" }], "outcomeTimestamp": "2026-12-01T10:00:00Z" },
        { "card": "c2", "outcome": "overridden", "overrideReason": { "reason": { "code": "provider-cleared",
            "system": "urn:praxis:override-reason" }, "userComment": "cleared by GP" }, "outcomeTimestamp": "2026-12-01T10:01:00Z" },
    ] });
    assert_valid("feedback", &feedback);
    let records = cds::parse_feedback(cds::PATIENT_VIEW_ID, feedback.to_string().as_bytes()).unwrap();
    assert_eq!(records[1].override_reason.as_deref(), Some("provider-cleared"));
    assert_eq!(records[1].user_comment.as_deref(), Some("cleared by GP"));
    let (_dir, store, _) = store_with_calendar();
    store.record_cds_feedback(&records, "ehr:https://ehr.test").unwrap();
    let audited: Vec<_> = store.audit().unwrap().into_iter().filter(|e| e.entity == "cds_feedback").collect();
    assert_eq!(audited.len(), 2);
    assert_eq!(audited[0].key, "c1");
    for (body, expected) in [
        (json!({}), "feedback: is required"),
        (
            json!({ "feedback": [{ "card": "c", "outcome": "maybe", "outcomeTimestamp": "2026-12-01T10:00:00Z" }] }),
            "neither",
        ),
        (
            json!({ "feedback": [{ "card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-12-01T10:00:00Z" }] }),
            "acceptedSuggestions",
        ),
        (
            json!({ "feedback": [{ "card": "c", "outcome": "overridden", "outcomeTimestamp": "noon" }] }),
            "not an ISO 8601",
        ),
    ] {
        let e = cds::parse_feedback(cds::PATIENT_VIEW_ID, body.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().contains(expected), "{e}");
    }
}

#[test]
fn requests_are_checked_like_the_schema_checks_them() {
    let ok_view = json!({ "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": { "userId": "Practitioner/example", "patientId": "1288992" },
        "prefetch": { "patient": { "resourceType": "Patient", "id": "1288992" } } });
    assert_valid("request", &ok_view);
    let r = cds::parse_request(cds::PATIENT_VIEW_ID, ok_view.to_string().as_bytes()).unwrap();
    assert_eq!(
        (r.hook, r.patient_id.as_str(), r.user_id.as_deref()),
        (Hook::PatientView, "1288992", Some("Practitioner/example"))
    );
    assert!(r.prefetch.is_some());
    let ok_book = json!({ "hook": "appointment-book", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2eb",
        "context": { "userId": "Practitioner/example", "patientId": "1288992",
            "appointments": { "resourceType": "Bundle", "type": "collection", "entry": [
                { "resource": { "resourceType": "Appointment", "status": "proposed" } }] } } });
    assert_valid("request", &ok_book);
    assert_eq!(
        cds::parse_request(cds::APPOINTMENT_BOOK_ID, ok_book.to_string().as_bytes()).unwrap().appointments.len(),
        1
    );

    #[track_caller]
    fn check(service: &str, body: &str, expected: &str, schema_refuses: bool) {
        let e = cds::parse_request(service, body.as_bytes()).unwrap_err();
        assert!(e.to_string().contains(expected), "{e} (expected `{expected}`)");
        assert!(e.is_caller_error());
        if schema_refuses {
            let v: Value = serde_json::from_str(body).unwrap();
            assert!(!validator("request").is_valid(&v), "the schema accepts what parse_request refuses: {body}");
        }
    }
    let view = cds::PATIENT_VIEW_ID;
    check("nope", "{}", "no CDS service `nope`", false);
    check(view, "{", "not JSON", false);
    check(view, "[]", "is not a JSON object", true);
    check(
        view,
        r#"{"hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":{"userId":"u","patientId":"p"}}"#,
        "hook: is required",
        true,
    );
    check(
        view,
        r#"{"hook":"appointment-book","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":{"userId":"u","patientId":"p"}}"#,
        "is not `patient-view`",
        true,
    );
    check(
        view,
        r#"{"hook":"patient-view","hookInstance":"not-a-uuid","context":{"userId":"u","patientId":"p"}}"#,
        "is not a UUID",
        true,
    );
    check(
        view,
        r#"{"hook":"patient-view","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"}"#,
        "context: is required",
        true,
    );
    check(
        view,
        r#"{"hook":"patient-view","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":{"userId":"u"}}"#,
        "context.patientId",
        true,
    );
    check(
        view,
        r#"{"hook":"patient-view","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":{"userId":"u","patientId":"p"},"fhirAuthorization":{"access_token":"t","token_type":"Bearer","expires_in":300,"scope":"s","subject":"x"}}"#,
        "fhirServer",
        true,
    );
    check(
        view,
        r#"{"hook":"patient-view","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":{"userId":"u","patientId":"p"},"prefetch":[]}"#,
        "prefetch: is not an object",
        true,
    );
    let book = cds::APPOINTMENT_BOOK_ID;
    check(
        book,
        r#"{"hook":"appointment-book","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":{"userId":"u","patientId":"p"}}"#,
        "context.appointments",
        true,
    );
    check(
        book,
        r#"{"hook":"appointment-book","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":{"userId":"u","patientId":"p","appointments":{"resourceType":"Patient"}}}"#,
        "is not a FHIR Bundle",
        true,
    );
    let big = format!("{{\"x\":\"{}\"}}", " ".repeat(cds::MAX_REQUEST_BYTES));
    assert!(matches!(cds::parse_request(view, big.as_bytes()), Err(InteropError::TooLarge { .. })));
}

#[test]
fn patient_ids_map_to_clients_through_their_identifiers() {
    let mut a = Client::new("0190a1b2-0000-7000-8000-000000000001", "A");
    a.identifiers.push(ExternalId { system: "urn:ehr:mrn".into(), value: "MRN-7".into() });
    let b = Client::new("0190a1b2-0000-7000-8000-000000000002", "B");
    let clients = vec![a, b];
    let name = |id: &str, system: Option<&str>| cds::find_client(&clients, id, system).map(|c| c.name.clone());
    assert_eq!(name("MRN-7", None).as_deref(), Some("A"));
    assert_eq!(name("MRN-7", Some("urn:ehr:mrn")).as_deref(), Some("A"));
    assert_eq!(name("MRN-7", Some("urn:other")), None);
    assert_eq!(name("Patient/0190a1b2-0000-7000-8000-000000000002", None).as_deref(), Some("B"));
    assert_eq!(name("unknown", None), None, "an unknown patient: no client, so no cards");
}

// ----- JWT -----

/// A P-384 key made now, its JWKS, and a signer.
struct Ehr {
    key: jsonwebtoken::EncodingKey,
    jwks: String,
}

impl Ehr {
    fn new(kid: &str) -> Ehr {
        use p384::pkcs8::EncodePrivateKey as _;
        let mut bytes = [0u8; 48];
        use std::io::Read as _;
        std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut bytes).unwrap();
        let secret = p384::SecretKey::from_slice(&bytes).expect("a P-384 scalar");
        let der = secret.to_pkcs8_der().unwrap();
        let key = jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes());
        let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES384).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        let jwks = serde_json::to_string(&jsonwebtoken::jwk::JwkSet { keys: vec![jwk] }).unwrap();
        Ehr { key, jwks }
    }

    fn token(&self, kid: &str, claims: Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
        header.kid = Some(kid.to_owned());
        format!("Bearer {}", jsonwebtoken::encode(&header, &claims, &self.key).unwrap())
    }
}

#[test]
fn jwt_check_follows_the_specification() {
    const BASE: &str = "https://praxis.test/cds-services";
    const AUD: &str = "https://praxis.test/cds-services/praxis-patient-view";
    let ehr = Ehr::new("k1");
    let stranger = Ehr::new("k1");
    let verifier = JwtVerifier::new(BASE, vec![TrustedEhr::from_jwks("https://ehr.test", &ehr.jwks).unwrap()]);
    let now = jsonwebtoken::get_current_timestamp();
    let claims = |jti: &str| json!({ "iss": "https://ehr.test", "aud": AUD, "exp": now + 300, "iat": now, "jti": jti });

    let ok = verifier.verify(Some(&ehr.token("k1", claims("a"))), cds::PATIENT_VIEW_ID).unwrap();
    assert_eq!(ok.jti, "a");

    #[track_caller]
    fn check(verifier: &JwtVerifier, header: Option<&str>, expected: &str) {
        match verifier.verify(header, cds::PATIENT_VIEW_ID) {
            Ok(c) => panic!("accepted {c:?}"),
            Err(e) => {
                assert!(matches!(e, InteropError::Unauthorized(_)));
                assert!(e.to_string().contains(expected), "{e} (expected `{expected}`)");
            }
        }
    }
    check(&verifier, Some(&ehr.token("k1", claims("a"))), "was used before");
    check(&verifier, None, "no Authorization header");
    check(&verifier, Some("Basic abc"), "not `Bearer <JWT>`");
    check(&verifier, Some("Bearer not.a.jwt"), "not a JWT");
    check(&verifier, Some(&stranger.token("k1", claims("b"))), "signature does not check");
    check(&verifier, Some(&ehr.token("k2", claims("c"))), "no key `k2`");
    let mut other_iss = claims("d");
    other_iss["iss"] = json!("https://evil.test");
    check(&verifier, Some(&ehr.token("k1", other_iss)), "not a trusted EHR");
    let mut wrong_aud = claims("e");
    wrong_aud["aud"] = json!("https://elsewhere.test/cds-services/x");
    check(&verifier, Some(&ehr.token("k1", wrong_aud)), "`aud` is not this service");
    let mut expired = claims("f");
    expired["exp"] = json!(now - 3600);
    check(&verifier, Some(&ehr.token("k1", expired)), "expired");
    let mut no_jti = claims("g");
    no_jti.as_object_mut().unwrap().remove("jti");
    check(&verifier, Some(&ehr.token("k1", no_jti)), "incomplete");
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims("h"),
        &jsonwebtoken::EncodingKey::from_secret(b"shared").unwrap(),
    )
    .unwrap();
    check(&verifier, Some(&format!("Bearer {hs}")), "is not accepted");
    assert!(TrustedEhr::from_jwks("x", "{}").is_err());
    assert!(TrustedEhr::from_jwks("x", r#"{"keys":[]}"#).is_err());
    // A new token with a new jti is fine.
    assert!(verifier.verify(Some(&ehr.token("k1", claims("z"))), cds::PATIENT_VIEW_ID).is_ok());
    // A token for one service does not open another.
    let e = verifier.verify(Some(&ehr.token("k1", claims("y"))), cds::APPOINTMENT_BOOK_ID).unwrap_err();
    assert!(e.to_string().contains("`aud` is not this service"), "{e}");
}

#[test]
fn a_jwks_url_must_be_https_or_come_from_this_machine() {
    #[track_caller]
    fn check(url: &str, expected: Option<&str>) {
        match (jwt::check_jwks_url(url), expected) {
            (Ok(()), None) => {}
            (Err(e), Some(want)) => assert!(e.contains(want), "{url}: `{e}` does not say `{want}`"),
            (got, want) => panic!("{url}: got {got:?}, expected {want:?}"),
        }
    }
    check("https://ehr.example.org/.well-known/jwks.json", None);
    check("http://127.0.0.1:8080/jwks.json", None);
    check("http://localhost/jwks", None);
    check("http://[::1]:9000/jwks", None);
    check("http://ehr.example.org/jwks.json", Some("plain HTTP to another machine"));
    check("http://127.0.0.1.evil.test/jwks", Some("plain HTTP to another machine"));
    check("http://user@ehr.example.org/jwks", Some("plain HTTP to another machine"));
    check("ftp://ehr.example.org/jwks", Some("not an https:// URL"));
    check("ehr.example.org/jwks", Some("not an https:// URL"));
    check("https:///jwks", Some("names no host"));
}

#[test]
fn keys_from_a_jwks_url_are_fetched_when_needed_and_again_when_the_ehr_rotates_them() {
    use std::sync::{Arc, Mutex};
    const BASE: &str = "https://praxis.test/cds-services";
    const AUD: &str = "https://praxis.test/cds-services/praxis-patient-view";
    let first = Ehr::new("k1");
    let rotated = Ehr::new("k2");
    // What the EHR's URL answers now, and how often it was asked.
    let served: Arc<Mutex<Result<String, String>>> = Arc::new(Mutex::new(Ok(first.jwks.clone())));
    let fetches = Arc::new(Mutex::new(0));
    let fetcher: jwt::JwksFetcher = {
        let (served, fetches) = (served.clone(), fetches.clone());
        Box::new(move |url: &str| {
            assert_eq!(url, "https://ehr.test/jwks.json");
            *fetches.lock().unwrap() += 1;
            served.lock().unwrap().clone().map_err(|message| InteropError::Fetch { url: url.into(), message })
        })
    };
    let verifier = JwtVerifier::new(BASE, Vec::new())
        .with_remote(vec![("https://ehr.test".into(), "https://ehr.test/jwks.json".into())], Some(fetcher));
    let now = jsonwebtoken::get_current_timestamp();
    let claims = |jti: &str| json!({ "iss": "https://ehr.test", "aud": AUD, "exp": now + 300, "iat": now, "jti": jti });
    let verify =
        |ehr: &Ehr, kid: &str, jti: &str| verifier.verify(Some(&ehr.token(kid, claims(jti))), cds::PATIENT_VIEW_ID);

    assert_eq!(*fetches.lock().unwrap(), 0, "nothing is fetched before a call needs it");
    assert_eq!(verify(&first, "k1", "a").unwrap().jti, "a");
    assert_eq!(verify(&first, "k1", "b").unwrap().jti, "b");
    assert_eq!(*fetches.lock().unwrap(), 1, "the keys are kept between calls");
    // The EHR rotates its key: a token naming the new kid fetches at once.
    *served.lock().unwrap() = Ok(rotated.jwks.clone());
    // ... but at most every JWKS_RETRY: the first fetch was just now.
    let e = verify(&rotated, "k2", "c").unwrap_err();
    assert!(e.to_string().contains("no key `k2`"), "{e}");
    assert_eq!(*fetches.lock().unwrap(), 1, "an unknown kid does not fetch again within {:?}", jwt::JWKS_RETRY);
    // Past the retry interval, the unknown kid fetches the rotated keys.
    let verifier = verifier.with_retry(std::time::Duration::ZERO);
    let verify =
        |ehr: &Ehr, kid: &str, jti: &str| verifier.verify(Some(&ehr.token(kid, claims(jti))), cds::PATIENT_VIEW_ID);
    assert_eq!(verify(&rotated, "k2", "c2").unwrap().jti, "c2");
    assert_eq!(*fetches.lock().unwrap(), 2);
    // The EHR's URL goes down: the keys fetched before still check its tokens.
    *served.lock().unwrap() = Err("connection refused".into());
    assert_eq!(verify(&rotated, "k2", "c3").unwrap().jti, "c3", "a known kid needs no fetch");
    let e = verify(&first, "k1", "c4").unwrap_err();
    assert!(e.to_string().contains("no key `k1`"), "the old key is gone after the rotation: {e}");
    assert_eq!(*fetches.lock().unwrap(), 3, "the unknown kid tried a fetch, which failed");

    // A URL that fails with no keys fetched before: refused, with the reason.
    let failing: jwt::JwksFetcher =
        Box::new(|url: &str| Err(InteropError::Fetch { url: url.into(), message: "connection refused".into() }));
    let down = JwtVerifier::new(BASE, Vec::new())
        .with_remote(vec![("https://ehr.test".into(), "https://ehr.test/jwks.json".into())], Some(failing));
    let e = down.verify(Some(&first.token("k1", claims("d"))), cds::PATIENT_VIEW_ID).unwrap_err();
    assert!(matches!(e, InteropError::Unauthorized(_)), "{e:?}");
    assert!(e.to_string().contains("no keys for `https://ehr.test`"), "{e}");
    assert!(e.to_string().contains("connection refused"), "{e}");
    let e = down.verify(Some(&first.token("k1", claims("e"))), cds::PATIENT_VIEW_ID).unwrap_err();
    assert!(e.to_string().contains("try again later"), "a second call does not fetch at once: {e}");

    // A URL that answers something that is not a JWKS: refused, and said so.
    let junk: jwt::JwksFetcher = Box::new(|_: &str| Ok("<html>login</html>".into()));
    let junk = JwtVerifier::new(BASE, Vec::new())
        .with_remote(vec![("https://ehr.test".into(), "https://ehr.test/jwks.json".into())], Some(junk));
    let e = junk.verify(Some(&first.token("k1", claims("f"))), cds::PATIENT_VIEW_ID).unwrap_err();
    assert!(e.to_string().contains("not a JSON Web Key Set"), "{e}");
}

#[test]
fn fetch_jwks_reads_a_jwks_over_http_from_this_machine_and_refuses_what_is_not_one() {
    use std::io::{Read as _, Write as _};
    /// Serves one answer per connection on loopback, `n` times.
    fn serve(answers: Vec<(u16, Vec<u8>)>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for (status, body) in answers {
                let (mut conn, _) = listener.accept().unwrap();
                let mut request = [0u8; 4096];
                let _ = conn.read(&mut request);
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&body);
            }
        });
        format!("http://{addr}/jwks.json")
    }
    let ehr = Ehr::new("k1");
    let big = vec![b' '; jwt::MAX_JWKS_BYTES as usize + 10];
    let url = serve(vec![(200, ehr.jwks.clone().into_bytes()), (404, b"{}".to_vec()), (200, big)]);
    let text = jwt::fetch_jwks(&url).unwrap();
    assert!(TrustedEhr::from_jwks("https://ehr.test", &text).is_ok(), "{text}");
    let e = jwt::fetch_jwks(&url).unwrap_err();
    assert!(matches!(e, InteropError::Fetch { .. }) && e.to_string().contains("404"), "{e}");
    let e = jwt::fetch_jwks(&url).unwrap_err();
    assert!(e.to_string().contains("at most"), "an over-large answer is refused: {e}");
    let e = jwt::fetch_jwks("http://ehr.example.org/jwks.json").unwrap_err();
    assert!(e.to_string().contains("plain HTTP"), "{e}");
    assert!(!e.is_caller_error());
}

#[test]
fn errors_say_whether_the_caller_is_at_fault() {
    let e = fhir_import::parse_bundle("{}", day("2026-12-01")).unwrap_err();
    assert!(e.is_caller_error());
    let io = InteropError::Io { path: "x".into(), error: std::io::Error::other("disk") };
    assert!(!io.is_caller_error());
    let _ = TimeOfDay::MIDNIGHT;
}

#[test]
fn answer_maps_the_patient_and_gives_the_clients_cards() {
    let (dir, store, mut client) = store_with_calendar();
    client.identifiers.push(ExternalId { system: "urn:ehr:mrn".into(), value: "MRN-7".into() });
    client.red_flags.push(RedFlag {
        kind: RedFlagKind::RecentInjury,
        region: Some("knee".into()),
        date: Some(day("2026-11-28")),
        resolved: None,
        note: String::new(),
    });
    store.put_client_as_of(&client, day("2026-11-28"), "test").unwrap();
    let options = CardOptions { rules_url: "https://praxis.test/rules".into() };
    let call = |service: &str, patient: &str| {
        let mut body = json!({ "hook": Hook::of_service(service).unwrap().as_str(),
            "hookInstance": uuid_like(), "context": { "userId": "Practitioner/1", "patientId": patient } });
        if service == cds::APPOINTMENT_BOOK_ID {
            body["context"]["appointments"] = json!({ "resourceType": "Bundle", "type": "collection" });
        }
        cds::answer(
            service,
            body.to_string().as_bytes(),
            &store,
            &PluginRegistry::default(),
            &HostRules::default(),
            &Default::default(),
            day("2026-12-01"),
            Some("urn:ehr:mrn"),
            &options,
        )
        .unwrap()
    };
    let rules = |v: &Value| -> Vec<String> {
        v["cards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["extension"]["praxis-rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(rules(&call(cds::PATIENT_VIEW_ID, "MRN-7")).contains(&"S1".to_owned()));
    assert_eq!(rules(&call(cds::APPOINTMENT_BOOK_ID, "MRN-7")), ["S1"]);
    assert_eq!(call(cds::PATIENT_VIEW_ID, "MRN-8"), json!({ "cards": [] }), "unknown patient: no cards");
    let ov = praxis_core::store::Override {
        id: new_id(),
        client: client.id.clone(),
        rule: "S1".into(),
        card_summary: "s".into(),
        reason: "provider-cleared".into(),
        at: at("2026-11-30T09:00"),
        appointment: None,
    };
    store.record_override(&ov, "test").unwrap();
    assert_eq!(call(cds::APPOINTMENT_BOOK_ID, "MRN-7"), json!({ "cards": [] }), "an override lets the booking through");

    // The feed route: the token opens the practitioner's feed and nothing else.
    let text = "[practice]\nname = \"Clinic\"\ntime_zone = \"Europe/Berlin\"\n\n[[practitioners]]\nid = \"ana\"\nname = \"Ana Lima\"\ndisciplines = [\"massage\"]\n\n[[rooms]]\nid = \"room-1\"\nname = \"Treatment room 1\"\nkind = \"treatment_room\"\n";
    let config =
        praxis_core::config::PracticeConfig::parse(text, &dir.path().join("praxis.toml"), Some(dir.path())).unwrap();
    store.book(&[appointment(&client.id, "2026-12-02T09:00", 30, None)], "test").unwrap();
    let mut tokens = FeedTokens::load(dir.path()).unwrap();
    let token = tokens.create("ana").unwrap();
    let feed = ics::practitioner_feed(&store, &config, &tokens, "ana", &token, day("2026-12-01"), 7).unwrap();
    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 1);
    for (who, t) in [("ana", "wrong"), ("nobody", token.as_str())] {
        let e = ics::practitioner_feed(&store, &config, &tokens, who, t, day("2026-12-01"), 7).unwrap_err();
        assert!(matches!(e, InteropError::Unauthorized(_)), "{e}");
    }
}

fn uuid_like() -> String {
    "0190a1b2-0000-7000-8000-00000000000a".to_owned()
}
