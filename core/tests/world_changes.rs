//! Change detection in the clinic world: what each change re-evaluates, and
//! that plugin output the host refuses becomes a card without stopping the rest.
//!
//! The plugin here is a probe compiled into this test binary (its own
//! `praxis_plugin_v1`, so no other plugin crate may be linked in): it handles
//! fibromyalgia and osteoarthritis, echoes its setting into the interval it
//! recommends, counts the sessions it sees, and misbehaves for clients whose id
//! asks it to.

use praxis_core::plugin_host::{HostError, PluginRegistry};
use praxis_core::world::{ClientGuidance, ClinicWorld, EvalStats, HostRules};
use praxis_sdk::prelude::*;
use praxis_sdk::testing::massage;
use praxis_sdk::{Range, SettingSpec};
use serde::Deserialize;

#[derive(Debug, Default)]
struct Probe;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProbeSettings {
    interval_min: u32,
}

impl Plugin for Probe {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "probe".into(),
            name: "Probe protocol".into(),
            version: "0.0.1".into(),
            description: "Test probe.".into(),
            kinds: vec![PluginKind::Protocol],
            conditions: vec![
                ConditionSpec { code: snomed::FIBROMYALGIA.into(), display: "Fibromyalgia".into() },
                ConditionSpec { code: snomed::OSTEOARTHRITIS.into(), display: "Osteoarthritis".into() },
            ],
            settings: vec![SettingSpec::new("interval_min", 7, "Shortest interval the probe recommends.")],
            history_days: None,
        }
    }
}

impl Protocol for Probe {
    fn evaluate(&self, input: &ProtocolInput) -> Result<Guidance, PluginError> {
        let settings: ProbeSettings = input.settings()?;
        let id = input.client.id.as_str();
        let mut card = Card::new(
            "P1",
            Indicator::Info,
            format!("Probe saw {} sessions", input.client.sessions.len()),
            "Test probe.",
        )
        .with_source("Probe protocol");
        let mut recommendation = Recommendation {
            minutes: Some(Range::new(30, 30)),
            pressure_max: Some(Pressure::Moderate),
            interval_days: Some(Range::new(settings.interval_min, settings.interval_min + 7)),
            ..Recommendation::default()
        };
        let mut hold = None;
        match id.split('.').next().unwrap_or_default() {
            "panic" => panic!("the probe was asked to panic"),
            "error" => return Err(PluginError::Failed("the probe was asked to fail".into())),
            "bad-summary" => card.summary.clear(),
            "bad-range" => recommendation.minutes = Some(Range::new(40, 20)),
            "bad-hold" => hold = Some(Hold { reason: String::new(), rule: "P9".into() }),
            _ => {}
        }
        Ok(Guidance { cards: vec![card], recommendation: Some(recommendation), hold })
    }
}

praxis_sdk::export_plugin!(protocol = Probe);

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn fibro(id: &str) -> ClientBuilder {
    ClientBuilder::new(id).intake("2026-10-01").condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
}

/// a1, a2: fibromyalgia; b1: osteoarthritis; c1, c2: conditions the probe does not handle.
fn clinic() -> ClinicWorld {
    let registry = PluginRegistry::from_tables(&[praxis_plugin_table()]).unwrap();
    let mut world = ClinicWorld::new(registry, HostRules::default(), date("2026-11-21"));
    world.hydrate(vec![
        fibro("a1").massages(2, 14, "2026-11-07").build(),
        fibro("a2").build(),
        ClientBuilder::new("b1")
            .intake("2026-10-01")
            .condition(snomed::OSTEOARTHRITIS, ConditionStatus::Active)
            .build(),
        ClientBuilder::new("c1").intake("2026-10-01").condition(snomed::NECK_PAIN, ConditionStatus::Active).build(),
        ClientBuilder::new("c2").build(),
    ]);
    let first = world.evaluate();
    assert_eq!(first, EvalStats { clients: 5, screened: 5, plugin_calls: 3 });
    assert_eq!(world.evaluate(), EvalStats::default(), "nothing changed, nothing evaluated");
    world
}

/// Applies a change, evaluates, and checks what was evaluated and which clients' guidance changed.
fn check(change: impl FnOnce(&mut ClinicWorld), expect: EvalStats, changed: &[&str]) -> ClinicWorld {
    let mut world = clinic();
    let before = world.all_guidance();
    change(&mut world);
    assert_eq!(world.evaluate(), expect);
    assert_eq!(world.evaluate(), EvalStats::default(), "a second run finds nothing left to do");
    let after = world.all_guidance();
    let differs = |id: &str| {
        let find = |all: &[ClientGuidance]| all.iter().find(|g| g.client == id).cloned();
        find(&before) != find(&after)
    };
    let ids = ["a1", "a2", "b1", "c1", "c2", "new"];
    let got: Vec<&str> = ids.into_iter().filter(|id| differs(id)).collect();
    assert_eq!(got, changed, "clients whose guidance changed");
    world
}

fn stats(clients: usize, screened: usize, plugin_calls: usize) -> EvalStats {
    EvalStats { clients, screened, plugin_calls }
}

fn record_session(world: &mut ClinicWorld, id: &str, on: &str) {
    let mut client = world.client(id).unwrap().clone();
    client.sessions.push(massage(on).pain(5, 3).0);
    world.upsert_client(client);
}

fn probe_card(world: &ClinicWorld, id: &str) -> String {
    let g = world.guidance(id).unwrap();
    g.cards_for("P1").map(|c| c.summary.clone()).collect::<Vec<_>>().join("; ")
}

#[test]
fn recording_a_session_re_evaluates_that_client_only() {
    let world = check(|w| record_session(w, "a1", "2026-11-20"), stats(1, 1, 1), &["a1"]);
    assert_eq!(probe_card(&world, "a1"), "Probe saw 3 sessions");
    assert_eq!(world.guidance("a1").unwrap().recommendation.next_due, Some(date("2026-11-27")));
    check(|w| record_session(w, "c1", "2026-11-20"), stats(1, 1, 0), &[]); // guidance the same: no card depends on it
    let world = check(|w| record_session(w, "c2", "2026-11-20"), stats(1, 1, 0), &[]);
    assert_eq!(world.guidance("c2").unwrap().rules(), ["S3"]);
}

#[test]
fn changing_a_client_re_evaluates_that_client_only() {
    let add_flag = |w: &mut ClinicWorld| {
        let mut c = w.client("b1").unwrap().clone();
        c.red_flags.push(RedFlag {
            kind: RedFlagKind::NerveCompression,
            region: None,
            date: None,
            resolved: None,
            note: String::new(),
        });
        w.upsert_client(c);
    };
    let world = check(add_flag, stats(1, 1, 1), &["b1"]);
    assert_eq!(world.guidance("b1").unwrap().rules(), ["S1", "P1"]);
    let drop_condition = |w: &mut ClinicWorld| {
        let mut c = w.client("a2").unwrap().clone();
        c.conditions.clear();
        w.upsert_client(c);
    };
    let world = check(drop_condition, stats(1, 1, 0), &["a2"]);
    assert_eq!(world.guidance("a2").unwrap().rules(), Vec::<&str>::new(), "the probe no longer advises a2");
    let gain_condition = |w: &mut ClinicWorld| {
        let mut c = w.client("c1").unwrap().clone();
        c.conditions.push(Condition {
            code: snomed::OSTEOARTHRITIS.into(),
            name: String::new(),
            status: ConditionStatus::Active,
            since: None,
        });
        w.upsert_client(c);
    };
    let world = check(gain_condition, stats(1, 1, 1), &["c1"]);
    assert_eq!(world.guidance("c1").unwrap().rules(), ["P1"]);
    let world = check(|w| w.upsert_client(fibro("new").build()), stats(1, 1, 1), &["new"]);
    assert_eq!(world.len(), 6);
    let mut world = check(|w| assert!(w.remove_client("a1")), stats(0, 0, 0), &["a1"]);
    assert!(world.guidance("a1").is_none());
    assert!(!world.remove_client("a1"));
}

#[test]
fn plugin_settings_re_evaluate_that_plugins_clients_only() {
    let mut settings = Settings::new();
    settings.insert("interval_min".into(), 10.into());
    let world = check(
        |w| assert_eq!(w.set_plugin_settings("probe", settings.clone()), Ok(3)),
        stats(3, 0, 3),
        &["a1", "a2", "b1"],
    );
    assert_eq!(world.guidance("a2").unwrap().recommendation.interval_days, Some(Range::new(10, 17)));
    assert_eq!(world.guidance("a1").unwrap().recommendation.next_due, Some(date("2026-11-17")));
    let unknown = |w: &mut ClinicWorld| {
        assert_eq!(w.set_plugin_settings("nope", Settings::new()), Err(HostError::UnknownPlugin("nope".into())));
    };
    check(unknown, stats(0, 0, 0), &[]);
    let bad = |w: &mut ClinicWorld| {
        let mut s = Settings::new();
        s.insert("interval_min".into(), "ten".into());
        let err = w.set_plugin_settings("probe", s).unwrap_err();
        assert!(matches!(err, HostError::BadSettings { .. }), "{err}");
    };
    check(bad, stats(0, 0, 0), &[]);
}

#[test]
fn date_and_rules_re_evaluate_everyone() {
    let world = check(|w| w.set_as_of(date("2026-11-28")), stats(5, 5, 3), &["a1", "a2", "b1", "c1", "c2"]);
    assert_eq!(world.as_of(), date("2026-11-28"));
    check(|w| w.set_as_of(date("2026-11-21")), stats(0, 0, 0), &[]); // the same day: nothing to do
    let stricter = HostRules { recent_injury_days: 7, ..HostRules::default() };
    check(|w| w.set_rules(stricter.clone()).unwrap(), stats(5, 5, 0), &[]);
    check(|w| w.set_rules(HostRules::default()).unwrap(), stats(0, 0, 0), &[]);
    check(
        |w| assert!(w.set_rules(HostRules { recent_injury_days: 0, ..HostRules::default() }).is_err()),
        stats(0, 0, 0),
        &[],
    );
}

#[test]
fn a_date_before_a_session_does_not_see_it() {
    let mut world = clinic();
    world.set_as_of(date("2026-10-30"));
    world.evaluate();
    assert_eq!(probe_card(&world, "a1"), "Probe saw 1 sessions");
    assert_eq!(world.guidance("a1").unwrap().recommendation.next_due, Some(date("2026-10-31")));
}

#[test]
fn hydrating_again_rebuilds_from_the_records() {
    let mut world = clinic();
    let before = world.all_guidance();
    let records: Vec<ClientSnapshot> =
        ["a1", "a2", "b1", "c1", "c2"].iter().map(|id| world.client(id).unwrap().clone()).collect();
    world.hydrate(records);
    assert_eq!(world.evaluate().clients, 5);
    assert_eq!(world.all_guidance(), before);
    world.hydrate(Vec::new());
    assert!(world.is_empty());
    assert_eq!(world.evaluate(), EvalStats::default());
    assert!(world.all_guidance().is_empty());
}

/// A misbehaving probe: a warning card naming it, its advice dropped, the host's cards kept.
#[test]
fn refused_plugin_output_becomes_a_warning_card() {
    fn check_bad(id: &str, expect_detail: &str) {
        let mut world = clinic();
        world.upsert_client(fibro(id).red_flag(RedFlagKind::NerveCompression, None, None).build());
        assert_eq!(world.evaluate(), stats(1, 1, 1));
        let g = world.guidance(id).unwrap();
        assert_eq!(g.rules(), ["S1", "HOST-PLUGIN"], "{g:#?}");
        let failure = &g.cards[1];
        assert_eq!((failure.indicator, failure.source.plugin.as_deref()), (Indicator::Warning, Some("host")));
        assert!(failure.summary.contains("`probe`"), "{}", failure.summary);
        assert!(failure.detail.contains(expect_detail), "{}", failure.detail);
        assert_eq!((g.recommendation.minutes, g.recommendation.interval_days, g.hold.as_ref()), (None, None, None));
        assert_eq!(world.guidance("a2").unwrap().rules(), ["P1"], "the other clients are unaffected");
    }
    check_bad("bad-summary.1", "empty summary");
    check_bad("bad-range.1", "min 40 above max 20");
    check_bad("bad-hold.1", "hold without a reason");
    check_bad("error.1", "the probe was asked to fail");
    check_bad("panic.1", "the probe was asked to panic");
}

#[test]
fn the_calendar_mirrors_the_practice_without_re_evaluating() {
    let appointment = |client: &str, start: &str| -> praxis_sdk::Appointment {
        serde_json::from_value(serde_json::json!({"client": client, "practitioner": "p1", "room": "r1",
            "discipline": "massage", "start": start, "minutes": 30}))
        .unwrap()
    };
    let practitioner: praxis_sdk::Practitioner =
        serde_json::from_value(serde_json::json!({"id": "p1", "name": "Ana", "disciplines": ["massage"]})).unwrap();
    let room: praxis_sdk::Room =
        serde_json::from_value(serde_json::json!({"id": "r1", "kind": "treatment_room", "capacity": 1})).unwrap();
    let calendar = |w: &mut ClinicWorld| {
        w.set_calendar(
            vec![practitioner.clone()],
            vec![room.clone()],
            vec![
                appointment("a1", "2026-11-28T10:00"),
                appointment("b1", "2026-11-24T09:00"),
                appointment("a1", "2026-11-23T15:30"),
            ],
        );
    };
    let mut world = check(calendar, stats(0, 0, 0), &[]);
    let starts: Vec<String> = world.appointments_for("a1").iter().map(|a| a.start.to_string()).collect();
    assert_eq!(starts, ["2026-11-23T15:30", "2026-11-28T10:00"]);
    assert_eq!(world.appointments_for("c1").len(), 0);
    assert_eq!((world.practitioners(), world.rooms()), (vec![&practitioner], vec![&room]));
    world.set_calendar(Vec::new(), Vec::new(), vec![appointment("c1", "2026-11-25T11:00")]);
    assert_eq!((world.appointments_for("a1").len(), world.appointments_for("c1").len()), (0, 1));
    assert!(world.practitioners().is_empty() && world.rooms().is_empty());
    assert_eq!(world.evaluate(), EvalStats::default());
}

#[test]
fn the_world_is_rebuilt_from_the_store() {
    use praxis_core::store::{Client, Store};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let practitioner: praxis_sdk::Practitioner =
        serde_json::from_value(serde_json::json!({"id": "p1", "name": "Ana", "disciplines": ["massage"]})).unwrap();
    let room: praxis_sdk::Room =
        serde_json::from_value(serde_json::json!({"id": "r1", "kind": "treatment_room", "capacity": 1})).unwrap();
    store.put_practitioner(&practitioner, "test").unwrap();
    store.put_room(&room, "test").unwrap();
    let mut kim = Client::new("k1", "Kim");
    kim.conditions.push(Condition {
        code: snomed::FIBROMYALGIA.into(),
        name: String::new(),
        status: ConditionStatus::Active,
        since: None,
    });
    store.put_client(&kim, "test").unwrap();
    store.put_client(&Client::new("k2", "Lee"), "test").unwrap();
    let session = |id: &str, start: &str| -> praxis_core::store::Session {
        serde_json::from_value(serde_json::json!({"id": id, "client": "k1", "practitioner": "p1",
            "discipline": "massage", "start": start, "minutes": 30, "pressure": "light",
            "pain_before": 5, "pain_after": 3}))
        .unwrap()
    };
    store.record_session(&session("s1", "2026-11-07T10:00"), date("2026-11-21"), "test").unwrap();
    let appointment: praxis_core::store::Appointment = serde_json::from_value(serde_json::json!({"id": "a1",
        "client": "k1", "practitioner": "p1", "room": "r1", "discipline": "massage", "start": "2026-11-28T10:00",
        "minutes": 30, "status": "booked"}))
    .unwrap();
    store.book(&[appointment], "test").unwrap();

    let registry = PluginRegistry::from_tables(&[praxis_plugin_table()]).unwrap();
    let mut world = ClinicWorld::new(registry, HostRules::default(), date("2026-11-21"));
    assert_eq!(world.hydrate_from_store(&store).unwrap(), 2);
    assert_eq!(world.evaluate(), stats(2, 2, 1));
    assert_eq!(probe_card(&world, "k1"), "Probe saw 1 sessions");
    assert_eq!(world.guidance("k2").unwrap().rules(), ["S3"]);
    assert_eq!(world.appointments_for("k1").len(), 1);
    assert_eq!((world.practitioners().len(), world.rooms().len()), (1, 1));

    // A session recorded in the store reaches the world as one upserted snapshot: one client re-evaluated.
    store.record_session(&session("s2", "2026-11-20T10:00"), date("2026-11-21"), "test").unwrap();
    world.upsert_client(store.snapshot("k1").unwrap());
    assert_eq!(world.evaluate(), stats(1, 1, 1));
    assert_eq!(probe_card(&world, "k1"), "Probe saw 2 sessions");
    let incremental = world.all_guidance();
    world.hydrate_from_store(&store).unwrap();
    world.evaluate();
    assert_eq!(world.all_guidance(), incremental, "rebuilt from the store, the world says the same");
}

#[test]
fn a_recorded_follow_up_lifts_the_s2_hold_and_new_rules_reach_the_screen() {
    let mut world = clinic();
    let stopped = massage("2026-11-14")
        .pressure(Pressure::Moderate)
        .pain(4, 7)
        .adverse(AdverseEvent::StoppedEarly { reason: "pain rose".into() });
    let injured = fibro("d1").red_flag(RedFlagKind::RecentInjury, Some("ankle"), Some("2026-11-10"));
    world.upsert_client(injured.clone().session(stopped.clone()).build());
    assert_eq!(world.evaluate(), stats(1, 1, 1));
    let g = world.guidance("d1").unwrap();
    assert_eq!((g.rules(), g.hold.as_ref().map(|h| h.rule.as_str())), (vec!["S1", "S2", "P1"], Some("S2")));
    assert_eq!(g.recommendation.pressure_max, Some(Pressure::Light), "S2: one step below moderate");
    assert_eq!(g.recommendation.next_due, None, "no due date under a hold");

    world.upsert_client(injured.session(stopped.follow_up(4)).build());
    assert_eq!(world.evaluate(), stats(1, 1, 1));
    let g = world.guidance("d1").unwrap();
    assert_eq!((g.rules(), g.hold.as_ref()), (vec!["S1", "S2", "P1"], None));
    assert_eq!(g.cards[1].indicator, Indicator::Warning, "S2 now only asks for lighter pressure");
    assert_eq!(g.recommendation.next_due, Some(date("2026-11-21")));

    world.set_rules(HostRules { recent_injury_days: 7, ..HostRules::default() }).unwrap();
    assert_eq!(world.evaluate(), stats(6, 6, 0));
    assert_eq!(world.guidance("d1").unwrap().rules(), ["S2", "P1"], "an injury of 11 days is no longer recent");
}
