//! Rules F1-F7, one table of cases, each run statically and through the real
//! ABI (both must agree). A case's expectation is a compact rendering of the
//! guidance: the rule ids in order (`!` marks a warning, `!!` a critical card),
//! then phase, minutes, maximum pressure and interval in days.

use praxis_fibromyalgia::{Fibromyalgia, PLUGIN_NAME, praxis_plugin_table};
use praxis_sdk::abi::{CallError, PluginHandle, STATUS_ERROR};
use praxis_sdk::prelude::*;
use praxis_sdk::testing::{SessionBuilder, massage, run_both, session};
use praxis_sdk::{Guidance, Indicator, Settings};
use serde_json::{Value, json};

const TODAY: &str = "2026-11-21";

fn fm() -> ClientBuilder {
    ClientBuilder::new("c1").condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
}

/// An uneventful light massage (pain 5 before, 4 after).
fn ok(on: &str) -> SessionBuilder {
    massage(on).pressure(Pressure::Light).pain(5, 4)
}

/// A light massage after which pain rose (5 before, 7 after).
fn flare(on: &str) -> SessionBuilder {
    massage(on).pressure(Pressure::Light).pain(5, 7)
}

/// A client in maintenance: seven uneventful weekly massages up to 2026-10-17.
fn stable() -> ClientBuilder {
    fm().massages(7, 7, "2026-10-17")
}

fn render(g: &Guidance) -> String {
    let cards: Vec<String> = g
        .cards
        .iter()
        .map(|c| match c.indicator {
            Indicator::Info => c.rule.clone(),
            Indicator::Warning => format!("{}!", c.rule),
            Indicator::Critical => format!("{}!!", c.rule),
        })
        .collect();
    let rec = match &g.recommendation {
        None => "none".to_owned(),
        Some(r) => {
            let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
            format!(
                "{} {} {} {}",
                opt(r.phase.clone()),
                opt(r.minutes.map(|m| m.to_string())),
                opt(r.pressure_max.map(|p| p.as_str().to_owned())),
                opt(r.interval_days.map(|i| i.to_string())),
            )
        }
    };
    let hold = g.hold.as_ref().map_or(String::new(), |h| format!(" | hold {}", h.rule));
    format!("{} | {rec}{hold}", cards.join(" "))
}

fn settings(v: Value) -> Settings {
    match v {
        Value::Object(map) => map,
        other => panic!("settings must be a JSON object, not {other}"),
    }
}

fn check(client: ClientBuilder, as_of: &str, config: Value, expect: &str) -> Result<(), String> {
    let client = client.build();
    let g = run_both(&Fibromyalgia, praxis_plugin_table(), &client, as_of, &settings(config));
    if let Some(c) = g.cards.iter().find(|c| c.source.label != PLUGIN_NAME) {
        return Err(format!("card {} has source label {:?}", c.rule, c.source.label));
    }
    let got = render(&g);
    if got == expect { Ok(()) } else { Err(format!("expected `{expect}`\n         got `{got}`")) }
}

#[test]
fn rules_table() {
    let none = || json!({});
    #[rustfmt::skip]
    let cases: Vec<(&str, ClientBuilder, &str, Value, &str)> = vec![
        // F1: the initial phase.
        ("F1 first visit, no history", fm(), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F1 one massage a week ago", fm().session(ok("2026-11-14")), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F1 five massages are not yet stable", fm().massages(5, 7, "2026-11-14"), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F1 remission changes nothing", ClientBuilder::new("c1").condition(snomed::FIBROMYALGIA, ConditionStatus::Remission).massages(2, 7, "2026-11-14"), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F1 other condition status", ClientBuilder::new("c1").condition(snomed::FIBROMYALGIA, ConditionStatus::Unknown), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F1 setting: 45 min, 10-21 days", fm(), TODAY, json!({"initial_minutes": {"min": 45, "max": 45}, "initial_interval_days": {"min": 10, "max": 21}}), "F1 F2 F3 F7 | initial 45 light 10-21"),
        ("F1 not fibromyalgia: nothing", ClientBuilder::new("c1").condition(snomed::OSTEOARTHRITIS, ConditionStatus::Active).massages(3, 7, "2026-11-14"), TODAY, none(), " | none"),
        // F6: maintenance once stable.
        ("F6 the sixth massage makes the client stable", fm().massages(6, 7, "2026-11-14"), TODAY, none(), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        ("F6 falling pain-before is stable", fm().session(ok("2026-10-10")).session(ok("2026-10-17")).session(ok("2026-10-24")).session(massage("2026-10-31").pain(6, 4)).session(massage("2026-11-07").pain(5, 4)).session(massage("2026-11-14").pain(3, 2)), TODAY, none(), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        ("F6 rising pain-before on the sixth is not stable", fm().massages(5, 7, "2026-11-07").session(massage("2026-11-14").pain(6, 5)), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F6 unrecorded pain-before is not stable", fm().massages(5, 7, "2026-11-07").session(massage("2026-11-14")), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F6 a flare three massages back delays stability", fm().massages(3, 7, "2026-10-24").session(flare("2026-10-31")).session(ok("2026-11-07")).session(ok("2026-11-14")), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F6 stable later, after the flare left the window", fm().massages(3, 7, "2026-10-24").session(flare("2026-10-31")).massages(3, 7, "2026-11-21"), TODAY, none(), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        ("F6 maintenance is kept when pain rises later", stable().session(massage("2026-10-31").pain(6, 5)).session(massage("2026-11-14").pain(7, 6)), TODAY, none(), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        ("F6 yoga does not count toward stability", fm().massages(5, 7, "2026-11-07").session(session(Discipline::Yoga, "2026-11-14").pain(5, 4)), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F6 setting: stable after 3", fm().massages(3, 7, "2026-11-14"), TODAY, json!({"stable_min_sessions": 3}), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        ("F6 setting: window of 2 ignores an older flare", fm().massages(3, 7, "2026-10-24").session(flare("2026-10-31")).massages(2, 7, "2026-11-14"), TODAY, json!({"stable_window_sessions": 2, "maintenance_pressure_flare_free_sessions": 2}), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        ("F6 setting: 21-35 days", stable(), TODAY, json!({"maintenance_interval_days": {"min": 21, "max": 35}}), "F6 F2 F3 F7 | maintenance 30-60 moderate 21-35"),
        ("F6 setting: maintenance sessions of 45-60 minutes", stable(), "2026-10-31", json!({"maintenance_minutes": {"min": 45, "max": 60}}), "F6 F2 F3 F7 | maintenance 45-60 moderate 14-28"),
        ("F6 a lapse of stability keeps maintenance, F2 light", stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, none(), "F6 F2 F3 F7 | maintenance 30-60 light 14-28"),
        ("F6 rising pain-before keeps maintenance and moderate", stable().session(massage("2026-10-31").pain(6, 5)), "2026-11-07", none(), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        // F2: pressure.
        ("F2 a flare two massages ago keeps maintenance light", stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, none(), "F6 F2 F3 F7 | maintenance 30-60 light 14-28"),
        ("F2 a flare three massages ago keeps it light", stable().session(flare("2026-10-24")).session(ok("2026-10-31")).session(ok("2026-11-14")), TODAY, none(), "F6 F2 F3 F7 | maintenance 30-60 light 14-28"),
        ("F2 a flare four massages ago allows moderate", stable().session(flare("2026-10-17")).session(ok("2026-10-24")).session(ok("2026-10-31")).session(ok("2026-11-14")), TODAY, none(), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        ("F2 setting: maintenance stays light", stable(), "2026-10-31", json!({"maintenance_pressure_max": "light"}), "F6 F2 F3 F7 | maintenance 30-60 light 14-28"),
        ("F2 setting: light touch initially", fm(), TODAY, json!({"initial_pressure_max": "light_touch"}), "F1 F2 F3 F7 | initial 30 light_touch 7-14"),
        // F4: a flare after the last massage.
        ("F4 pain after above pain before", fm().session(flare("2026-11-14")), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F4 follow-up pain above pain before", fm().session(ok("2026-11-14").follow_up(6)), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F4 follow-up pain equal to pain before is no flare", fm().session(ok("2026-11-14").follow_up(5)), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F4 pain after equal to pain before is no flare", fm().session(massage("2026-11-14").pressure(Pressure::Light).pain(5, 5)), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F4 adverse event: flare", fm().session(ok("2026-11-14").adverse(AdverseEvent::Flare)), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F4 adverse event: stopped early", fm().session(ok("2026-11-14").adverse(AdverseEvent::StoppedEarly { reason: "pain rose".into() })), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F4 soreness is no flare", fm().session(ok("2026-11-14").adverse(AdverseEvent::Soreness)), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F4 no pressure recorded: one below the maximum", fm().session(massage("2026-11-14").pain(3, 6)), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F4 light touch cannot go lower", fm().session(massage("2026-11-14").pressure(Pressure::LightTouch).pain(3, 6)), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F4 two flares in a row: 7 more days", fm().session(flare("2026-11-07")).session(flare("2026-11-14")), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 21-24"),
        ("F4 three flares in a row: still 7 more", fm().session(flare("2026-10-31")).session(flare("2026-11-07")).session(flare("2026-11-14")), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 21-24"),
        ("F4 a flare two massages ago is not after the last", fm().session(flare("2026-11-07")).session(ok("2026-11-14")), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F4 a yoga session does not hide the massage flare", fm().session(flare("2026-11-14")).session(session(Discipline::Yoga, "2026-11-18").pain(5, 3)), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F4 in maintenance: moderate used, light next", stable().session(massage("2026-10-31").pressure(Pressure::Moderate).pain(4, 6)), "2026-11-07", none(), "F6 F2 F3 F4! F7 | maintenance 30 light 28-31"),
        ("F4 maintenance, two in a row", stable().session(flare("2026-10-31")).session(flare("2026-11-14")), TODAY, none(), "F6 F2 F3 F4! F7 | maintenance 30 light_touch 35-38"),
        ("F4 setting: 14 more days after two", fm().session(flare("2026-11-07")).session(flare("2026-11-14")), TODAY, json!({"repeat_flare_extra_days": 14}), "F1 F2 F3 F4! F7 | initial 30 light_touch 28-31"),
        ("F4 setting: no window, exactly the top", fm().session(flare("2026-11-14")), TODAY, json!({"flare_window_days": 0}), "F1 F2 F3 F4! F7 | initial 30 light_touch 14"),
        ("F4 setting: a window of 7 days", fm().session(flare("2026-11-07")).session(flare("2026-11-14")), TODAY, json!({"flare_window_days": 7}), "F1 F2 F3 F4! F7 | initial 30 light_touch 21-28"),
        ("F5 after a flare, within the window is regular", fm().session(flare("2026-11-04")), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F5 after a flare, past the window", fm().session(flare("2026-11-03")), TODAY, none(), "F1 F2 F3 F4! F5! F7 | initial 30 light_touch 14-17"),
        ("F4 setting: at most 20 minutes", fm().session(flare("2026-11-14")), TODAY, json!({"flare_max_minutes": 20}), "F1 F2 F3 F4! F7 | initial 20 light_touch 14-17"),
        ("F4 caps the maintenance length setting", stable().session(flare("2026-10-31")), "2026-11-07", json!({"maintenance_minutes": {"min": 45, "max": 60}}), "F6 F2 F3 F4! F7 | maintenance 30 light_touch 28-31"),
        // F5: regularity.
        ("F5 exactly 7 days: regular", fm().session(ok("2026-11-14")), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F5 exactly 14 days: still regular", fm().session(ok("2026-11-07")), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F5 15 days: irregular", fm().session(ok("2026-11-06")), TODAY, none(), "F1 F2 F3 F5! F7 | initial 30 light 7-14"),
        ("F5 a massage today", fm().session(ok(TODAY)), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("F5 maintenance: 28 days is regular", stable(), "2026-11-14", none(), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
        ("F5 maintenance: 29 days is not", stable(), "2026-11-15", none(), "F6 F2 F3 F5! F7 | maintenance 30-60 moderate 14-28"),
        ("F5 counts from the last massage, not yoga", fm().session(ok("2026-11-01")).session(session(Discipline::Yoga, "2026-11-19")), TODAY, none(), "F1 F2 F3 F5! F7 | initial 30 light 7-14"),
        ("F5 after a flare, 14 days is within the lengthened interval", fm().session(flare("2026-11-07")), TODAY, none(), "F1 F2 F3 F4! F7 | initial 30 light_touch 14-17"),
        ("F5 and F4 together", fm().session(flare("2026-11-01")), TODAY, none(), "F1 F2 F3 F4! F5! F7 | initial 30 light_touch 14-17"),
        ("F5 setting: 10-21 days, 21 is regular", fm().session(ok("2026-10-31")), TODAY, json!({"initial_interval_days": {"min": 10, "max": 21}}), "F1 F2 F3 F7 | initial 30 light 10-21"),
        // Sessions after the evaluation day do not exist yet.
        ("future sessions are ignored", fm().session(ok("2026-11-14")).session(flare("2026-11-28")), TODAY, none(), "F1 F2 F3 F7 | initial 30 light 7-14"),
        ("evaluated on an earlier day", stable().session(flare("2026-10-31")), "2026-10-24", none(), "F6 F2 F3 F7 | maintenance 30-60 moderate 14-28"),
    ];
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(name, client, as_of, config, expect)| {
            check(client, as_of, config, expect).err().map(|e| format!("{name}:\n    {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

/// What a card says, beyond its rule id: (client, as of, rule, words its summary or detail must contain).
#[test]
fn card_text() {
    #[rustfmt::skip]
    let cases: Vec<(ClientBuilder, &str, &str, &str)> = vec![
        (fm(), TODAY, "F1", "I usually recommend to start with short sessions (30 mins)"),
        (fm(), TODAY, "F1", "[A] massage-for-fibromyalgia-pain.txt"),
        (fm(), TODAY, "F2", "Deep pressure on fibromyalgia tender points can also increase discomfort"),
        (fm(), TODAY, "F2", "[B] relaxing-massage-for-chronic-pain.txt"),
        (fm().tender_point("left trapezius").tender_point("right knee"), TODAY, "F2", "Tender points on record: left trapezius, right knee"),
        (fm(), TODAY, "F3", "neck, shoulders and back"),
        (fm().session(flare("2026-11-14")), TODAY, "F2", "Gentle pressure (at most light touch)"),
        (fm().session(flare("2026-11-14")), TODAY, "F2", "F4 lowers it to **light touch**"),
        (stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, "F2", "a flare followed one of the last 3 massages"),
        (stable(), "2026-10-31", "F2", "the maintenance maximum"),
        (stable(), "2026-10-31", "F6", "counted as stable on 2026-10-10"),
        (stable(), "2026-10-31", "F6", "every 2-4 weeks"),
        (fm().session(ok("2026-11-14").follow_up(8)), TODAY, "F4", "follow-up pain 8 above pain before 5"),
        (fm().session(flare("2026-11-14")), TODAY, "F4", "pain after 7 above pain before 5"),
        (fm().session(ok("2026-11-14").adverse(AdverseEvent::StoppedEarly { reason: "burning pain".into() })), TODAY, "F4", "stopped early (burning pain)"),
        (fm().session(flare("2026-11-14")), TODAY, "F4", "time the interval between sessions according to clinical symptoms"),
        (fm().session(flare("2026-11-07")).session(flare("2026-11-14")), TODAY, "F4", "2 flares in a row: wait 21 days"),
        (fm().session(ok("2026-11-01")), TODAY, "F5", "20 days since the last massage"),
        (fm().session(ok("2026-11-01")), TODAY, "F5", "single, or infrequent, sessions"),
        (fm(), TODAY, "F7", "tai chi or yoga"),
        (fm(), TODAY, "F7", "Mindfulness meditation"),
        // The phase card never advises what F4 forbids: after a flare it gives F4's interval and length.
        (fm(), TODAY, "F1", "Initial phase: 30 min sessions every 7-14 days"),
        (fm().session(flare("2026-11-14")), TODAY, "F1", "Initial phase: after this flare, next in 14 days, 30 min or less (F4); then every 7-14 days"),
        (fm().session(flare("2026-11-07")).session(flare("2026-11-14")), TODAY, "F1", "next in 21 days"),
        // F6: the maintenance length (project default), and a lapse of stability said plainly.
        (stable(), "2026-10-31", "F6", "Maintenance phase: 30-60 min sessions every 14-28 days"),
        (stable(), "2026-10-31", "F6", "project default `maintenance_minutes`"),
        (stable(), "2026-10-31", "F6", "The client is stable now."),
        (stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, "F6", "Maintenance phase, not stable now (flare): 30-60 min sessions every 14-28 days"),
        (stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, "F6", "That no longer holds: the massage of 2026-10-31 was followed by a flare (pain after 7 above pain before 5)"),
        (stable().session(flare("2026-10-31")), "2026-11-07", "F6", "Maintenance phase, not stable now (flare): after this flare, next in 28 days, 30 min or less (F4); then every 14-28 days"),
        (stable().session(massage("2026-10-31").pain(6, 5)), "2026-11-07", "F6", "not stable now (pain rising)"),
        (stable().session(massage("2026-10-31").pain(6, 5)), "2026-11-07", "F6", "pain before rose from 5 (2026-10-17) to 6 (2026-10-31)"),
        (stable().session(massage("2026-10-31")), "2026-11-07", "F6", "not stable now (pain not recorded)"),
        (stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, "F2", "kept in maintenance while a flare followed one of the last 3 massages"),
    ];
    for (client, as_of, rule, words) in cases {
        let g = run_both(&Fibromyalgia, praxis_plugin_table(), &client.build(), as_of, &Settings::new());
        let card = g.cards_for(rule).next().unwrap_or_else(|| panic!("no {rule} card in {g:#?}"));
        assert!(
            card.summary.contains(words) || card.detail.contains(words),
            "{rule} card does not say {words:?}:\n{}\n{}",
            card.summary,
            card.detail
        );
    }
}

/// What a card must not say: (client, as of, rule, words). The cards of one
/// guidance never contradict each other.
#[test]
fn card_text_never() {
    #[rustfmt::skip]
    let cases: Vec<(ClientBuilder, &str, &str, &str)> = vec![
        // After a flare, F1 does not offer the 7-day interval or a longer session that F4 forbids.
        (fm().session(flare("2026-11-14")), TODAY, "F1", "Initial phase: 30 min sessions every 7-14 days"),
        (stable().session(flare("2026-10-31")), "2026-11-07", "F6", "Sessions of 30-60 minutes"),
        // A maintenance client whose stability lapsed is not told they are simply in maintenance...
        (stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, "F6", "Maintenance phase: "),
        (stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, "F6", "The client is stable now."),
        // ...nor treated as out of it by F2.
        (stable().session(flare("2026-10-31")).session(ok("2026-11-14")), TODAY, "F2", "initial-phase"),
        (fm(), TODAY, "F1", "(F4)"),
    ];
    for (client, as_of, rule, words) in cases {
        let g = run_both(&Fibromyalgia, praxis_plugin_table(), &client.build(), as_of, &Settings::new());
        let card = g.cards_for(rule).next().unwrap_or_else(|| panic!("no {rule} card in {g:#?}"));
        assert!(
            !card.summary.contains(words) && !card.detail.contains(words),
            "{rule} card says {words:?}:\n{}\n{}",
            card.summary,
            card.detail
        );
    }
}

#[test]
fn recommendation_lists() {
    let g = run_both(&Fibromyalgia, praxis_plugin_table(), &fm().build(), TODAY, &Settings::new());
    let rec = g.recommendation.unwrap();
    assert_eq!(rec.focus_regions, ["neck", "shoulders", "back"]);
    assert_eq!(rec.prefer, ["gentle pressure", "slow strokes"]);
    assert!(rec.avoid.iter().any(|a| a == "deep pressure on tender points"), "{:?}", rec.avoid);
    assert!(rec.before.is_empty() && rec.after.is_empty() && rec.avoid_regions.is_empty());
    assert_eq!(g.hold, None);
}

/// Bad settings: (settings, words the error must contain). Each is refused
/// with `BadSettings` by a direct call and with an error status through the ABI.
#[test]
fn bad_settings() {
    #[rustfmt::skip]
    let cases: Vec<(Value, &str)> = vec![
        (json!({"initial_interval_days": {"min": 14, "max": 7}}), "initial_interval_days { min = 14, max = 7 } is not a range"),
        (json!({"maintenance_interval_days": {"min": 0, "max": 28}}), "maintenance_interval_days { min = 0, max = 28 }"),
        (json!({"maintenance_interval_days": {"min": 14, "max": 400}}), "within 1-366"),
        (json!({"flare_window_days": 29}), "flare_window_days 29 is outside 0-28"),
        (json!({"maintenance_interval_days": {"min": 14, "max": 350}, "repeat_flare_extra_days": 7, "flare_window_days": 14}), "flare_window_days 14 would make an interval end after 371 days"),
        (json!({"initial_minutes": {"min": 30, "max": 300}}), "within 1-240"),
        (json!({"maintenance_minutes": {"min": 0, "max": 60}}), "maintenance_minutes { min = 0, max = 60 } is not a range"),
        (json!({"maintenance_minutes": {"min": 60, "max": 300}}), "maintenance_minutes { min = 60, max = 300 }"),
        (json!({"maintenance_minutes": null}), "setting `maintenance_minutes` = null"),
        (json!({"initial_minutes": 30}), "setting `initial_minutes` = 30: invalid type: integer `30`, expected struct Range"),
        (json!({"initial_interval_days": {"min": 7}}), "setting `initial_interval_days`"),
        (json!({"initial_pressure_max": "firm"}), "initial_pressure_max `firm` is heavier than rule F2 allows"),
        (json!({"maintenance_pressure_max": "deep"}), "maintenance_pressure_max `deep` is heavier than rule F2 allows"),
        (json!({"initial_pressure_max": "extra light"}), "setting `initial_pressure_max` = \"extra light\": unknown variant `extra light`"),
        (json!({"stable_min_sessions": "six"}), "setting `stable_min_sessions` = \"six\": invalid type: string"),
        (json!({"stable_min_sessions": -1}), "setting `stable_min_sessions` = -1"),
        (json!({"stable_min_sessions": 0}), "stable_min_sessions 0 is outside 1-100"),
        (json!({"stable_min_sessions": 2.5}), "setting `stable_min_sessions` = 2.5"),
        (json!({"stable_window_sessions": 7}), "stable_window_sessions 7 is larger than stable_min_sessions 6"),
        (json!({"maintenance_pressure_flare_free_sessions": 0}), "maintenance_pressure_flare_free_sessions 0 is outside 1-100"),
        (json!({"flare_max_minutes": 0}), "flare_max_minutes 0 is outside 1-240"),
        (json!({"repeat_flare_extra_days": 350}), "would make an interval of 378 days"),
        (json!({"repeat_flare_extra_days": null}), "setting `repeat_flare_extra_days` = null"),
        (json!({"weekly_cap": 3}), "unknown field `weekly_cap`"),
        (json!({"stable_min_sessions": 6, "Initial_minutes": {"min": 30, "max": 30}}), "unknown field `Initial_minutes`"),
    ];
    let handle = PluginHandle::from_static(praxis_plugin_table()).unwrap();
    for (config, words) in cases {
        let input = ProtocolInput {
            as_of: TODAY.parse().unwrap(),
            client: fm().massages(2, 7, "2026-11-14").build(),
            settings: settings(config.clone()),
        };
        match Fibromyalgia.evaluate(&input) {
            Err(PluginError::BadSettings(m)) => {
                assert!(m.contains(words), "{config}: static error {m:?} does not say {words:?}");
                assert!(m.contains("[plugins.fibromyalgia.settings]"), "{config}: {m:?} does not say where to fix it");
            }
            other => panic!("{config}: expected BadSettings, got {other:?}"),
        }
        match handle.evaluate(&input) {
            Err(CallError::Plugin { status: STATUS_ERROR, message }) => {
                assert!(message.starts_with("bad settings: "), "{config}: {message:?}");
                assert!(message.contains(words), "{config}: ABI error {message:?} does not say {words:?}");
            }
            other => panic!("{config}: expected an error status through the ABI, got {other:?}"),
        }
    }
}

#[test]
fn manifest_through_the_abi() {
    let m = PluginHandle::from_static(praxis_plugin_table()).unwrap().manifest().unwrap();
    assert_eq!(m, Fibromyalgia.manifest());
    assert_eq!(m.id, "fibromyalgia");
    assert!(m.is(PluginKind::Protocol) && m.handles(snomed::FIBROMYALGIA) && !m.handles(snomed::OSTEOARTHRITIS));
    assert_eq!(m.history_days, None);
    let keys: Vec<&str> = m.settings.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "initial_minutes",
            "initial_interval_days",
            "maintenance_interval_days",
            "maintenance_minutes",
            "initial_pressure_max",
            "maintenance_pressure_max",
            "maintenance_pressure_flare_free_sessions",
            "stable_min_sessions",
            "stable_window_sessions",
            "flare_max_minutes",
            "repeat_flare_extra_days",
            "flare_window_days",
        ]
    );
}
