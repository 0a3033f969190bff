//! Rules R1-R4, one table of cases, each run statically and through the real
//! ABI (both must agree). A case's expectation is a compact rendering of the
//! guidance: the rule ids in order (`!` marks a warning, `!!` a critical card),
//! then phase, maximum pressure, interval in days, the regions to avoid and the
//! hold.

use praxis_arthritis::{Arthritis, PLUGIN_NAME, praxis_plugin_table};
use praxis_sdk::abi::{CallError, PluginHandle, STATUS_ERROR};
use praxis_sdk::prelude::*;
use praxis_sdk::testing::{SessionBuilder, massage, run_both, session};
use praxis_sdk::{Guidance, Indicator, Settings};
use serde_json::{Value, json};

const TODAY: &str = "2026-11-21";

fn ra(status: ConditionStatus) -> ClientBuilder {
    ClientBuilder::new("c1").condition(snomed::RHEUMATOID_ARTHRITIS, status)
}

fn oa(status: ConditionStatus) -> ClientBuilder {
    ClientBuilder::new("c1").condition(snomed::OSTEOARTHRITIS, status)
}

fn painful(on: &str, before: u8) -> SessionBuilder {
    massage(on).pressure(Pressure::Moderate).pain(before, before.saturating_sub(1))
}

/// Weekly uneventful massages (pain 5 before), the first on 2026-10-10 (exactly six weeks before TODAY).
fn six_weeks(c: ClientBuilder) -> ClientBuilder {
    c.massages(7, 7, "2026-11-21")
}

/// Marks every red flag of a client as resolved on a day.
fn resolved(mut client: ClientSnapshot, on: &str) -> ClientSnapshot {
    for flag in &mut client.red_flags {
        flag.resolved = Some(on.parse().unwrap());
    }
    client
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
            let mut out = format!(
                "{} {} {}",
                r.phase.as_deref().unwrap_or("-"),
                r.pressure_max.map_or("-", |p| p.as_str()),
                r.interval_days.map_or("-".to_owned(), |i| i.to_string()),
            );
            if !r.avoid_regions.is_empty() {
                out.push_str(&format!(" avoid {}", r.avoid_regions.join(", ")));
            }
            out
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

fn check(client: &ClientSnapshot, as_of: &str, config: Value, expect: &str) -> Result<(), String> {
    let g = run_both(&Arthritis, praxis_plugin_table(), client, as_of, &settings(config));
    if let Some(c) = g.cards.iter().find(|c| c.source.label != PLUGIN_NAME) {
        return Err(format!("card {} has source label {:?}", c.rule, c.source.label));
    }
    let got = render(&g);
    if got == expect { Ok(()) } else { Err(format!("expected `{expect}`\n         got `{got}`")) }
}

#[test]
fn rules_table() {
    use ConditionStatus::{Active, Flare, Remission, Unknown};
    let none = || json!({});
    let knee = |c: ClientBuilder| c.red_flag(RedFlagKind::InflammatoryFlare, Some("left knee"), Some("2026-11-10"));
    #[rustfmt::skip]
    let cases: Vec<(&str, ClientSnapshot, &str, Value, &str)> = vec![
        // R1, R3, R4 for either kind of arthritis.
        ("RA first visit", ra(Active).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("OA first visit", oa(Active).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("not arthritis: nothing", ClientBuilder::new("c1").condition(snomed::FIBROMYALGIA, Active).build(), TODAY, none(), " | none"),
        // R1: inflamed joints.
        ("R1 an inflamed knee is avoided", knee(oa(Active)).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7 avoid left knee"),
        ("R1 two inflamed joints, one listed twice", knee(knee(oa(Active))).red_flag(RedFlagKind::InflammatoryFlare, Some("right wrist"), None).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7 avoid left knee, right wrist"),
        ("R1 a resolved flare is not avoided", resolved(knee(oa(Active)).build(), "2026-11-20"), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R1 resolved today is not avoided", resolved(knee(oa(Active)).build(), TODAY), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R1 resolved after the day evaluated still stands", resolved(knee(oa(Active)).build(), "2026-11-22"), TODAY, none(), "R1 R3 R4 | initial moderate 3-7 avoid left knee"),
        ("R1 a flare dated later does not stand yet", knee(oa(Active)).build(), "2026-11-09", none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R1 an injury is the host's S1, not an inflamed joint", oa(Active).red_flag(RedFlagKind::RecentInjury, Some("right ankle"), None).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R1 a flare with no region", oa(Active).red_flag(RedFlagKind::InflammatoryFlare, None, None).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        // R2: the rheumatoid flare hold.
        ("R2 RA in flare: hold", ra(Flare).build(), TODAY, none(), "R2!! R1 R3 R4 | initial moderate 3-7 | hold R2"),
        ("R2 OA in flare: never a hold", oa(Flare).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R2 RA in remission: no hold", ra(Remission).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R2 RA status unknown: no hold", ra(Unknown).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R2 RA flare with OA active", ra(Flare).condition(snomed::OSTEOARTHRITIS, Active).build(), TODAY, none(), "R2!! R1 R3 R4 | initial moderate 3-7 | hold R2"),
        ("R2 OA flare with RA active", ra(Active).condition(snomed::OSTEOARTHRITIS, Flare).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R2 RA flare after improving weeks: hold, back to initial", six_weeks(ra(Flare)).build(), TODAY, none(), "R2!! R1 R3 R4 | initial moderate 3-7 | hold R2"),
        ("R2 the hold lifts once the flare is over", six_weeks(ra(Active)).build(), TODAY, none(), "R1 R3 R4 | fortnightly moderate 14"),
        ("R2 in remission after six weeks", six_weeks(ra(Remission)).build(), TODAY, none(), "R1 R3 R4 | fortnightly moderate 14"),
        // R3: frequency by phase.
        ("R3 41 days after the first massage: initial", oa(Active).massages(6, 7, "2026-11-15").build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 exactly 6 weeks and improving: every 2 weeks", six_weeks(oa(Active)).build(), TODAY, none(), "R1 R3 R4 | fortnightly moderate 14"),
        ("R3 exactly 6 weeks, pain rising: stays initial", oa(Active).massages(4, 7, "2026-10-31").session(painful("2026-11-07", 4)).session(painful("2026-11-14", 5)).session(painful("2026-11-21", 6)).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 falling pain is improving", oa(Active).massages(4, 7, "2026-10-31").session(painful("2026-11-07", 6)).session(painful("2026-11-14", 5)).session(painful("2026-11-21", 3)).build(), TODAY, none(), "R1 R3 R4 | fortnightly moderate 14"),
        ("R3 a flare two massages ago (follow-up pain above pain before): stays initial", oa(Active).massages(5, 7, "2026-11-07").session(painful("2026-11-14", 5).follow_up(7)).session(painful("2026-11-21", 5)).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 a flare four massages back: improving", oa(Active).massages(3, 7, "2026-10-24").session(painful("2026-10-31", 5).adverse(AdverseEvent::Flare)).massages(3, 7, "2026-11-21").build(), TODAY, none(), "R1 R3 R4 | fortnightly moderate 14"),
        ("R3 pain not recorded: stays initial", oa(Active).massages(6, 7, "2026-11-14").session(massage("2026-11-21")).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 two massages six weeks apart: not enough to judge", oa(Active).massages(2, 42, "2026-11-21").build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 OA in flare is not improving", six_weeks(oa(Flare)).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 83 days: still every 2 weeks", oa(Active).massages(6, 7, "2026-10-03").massages(3, 14, "2026-11-14").build(), "2026-11-20", none(), "R1 R3 R4 | fortnightly moderate 14"),
        ("R3 exactly 12 weeks: monthly", oa(Active).massages(6, 7, "2026-10-03").massages(3, 14, "2026-11-14").build(), TODAY, none(), "R1 R3 R4 | monthly moderate 28-31"),
        ("R3 monthly, then pain rises: back to weekly", oa(Active).massages(6, 7, "2026-10-03").massages(2, 14, "2026-10-31").session(painful("2026-11-14", 7)).build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 yoga before the first massage does not count", oa(Active).session(session(Discipline::Yoga, "2026-08-01").pain(5, 4)).massages(3, 7, "2026-11-21").build(), TODAY, none(), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 future massages are ignored", six_weeks(oa(Active)).session(painful("2026-11-28", 9)).build(), TODAY, none(), "R1 R3 R4 | fortnightly moderate 14"),
        ("R3 setting: 8 initial weeks", six_weeks(oa(Active)).build(), TODAY, json!({"initial_weeks": 8}), "R1 R3 R4 | initial moderate 3-7"),
        ("R3 setting: 4 initial weeks, monthly after 6", six_weeks(oa(Active)).build(), TODAY, json!({"initial_weeks": 4, "monthly_after_weeks": 6}), "R1 R3 R4 | monthly moderate 28-31"),
        ("R3 setting: intervals", six_weeks(oa(Active)).build(), TODAY, json!({"fortnightly_interval_days": {"min": 12, "max": 16}}), "R1 R3 R4 | fortnightly moderate 12-16"),
        ("R3 setting: initial interval", oa(Active).build(), TODAY, json!({"initial_interval_days": {"min": 4, "max": 7}}), "R1 R3 R4 | initial moderate 4-7"),
        ("R3 setting: monthly interval", oa(Active).massages(6, 7, "2026-10-03").massages(3, 14, "2026-11-14").build(), TODAY, json!({"monthly_interval_days": {"min": 30, "max": 30}}), "R1 R3 R4 | monthly moderate 30"),
        ("R3 setting: window of 1 forgives an older flare", oa(Active).massages(5, 7, "2026-11-07").session(painful("2026-11-14", 5).follow_up(7)).session(painful("2026-11-21", 5)).build(), TODAY, json!({"improvement_window_sessions": 1}), "R1 R3 R4 | fortnightly moderate 14"),
    ];
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(name, client, as_of, config, expect)| {
            check(&client, as_of, config, expect).err().map(|e| format!("{name}:\n    {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

/// What a card says, beyond its rule id: (client, as of, rule, words its summary or detail must contain).
#[test]
fn card_text() {
    let mut since = ra(ConditionStatus::Flare).build();
    since.conditions[0].since = Some("2019-03-01".parse().unwrap());
    #[rustfmt::skip]
    let cases: Vec<(ClientSnapshot, &str, &str, &str)> = vec![
        (oa(ConditionStatus::Active).build(), TODAY, "R1", "light touch around affected joints combined with moderate work on surrounding muscles"),
        (oa(ConditionStatus::Active).build(), TODAY, "R1", "[B] relaxing-massage-for-chronic-pain.txt"),
        (oa(ConditionStatus::Active).red_flag(RedFlagKind::InflammatoryFlare, Some("left knee"), None).build(), TODAY, "R1", "no direct pressure on left knee"),
        (ra(ConditionStatus::Flare).build(), TODAY, "R2", "rheumatoid arthritis during flare-ups"),
        (ra(ConditionStatus::Flare).build(), TODAY, "R2", "no longer in flare"),
        (since, TODAY, "R2", "on record since 2019-03-01"),
        // R3 during the R2 hold: only what to do once the flare subsides, no week of a course running.
        (ra(ConditionStatus::Flare).build(), TODAY, "R3", "Once the flare subsides: once or twice weekly (every 3-7 days) until the condition improves"),
        (ra(ConditionStatus::Flare).massages(2, 7, "2026-11-14").build(), TODAY, "R3", "Once the flare subsides: once or twice weekly"),
        (six_weeks(ra(ConditionStatus::Flare)).build(), TODAY, "R3", "Rule R2 holds massage while rheumatoid arthritis is in flare, so this card asks for no session now"),
        (oa(ConditionStatus::Active).build(), TODAY, "R3", "once or twice weekly initially"),
        (oa(ConditionStatus::Active).build(), TODAY, "R3", "six to eight weeks"),
        (oa(ConditionStatus::Active).session(painful("2026-11-15", 5)).build(), TODAY, "R3", "Week 1 of 6"),
        (oa(ConditionStatus::Active).session(painful("2026-11-14", 5)).build(), TODAY, "R3", "Week 2 of 6"),
        (oa(ConditionStatus::Active).massages(2, 7, "2026-11-14").build(), TODAY, "R3", "Week 3 of 6"),
        (oa(ConditionStatus::Active).massages(6, 7, "2026-11-14").session(painful("2026-11-21", 6)).build(), TODAY, "R3", "Week 7, not yet improving"),
        (six_weeks(oa(ConditionStatus::Active)).build(), TODAY, "R3", "Improving after 6 weeks: massage every 2 weeks (14 days)"),
        (oa(ConditionStatus::Active).massages(6, 7, "2026-11-14").session(massage("2026-11-21")).build(), TODAY, "R3", "pain before the massage of 2026-11-21 was not recorded"),
        (oa(ConditionStatus::Active).massages(5, 7, "2026-11-14").session(painful("2026-11-21", 6)).build(), TODAY, "R3", "pain before rose from 5 (2026-11-14) to 6 (2026-11-21)"),
        (oa(ConditionStatus::Active).massages(6, 7, "2026-11-14").session(painful("2026-11-21", 5).adverse(AdverseEvent::Flare)).build(), TODAY, "R3", "the massage of 2026-11-21 was followed by a flare"),
        (six_weeks(oa(ConditionStatus::Flare)).build(), TODAY, "R3", "osteoarthritis is in flare"),
        (oa(ConditionStatus::Active).build(), TODAY, "R4", "Heat therapy (before massage) and cold therapy (after)"),
    ];
    for (client, as_of, rule, words) in cases {
        let g = run_both(&Arthritis, praxis_plugin_table(), &client, as_of, &Settings::new());
        let card = g.cards_for(rule).next().unwrap_or_else(|| panic!("no {rule} card in {g:#?}"));
        assert!(
            card.summary.contains(words) || card.detail.contains(words),
            "{rule} card does not say {words:?}:\n{}\n{}",
            card.summary,
            card.detail
        );
    }
}

/// What a card must not say: (client, as of, rule, words). No card advises
/// what R2's hold forbids.
#[test]
fn card_text_never() {
    #[rustfmt::skip]
    let cases: Vec<(ClientSnapshot, &str, &str, &str)> = vec![
        (ra(ConditionStatus::Flare).massages(2, 7, "2026-11-14").build(), TODAY, "R3", "Week 3 of 6"),
        (ra(ConditionStatus::Flare).build(), TODAY, "R3", "First massage;"),
        (six_weeks(ra(ConditionStatus::Flare)).build(), TODAY, "R3", "not yet improving: stay"),
        // Without a hold, R3 does not speak of one.
        (oa(ConditionStatus::Flare).massages(2, 7, "2026-11-14").build(), TODAY, "R3", "Once the flare subsides"),
        (ra(ConditionStatus::Active).build(), TODAY, "R3", "Rule R2 holds"),
    ];
    for (client, as_of, rule, words) in cases {
        let g = run_both(&Arthritis, praxis_plugin_table(), &client, as_of, &Settings::new());
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
fn recommendation_and_hold() {
    let g = run_both(&Arthritis, praxis_plugin_table(), &ra(ConditionStatus::Flare).build(), TODAY, &Settings::new());
    let rec = g.recommendation.as_ref().unwrap();
    assert_eq!(rec.before, [Adjunct::HeatBefore]);
    assert_eq!(rec.after, [Adjunct::ColdAfter]);
    assert_eq!(rec.prefer, ["light touch around affected joints", "moderate work on surrounding muscles"]);
    assert_eq!(rec.avoid, ["direct pressure on inflamed joints"]);
    assert_eq!(rec.minutes, None);
    let hold = g.hold.as_ref().unwrap();
    assert_eq!(hold.rule, "R2");
    assert!(hold.reason.contains("until the flare subsides"), "{}", hold.reason);
    let critical = g.cards_for("R2").next().unwrap();
    assert_eq!(critical.indicator, Indicator::Critical);
    assert!(!critical.override_reasons.is_empty());
    let topic = critical.source.topic.as_ref().unwrap();
    assert_eq!((topic.code.as_str(), topic.system.as_deref()), (snomed::RHEUMATOID_ARTHRITIS, Some(snomed::SYSTEM)));
}

/// Bad settings: (settings, words the error must contain). Each is refused
/// with `BadSettings` by a direct call and with an error status through the ABI.
#[test]
fn bad_settings() {
    #[rustfmt::skip]
    let cases: Vec<(Value, &str)> = vec![
        (json!({"initial_interval_days": {"min": 7, "max": 3}}), "initial_interval_days { min = 7, max = 3 } is not a range"),
        (json!({"fortnightly_interval_days": {"min": 0, "max": 14}}), "fortnightly_interval_days { min = 0, max = 14 }"),
        (json!({"monthly_interval_days": {"min": 28, "max": 400}}), "within 1-366 days"),
        (json!({"monthly_interval_days": [28]}), "setting `monthly_interval_days` = [28]: invalid length 1"),
        (json!({"initial_weeks": 0}), "initial_weeks 0 is outside 1-104"),
        (json!({"initial_weeks": "six"}), "setting `initial_weeks` = \"six\": invalid type: string"),
        (json!({"initial_weeks": 6.5}), "setting `initial_weeks` = 6.5"),
        (json!({"monthly_after_weeks": 6}), "monthly_after_weeks 6 must come after initial_weeks 6"),
        (json!({"initial_weeks": 10, "monthly_after_weeks": 8}), "monthly_after_weeks 8 must come after initial_weeks 10"),
        (json!({"improvement_window_sessions": 0}), "improvement_window_sessions 0 is outside 1-100"),
        (json!({"improvement_window_sessions": -3}), "setting `improvement_window_sessions` = -3"),
        (json!({"hold_on_flare": false}), "unknown field `hold_on_flare`"),
    ];
    let handle = PluginHandle::from_static(praxis_plugin_table()).unwrap();
    for (config, words) in cases {
        let input = ProtocolInput {
            as_of: TODAY.parse().unwrap(),
            client: ra(ConditionStatus::Active).build(),
            settings: settings(config.clone()),
        };
        match Arthritis.evaluate(&input) {
            Err(PluginError::BadSettings(m)) => {
                assert!(m.contains(words), "{config}: static error {m:?} does not say {words:?}");
                assert!(m.contains("[plugins.arthritis.settings]"), "{config}: {m:?} does not say where to fix it");
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
    assert_eq!(m, Arthritis.manifest());
    assert_eq!(m.id, "arthritis");
    assert!(m.is(PluginKind::Protocol));
    assert!(m.handles(snomed::RHEUMATOID_ARTHRITIS) && m.handles(snomed::OSTEOARTHRITIS));
    assert!(!m.handles(snomed::FIBROMYALGIA));
    let keys: Vec<&str> = m.settings.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "initial_interval_days",
            "initial_weeks",
            "fortnightly_interval_days",
            "monthly_after_weeks",
            "monthly_interval_days",
            "improvement_window_sessions",
        ]
    );
}
