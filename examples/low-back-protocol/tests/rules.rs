//! The plugin's rules, each case run by a direct call and through the real
//! ABI (the harness checks that both agree and that the host would accept the
//! guidance).

use lowback_protocol::{LowBack, PLUGIN_NAME, praxis_plugin_table};
use praxis_sdk::abi::{CallError, PluginHandle, STATUS_ERROR};
use praxis_sdk::prelude::*;
use praxis_sdk::testing::{massage, rules, run_both, session};
use serde_json::{Value, json};

const TODAY: &str = "2026-11-21";

fn low_back() -> ClientBuilder {
    ClientBuilder::new("c1").condition(snomed::LOW_BACK_PAIN, ConditionStatus::Active)
}

fn settings(v: Value) -> Settings {
    match v {
        Value::Object(map) => map,
        other => panic!("settings must be a JSON object, not {other}"),
    }
}

/// Runs the plugin both ways and compares the rule ids of its cards.
fn check(client: ClientBuilder, as_of: &str, config: Value, expected: &[&str]) {
    let g = run_both(&LowBack, praxis_plugin_table(), &client.build(), as_of, &settings(config));
    assert_eq!(rules(&g), expected, "{g:#?}");
    assert!(g.cards.iter().all(|c| c.source.label == PLUGIN_NAME));
    assert_eq!(g.hold, None);
}

#[test]
fn lb1_first_visit() {
    check(low_back(), TODAY, json!({}), &["LB1"]);
}

#[test]
fn lb1_in_remission_still_focuses() {
    let client = ClientBuilder::new("c1").condition(snomed::LOW_BACK_PAIN, ConditionStatus::Remission);
    check(client, TODAY, json!({}), &["LB1"]);
}

#[test]
fn not_low_back_pain_gives_nothing() {
    let client = ClientBuilder::new("c1").condition(snomed::NECK_PAIN, ConditionStatus::Active);
    check(client, TODAY, json!({}), &[]);
}

#[test]
fn lb2_exactly_7_days_is_regular() {
    check(low_back().session(massage("2026-11-14")), TODAY, json!({}), &["LB1"]);
}

#[test]
fn lb2_8_days_reminds() {
    check(low_back().session(massage("2026-11-13")), TODAY, json!({}), &["LB1", "LB2"]);
}

#[test]
fn lb2_counts_from_the_last_massage_only() {
    let client = low_back().session(massage("2026-11-01")).session(session(Discipline::Yoga, "2026-11-20"));
    check(client, TODAY, json!({}), &["LB1", "LB2"]);
}

#[test]
fn lb2_ignores_massages_after_the_day_evaluated() {
    check(low_back().session(massage("2026-11-01")).session(massage("2026-11-25")), TODAY, json!({}), &["LB1", "LB2"]);
}

#[test]
fn lb2_setting_14_days() {
    let config = json!({"regular_within_days": 14});
    check(low_back().session(massage("2026-11-07")), TODAY, config.clone(), &["LB1"]);
    check(low_back().session(massage("2026-11-06")), TODAY, config, &["LB1", "LB2"]);
}

#[test]
fn cards_quote_the_source() {
    let client = low_back().session(massage("2026-11-01")).build();
    let g = run_both(&LowBack, praxis_plugin_table(), &client, TODAY, &Settings::new());
    let lb1 = g.cards_for("LB1").next().unwrap();
    assert!(lb1.detail.contains("lumbar region and hip flexors typically provide the most relief"));
    assert!(lb1.detail.contains("[B] relaxing-massage-for-chronic-pain.txt"));
    let lb2 = g.cards_for("LB2").next().unwrap();
    assert!(lb2.summary.starts_with("20 days since the last massage"), "{}", lb2.summary);
    assert!(lb2.detail.contains("several days to a week"));
    let rec = g.recommendation.unwrap();
    assert_eq!(rec.focus_regions, ["lumbar region", "hip flexors"]);
    assert_eq!((rec.pressure_max, rec.interval_days, rec.minutes), (None, None, None));
}

#[test]
fn bad_settings_are_refused_both_ways() {
    let cases = [
        (json!({"regular_within_days": "a week"}), "invalid type: string \"a week\", expected u32"),
        (json!({"regular_within_days": -1}), "expected u32"),
        (json!({"regular_within_days": 0}), "regular_within_days 0 is outside 1-366"),
        (json!({"regular_within_days": 400}), "regular_within_days 400 is outside 1-366"),
        (json!({"regular_days": 7}), "unknown field `regular_days`"),
    ];
    let handle = PluginHandle::from_static(praxis_plugin_table()).unwrap();
    for (config, words) in cases {
        let input =
            ProtocolInput { as_of: TODAY.parse().unwrap(), client: low_back().build(), settings: settings(config) };
        match LowBack.evaluate(&input) {
            Err(PluginError::BadSettings(m)) => {
                assert!(m.contains(words) && m.contains("[plugins.low-back.settings]"), "{m}");
            }
            other => panic!("expected BadSettings, got {other:?}"),
        }
        match handle.evaluate(&input) {
            Err(CallError::Plugin { status: STATUS_ERROR, message }) => assert!(message.contains(words), "{message}"),
            other => panic!("expected an error through the ABI, got {other:?}"),
        }
    }
}

#[test]
fn manifest_through_the_abi() {
    let m = PluginHandle::from_static(praxis_plugin_table()).unwrap().manifest().unwrap();
    assert_eq!(m, LowBack.manifest());
    assert_eq!((m.id.as_str(), m.history_days), ("low-back", Some(365)));
    assert!(m.handles(snomed::LOW_BACK_PAIN) && m.is(PluginKind::Protocol));
}
