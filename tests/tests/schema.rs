//! The published contract: the JSON Schemas in `sdk/schema/` are what the
//! SDK's types generate (regenerate them with the command in the failure
//! message), and the first-party plugins' real answers, read through the
//! real ABI from their built libraries, validate against them.

use std::path::PathBuf;

use praxis_core::plugin_host::{Origin, PluginRegistry, verify};
use praxis_sdk::schema::{Message, unknown_fields};
use praxis_sdk::{Date, PluginKind};
use praxis_tests::{FIRST_PARTY, artifacts};
use serde_json::Value;

const REWRITE: &str = "PRAXIS_WRITE_SCHEMAS";

fn schema_dir() -> PathBuf {
    praxis_tests::workspace_root().join("sdk").join("schema")
}

fn committed(message: Message) -> Value {
    let path = schema_dir().join(message.file_name());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

#[test]
fn the_committed_schemas_are_what_the_sdk_types_generate() {
    let rewrite = std::env::var_os(REWRITE).is_some();
    let mut stale = Vec::new();
    for message in Message::ALL {
        let path = schema_dir().join(message.file_name());
        let fresh = message.schema_text();
        if rewrite {
            std::fs::create_dir_all(schema_dir()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(fresh.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date with the SDK's types: {stale:?}\nrewrite them with `{REWRITE}=1 cargo test -p praxis-tests --test schema` and commit them"
    );
    let mut files: Vec<String> = std::fs::read_dir(schema_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = Message::ALL.iter().map(|m| m.file_name().to_owned()).collect();
    expected.sort();
    assert_eq!(files, expected, "sdk/schema/ holds exactly one file per message");
}

#[test]
fn the_c_header_points_to_the_schemas() {
    let header = std::fs::read_to_string(praxis_tests::workspace_root().join("sdk/include/praxis_plugin.h")).unwrap();
    for message in Message::ALL {
        assert!(
            header.contains(&format!("schema/{}", message.file_name())),
            "praxis_plugin.h names {message:?}'s schema"
        );
    }
    assert!(header.contains("WIRE.md"), "praxis_plugin.h names the wire page");
}

fn validator(message: Message) -> jsonschema::Validator {
    jsonschema::validator_for(&committed(message)).unwrap_or_else(|e| panic!("{message:?}'s schema: {e}"))
}

fn assert_valid(validator: &jsonschema::Validator, message: Message, what: &str, value: &Value) {
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not validate against {}: {errors:#?}\n{value:#}", message.file_name());
    // The strict checker agrees.
    assert_eq!(unknown_fields(&committed(message), value), [], "{what}");
}

#[test]
fn the_first_party_plugins_real_answers_validate_against_the_schemas() {
    let a = artifacts();
    let today = Date::from_ymd(2026, 11, 21).unwrap();
    let (manifest, input, guidance, request, proposal) = (
        validator(Message::Manifest),
        validator(Message::ProtocolInput),
        validator(Message::Guidance),
        validator(Message::ScheduleRequest),
        validator(Message::ScheduleProposal),
    );
    let mut answers = 0;
    let mut cards = 0;
    let mut appointments = 0;
    for lib in FIRST_PARTY {
        let path = a.plugin(lib);
        let mut registry = PluginRegistry::default();
        let candidate = praxis_core::plugin_host::Candidate { path: path.clone(), origin: Origin::ExecutableFolder };
        let report =
            registry.load_file(&candidate, &Default::default(), &praxis_core::plugin_host::DefaultPolicy).clone();
        assert_eq!(report.reason, None, "{lib}");
        let plugin = &registry.all()[0];
        assert_valid(&manifest, Message::Manifest, &format!("{lib}'s manifest"), plugin.manifest_json().unwrap());
        if plugin.manifest().is(PluginKind::Protocol) {
            let codes: Vec<String> = plugin.manifest().conditions.iter().map(|c| c.code.clone()).collect();
            for client in verify::sample_clients(&codes, today) {
                let sent = serde_json::json!({"as_of": today, "client": client, "settings": plugin.settings()});
                assert_valid(&input, Message::ProtocolInput, &format!("the request to {lib}"), &sent);
                let bytes = plugin.evaluate_raw(today, &client).unwrap_or_else(|e| panic!("{lib}: {e}"));
                let value: Value = serde_json::from_slice(&bytes).unwrap();
                cards += value["cards"].as_array().map_or(0, Vec::len);
                assert_valid(&guidance, Message::Guidance, &format!("{lib}'s guidance for {}", client.id), &value);
                answers += 1;
            }
        }
        if plugin.manifest().is(PluginKind::Scheduler) {
            let sample = verify::sample_request(today);
            assert_valid(
                &request,
                Message::ScheduleRequest,
                "the sample request",
                &serde_json::to_value(&sample).unwrap(),
            );
            let bytes = plugin.schedule_raw(&sample).unwrap_or_else(|e| panic!("{lib}: {e}"));
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            appointments += value["appointments"].as_array().map_or(0, Vec::len);
            assert_valid(&proposal, Message::ScheduleProposal, &format!("{lib}'s proposal"), &value);
            answers += 1;
        }
    }
    assert_eq!(answers, 11, "5 sample clients for each protocol, one request for the scheduler");
    assert!(cards > 10 && appointments > 2, "the answers say something: {cards} cards, {appointments} appointments");
}

#[test]
fn the_schemas_refuse_what_the_host_would_drop_or_refuse() {
    let guidance = validator(Message::Guidance);
    let card = serde_json::json!({"summary": "s", "indicator": "info", "source": {"label": "l"}, "rule": "X1"});
    let check = |value: Value, valid: bool| assert_eq!(guidance.is_valid(&value), valid, "{value}");
    check(serde_json::json!({"cards": [card.clone()]}), true);
    check(serde_json::json!({}), true);
    check(serde_json::json!({"cards": [{"summary": "s"}]}), false);
    check(serde_json::json!({"cards": [card.clone()], "recommendation": {"pressureMax": "light"}}), false);
    check(serde_json::json!({"recommendation": {"pressure_max": "light"}}), true);
    check(serde_json::json!({"recommendation": {"pressure_max": "heavy"}}), false);
    check(serde_json::json!({"recommendation": {"before": ["heat_after"]}}), false);
    check(
        serde_json::json!({"cards": [{"summary": "s", "indicator": "urgent", "source": {"label": "l"}, "rule": "X1"}]}),
        false,
    );
    let input = validator(Message::ProtocolInput);
    // What the host sends is open: a newer host's extra field is fine.
    assert!(input.is_valid(&serde_json::json!({"as_of": "2026-11-21", "client": {"id": "c", "later": 1}})));
    assert!(!input.is_valid(&serde_json::json!({"as_of": "21/11/2026", "client": {"id": "c"}})));
}
