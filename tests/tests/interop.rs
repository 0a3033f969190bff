//! Issue 14 end to end, against validators no one here wrote: the demo's FHIR
//! export (every resource, the `$everything` bundle and the
//! CapabilityStatement) validates with PyPI `fhir.resources` 6.4 (FHIR R4
//! 4.0.1); the calendar feed parses with PyPI `icalendar`; the CDS Hooks
//! cards of every demo client follow the JSON Schema written from the CDS
//! Hooks 2.0 specification and carry the same rule ids as `praxis guidance
//! --json`; a FHIR export imported into a new practice gives the same
//! patients and conditions; bad FHIR imports exit 2 and change nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use praxis_core::interop::cds::{self, CardOptions, Hook};
use praxis_core::interop::fhir;
use praxis_core::store::PracticeExport;
use praxis_core::world::ClientGuidance;
use praxis_tests::{artifacts, python};
use serde_json::{Value, json};

/// Runs praxis on a practice. One at a time: the tests share the demo
/// practice, and a store is open to one process at a time.
fn praxis(data: &Path, args: &[&str]) -> Output {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    Command::new(&artifacts().praxis_bin)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("PRAXIS_DATA")
        .env_remove("PRAXIS_CONFIG")
        .env_remove("PRAXIS_PLUGIN_PATH")
        .env("PRAXIS_USER", "e2e-test")
        .env("RUST_LOG", "error")
        .output()
        .expect("run praxis")
}

#[track_caller]
fn ok(data: &Path, args: &[&str]) -> String {
    let out = praxis(data, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "praxis {args:?} failed:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// One demo practice for all the tests of this file (the demo takes a while).
struct Demo {
    _dir: tempfile::TempDir,
    data: PathBuf,
    fhir: PathBuf,
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("clinic");
        ok(&data, &["demo"]);
        let fhir = dir.path().join("demo.fhir.json");
        let path = fhir.to_str().unwrap();
        let out = praxis(&data, &["export", "--format", "fhir", "--out", path]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("FHIR R4 resources"));
        Demo { _dir: dir, data, fhir }
    })
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs the fhir.resources validator on a bundle file; panics with its findings.
fn validate_fhir(python: &Path, bundle: &Path) -> String {
    let script = praxis_tests::workspace_root().join("tests/tests/interop/validate_fhir.py");
    let out = Command::new(python).arg(&script).arg(bundle).output().expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "fhir.resources refused {}:\n{stdout}\n{}",
        bundle.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_demos_fhir_export_validates_with_fhir_resources() {
    let Some(python) = python() else { return };
    let d = demo();
    let bundle = read_json(&d.fhir);
    assert_eq!(bundle["type"], "collection");
    let counts = fhir::count_by_type(&bundle);
    for t in [
        "Patient",
        "Consent",
        "Practitioner",
        "PractitionerRole",
        "Location",
        "Condition",
        "Encounter",
        "Observation",
        "CarePlan",
        "Appointment",
    ] {
        assert!(counts.get(t).copied().unwrap_or(0) > 0, "no {t} in the demo's export: {counts:?}");
    }
    let said = validate_fhir(&python, &d.fhir);
    let total: usize = counts.values().sum();
    assert_eq!(said.trim(), format!("ok {total}"));

    // The server's per-patient resources, from the same records.
    let records = open_records(&d.data);
    let config = praxis_core::config::PracticeConfig::load(&d.data.join("praxis.toml"), Some(&d.data)).unwrap();
    let exporter = fhir::FhirExporter::new(&records, config.time_zone(), "Demo");
    let dir = tempfile::tempdir().unwrap();
    for c in records.clients.iter().take(4) {
        let everything = exporter.everything(&c.id, "https://praxis.test/fhir/r4").unwrap();
        let path = dir.path().join(format!("{}.json", c.id));
        std::fs::write(&path, everything.to_string()).unwrap();
        validate_fhir(&python, &path);
    }
    let capability = json!({ "resourceType": "Bundle", "type": "collection", "entry": [
        { "fullUrl": "urn:uuid:0190a1b2-0000-7000-8000-000000000001",
          "resource": fhir::capability_statement("https://praxis.test/fhir/r4", "0.1.0") },
        { "fullUrl": "urn:uuid:0190a1b2-0000-7000-8000-000000000002",
          "resource": exporter.patient(&records.clients[0].id).unwrap() },
    ] });
    let path = dir.path().join("capability.json");
    std::fs::write(&path, capability.to_string()).unwrap();
    validate_fhir(&python, &path);
}

/// A practice's records, through `praxis export` (the tests share the demo,
/// so none of them holds its store open).
fn open_records(data: &Path) -> PracticeExport {
    PracticeExport::from_json(&ok(data, &["export"])).expect("praxis export reads back")
}

#[test]
fn the_calendar_feed_parses_with_icalendar() {
    let Some(python) = python() else { return };
    let d = demo();
    let ics = ok(&d.data, &["schedule", "show", "--days", "28", "--ics"]);
    let path = d.data.join("feed.ics");
    std::fs::write(&path, &ics).unwrap();
    let script = r#"
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
events = cal.walk('VEVENT')
uids = [str(e['UID']) for e in events]
assert len(uids) == len(set(uids)), 'UIDs are not unique'
tz = cal.walk('VTIMEZONE')
assert len(tz) == 1 and str(tz[0]['TZID']) == 'Europe/London', tz
for e in events:
    assert e.decoded('DTSTART').tzinfo is not None, 'DTSTART has no zone'
    assert e.decoded('DTEND') > e.decoded('DTSTART')
    assert int(e['SEQUENCE']) >= 0
    assert str(e['STATUS']) in ('CONFIRMED', 'CANCELLED')
print(len(events))
"#;
    let out = Command::new(python).arg("-c").arg(script).arg(&path).output().unwrap();
    assert!(out.status.success(), "icalendar refused the feed:\n{}", String::from_utf8_lossy(&out.stderr));
    let events: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(events > 10, "the demo's four weeks have events: {events}");
    assert_eq!(events, ics.matches("BEGIN:VEVENT").count());
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "a line over 75 octets: {line}");
    }
    let names: Vec<String> = open_records(&d.data).clients.into_iter().map(|c| c.name).collect();
    for name in names {
        assert!(!ics.contains(&name), "the feed names {name}: initials only by default");
    }
}

#[test]
fn cds_cards_of_every_demo_client_follow_the_specification() {
    let d = demo();
    let schema: Value =
        serde_json::from_str(include_str!("../../core/tests/interop/cds-hooks-2.0.schema.json")).unwrap();
    let mut response_schema = schema.clone();
    response_schema["$ref"] = json!("#/$defs/response");
    let validator = jsonschema::options().should_validate_formats(true).build(&response_schema).unwrap();
    let all: Vec<ClientGuidance> = serde_json::from_str(&ok(&d.data, &["guidance", "--all", "--json"])).unwrap();
    let options = CardOptions { rules_url: "https://praxis.test/rules".into() };
    let mut seen = std::collections::BTreeSet::new();
    let mut blocked = 0;
    for g in &all {
        let view = cds::response(Hook::PatientView, Some(g), &[], &options);
        let errors: Vec<String> =
            validator.iter_errors(&view).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "client {}: {errors:#?}", g.client);
        let rules: Vec<&str> =
            view["cards"].as_array().unwrap().iter().map(|c| c["extension"]["praxis-rule"].as_str().unwrap()).collect();
        assert_eq!(rules, g.rules(), "client {}: the same rule ids as `praxis guidance --json`", g.client);
        seen.extend(rules.iter().map(|r| r.to_string()));
        let book = cds::response(Hook::AppointmentBook, Some(g), &[], &options);
        assert!(validator.is_valid(&book));
        let n = book["cards"].as_array().unwrap().len();
        assert_eq!(n > 0, g.blocks_booking(), "client {}: appointment-book speaks when booking is blocked", g.client);
        assert!(book["cards"].as_array().unwrap().iter().all(|c| c["indicator"] == "critical"));
        blocked += usize::from(n > 0);
    }
    assert!(blocked > 0, "the demo has clients who may not be booked");
    for rule in ["S1", "S2", "S3", "F1", "F4", "F7", "R2", "R4", "I1", "I2"] {
        assert!(seen.contains(rule), "no card of rule {rule} among the demo's: {seen:?}");
    }
}

/// A condition as compared: code, status, since.
type ConditionRow = (String, String, Option<String>);

/// The clients of a practice export, as (name, birth date, sorted conditions).
fn patients_and_conditions(records: &PracticeExport) -> Vec<(String, Option<String>, Vec<ConditionRow>)> {
    let mut out: Vec<_> = records
        .clients
        .iter()
        .map(|c| {
            let mut conds: Vec<_> = c
                .conditions
                .iter()
                .map(|x| (x.code.clone(), format!("{:?}", x.status), x.since.map(|d| d.to_string())))
                .collect();
            conds.sort();
            (c.name.clone(), c.date_of_birth.map(|d| d.to_string()), conds)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_fhir_export_imported_into_a_new_practice_gives_the_same_patients_and_conditions() {
    let d = demo();
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new");
    ok(&new, &["init", "--name", "Moved In"]);
    let out = ok(&new, &["import", "--format", "fhir", d.fhir.to_str().unwrap(), "--json"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let before = open_records(&d.data);
    assert_eq!(report["patients"].as_u64().unwrap() as usize, before.clients.len());
    assert!(report["skipped"]["Encounter"].as_u64().unwrap() > 0, "{report:#}");
    let after = open_records(&new);
    assert_eq!(patients_and_conditions(&after), patients_and_conditions(&before));
    for c in &after.clients {
        assert!(
            c.identifiers.iter().any(|i| i.system == fhir::CLIENT_ID_SYSTEM),
            "{} keeps its id from the old system as an external identifier",
            c.name
        );
    }
}

#[test]
fn a_bad_fhir_import_exits_2_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("p");
    ok(&data, &["init", "--name", "Bad Input"]);
    let export_before = ok(&data, &["export"]);
    let patient = json!({ "fullUrl": "urn:uuid:p1", "resource": { "resourceType": "Patient", "id": "p1", "name": [{ "text": "A B" }] } });
    let cases: Vec<(String, &str)> = vec![
        ("{".to_owned(), "not JSON"),
        (json!({ "resourceType": "Patient" }).to_string(), "is not `Bundle`"),
        (json!({ "resourceType": "Bundle", "entry": [patient, { "resource": { "resourceType": "Condition",
            "code": { "coding": [{ "system": "http://snomed.info/sct", "code": "203082005" }] },
            "subject": { "reference": "Patient/ghost" } } }] }).to_string(), "no Patient of this Bundle"),
        (json!({ "resourceType": "Bundle", "entry": [{ "resource": { "resourceType": "Patient", "name": [{ "text": "A B" }],
            "birthDate": "31/12/1970" } }] }).to_string(), "not a FHIR date"),
        (json!({ "resourceType": "Bundle", "entry": [{ "fullUrl": "urn:uuid:p1", "resource": { "resourceType": "Patient",
            "name": [{ "text": "A B" }] } }, { "resource": { "resourceType": "Observation",
            "code": { "coding": [{ "system": "http://loinc.org", "code": "72514-3" }] },
            "subject": { "reference": "urn:uuid:p1" }, "valueInteger": 11 } }] }).to_string(), "11 is not a pain score"),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.json"));
        std::fs::write(&file, text).unwrap();
        let out = praxis(&data, &["import", "--format", "fhir", file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {stderr}");
        assert!(stderr.contains(expected), "case {i}: {stderr} (expected `{expected}`)");
    }
    let huge = dir.path().join("huge.json");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(praxis_core::interop::fhir_import::MAX_IMPORT_BYTES as u64 + 1).unwrap();
    let out = praxis(&data, &["import", "--format", "fhir", huge.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the limit"));
    let strip = |s: &str| {
        let mut v: Value = serde_json::from_str(s).unwrap();
        // Exports are reads of every chart, and reads are audited: the log
        // (and its head) grows with each export, the records must not.
        v.as_object_mut().unwrap().remove("audit");
        v.as_object_mut().unwrap().remove("audit_head");
        v
    };
    assert_eq!(strip(&ok(&data, &["export"])), strip(&export_before), "nothing was written");
}

#[test]
fn calendar_tokens_and_a_clients_confirmation_through_the_binary() {
    let d = demo();
    let shown: Value = serde_json::from_str(&ok(&d.data, &["schedule", "show", "--days", "14", "--json"])).unwrap();
    let first = &shown.as_array().unwrap()[0];
    let practitioner = first["practitioner"].as_str().unwrap();
    let token = ok(&d.data, &["calendar", "token", "create", practitioner]);
    assert_eq!(token.trim().len(), 64, "{token}");
    let kept = std::fs::read_to_string(d.data.join("calendar-tokens.json")).unwrap();
    assert!(!kept.contains(token.trim()), "only the digest is kept");
    ok(&d.data, &["calendar", "token", "revoke", practitioner]);
    for args in [
        vec!["calendar", "token", "revoke", practitioner],
        vec!["calendar", "token", "create", "nobody"],
        vec!["calendar", "confirmation", "no-such-appointment"],
    ] {
        let out = praxis(&d.data, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let ics = ok(&d.data, &["calendar", "confirmation", first["id"].as_str().unwrap()]);
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1);
    assert!(ics.contains("BEGIN:VTIMEZONE"));
    let Some(python) = python() else { return };
    let path = d.data.join("confirmation.ics");
    std::fs::write(&path, &ics).unwrap();
    let script = "import sys, icalendar\ncal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())\nassert len(cal.walk('VEVENT')) == 1\n";
    let out = Command::new(python).arg("-c").arg(script).arg(&path).output().unwrap();
    assert!(out.status.success(), "icalendar refused the confirmation:\n{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_fhir_validator_refuses_a_broken_bundle() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let script = praxis_tests::workspace_root().join("tests/tests/interop/validate_fhir.py");
    let check = |bundle: Value, expected: &str| {
        let path = dir.path().join("broken.json");
        std::fs::write(&path, bundle.to_string()).unwrap();
        let out = Command::new(&python).arg(&script).arg(&path).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!out.status.success(), "the validator accepted a broken bundle");
        assert!(said.contains(expected), "{said} (expected `{expected}`)");
    };
    let patient = json!({ "fullUrl": "urn:uuid:0190a1b2-0000-7000-8000-000000000001",
        "resource": { "resourceType": "Patient", "id": "p1" } });
    // An Observation without its required `code` (FHIR R4 Observation.code 1..1).
    check(
        json!({ "resourceType": "Bundle", "type": "collection", "entry": [patient.clone(),
            { "fullUrl": "urn:uuid:0190a1b2-0000-7000-8000-000000000002", "resource": {
                "resourceType": "Observation", "id": "o1", "status": "final", "valueInteger": 3 } }] }),
        "code",
    );
    // A reference to nothing in the bundle.
    check(
        json!({ "resourceType": "Bundle", "type": "collection", "entry": [patient,
            { "fullUrl": "urn:uuid:0190a1b2-0000-7000-8000-000000000003", "resource": {
                "resourceType": "Encounter", "id": "e1", "status": "finished",
                "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB" },
                "subject": { "reference": "urn:uuid:0190a1b2-0000-7000-8000-00000000dead" } } }] }),
        "does not resolve",
    );
}
