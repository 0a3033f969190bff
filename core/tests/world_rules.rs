//! The host's rules (safety screen S1-S3, insurance I1-I3), the merge of
//! several modules' advice, validation of module output, the booking check,
//! the JSON contract of `ClientGuidance` and its human page.
//!
//! Whole-world tests here use one plugin, the fibromyalgia protocol; the
//! host-rule rows use clients whose conditions no loaded plugin handles, so
//! they depend on the host alone.

use praxis_core::plugin_host::{PluginFailure, PluginRegistry};
use praxis_core::store::{Insurance, UsedElsewhere};
use praxis_core::world::{
    Advice, BOOKING_PROMPT_RULES, BlockKind, ClientGuidance, ClinicWorld, HostRules, MISSING_PLAN_RULE, OverrideGrant,
    PlanPeriod, PlanTerms, Plans, Verdict, check_booking, evaluate_client, evaluate_client_insured,
    evaluate_client_with_overrides, merge, merge_with_overrides,
};
use praxis_sdk::testing::{ClientBuilder, massage, session};
use praxis_sdk::{
    Adjunct, AdverseEvent, Card, ClientSnapshot, ConditionStatus, Date, Discipline, Guidance, Hold, Indicator,
    InsuranceSummary, Pressure, Range, Recommendation, RedFlagKind, snomed,
};

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

const AS_OF: &str = "2026-11-21";

/// One line for a guidance: cards as `rule:c|w|i` in order, the hold's rule,
/// then the merged recommendation.
fn describe(g: &ClientGuidance) -> String {
    let cards: Vec<String> = g
        .cards
        .iter()
        .map(|c| {
            let i = match c.indicator {
                Indicator::Critical => "c",
                Indicator::Warning => "w",
                Indicator::Info => "i",
            };
            format!("{}:{i}", c.rule)
        })
        .collect();
    let r = &g.recommendation;
    let opt = |o: Option<String>| o.unwrap_or_else(|| "-".to_owned());
    let mut out = format!(
        "{} | hold {} | p {} m {} i {} next {}",
        if cards.is_empty() { "-".to_owned() } else { cards.join(" ") },
        opt(g.hold.as_ref().map(|h| format!("{}/{}", h.rule, h.source))),
        opt(r.pressure_max.map(|p| p.as_str().to_owned())),
        opt(r.minutes.map(|m| m.to_string())),
        opt(r.interval_days.map(|m| m.to_string())),
        opt(r.next_due.map(|d| d.to_string())),
    );
    for (name, list) in [("prefer", &r.prefer), ("avoid", &r.avoid), ("focus", &r.focus_regions)] {
        if !list.is_empty() {
            out.push_str(&format!(" {name} {}", list.join(",")));
        }
    }
    out
}

/// A client with intake on file, so that S3 stays quiet unless a row wants it.
fn client() -> ClientBuilder {
    ClientBuilder::new("c1").intake("2026-10-01")
}

fn check_with(rules: &HostRules, snapshot: ClientSnapshot, expect: &str) {
    let g = evaluate_client(&PluginRegistry::default(), rules, date(AS_OF), &snapshot);
    assert_eq!(describe(&g), expect, "\nclient: {snapshot:#?}");
    for card in &g.cards {
        assert!(card.summary.chars().count() < 140, "summary too long: {}", card.summary);
        assert_eq!(card.source.plugin.as_deref(), Some("host"), "{card:?}");
        assert!(card.detail.contains(&format!("rule {}", card.rule)), "detail must cite its rule: {}", card.detail);
        assert!(card.detail.contains("docs/GUIDANCE-RULES.md"), "detail must cite the rules in the repository");
        if card.indicator == Indicator::Critical {
            assert!(!card.override_reasons.is_empty(), "critical card without override reasons: {card:?}");
        }
    }
}

fn check(snapshot: ClientSnapshot, expect: &str) {
    check_with(&HostRules::default(), snapshot, expect);
}

fn resolved(mut c: ClientSnapshot, on: &str) -> ClientSnapshot {
    for f in &mut c.red_flags {
        f.resolved = Some(date(on));
    }
    c
}

fn injury(on: Option<&str>) -> ClientSnapshot {
    client().red_flag(RedFlagKind::RecentInjury, Some("left knee"), on).build()
}

const NOTHING: &str = "- | hold - | p - m - i - next -";
const S1: &str = "S1:c | hold - | p - m - i - next -";

#[test]
fn s1_safety_screen() {
    check(client().build(), NOTHING);
    check(injury(Some("2026-11-10")), S1);
    check(injury(Some("2026-10-10")), S1); // 42 days: still recent (project default)
    check(injury(Some("2026-10-09")), NOTHING); // 43 days
    check(injury(None), S1); // undated: always recent
    check(injury(Some("2026-11-25")), NOTHING); // recorded after the day asked about
    check(resolved(injury(Some("2026-11-10")), "2026-11-15"), NOTHING);
    check(resolved(injury(Some("2026-11-10")), "2026-11-25"), S1); // resolved only after as_of
    check(client().red_flag(RedFlagKind::NerveCompression, Some("neck"), None).build(), S1);
    check(resolved(client().red_flag(RedFlagKind::NerveCompression, None, None).build(), "2026-11-01"), NOTHING);
    check(client().red_flag(RedFlagKind::NerveCompression, None, Some("2020-01-01")).build(), S1); // no recency
    check(client().red_flag(RedFlagKind::InflammatoryFlare, None, Some("2026-11-19")).build(), S1);
    check(client().red_flag(RedFlagKind::Other, Some("scalp"), None).build(), NOTHING);
    check(client().red_flag(RedFlagKind::Unknown, None, None).build(), NOTHING);
    check(client().condition(snomed::RHEUMATOID_ARTHRITIS, ConditionStatus::Flare).build(), S1);
    check(client().condition(snomed::RHEUMATOID_ARTHRITIS, ConditionStatus::Active).build(), NOTHING);
    check(client().condition(snomed::OSTEOARTHRITIS, ConditionStatus::Flare).build(), NOTHING);
    check(
        client()
            .red_flag(RedFlagKind::RecentInjury, None, None)
            .red_flag(RedFlagKind::NerveCompression, None, None)
            .build(),
        "S1:c S1:c | hold - | p - m - i - next -",
    );
}

#[test]
fn s1_settings_widen_but_never_narrow() {
    let mut rules = HostRules { recent_injury_days: 7, ..HostRules::default() };
    check_with(&rules, injury(Some("2026-11-10")), NOTHING);
    check_with(&rules, injury(Some("2026-11-14")), S1);
    rules.inflammatory_conditions = vec![snomed::OSTEOARTHRITIS.to_owned()]; // rheumatoid arthritis not listed
    check_with(&rules, client().condition(snomed::OSTEOARTHRITIS, ConditionStatus::Flare).build(), S1);
    check_with(&rules, client().condition(snomed::RHEUMATOID_ARTHRITIS, ConditionStatus::Flare).build(), S1);
}

fn stopped(on: &str) -> praxis_sdk::testing::SessionBuilder {
    massage(on).pressure(Pressure::Moderate).pain(4, 7).adverse(AdverseEvent::StoppedEarly { reason: "pain".into() })
}

const S2_HOLD: &str = "S2:c | hold S2/host | p light m - i - next -";
const S2_LIFTED: &str = "S2:w | hold - | p light m - i - next -";

#[test]
fn s2_stopped_early() {
    check(client().session(stopped("2026-11-14")).build(), S2_HOLD);
    check(client().session(stopped("2026-11-14").follow_up(4)).build(), S2_LIFTED); // back to pain before
    check(client().session(stopped("2026-11-14").follow_up(3)).build(), S2_LIFTED);
    check(client().session(stopped("2026-11-14").follow_up(5)).build(), S2_HOLD); // still above pain before
    let mut no_before = stopped("2026-11-14").follow_up(6);
    no_before.0.pain_before = None;
    check(client().session(no_before.clone()).build(), S2_LIFTED); // below pain after
    no_before.0.follow_up_pain = Some(7);
    check(client().session(no_before).build(), S2_HOLD);
    let mut no_pain = stopped("2026-11-14").follow_up(1);
    no_pain.0.pain_before = None;
    no_pain.0.pain_after = None;
    check(client().session(no_pain).build(), S2_HOLD); // nothing to compare with: the hold stands
    let later_yoga = |pain: u8| session(Discipline::Yoga, "2026-11-18").pain(pain, pain);
    check(client().session(stopped("2026-11-14")).session(later_yoga(3)).build(), S2_LIFTED);
    check(client().session(stopped("2026-11-14")).session(later_yoga(6)).build(), S2_HOLD);
    check(client().session(stopped("2026-11-14").follow_up(3)).session(later_yoga(6)).build(), S2_HOLD); // latest
    check(client().session(stopped("2026-11-07")).session(massage("2026-11-14").pain(3, 2)).build(), NOTHING);
    check(client().session(stopped("2026-11-25")).build(), NOTHING); // after the day asked about
    let mut unknown_pressure = stopped("2026-11-14");
    unknown_pressure.0.pressure = None;
    check(client().session(unknown_pressure).build(), "S2:c | hold S2/host | p - m - i - next -");
    check(
        client().session(stopped("2026-11-14").pressure(Pressure::LightTouch)).build(),
        "S2:c | hold S2/host | p light_touch m - i - next -",
    );
}

#[test]
fn s3_intake() {
    check(ClientBuilder::new("c1").build(), "S3:w | hold - | p - m - i - next -");
    check(ClientBuilder::new("c1").intake("2026-11-25").build(), "S3:w | hold - | p - m - i - next -");
    check(ClientBuilder::new("c1").intake("2026-11-21").build(), NOTHING);
}

fn plan(f: impl FnOnce(&mut InsuranceSummary)) -> ClientSnapshot {
    let mut p = InsuranceSummary { payer: "Acme Health".into(), ..InsuranceSummary::default() };
    f(&mut p);
    client().condition(snomed::FIBROMYALGIA, ConditionStatus::Active).insurance(p).build()
}

#[test]
fn insurance_checks() {
    check(client().build(), NOTHING);
    check(plan(|_| {}), NOTHING);
    check(plan(|p| p.referral_required = true), "I1:w | hold - | p - m - i - next -");
    check(
        plan(|p| {
            p.referral_required = true;
            p.referral_on_file = true;
        }),
        NOTHING,
    );
    let limit = |used: u32| {
        plan(move |p| {
            p.session_limit = Some(10);
            p.sessions_used = used;
        })
    };
    check(limit(7), NOTHING);
    check(limit(8), "I2:w | hold - | p - m - i - next -");
    check(limit(9), "I2:w | hold - | p - m - i - next -");
    check(limit(10), "I2:c | hold - | p - m - i - next -");
    check(limit(12), "I2:c | hold - | p - m - i - next -");
    check_with(
        &HostRules { sessions_remaining_warning: 3, ..HostRules::default() },
        limit(7),
        "I2:w | hold - | p - m - i - next -",
    );
    check(plan(|p| p.covered_conditions = vec![snomed::FIBROMYALGIA.into()]), NOTHING);
    check(plan(|p| p.covered_conditions = vec![snomed::OSTEOARTHRITIS.into()]), "I3:i | hold - | p - m - i - next -");
}

/// The practice's plan `acme` with a limit of 10 over `period`.
fn acme(period: PlanPeriod, covered: &[&str]) -> Plans {
    let terms = PlanTerms {
        payer: "Acme Health".into(),
        referral_required: true,
        covered_conditions: covered.iter().map(|c| (*c).to_owned()).collect(),
        session_limit: Some(10),
        period,
    };
    Plans::from([("acme".to_owned(), terms)])
}

/// The insurance cards of a client on plan `record` with massages on
/// `sessions`, on `as_of`: each as `rule:c|w|i`, with the I2 summary's
/// "N of M used".
fn plan_cards(plans: &Plans, record: &Insurance, sessions: &[&str], condition: &str, as_of: &str) -> String {
    let mut b = client().condition(condition, ConditionStatus::Active);
    for day in sessions {
        b = b.session(massage(day));
    }
    let snapshot = b.build();
    let g = evaluate_client_insured(
        &PluginRegistry::default(),
        &HostRules::default(),
        plans,
        date(as_of),
        &snapshot,
        Some(record),
        &[],
    );
    g.cards
        .iter()
        .filter(|c| c.rule.starts_with('I') || c.rule == MISSING_PLAN_RULE)
        .map(|c| {
            let i = match c.indicator {
                Indicator::Critical => "c",
                Indicator::Warning => "w",
                Indicator::Info => "i",
            };
            let used = c.summary.split_once('(').and_then(|(_, r)| r.split(')').next()).map(str::to_owned);
            match (c.rule.as_str(), used) {
                ("I2", Some(u)) => format!("I2:{i}({u})"),
                (rule, _) => format!("{rule}:{i}"),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What, plans, record, sessions, condition, as of, expected cards.
type PlanCase<'a> = (&'a str, Plans, Insurance, &'a [&'a str], &'a str, &'a str, &'a str);

#[test]
fn a_plan_is_read_from_the_config_and_its_sessions_counted_from_the_records() {
    let fm = snomed::FIBROMYALGIA;
    let ra = snomed::RHEUMATOID_ARTHRITIS;
    let on_file = Insurance { authorization_on_file: true, ..Insurance::on_plan("acme") };
    let elsewhere = |n: u32, recorded: &str| Insurance {
        used_elsewhere: Some(UsedElsewhere { sessions: n, recorded: date(recorded) }),
        ..on_file.clone()
    };
    let year = acme(PlanPeriod::CalendarYear, &[]);
    let eight_this_year: Vec<String> = (1..=8).map(|m| format!("2026-{m:02}-10")).collect();
    let eight: Vec<&str> = eight_this_year.iter().map(String::as_str).collect();
    #[rustfmt::skip]
    let cases: Vec<PlanCase<'_>> = vec![
        // what, plans, record, sessions, condition, as of, expected cards
        ("no sessions yet", year.clone(), on_file.clone(), &[], fm, AS_OF, ""),
        ("referral missing (I1 from the config's terms)", year.clone(), Insurance::on_plan("acme"), &[], fm, AS_OF, "I1:w"),
        ("8 of 10 this year: 2 remain", year.clone(), on_file.clone(), &eight, fm, AS_OF, "I2:w(8 of 10 used)"),
        ("a session after the day does not count", year.clone(), on_file.clone(), &["2026-01-10", "2026-02-10", "2026-03-10", "2026-04-10", "2026-05-10", "2026-06-10", "2026-07-10", "2026-11-22"], fm, AS_OF, ""),
        ("last year's sessions do not count", year.clone(), on_file.clone(), &["2025-06-01", "2025-07-01", "2025-08-01", "2025-09-01", "2025-10-01", "2025-11-01", "2025-12-01", "2025-12-31"], fm, AS_OF, ""),
        ("a new year starts at zero", year.clone(), on_file.clone(), &eight, fm, "2027-01-01", ""),
        ("elsewhere adds", year.clone(), elsewhere(2, "2026-03-01"), &eight, fm, AS_OF, "I2:c(10 of 10 used)"),
        ("elsewhere of last period does not", year.clone(), elsewhere(2, "2025-12-01"), &eight, fm, AS_OF, "I2:w(8 of 10 used)"),
        ("plan year from 04-01: Jan-Mar are last period", acme(PlanPeriod::PlanYear { month: 4, day: 1 }, &[]), on_file.clone(), &eight, fm, AS_OF, ""),
        ("rolling 12 months", acme(PlanPeriod::Rolling12Months, &[]), on_file.clone(), &["2025-11-21", "2025-11-22", "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"], fm, AS_OF, "I2:w(8 of 10 used)"),
        ("covered condition: sessions count", acme(PlanPeriod::CalendarYear, &[fm]), on_file.clone(), &eight, fm, AS_OF, "I2:w(8 of 10 used)"),
        ("uncovered condition: self-pay, not counted (I3)", acme(PlanPeriod::CalendarYear, &[fm]), on_file.clone(), &eight, ra, AS_OF, "I3:i"),
        ("plan not in the config: a warning, never silence", Plans::new(), on_file.clone(), &eight, fm, AS_OF, "HOST-PLAN:w"),
    ];
    let mut wrong = Vec::new();
    for (what, plans, record, sessions, condition, as_of, expect) in cases {
        let got = plan_cards(&plans, &record, sessions, condition, as_of);
        if got != expect {
            wrong.push(format!("{what}: got `{got}`, want `{expect}`"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_change_to_the_plan_in_the_config_reaches_a_client_in_the_world() {
    let days: Vec<String> = (1..=6).map(|m| format!("2026-{m:02}-10")).collect();
    let mut b = client().condition(snomed::FIBROMYALGIA, ConditionStatus::Active);
    for d in &days {
        b = b.session(massage(d));
    }
    let mut world = ClinicWorld::new(PluginRegistry::default(), HostRules::default(), date(AS_OF));
    world.set_plans(acme(PlanPeriod::CalendarYear, &[]));
    world.hydrate(vec![b.build()]);
    world.set_insurance("c1", Some(Insurance { authorization_on_file: true, ..Insurance::on_plan("acme") }));
    world.evaluate();
    assert!(world.guidance("c1").unwrap().cards_for("I2").next().is_none(), "6 of 10: no card");
    // The practice lowers the limit to 7: the same client, untouched, now has 1 left.
    let mut lower = acme(PlanPeriod::CalendarYear, &[]);
    lower.get_mut("acme").unwrap().session_limit = Some(7);
    world.set_plans(lower);
    world.evaluate();
    let g = world.guidance("c1").unwrap();
    let card = g.cards_for("I2").next().expect("an I2 card after the config change");
    assert_eq!(
        (card.indicator, card.summary.as_str()),
        (Indicator::Warning, "1 covered session remains in the plan (6 of 7 used)")
    );
    assert!(card.detail.contains("2026-01-01 to 2026-12-31"), "{}", card.detail);
    // A new year: the count starts again.
    world.set_as_of(date("2027-01-02"));
    world.evaluate();
    assert!(world.guidance("c1").unwrap().cards_for("I2").next().is_none());
    // The plan removed from the config: a warning, not silence.
    world.set_plans(Plans::new());
    world.evaluate();
    assert_eq!(world.guidance("c1").unwrap().cards_for(MISSING_PLAN_RULE).count(), 1);
}

#[test]
fn host_cards_say_what_and_order_critical_warning_info() {
    let everything = ClientBuilder::new("c1")
        .condition(snomed::OSTEOARTHRITIS, ConditionStatus::Active)
        .red_flag(RedFlagKind::NerveCompression, Some("lower back"), None)
        .insurance(InsuranceSummary {
            covered_conditions: vec![snomed::FIBROMYALGIA.into()],
            referral_required: true,
            ..InsuranceSummary::default()
        })
        .build();
    check(everything.clone(), "S1:c S3:w I1:w I3:i | hold - | p - m - i - next -");
    let g = evaluate_client(&PluginRegistry::default(), &HostRules::default(), date(AS_OF), &everything);
    let summaries: Vec<&str> = g.cards.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Nerve compression (lower back): consult the client's healthcare provider before treating",
            "No intake recorded: record pain patterns, sensitivities and previous treatments first",
            "The plan requires a referral or prescription; none is on file: obtain one before booking",
            "Not covered by the plan: osteoarthritis; sessions for it are self-pay",
        ]
    );
}

// --- merge ------------------------------------------------------------------

fn module(source: &str, guidance: Guidance) -> Advice {
    Advice { source: source.into(), label: format!("{source} protocol"), outcome: Ok(guidance) }
}

fn rec(minutes: Option<(u32, u32)>, pressure: Option<Pressure>, interval: Option<(u32, u32)>) -> Guidance {
    Guidance {
        recommendation: Some(Recommendation {
            minutes: minutes.map(|(a, b)| Range::new(a, b)),
            pressure_max: pressure,
            interval_days: interval.map(|(a, b)| Range::new(a, b)),
            ..Recommendation::default()
        }),
        ..Guidance::default()
    }
}

fn card(rule: &str, indicator: Indicator) -> Card {
    Card::new(rule, indicator, format!("{rule} says so"), format!("because of rule {rule}")).with_source("Module")
}

fn cards(list: &[(&str, Indicator)]) -> Guidance {
    Guidance { cards: list.iter().map(|(r, i)| card(r, *i)).collect(), ..Guidance::default() }
}

fn check_merge(last: Option<&str>, advice: Vec<Advice>, expect: &str) {
    let g = merge("c1", date(AS_OF), last.map(date), advice);
    assert_eq!(describe(&g), expect);
}

use Indicator::{Critical, Info, Warning};
use Pressure::{Firm, Light, Moderate};

#[test]
fn merge_pressure_and_minutes() {
    let mins = |src: &str, r: (u32, u32)| module(src, rec(Some(r), None, None));
    let press = |src: &str, p: Pressure| module(src, rec(None, Some(p), None));
    check_merge(None, vec![press("a", Moderate), press("b", Light)], "- | hold - | p light m - i - next -");
    check_merge(None, vec![press("a", Light), press("b", Firm)], "- | hold - | p light m - i - next -");
    check_merge(None, vec![press("a", Firm), module("b", rec(None, None, None))], "- | hold - | p firm m - i - next -");
    check_merge(None, vec![mins("a", (20, 30)), mins("b", (25, 60))], "- | hold - | p - m 25-30 i - next -");
    check_merge(None, vec![mins("a", (20, 30)), mins("b", (45, 60))], "- | hold - | p - m 20-30 i - next -");
    check_merge(None, vec![mins("a", (45, 60)), mins("b", (20, 30))], "- | hold - | p - m 20-30 i - next -");
    check_merge(None, vec![mins("a", (30, 30)), mins("b", (20, 45))], "- | hold - | p - m 30 i - next -");
    check_merge(None, vec![mins("a", (30, 60))], "- | hold - | p - m 30-60 i - next -");
}

#[test]
fn merge_intervals_and_next_due() {
    let every = |src: &str, r: (u32, u32)| module(src, rec(None, None, Some(r)));
    check_merge(None, vec![every("a", (7, 14)), every("b", (10, 21))], "- | hold - | p - m - i 10-14 next -");
    check_merge(None, vec![every("a", (7, 14)), every("b", (14, 28))], "- | hold - | p - m - i 14 next -");
    check_merge(None, vec![every("a", (7, 14)), every("b", (21, 28))], "- | hold - | p - m - i 21-28 next -");
    check_merge(None, vec![every("a", (21, 28)), every("b", (7, 14))], "- | hold - | p - m - i 21-28 next -");
    check_merge(
        None,
        vec![every("a", (7, 14)), every("b", (7, 14)), every("c", (30, 40))],
        "- | hold - | p - m - i 30-40 next -",
    );
    check_merge(Some("2026-11-14"), vec![every("a", (7, 14))], "- | hold - | p - m - i 7-14 next 2026-11-21");
    check_merge(Some("2026-11-30"), vec![every("a", (14, 28))], "- | hold - | p - m - i 14-28 next 2026-12-14");
    check_merge(Some("2026-11-14"), vec![module("a", rec(None, None, None))], NOTHING);
    let held =
        Guidance { hold: Some(Hold { reason: "flare".into(), rule: "R2".into() }), ..rec(None, None, Some((7, 14))) };
    check_merge(Some("2026-11-14"), vec![module("b", held)], "R2:c | hold R2/b | p - m - i 7-14 next -");
}

#[test]
fn merge_lists() {
    let lists = |prefer: &[&str], avoid: &[&str], focus: &[&str], avoid_regions: &[&str]| {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Guidance {
            recommendation: Some(Recommendation {
                prefer: v(prefer),
                avoid: v(avoid),
                focus_regions: v(focus),
                avoid_regions: v(avoid_regions),
                ..Recommendation::default()
            }),
            ..Guidance::default()
        }
    };
    check_merge(
        None,
        vec![
            module("a", lists(&["slow strokes"], &["deep pressure on tender points"], &["neck", "back"], &[])),
            module("b", lists(&["Slow strokes ", "heat"], &["Deep pressure on tender points"], &["knees"], &["knees"])),
        ],
        "- | hold - | p - m - i - next - prefer slow strokes,heat avoid deep pressure on tender points,knees \
         focus neck,back",
    );
    check_merge(None, vec![module("a", lists(&[" ", ""], &[], &[], &[]))], NOTHING);
    let adj = |before: Vec<Adjunct>, after: Vec<Adjunct>| Guidance {
        recommendation: Some(Recommendation { before, after, ..Recommendation::default() }),
        ..Guidance::default()
    };
    let g = merge(
        "c1",
        date(AS_OF),
        None,
        vec![
            module("a", adj(vec![Adjunct::HeatBefore], vec![])),
            module("b", adj(vec![Adjunct::HeatBefore], vec![Adjunct::ColdAfter])),
        ],
    );
    assert_eq!(
        (g.recommendation.before, g.recommendation.after),
        (vec![Adjunct::HeatBefore], vec![Adjunct::ColdAfter])
    );
}

#[test]
fn merge_cards_and_holds() {
    let a = module("a", cards(&[("F7", Info), ("F4", Warning)]));
    let b = module("b", cards(&[("R3", Info), ("R2", Critical)]));
    check_merge(None, vec![a.clone(), b.clone()], "R2:c F4:w F7:i R3:i | hold - | p - m - i - next -");
    check_merge(None, vec![b, a], "R2:c F4:w R3:i F7:i | hold - | p - m - i - next -");
    let hold = |rule: &str, with_card: bool| {
        let mut g = if with_card { cards(&[(rule, Critical)]) } else { Guidance::default() };
        g.hold = Some(Hold { reason: format!("{rule} hold"), rule: rule.into() });
        g
    };
    check_merge(
        None,
        vec![module("host", hold("S2", true)), module("b", hold("R2", false))],
        "S2:c R2:c | hold S2/host | p - m - i - next -",
    );
    check_merge(
        None,
        vec![module("b", hold("R2", true)), module("host", hold("S2", true))],
        "R2:c S2:c | hold R2/b | p - m - i - next -",
    );
    let warned = Guidance { cards: vec![card("R2", Warning)], ..hold("R2", false) };
    check_merge(None, vec![module("b", warned)], "R2:c R2:w | hold R2/b | p - m - i - next -");
}

#[test]
fn merge_names_every_module_and_ids_every_card() {
    let mut stamped = card("F4", Warning);
    stamped.source.plugin = Some("fibromyalgia".into());
    stamped.uuid = Some("given-by-plugin".into());
    let advice = || {
        vec![
            module("a", cards(&[("F7", Info), ("F7", Info)])),
            module("x", Guidance { cards: vec![stamped.clone()], ..Guidance::default() }),
        ]
    };
    let g = merge("c1", date(AS_OF), None, advice());
    let sources: Vec<&str> = g.cards.iter().map(|c| c.source.plugin.as_deref().unwrap()).collect();
    assert_eq!(sources, ["fibromyalgia", "a", "a"]);
    let ids: Vec<&str> = g.cards.iter().map(|c| c.uuid.as_deref().unwrap()).collect();
    assert_eq!(ids[0], "given-by-plugin");
    assert_ne!(ids[1], ids[2]);
    assert!(uuid::Uuid::parse_str(ids[1]).is_ok(), "{}", ids[1]);
    assert_eq!(merge("c1", date(AS_OF), None, advice()), g, "the same advice gives the same ids");
    assert_ne!(merge("c2", date(AS_OF), None, advice()).cards[1].uuid.as_deref(), Some(ids[1]));
}

#[test]
fn merge_refuses_bad_module_output_and_keeps_the_rest() {
    let good = || module("host", Guidance { cards: vec![card("S3", Warning)], ..rec(None, Some(Moderate), None) });
    let bad = |g: Guidance| module("broken", g);
    let one = |g: Guidance| {
        let out = merge("c1", date(AS_OF), None, vec![good(), bad(g)]);
        let failure = out.cards.iter().find(|c| c.rule == "HOST-PLUGIN").expect("a failure card");
        assert_eq!(failure.indicator, Warning);
        assert!(failure.summary.contains("`broken`"), "{}", failure.summary);
        (describe(&out), failure.detail.clone())
    };
    let check_bad = |g: Guidance, expect_detail: &str| {
        let (line, detail) = one(g);
        assert_eq!(line, "S3:w HOST-PLUGIN:w | hold - | p moderate m - i - next -");
        assert!(detail.contains(expect_detail), "{detail}");
    };
    let mut empty_summary = card("F1", Info);
    empty_summary.summary = "  ".into();
    check_bad(Guidance { cards: vec![empty_summary], ..rec(None, Some(Light), None) }, "empty summary");
    let mut long = card("F1", Info);
    long.summary = "x".repeat(140);
    check_bad(Guidance { cards: vec![long], ..Guidance::default() }, "140 characters");
    check_bad(Guidance { cards: vec![card("", Info)], ..Guidance::default() }, "names no rule");
    check_bad(rec(Some((40, 20)), Some(Light), None), "minutes has min 40 above max 20");
    check_bad(rec(None, Some(Light), Some((21, 7))), "interval_days has min 21 above max 7");
    check_bad(rec(Some((0, 30)), None, None), "outside 1-240");
    check_bad(
        Guidance { hold: Some(Hold { reason: " ".into(), rule: "R2".into() }), ..Guidance::default() },
        "hold without a reason",
    );
    let failed = Advice {
        source: "broken".into(),
        label: "Broken".into(),
        outcome: Err(PluginFailure { plugin: "broken".into(), message: "plugin panicked: boom".into() }),
    };
    let out = merge("c1", date(AS_OF), None, vec![good(), failed]);
    assert_eq!(describe(&out), "S3:w HOST-PLUGIN:w | hold - | p moderate m - i - next -");
    assert!(out.cards[1].detail.contains("boom"));
}

// --- booking ------------------------------------------------------------------

fn guidance_of(snapshot: ClientSnapshot) -> ClientGuidance {
    evaluate_client(&PluginRegistry::default(), &HostRules::default(), date(AS_OF), &snapshot)
}

fn check_booking_case(g: &ClientGuidance, grants: &[(&str, &str)], expect: Result<(), &[&str]>) {
    let grants: Vec<OverrideGrant> = grants.iter().map(|(r, why)| OverrideGrant::new(r, why)).collect();
    match (check_booking(g, &grants), expect) {
        (Ok(verdict), Ok(())) => assert!(verdict.is_bookable()),
        (Err(refused), Err(rules)) => {
            let got: Vec<&str> = refused.blockers.iter().map(|b| b.rule.as_str()).collect();
            assert_eq!(got, rules);
            let text = refused.to_string();
            for b in &refused.blockers {
                assert!(text.contains(&b.summary), "{text}");
            }
            assert!(text.contains("override reason"), "{text}");
        }
        (got, expected) => panic!("got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn booking_needs_an_override_for_holds_and_critical_cards() {
    let calm = guidance_of(client().build());
    let injured = guidance_of(injury(None));
    let held = guidance_of(client().session(stopped("2026-11-14")).build());
    let both = guidance_of(
        client()
            .red_flag(RedFlagKind::NerveCompression, None, None)
            .insurance(InsuranceSummary { session_limit: Some(4), sessions_used: 4, ..InsuranceSummary::default() })
            .build(),
    );
    let no_intake = guidance_of(ClientBuilder::new("c1").build());
    check_booking_case(&calm, &[], Ok(()));
    check_booking_case(&no_intake, &[], Ok(())); // a warning does not block
    check_booking_case(&injured, &[], Err(&["S1"]));
    check_booking_case(&injured, &[("S1", "Client's healthcare provider consulted and cleared treatment")], Ok(()));
    check_booking_case(&injured, &[("s1", "cleared by GP on the phone")], Ok(()));
    check_booking_case(&injured, &[("S1", "   ")], Err(&["S1"]));
    check_booking_case(&injured, &[("S2", "client feels fine")], Err(&["S1"]));
    check_booking_case(&held, &[], Err(&["S2"])); // the hold and its card: one blocker
    check_booking_case(&held, &[("S2", "Client reports the pain has subsided")], Ok(()));
    check_booking_case(&both, &[], Err(&["S1", "I2"]));
    check_booking_case(&both, &[("S1", "provider cleared")], Err(&["I2"]));
    check_booking_case(&both, &[("S1", "provider cleared"), ("I2", "Client agrees to pay for the session")], Ok(()));
    let refused = check_booking(&injured, &[OverrideGrant::new("S1", "")]).unwrap_err();
    assert!(refused.blockers[0].blank_override);
    assert!(refused.to_string().contains("the override given for S1 has no reason"), "{refused}");
}

// --- JSON contract and the human page ----------------------------------------------

fn sample() -> ClientGuidance {
    let mut plugin_card = Card::new("F4", Warning, "Flare after the last session", "Time the interval.")
        .with_source("Fibromyalgia protocol");
    plugin_card.source.plugin = Some("fibromyalgia".into());
    plugin_card.source.version = Some("1.0.0".into());
    plugin_card.uuid = Some("9f1c".into());
    let fibro = Guidance {
        cards: vec![plugin_card],
        recommendation: Some(Recommendation {
            minutes: Some(Range::new(20, 30)),
            pressure_max: Some(Light),
            prefer: vec!["slow strokes".into()],
            avoid: vec!["deep pressure on tender points".into()],
            focus_regions: vec!["neck".into(), "shoulders".into(), "back".into()],
            interval_days: Some(Range::new(7, 14)),
            ..Recommendation::default()
        }),
        hold: None,
    };
    merge("c-42", date(AS_OF), Some(date("2026-11-21")), vec![module("fibromyalgia", fibro)])
}

#[test]
fn json_contract() {
    let json = serde_json::to_value(sample()).unwrap();
    let expected = serde_json::json!({
        "client": "c-42", "as_of": "2026-11-21", "hold": null, "booking": {"status": "bookable"},
        "recommendation": {"minutes": {"min": 20, "max": 30}, "pressure_max": "light", "prefer": ["slow strokes"],
            "avoid": ["deep pressure on tender points"], "focus_regions": ["neck", "shoulders", "back"],
            "before": [], "after": [], "interval_days": {"min": 7, "max": 14}, "next_due": "2026-11-28"},
        "cards": [{"uuid": "9f1c", "summary": "Flare after the last session", "detail": "Time the interval.",
            "indicator": "warning", "rule": "F4",
            "source": {"label": "Fibromyalgia protocol", "plugin": "fibromyalgia", "version": "1.0.0"},
            "overrideReasons": []}]
    });
    assert_eq!(json, expected);
    let held = merge(
        "c-42",
        date(AS_OF),
        None,
        vec![module(
            "arthritis",
            Guidance { hold: Some(Hold { reason: "RA flare".into(), rule: "R2".into() }), ..Guidance::default() },
        )],
    );
    assert_eq!(
        serde_json::to_value(&held).unwrap()["hold"],
        serde_json::json!({"reason": "RA flare", "rule": "R2", "source": "arthritis"})
    );
    assert_eq!(
        serde_json::to_value(&held).unwrap()["booking"],
        serde_json::json!({"status": "blocked", "blockers": [{"rule": "R2", "kind": "hold", "summary": "On hold: RA flare",
            "source": "arthritis", "override_reasons": [], "override_reason": null}]})
    );
    let text = serde_json::to_string(&held).unwrap();
    assert_eq!(serde_json::from_str::<ClientGuidance>(&text).unwrap(), held);
}

#[test]
fn json_from_outside_is_checked() {
    let good = serde_json::to_string(&sample()).unwrap();
    let check_bad = |from: &str, to: &str, expect: &str| {
        let bad = good.replacen(from, to, 1);
        assert_ne!(bad, good, "the replacement must apply");
        let err = serde_json::from_str::<ClientGuidance>(&bad).unwrap_err().to_string();
        assert!(err.contains(expect), "{err}");
    };
    check_bad("\"as_of\":\"2026-11-21\"", "\"as_of\":\"2026-13-21\"", "`2026-13-21` is not a valid date");
    check_bad("\"pressure_max\":\"light\"", "\"pressure_max\":\"feather\"", "unknown variant `feather`");
    check_bad("\"indicator\":\"warning\"", "\"indicator\":\"urgent\"", "unknown variant `urgent`");
    check_bad("\"min\":20", "\"min\":-20", "invalid value");
    check_bad("\"client\":\"c-42\",", "", "missing field `client`");
}

#[test]
fn human_page() {
    let mut g = sample();
    g.cards.insert(0, guidance_of(injury(Some("2026-11-10"))).cards.remove(0));
    g.booking = Verdict::of(&[], &g.cards, &[]);
    let expected = "\
Guidance for c-42 on 2026-11-21

CRITICAL [S1, host]: Recent injury (left knee, 2026-11-10): consult the client's healthcare provider before treating
  Do not book or treat without an override reason for rule S1.
Session 20-30 minutes, pressure at most light
Prefer  slow strokes
Avoid   deep pressure on tender points
Focus   neck, shoulders, back
Next    every 7-14 days; next due 2026-11-28

Critical:
  [S1] Recent injury (left knee, 2026-11-10): consult the client's healthcare provider before treating (Praxis safety screen, host)
      override: Client's healthcare provider consulted and cleared treatment

Warning:
  [F4] Flare after the last session (Fibromyalgia protocol, fibromyalgia 1.0.0)
";
    assert_eq!(g.render_text(), expected);
    let named = g.render_page("Maria Santos");
    assert!(named.starts_with("Guidance for Maria Santos on 2026-11-21\n"), "{named}");
    assert_eq!(named.lines().skip(1).collect::<Vec<_>>(), expected.lines().skip(1).collect::<Vec<_>>());
    assert!(g.render_page("  ").starts_with("Guidance for c-42 on"), "a blank name falls back to the id");
    g.booking = g.booking.with_overrides(&[OverrideGrant::new("S1", "provider cleared")]);
    let cleared = g.render_page("Maria Santos");
    assert!(cleared.contains("(overridden for the next booking: provider cleared)"), "{cleared}");
    assert!(cleared.contains("Bookable once, with the overrides above."), "{cleared}");
    let held = guidance_of(client().session(stopped("2026-11-14")).build());
    let page = held.render_text();
    let first = page.lines().nth(2).unwrap();
    assert!(first.starts_with("ON HOLD [S2, host]: Last massage (2026-11-14) was stopped early"), "{page}");
    assert!(page.contains("Session pressure at most light"), "{page}");
    let empty = guidance_of(client().build()).render_text();
    assert_eq!(empty, "Guidance for c1 on 2026-11-21\n\nNo session recommendation from the modules.\n");
}

// --- host rules from the practice config ------------------------------------------------

#[test]
fn host_rules_from_config() {
    fn check_toml(text: &str, expect: Result<HostRules, &str>) {
        let parsed = toml::from_str::<HostRules>(text).map_err(|e| e.to_string()).and_then(|r| {
            r.validate().map_err(|e| e.to_string())?;
            Ok(r)
        });
        match (parsed, expect) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
            (got, want) => panic!("{text}: got {got:?}, expected {want:?}"),
        }
    }
    let d = HostRules::default;
    check_toml("", Ok(d()));
    check_toml("recent_injury_days = 28", Ok(HostRules { recent_injury_days: 28, ..d() }));
    check_toml("sessions_remaining_warning = 0", Ok(HostRules { sessions_remaining_warning: 0, ..d() }));
    check_toml(
        "inflammatory_conditions = [\"396275006\"]",
        Ok(HostRules { inflammatory_conditions: vec!["396275006".into()], ..d() }),
    );
    check_toml("recent_injury_days = 0", Err("rules.recent_injury_days 0 is outside 1-3650"));
    check_toml("recent_injury_days = 4000", Err("outside 1-3650"));
    check_toml("recent_injury_days = -1", Err("invalid value"));
    check_toml("recent_injury_days = \"six weeks\"", Err("invalid type"));
    check_toml("inflammatory_conditions = [\"RA\"]", Err("`RA` is not a SNOMED CT code"));
    check_toml("inflammatory_conditions = [\"\"]", Err("is not a SNOMED CT code"));
    check_toml("inflammatory_conditions = [\"0123456\"]", Err("is not a SNOMED CT code"));
    check_toml("sessions_remaining_warning = 5000", Err("above 1000"));
    check_toml("safety_screen = false", Err("unknown field `safety_screen`"));
    let mut world = ClinicWorld::new(PluginRegistry::default(), d(), date(AS_OF));
    let err = world.set_rules(HostRules { recent_injury_days: 0, ..d() }).unwrap_err();
    assert!(err.to_string().contains("give the number of days"), "{err}");
}

// --- the whole world, with the fibromyalgia plugin compiled in ---------------------------------

#[test]
fn world_with_the_fibromyalgia_plugin() {
    let registry = PluginRegistry::from_tables(&[praxis_fibromyalgia::praxis_plugin_table()]).unwrap();
    let fibro =
        |id: &str| ClientBuilder::new(id).intake("2026-10-01").condition(snomed::FIBROMYALGIA, ConditionStatus::Active);
    let clients = vec![
        fibro("b-injured")
            .red_flag(RedFlagKind::RecentInjury, Some("wrist"), Some("2026-11-19"))
            .massages(3, 14, "2026-11-07")
            .build(),
        fibro("a-calm").massages(4, 14, "2026-11-14").build(),
        ClientBuilder::new("c-new").build(),
    ];
    let mut world = ClinicWorld::new(registry, HostRules::default(), date(AS_OF));
    world.hydrate(clients.clone());
    assert_eq!(world.evaluate().clients, 3);
    let all = world.all_guidance();
    let ids: Vec<&str> = all.iter().map(|g| g.client.as_str()).collect();
    assert_eq!(ids, ["a-calm", "b-injured", "c-new"]);
    let alone = PluginRegistry::from_tables(&[praxis_fibromyalgia::praxis_plugin_table()]).unwrap();
    for (snapshot, in_world) in clients.iter().zip([&all[1], &all[0], &all[2]]) {
        let direct = evaluate_client(&alone, &HostRules::default(), date(AS_OF), snapshot);
        assert_eq!(&direct, in_world, "the world and a direct evaluation agree");
    }
    let injured = world.guidance("b-injured").unwrap();
    assert_eq!((injured.cards[0].rule.as_str(), injured.cards[0].indicator), ("S1", Critical));
    let calm = world.guidance("a-calm").unwrap();
    assert!(calm.cards.iter().any(|c| c.source.plugin.as_deref() == Some("fibromyalgia")), "{calm:#?}");
    let interval = calm.recommendation.interval_days.expect("the protocol recommends an interval");
    assert_eq!(calm.recommendation.next_due, Some(date("2026-11-14").add_days(interval.min as i32)));
    for card in &injured.cards {
        let plugin = card.source.plugin.as_deref().unwrap();
        assert!(plugin == "host" || plugin == "fibromyalgia", "{card:?}");
    }
    assert_eq!(world.guidance("c-new").unwrap().rules(), ["S3"]);
    assert!(world.guidance("nobody").is_none());
}

// --- merge invariants, for any advice ---------------------------------------------------------

mod merge_properties {
    use super::*;
    use proptest::prelude::*;

    fn range() -> impl Strategy<Value = Range> {
        (1u32..60, 0u32..60).prop_map(|(min, span)| Range::new(min, min + span))
    }

    fn indicator() -> impl Strategy<Value = Indicator> {
        prop_oneof![Just(Critical), Just(Warning), Just(Info)]
    }

    fn module_guidance() -> impl Strategy<Value = Guidance> {
        (
            proptest::option::of(range()),
            proptest::option::of(proptest::sample::select(Pressure::ALL.to_vec())),
            proptest::option::of(range()),
            proptest::collection::vec(indicator(), 0..4),
        )
            .prop_map(|(minutes, pressure, interval, indicators)| Guidance {
                cards: indicators.into_iter().enumerate().map(|(i, ind)| card(&format!("X{i}"), ind)).collect(),
                recommendation: Some(Recommendation {
                    minutes,
                    pressure_max: pressure,
                    interval_days: interval,
                    ..Recommendation::default()
                }),
                hold: None,
            })
    }

    proptest! {
        #[test]
        fn merged_advice_is_never_less_cautious_than_any_module(
            modules in proptest::collection::vec(module_guidance(), 1..5)
        ) {
            let advice: Vec<Advice> =
                modules.iter().enumerate().map(|(i, g)| module(&format!("m{i}"), g.clone())).collect();
            let merged = merge("c1", date(AS_OF), Some(date("2026-11-01")), advice);
            let recs: Vec<&Recommendation> = modules.iter().filter_map(|g| g.recommendation.as_ref()).collect();
            let r = &merged.recommendation;
            prop_assert_eq!(r.pressure_max, recs.iter().filter_map(|x| x.pressure_max).min());
            let shortest = recs.iter().filter_map(|x| x.minutes).map(|m| m.max).min();
            prop_assert_eq!(r.minutes.map(|m| m.max), shortest);
            let longest_rest = recs.iter().filter_map(|x| x.interval_days).map(|m| m.min).max();
            prop_assert_eq!(r.interval_days.map(|i| i.min), longest_rest);
            prop_assert!(r.minutes.is_none_or(|m| m.is_valid()) && r.interval_days.is_none_or(|i| i.is_valid()));
            prop_assert_eq!(r.next_due, r.interval_days.map(|i| date("2026-11-01").add_days(i.min as i32)));
            let total: usize = modules.iter().map(|g| g.cards.len()).sum();
            prop_assert_eq!(merged.cards.len(), total);
            prop_assert!(merged.cards.windows(2).all(|w| w[0].indicator <= w[1].indicator));
            prop_assert!(merged.cards.iter().all(|c| c.uuid.is_some() && c.source.plugin.is_some()));
        }
    }
}

// --- the booking verdict ------------------------------------------------------------------

/// One line for a verdict: `bookable`, or `blocked`, then each blocker as
/// `rule/kind/source` with `+` when an override covers it.
fn verdict_line(v: &Verdict) -> String {
    let mut out = (if v.is_bookable() { "bookable" } else { "blocked" }).to_owned();
    for b in v.blockers() {
        let kind = match b.kind {
            BlockKind::Hold => "hold",
            BlockKind::Critical => "critical",
        };
        out.push_str(&format!(" {}/{kind}/{}{}", b.rule, b.source, if b.is_overridden() { "+" } else { "" }));
    }
    out
}

fn held(module_id: &str, rule: &str, with_card: bool) -> Advice {
    let mut g = if with_card { cards(&[(rule, Critical)]) } else { Guidance::default() };
    g.hold = Some(Hold { reason: format!("{rule} hold"), rule: rule.into() });
    module(module_id, g)
}

#[test]
fn verdict_names_every_blocker() {
    let check_v = |snapshot: ClientSnapshot, grants: &[(&str, &str)], expect: &str| {
        let grants: Vec<OverrideGrant> = grants.iter().map(|(r, why)| OverrideGrant::new(r, why)).collect();
        let g = evaluate_client_with_overrides(
            &PluginRegistry::default(),
            &HostRules::default(),
            date(AS_OF),
            &snapshot,
            &grants,
        );
        assert_eq!(verdict_line(&g.booking), expect, "\n{snapshot:#?}");
    };
    let limit = |used| InsuranceSummary { session_limit: Some(4), sessions_used: used, ..InsuranceSummary::default() };
    check_v(client().build(), &[], "bookable");
    check_v(ClientBuilder::new("c1").build(), &[], "bookable"); // S3 is a warning
    check_v(client().insurance(limit(3)).build(), &[], "bookable"); // I2 warning
    // S1 and I2 critical cards block, although neither sets `hold`.
    check_v(injury(None), &[], "blocked S1/critical/host");
    check_v(client().insurance(limit(4)).build(), &[], "blocked I2/critical/host");
    check_v(client().session(stopped("2026-11-14")).build(), &[], "blocked S2/hold/host");
    // Two blockers: both appear, each with whether an override is recorded.
    let both = client()
        .red_flag(RedFlagKind::RecentInjury, None, None)
        .session(stopped("2026-11-14"))
        .insurance(limit(4))
        .build();
    check_v(both.clone(), &[], "blocked S2/hold/host S1/critical/host I2/critical/host");
    check_v(both.clone(), &[("S1", "cleared")], "blocked S2/hold/host S1/critical/host+ I2/critical/host");
    check_v(
        both.clone(),
        &[("s1", "cleared"), ("S2", "subsided"), ("I2", "self-pay")],
        "bookable S2/hold/host+ S1/critical/host+ I2/critical/host+",
    );
    check_v(
        both,
        &[("S1", " "), ("S2", "subsided"), ("I2", "self-pay")],
        "blocked S2/hold/host+ S1/critical/host I2/critical/host+",
    );
    // Two S1 cards (injury and nerve compression) are two blockers; one override of S1 covers both.
    let two_s1 =
        client().red_flag(RedFlagKind::RecentInjury, None, None).red_flag(RedFlagKind::NerveCompression, None, None);
    check_v(two_s1.clone().build(), &[], "blocked S1/critical/host S1/critical/host");
    check_v(two_s1.build(), &[("S1", "cleared")], "bookable S1/critical/host+ S1/critical/host+");
    // An override of a rule that does not block changes nothing.
    check_v(injury(None), &[("R2", "cleared")], "blocked S1/critical/host");
}

#[test]
fn verdict_across_modules() {
    let s1 = module("host", cards(&[("S1", Critical)]));
    let check_v = |advice: Vec<Advice>, grants: &[(&str, &str)], expect: &str| {
        let grants: Vec<OverrideGrant> = grants.iter().map(|(r, why)| OverrideGrant::new(r, why)).collect();
        let g = merge_with_overrides("c1", date(AS_OF), None, advice, &grants);
        assert_eq!(verdict_line(&g.booking), expect);
        assert_eq!(g.blocks_booking(), !g.booking.blockers().is_empty());
    };
    // S1 and R2 together: the `hold` field names one, the verdict both.
    check_v(vec![s1.clone(), held("arthritis", "R2", true)], &[], "blocked R2/hold/arthritis S1/critical/host");
    check_v(vec![s1.clone(), held("arthritis", "R2", false)], &[], "blocked R2/hold/arthritis S1/critical/host");
    check_v(
        vec![s1.clone(), held("arthritis", "R2", true)],
        &[("R2", "provider cleared")],
        "blocked R2/hold/arthritis+ S1/critical/host",
    );
    check_v(
        vec![held("host", "S2", true), held("arthritis", "R2", true)],
        &[],
        "blocked S2/hold/host R2/hold/arthritis",
    );
    // The same rule from two modules is two blockers.
    check_v(vec![held("a", "X1", true), held("b", "X1", true)], &[], "blocked X1/hold/a X1/hold/b");
    check_v(vec![module("a", cards(&[("F4", Warning), ("F7", Info)]))], &[], "bookable");
    // A module whose output is refused blocks nothing (its failure card is a warning).
    let mut bad = held("broken", "R2", true);
    if let Ok(g) = &mut bad.outcome {
        g.cards[0].summary = String::new();
    }
    check_v(vec![bad], &[], "bookable");
}

#[test]
fn verdict_json() {
    let g =
        merge("c1", date(AS_OF), None, vec![module("host", cards(&[("S1", Critical)])), held("arthritis", "R2", true)]);
    let json = serde_json::to_value(&g.booking).unwrap();
    assert_eq!(json["status"], "blocked");
    assert_eq!(json["blockers"].as_array().unwrap().len(), 2);
    assert_eq!(json["blockers"][0]["rule"], "R2");
    assert_eq!(json["blockers"][0]["kind"], "hold");
    assert_eq!(json["blockers"][1]["override_reason"], serde_json::Value::Null);
    let cleared = g.booking.with_overrides(&[OverrideGrant::new("S1", "ok"), OverrideGrant::new("R2", "ok")]);
    let json = serde_json::to_value(&cleared).unwrap();
    assert_eq!(json["status"], "bookable");
    assert_eq!(json["overridden"][1]["override_reason"], "ok");
    for v in [&g.booking, &cleared, &Verdict::default()] {
        let text = serde_json::to_string(v).unwrap();
        assert_eq!(&serde_json::from_str::<Verdict>(&text).unwrap(), v);
    }
    assert_eq!(serde_json::to_string(&Verdict::default()).unwrap(), r#"{"status":"bookable"}"#);
    let blocker = r#"{"rule": "S1", "kind": "critical", "summary": "x", "source": "host""#;
    let bad = |text: &str, expect: &str| {
        let err = serde_json::from_str::<Verdict>(text).unwrap_err().to_string();
        assert!(err.contains(expect), "{text}: {err}");
    };
    bad(r#"{"status": "blocked", "blockers": []}"#, "at least one blocker without an override");
    bad(
        &format!(r#"{{"status": "blocked", "blockers": [{blocker}, "override_reason": "ok"}}]}}"#),
        "at least one blocker",
    );
    bad(
        &format!(r#"{{"status": "bookable", "overridden": [{blocker}}}]}}"#),
        "rule S1 as overridden without an override_reason",
    );
    bad(r#"{"status": "maybe"}"#, "unknown variant `maybe`");
    bad(&format!(r#"{{"status": "blocked", "blockers": [{blocker}, "kind": "soft"}}]}}"#), "");
    bad(r#"{"blockers": []}"#, "missing field `status`");
    assert!(serde_json::from_str::<Verdict>(&format!(r#"{{"status": "blocked", "blockers": [{blocker}}}]}}"#)).is_ok());
}

// --- no card advises what a hold or another card forbids ------------------------------------

fn f5(module_id: &str) -> Advice {
    let mut g = cards(&[("F5", Warning), ("F7", Info)]);
    g.cards[0].summary = "20 days since the last massage: keep them regular".into();
    module(module_id, g)
}

#[test]
fn booking_prompts_wait_for_the_blockers() {
    let f5_card = |g: &ClientGuidance| g.cards_for("F5").next().cloned().unwrap();
    // Nothing blocks: F5 stands as the module gave it.
    let free = merge("c1", date(AS_OF), None, vec![f5("fibromyalgia")]);
    assert_eq!(
        (f5_card(&free).indicator, f5_card(&free).summary.as_str()),
        (Warning, "20 days since the last massage: keep them regular")
    );
    // Under an R2 hold from another module, an S1 critical card, an I2 limit: deferred, kept, names the blockers.
    for blocker in
        [held("arthritis", "R2", true), held("arthritis", "R2", false), module("host", cards(&[("S1", Critical)]))]
    {
        let rule = blocker.outcome.as_ref().unwrap().hold.as_ref().map_or("S1".to_owned(), |h| h.rule.clone());
        let g = merge("c1", date(AS_OF), None, vec![blocker.clone(), f5("fibromyalgia")]);
        let card = f5_card(&g);
        assert_eq!(card.indicator, Info, "{card:?}");
        assert_eq!(card.summary, "Once booking is allowed: 20 days since the last massage: keep them regular");
        assert!(card.detail.contains(&format!("Booking is blocked now (rule {rule}")), "{}", card.detail);
        assert_eq!(g.cards.len(), 3, "the blocker's critical card, F5 and F7: every card is kept");
        // With an override for the blocker, F5 stands again.
        let g = merge_with_overrides(
            "c1",
            date(AS_OF),
            None,
            vec![blocker, f5("fibromyalgia")],
            &[OverrideGrant::new(&rule, "ok")],
        );
        assert_eq!(f5_card(&g).indicator, Warning);
    }
    // Other warnings are not booking prompts (F4 says to wait longer, which a hold agrees with).
    let g = merge("c1", date(AS_OF), None, vec![held("arthritis", "R2", true), module("f", cards(&[("F4", Warning)]))]);
    assert_eq!(g.cards_for("F4").next().unwrap().indicator, Warning);
}

#[test]
fn f5_from_the_plugin_waits_for_a_hold() {
    // The fibromyalgia plugin through its ABI table, with the host's S1 (rheumatoid arthritis in flare) and S2.
    let registry = PluginRegistry::from_tables(&[praxis_fibromyalgia::praxis_plugin_table()]).unwrap();
    let fibro = || client().condition(snomed::FIBROMYALGIA, ConditionStatus::Active);
    let overdue = fibro().session(massage("2026-11-01").pressure(Light).pain(5, 4)).build();
    let g = evaluate_client(&registry, &HostRules::default(), date(AS_OF), &overdue);
    assert_eq!(g.cards_for("F5").next().unwrap().indicator, Warning, "nothing blocks: F5 warns");
    let flaring = fibro()
        .condition(snomed::RHEUMATOID_ARTHRITIS, ConditionStatus::Flare)
        .session(massage("2026-11-01").pressure(Light).pain(5, 4))
        .build();
    let g = evaluate_client(&registry, &HostRules::default(), date(AS_OF), &flaring);
    assert_eq!(verdict_line(&g.booking), "blocked S1/critical/host");
    let card = g.cards_for("F5").next().unwrap();
    assert_eq!(card.indicator, Info);
    assert!(card.summary.starts_with("Once booking is allowed: 20 days since the last massage"), "{}", card.summary);
    let stopped_then_overdue = fibro().session(stopped("2026-11-01")).build();
    let g = evaluate_client(&registry, &HostRules::default(), date(AS_OF), &stopped_then_overdue);
    assert_eq!(verdict_line(&g.booking), "blocked S2/hold/host");
    assert!(g.cards.iter().filter(|c| c.rule == "F5").all(|c| c.indicator == Info));
    let cleared = evaluate_client_with_overrides(
        &registry,
        &HostRules::default(),
        date(AS_OF),
        &stopped_then_overdue,
        &[OverrideGrant::new("S2", "pain subsided")],
    );
    assert!(cleared.booking.is_bookable());
}

mod consistency_properties {
    use super::*;
    use proptest::prelude::*;

    /// One module's advice: some cards of these rules at these indicators, maybe a hold.
    fn module_advice() -> impl Strategy<Value = Guidance> {
        let rule = proptest::sample::select(vec!["F5", "F4", "S1", "R2", "I2", "X1"]);
        let indicator = prop_oneof![Just(Critical), Just(Warning), Just(Info)];
        (proptest::collection::vec((rule.clone(), indicator), 0..4), proptest::option::of(rule)).prop_map(
            |(list, hold)| {
                let mut g = Guidance { cards: list.iter().map(|(r, i)| card(r, *i)).collect(), ..Guidance::default() };
                g.hold = hold.map(|r| Hold { reason: format!("{r} hold"), rule: r.to_owned() });
                g
            },
        )
    }

    proptest! {
        /// No card may advise what a hold or another card of the same guidance
        /// forbids: while anything blocks booking, no card asks for one; the
        /// verdict is blocked exactly when a hold or a critical card has no
        /// override; every card is kept.
        #[test]
        fn no_card_advises_what_a_blocker_forbids(
            modules in proptest::collection::vec(module_advice(), 1..4),
            overridden in proptest::collection::vec(proptest::sample::select(vec!["S1", "R2", "I2", "F5", "X1"]), 0..3),
        ) {
            let advice: Vec<Advice> = modules.iter().enumerate().map(|(i, g)| module(&format!("m{i}"), g.clone())).collect();
            let grants: Vec<OverrideGrant> = overridden.iter().map(|r| OverrideGrant::new(r, "reason")).collect();
            let g = merge_with_overrides("c1", date(AS_OF), Some(date("2026-11-01")), advice, &grants);
            let mut blocking: Vec<&str> = modules.iter().filter_map(|m| m.hold.as_ref()).map(|h| h.rule.as_str()).collect();
            blocking.extend(modules.iter().flat_map(|m| &m.cards).filter(|c| c.indicator == Critical).map(|c| c.rule.as_str()));
            let unresolved = blocking.iter().any(|r| !overridden.contains(r));
            prop_assert_eq!(g.booking.is_bookable(), !unresolved);
            for rule in &blocking {
                prop_assert!(g.booking.blockers().iter().any(|b| b.rule == *rule), "{rule} missing from {:?}", g.booking);
            }
            for b in g.booking.blockers() {
                prop_assert_eq!(b.is_overridden(), overridden.contains(&b.rule.as_str()));
            }
            let prompts = g.cards.iter().filter(|c| BOOKING_PROMPT_RULES.contains(&c.rule.as_str()) && c.indicator != Critical);
            for c in prompts {
                if unresolved {
                    prop_assert_eq!(c.indicator, Info);
                    prop_assert!(c.summary.starts_with("Once booking is allowed: "), "{}", c.summary);
                } else {
                    prop_assert!(!c.summary.starts_with("Once booking is allowed"), "{}", c.summary);
                }
            }
            let given: usize = modules.iter().map(|m| m.cards.len()).sum();
            prop_assert!(g.cards.len() >= given, "every card is kept");
            prop_assert!(g.cards.windows(2).all(|w| w[0].indicator <= w[1].indicator));
        }
    }
}

#[test]
fn world_overrides_change_one_verdict() {
    let injured =
        |id: &str| ClientBuilder::new(id).intake("2026-10-01").red_flag(RedFlagKind::RecentInjury, None, None);
    let mut world = ClinicWorld::new(PluginRegistry::default(), HostRules::default(), date(AS_OF));
    world.hydrate(vec![injured("a").build(), injured("b").build()]);
    assert_eq!(world.evaluate().clients, 2);
    assert_eq!(verdict_line(&world.guidance("a").unwrap().booking), "blocked S1/critical/host");
    assert!(world.set_overrides("a", vec![OverrideGrant::new("S1", "provider cleared")]));
    let stats = world.evaluate();
    assert_eq!((stats.clients, stats.screened, stats.plugin_calls), (1, 0, 0), "only a's verdict is made anew");
    assert_eq!(verdict_line(&world.guidance("a").unwrap().booking), "bookable S1/critical/host+");
    assert_eq!(verdict_line(&world.guidance("b").unwrap().booking), "blocked S1/critical/host");
    assert!(world.set_overrides("a", vec![OverrideGrant::new("S1", "provider cleared")]));
    assert_eq!(world.evaluate().clients, 0, "the same overrides change nothing");
    assert!(!world.set_overrides("nobody", Vec::new()));
}
