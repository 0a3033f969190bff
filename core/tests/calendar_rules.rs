//! Rules C1 to C5: the host's checker on hand-made proposals, and the
//! combined-therapy plugin (through the real ABI) on small practices, its
//! proposals checked by the host.

#[path = "calendar_support.rs"]
mod support;

use praxis_core::calendar::Constraint::{self, *};
use praxis_core::calendar::{Calendar, CalendarRules};
use praxis_sdk::abi::PluginHandle;
use praxis_sdk::schedule::{Appointment, CarePlan, GroupClass, RoomKind, ScheduleProposal, ScheduleRequest};
use praxis_sdk::{Adjunct, Date, Discipline, Weekday};
use support::*;

use Discipline::{Acupuncture, Massage, PhysicalTherapy, TaiChi, Yoga};

// ---------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------

/// Checks `proposal` over a two-week horizon from Monday 2026-11-23 and
/// compares the set of constraints broken.
fn check(plans: Vec<CarePlan>, booked: Vec<Appointment>, proposal: Vec<Appointment>, expected: &[Constraint]) {
    check_late(plans, booked, proposal, &[], expected);
}

/// [`check`], with the massages on the days in `late` marked as placed after their window.
fn check_late(
    plans: Vec<CarePlan>,
    booked: Vec<Appointment>,
    proposal: Vec<Appointment>,
    late: &[&str],
    expected: &[Constraint],
) {
    let cal = calendar();
    let req = request(&cal, 14, plans, booked);
    let late: Vec<praxis_sdk::schedule::Late> = late
        .iter()
        .map(|d| praxis_sdk::schedule::Late {
            client: "c1".into(),
            discipline: Massage,
            placed: date(d),
            window_end: date(d).add_days(-1),
            days: 1,
            reason: "test".into(),
        })
        .collect();
    let violations = cal.check_with_late(&req, &proposal, &late);
    let mut got: Vec<Constraint> = violations.iter().map(|v| v.constraint).collect();
    got.sort();
    got.dedup();
    let mut want = expected.to_vec();
    want.sort();
    let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(got, want, "{text:#?}");
}

fn m(last: Option<&str>) -> CarePlan {
    with_massage(plan("c1"), 7, 14, 30, last)
}

fn massage(start: &str) -> Appointment {
    appt("c1", "mass", "t1", Massage, start, 30)
}

#[test]
fn c3_practitioner_room_hours_availability() {
    check(vec![m(None)], vec![], vec![massage("2026-11-23T09:00")], &[]);
    check(
        vec![m(None)],
        vec![],
        vec![appt("c1", "nobody", "t1", Massage, "2026-11-23T09:00", 30)],
        &[UnknownPractitioner],
    );
    check(vec![m(None)], vec![], vec![appt("c1", "mass", "t9", Massage, "2026-11-23T09:00", 30)], &[UnknownRoom]);
    let acu = || with_other(plan("c1"), Acupuncture, 7, 45);
    check(vec![acu()], vec![], vec![appt("c1", "mass", "a1", Acupuncture, "2026-11-23T09:00", 45)], &[NotQualified]);
    check(vec![acu()], vec![], vec![appt("c1", "acu", "a1", Acupuncture, "2026-11-23T09:00", 45)], &[]);
    check(vec![m(None)], vec![], vec![appt("c1", "mass", "a1", Massage, "2026-11-23T09:00", 30)], &[UnsuitableRoom]);
    check(vec![m(None)], vec![], vec![appt("c1", "mass", "s1", Massage, "2026-11-23T09:00", 30)], &[UnsuitableRoom]);
    check(vec![m(None)], vec![], vec![massage("2026-11-23T08:30")], &[OutsideHours]);
    check(vec![m(None)], vec![], vec![massage("2026-11-23T16:45")], &[OutsideHours]);
    check(vec![m(None)], vec![], vec![massage("2026-11-28T10:00")], &[OutsideHours]);
    check(
        vec![acu()],
        vec![],
        vec![appt("c1", "acu", "a1", Acupuncture, "2026-11-27T09:00", 45)],
        &[PractitionerUnavailable],
    );
    check(
        vec![m(None)],
        vec![],
        vec![appt("c1", "mass2", "t1", Massage, "2026-11-24T09:00", 30)],
        &[PractitionerUnavailable],
    );
    check(vec![m(None)], vec![], vec![appt("c1", "mass2", "t1", Massage, "2026-11-23T09:00", 30)], &[]);
    let mut monday_only = m(None);
    monday_only.availability =
        vec![window(Weekday::Monday, "09:00", "12:00"), window(Weekday::Monday, "12:00", "13:00")];
    check(vec![monday_only.clone()], vec![], vec![massage("2026-11-24T09:00")], &[ClientUnavailable]);
    check(vec![monday_only.clone()], vec![], vec![massage("2026-11-23T12:45")], &[ClientUnavailable]);
    check(vec![monday_only], vec![], vec![massage("2026-11-23T11:45")], &[]);
    check(vec![], vec![], vec![massage("2026-11-23T09:00")], &[UnknownClient]);
    check(vec![m(None)], vec![], vec![massage("2026-12-08T09:00")], &[OutsideHorizon]);
    check(vec![m(None)], vec![], vec![massage("2026-11-20T09:00")], &[OutsideHorizon]);
    check(vec![m(None)], vec![], vec![appt("c1", "mass", "t1", Massage, "2026-11-23T09:00", 0)], &[BadLength]);
    check(vec![m(None)], vec![], vec![appt("c1", "mass", "t1", Massage, "2026-11-23T23:50", 30)], &[BadLength]);
}

#[test]
fn c3_nothing_double_booked() {
    let other = |client, prac, room, start| appt(client, prac, room, Massage, start, 30);
    let booked = || vec![other("c2", "mass", "t2", "2026-11-23T09:00")];
    check(vec![m(None)], booked(), vec![massage("2026-11-23T09:15")], &[DoubleBookedPractitioner]);
    check(vec![m(None)], booked(), vec![massage("2026-11-23T09:30")], &[]);
    let booked = || vec![other("c2", "mass2", "t1", "2026-11-23T09:00")];
    check(vec![m(None)], booked(), vec![massage("2026-11-23T09:00")], &[DoubleBookedRoom]);
    check(vec![m(None)], booked(), vec![appt("c1", "mass", "t2", Massage, "2026-11-23T09:00", 30)], &[]);
    let booked = vec![appt("c1", "acu", "a1", Acupuncture, "2026-11-23T09:00", 45)];
    check(vec![m(None)], booked, vec![massage("2026-11-23T09:30")], &[DoubleBookedClient]);
    // Two proposals against each other.
    check(
        vec![m(None), with_massage(plan("c2"), 7, 14, 30, None)],
        vec![],
        vec![massage("2026-11-23T09:00"), other("c2", "mass", "t2", "2026-11-23T09:10")],
        &[DoubleBookedPractitioner],
    );
}

#[test]
fn c3_group_classes() {
    let yoga = |c: &str| with_other(plan(c), Yoga, 7, 60);
    check(vec![yoga("c1")], vec![], vec![yoga_place("c1", "2026-11-24")], &[]);
    let full = vec![yoga_place("c2", "2026-11-24"), yoga_place("c3", "2026-11-24")];
    check(vec![yoga("c1")], full.clone(), vec![yoga_place("c1", "2026-11-24")], &[ClassFull]);
    check(vec![yoga("c1")], full, vec![yoga_place("c1", "2026-12-01")], &[]);
    let mut late = yoga_place("c1", "2026-11-24");
    late.start = at("2026-11-24T11:00");
    check(vec![yoga("c1")], vec![], vec![late], &[ClassMismatch]);
    let mut nowhere = yoga_place("c1", "2026-11-24");
    nowhere.class = Some("pilates".into());
    check(vec![yoga("c1")], vec![], vec![nowhere], &[UnknownClass]);
    // An individual session of the class's practitioner or in its room while it runs.
    let solo = appt("c1", "yogi", "s1", Yoga, "2026-11-24T10:30", 30);
    check(vec![yoga("c1")], vec![], vec![solo], &[DoubleBookedPractitioner, DoubleBookedRoom]);
    let solo = appt("c1", "yogi", "s1", Yoga, "2026-11-24T11:00", 30);
    check(vec![yoga("c1")], vec![], vec![solo], &[]);
    let tai_chi = with_other(plan("c1"), TaiChi, 7, 30);
    check(vec![tai_chi], vec![], vec![appt("c1", "yogi", "t1", TaiChi, "2026-11-23T09:00", 30)], &[UnsuitableRoom]);
}

#[test]
fn c1_only_what_the_plan_holds() {
    check(vec![plan("c1")], vec![], vec![massage("2026-11-23T09:00")], &[NotInPlan]);
    check(vec![m(None)], vec![], vec![appt("c1", "acu", "a1", Acupuncture, "2026-11-23T09:00", 45)], &[NotInPlan]);
    check(vec![m(None)], vec![], vec![appt("c1", "mass", "t1", Massage, "2026-11-23T09:00", 60)], &[MassageLength]);
}

#[test]
fn c2_heat_massage_cold_one_visit_in_order() {
    let hc = || heat_cold(m(None));
    let visit = || massage_visit("c1", "mass", "t1", "2026-11-23T09:00", 30);
    check(vec![hc()], vec![], visit(), &[]);
    check(vec![hc()], vec![], visit()[1..].to_vec(), &[VisitOrder]);
    check(vec![m(None)], vec![], visit(), &[VisitOrder]);
    let mut swapped = visit();
    swapped[0].start = at("2026-11-23T09:50");
    swapped[1].start = at("2026-11-23T09:00");
    swapped[2].start = at("2026-11-23T09:30");
    check(vec![hc()], vec![], swapped, &[VisitOrder]);
    let mut gap = visit();
    gap[1].start = at("2026-11-23T09:15");
    gap[2].start = at("2026-11-23T09:45");
    check(vec![hc()], vec![], gap, &[VisitOrder]);
    let mut elsewhere = visit();
    elsewhere[2].room = "t2".into();
    check(vec![hc()], vec![], elsewhere, &[VisitOrder]);
    let mut with_yoga = visit();
    with_yoga.push(in_visit(appt("c1", "yogi", "s1", Yoga, "2026-11-23T09:50", 30), "c1/2026-11-23T09:00"));
    check(vec![with_other(hc(), Yoga, 7, 30)], vec![], with_yoga, &[VisitOrder]);
    let lone_heat = adjunct(appt("c1", "mass", "t1", Massage, "2026-11-23T09:00", 10), Adjunct::HeatBefore);
    check(vec![hc()], vec![], vec![lone_heat], &[VisitOrder]);
    // A massage with no visit and no steps, when the plan asks for heat before and cold after.
    check(vec![hc()], vec![], vec![massage("2026-11-23T09:00")], &[VisitOrder]);
    let mut only_heat = heat_cold(m(None));
    only_heat.massage.as_mut().unwrap().after.clear();
    check(vec![only_heat], vec![], vec![massage("2026-11-23T09:00")], &[VisitOrder]);
    check(vec![m(None)], vec![], vec![massage("2026-11-23T09:00")], &[]);
}

#[test]
fn c4_massage_intervals() {
    check(vec![m(Some("2026-11-16"))], vec![], vec![massage("2026-11-23T09:00")], &[]);
    check(vec![m(Some("2026-11-20"))], vec![], vec![massage("2026-11-24T09:00")], &[IntervalTooShort]);
    check(vec![m(Some("2026-11-09"))], vec![], vec![massage("2026-11-25T09:00")], &[IntervalTooLong]);
    check(vec![m(Some("2026-11-09"))], vec![], vec![massage("2026-11-23T09:00")], &[]);
    // Overdue before the horizon began: the first massage is not "too long".
    check(vec![m(Some("2026-10-01"))], vec![], vec![massage("2026-11-27T09:00")], &[]);
    let two = vec![massage("2026-11-23T09:00"), massage("2026-11-26T09:00")];
    check(vec![m(Some("2026-11-16"))], vec![], two, &[IntervalTooShort]);
    let two = vec![massage("2026-11-23T09:00"), massage("2026-12-04T09:00")];
    check(vec![m(Some("2026-11-16"))], vec![], two, &[]);
    // A massage already booked after the proposed one.
    let booked = vec![appt("c1", "mass", "t1", Massage, "2026-11-30T09:00", 30)];
    check(vec![m(Some("2026-11-16"))], booked.clone(), vec![massage("2026-11-25T09:00")], &[IntervalTooShort]);
    check(vec![m(Some("2026-11-16"))], booked, vec![massage("2026-12-07T09:00")], &[OutsideHorizon]);
    let mut waiting = m(Some("2026-11-16"));
    waiting.massage.as_mut().unwrap().not_before = Some(date("2026-11-26"));
    check(vec![waiting.clone()], vec![], vec![massage("2026-11-25T09:00")], &[TooEarly]);
    check(vec![waiting], vec![], vec![massage("2026-11-26T09:00")], &[]);
    // Marked late: longer than the interval allows is accepted for the front desk to confirm; shorter never is.
    check_late(vec![m(Some("2026-11-09"))], vec![], vec![massage("2026-11-25T09:00")], &["2026-11-25"], &[]);
    check_late(
        vec![m(Some("2026-11-09"))],
        vec![],
        vec![massage("2026-11-25T09:00")],
        &["2026-11-26"],
        &[IntervalTooLong],
    );
    check_late(
        vec![m(Some("2026-11-20"))],
        vec![],
        vec![massage("2026-11-24T09:00")],
        &["2026-11-24"],
        &[IntervalTooShort],
    );
}

#[test]
fn c5_fibromyalgia_week_and_day() {
    let f = || fibro(with_other(with_other(heat_cold(m(None)), PhysicalTherapy, 7, 30), Yoga, 7, 60));
    let pt = |day: &str| appt("c1", "mass", "t2", PhysicalTherapy, &format!("{day}T14:00"), 30);
    check(vec![f()], vec![], vec![pt("2026-11-23"), yoga_place("c1", "2026-11-24"), pt("2026-11-25")], &[]);
    check(
        vec![f()],
        vec![],
        vec![pt("2026-11-23"), yoga_place("c1", "2026-11-24"), pt("2026-11-25"), pt("2026-11-26")],
        &[WeeklyCapExceeded],
    );
    let mut bundled = massage_visit("c1", "mass", "t1", "2026-11-23T09:00", 30);
    bundled.extend([yoga_place("c1", "2026-11-24"), pt("2026-11-26")]);
    check(vec![f()], vec![], bundled, &[]);
    let two_weeks = vec![pt("2026-11-23"), yoga_place("c1", "2026-11-24"), pt("2026-11-25"), pt("2026-11-30")];
    check(vec![f()], vec![], two_weeks, &[]);
    let mut same_day = massage_visit("c1", "mass", "t1", "2026-11-23T09:00", 30);
    same_day.push(pt("2026-11-23"));
    check(vec![f()], vec![], same_day.clone(), &[SameDay]);
    let mut not_fibro = f();
    not_fibro.fibromyalgia = false;
    check(vec![not_fibro], vec![], same_day, &[]);
    let booked = vec![pt("2026-11-23"), yoga_place("c1", "2026-11-24"), pt("2026-11-25")];
    check(vec![f()], booked, vec![pt("2026-11-27")], &[WeeklyCapExceeded]);
    // Any 7 days, not Monday-Sunday weeks: Thursday, Friday, Monday, Tuesday is 4 in 6 days.
    let across = vec![pt("2026-11-26"), pt("2026-11-27"), pt("2026-11-30"), pt("2026-12-01")];
    check(vec![f()], vec![], across, &[WeeklyCapExceeded]);
    let spread = vec![pt("2026-11-26"), pt("2026-11-27"), pt("2026-11-30"), pt("2026-12-03")];
    check(vec![f()], vec![], spread, &[]);
    let booked = vec![pt("2026-11-26"), pt("2026-11-27"), pt("2026-11-30")];
    check(vec![f()], booked.clone(), vec![pt("2026-12-02")], &[WeeklyCapExceeded]);
    check(vec![f()], booked, vec![pt("2026-12-03")], &[]);
}

#[test]
fn check_booking_by_hand() {
    let cal = calendar();
    let today = date("2026-11-21");
    fn constraints(r: Result<(), Vec<praxis_core::calendar::Violation>>) -> Vec<Constraint> {
        r.err().unwrap_or_default().into_iter().map(|v| v.constraint).collect()
    }
    assert_eq!(constraints(cal.check_booking(today, &[], None, &[massage("2026-11-23T09:00")])), []);
    assert_eq!(constraints(cal.check_booking(today, &[], None, &[massage("2026-11-23T18:00")])), [OutsideHours]);
    let plan = m(Some("2026-11-20"));
    assert_eq!(
        constraints(cal.check_booking(today, &[], Some(&plan), &[massage("2026-11-23T09:00")])),
        [IntervalTooShort]
    );
    let overdue = m(Some("2026-10-01"));
    assert_eq!(constraints(cal.check_booking(today, &[], Some(&overdue), &[massage("2027-01-04T09:00")])), []);
    let booked = vec![massage("2026-11-23T09:00")];
    let err = cal.check_booking(today, &booked, None, &[massage("2026-11-23T09:10")]).unwrap_err();
    assert_eq!(err[0].constraint, DoubleBookedPractitioner);
    assert!(err[0].to_string().contains("practitioner double-booked (C3)"), "{}", err[0]);
}

// ---------------------------------------------------------------------------
// The calendar's own checks
// ---------------------------------------------------------------------------

#[test]
fn calendars_are_checked() {
    fn check(change: impl FnOnce(&mut Calendar), expected: &str) {
        let mut cal = calendar();
        change(&mut cal);
        let msg = cal.validate().map_err(|e| e.to_string()).expect_err("should be refused");
        assert!(msg.contains(expected), "`{msg}` lacks `{expected}`");
    }
    check(|c| c.time_zone = "Mars/Olympus".into(), "time zone `Mars/Olympus` is not known");
    check(|c| c.practitioners[1].id = "mass".into(), "practitioner `mass` appears twice");
    check(|c| c.rooms[1].id = String::new(), "a room has an empty id");
    check(|c| c.rooms[0].capacity = 0, "room `t1` has capacity 0");
    check(|c| c.opening_hours[0] = window(Weekday::Monday, "17:00", "09:00"), "does not end after it starts");
    check(|c| c.practitioners[2].time_off[0].from = date("2026-12-01"), "the last day is before the first");
    check(|c| c.classes[0].room = "s9".into(), "names room `s9`, which is not in the calendar");
    check(|c| c.classes[0].practitioner = "mass".into(), "`mass` is not qualified in yoga");
    check(|c| c.classes[0].room = "t1".into(), "room `t1` is not a studio");
    check(|c| c.classes[0].start = "16:30".parse().unwrap(), "outside opening hours");
    check(|c| c.classes[0].capacity = 0, "class `yoga-tue` has capacity 0");
    check(|c| c.rules.weekly_cap = 0, "weekly_cap 0");
    assert_eq!(calendar().validate(), Ok(()));
}

#[test]
fn rules_come_from_the_plugin_settings() {
    fn check(json: &str, expected: Result<CalendarRules, &str>) {
        let settings: praxis_sdk::Settings = serde_json::from_str(json).unwrap();
        match (CalendarRules::from_settings(&settings), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{json}"),
            (Err(e), Err(part)) => assert!(e.to_string().contains(part), "{json}: `{e}` lacks `{part}`"),
            (got, want) => panic!("{json}: got {got:?}, expected {want:?}"),
        }
    }
    check("{}", Ok(CalendarRules::default()));
    check(
        r#"{"weekly_cap": 2, "heat_minutes": 15}"#,
        Ok(CalendarRules { weekly_cap: 2, same_day_bundled_only: true, ..CalendarRules::default() }),
    );
    check(
        r#"{"same_day_bundled_only": false}"#,
        Ok(CalendarRules { weekly_cap: 3, same_day_bundled_only: false, ..CalendarRules::default() }),
    );
    check(r#"{"weekly_cap": 0}"#, Err("weekly_cap 0 is not a whole number from 1 to 21"));
    check(r#"{"weekly_cap": "3"}"#, Err("weekly_cap \"3\""));
    check(r#"{"weekly_cap": 2.5}"#, Err("weekly_cap 2.5"));
    check(r#"{"same_day_bundled_only": 1}"#, Err("same_day_bundled_only 1 is not true or false"));
}

// ---------------------------------------------------------------------------
// The plugin, through the ABI, checked by the host
// ---------------------------------------------------------------------------

fn handle() -> PluginHandle {
    PluginHandle::from_static(praxis_combined_therapy::praxis_plugin_table()).expect("ABI table")
}

/// Plans `days` days from Monday 2026-11-23 through the ABI and asserts the
/// host's checker finds nothing wrong with the proposal.
fn planned(plans: Vec<CarePlan>, booked: Vec<Appointment>, days: u32) -> (ScheduleRequest, ScheduleProposal) {
    planned_in(calendar(), plans, booked, days)
}

/// [`planned`] in another practice.
fn planned_in(
    cal: Calendar,
    plans: Vec<CarePlan>,
    booked: Vec<Appointment>,
    days: u32,
) -> (ScheduleRequest, ScheduleProposal) {
    let req = request(&cal, days, plans, booked);
    let proposal = handle().schedule(&req).unwrap_or_else(|e| panic!("plugin failed: {e}"));
    let violations = cal.check(&req, &proposal.appointments);
    let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(violations.is_empty(), "{text:#?}");
    (req, proposal)
}

fn of<'a>(p: &'a ScheduleProposal, discipline: &Discipline) -> Vec<&'a Appointment> {
    p.appointments.iter().filter(|a| &a.discipline == discipline && a.adjunct.is_none()).collect()
}

fn days(list: &[&Appointment]) -> Vec<Date> {
    list.iter().map(|a| a.start.date).collect()
}

#[test]
fn plugin_manifest() {
    let manifest = handle().manifest().unwrap();
    assert_eq!(manifest.id, "combined-therapy");
    let keys: Vec<&str> = manifest.settings.iter().map(|s| s.key.as_str()).collect();
    assert!(keys.contains(&"weekly_cap") && keys.contains(&"same_day_bundled_only"), "{keys:?}");
    // The host reads the C5 values from the same settings, defaults included.
    assert_eq!(CalendarRules::from_settings(&manifest.default_settings()), Ok(CalendarRules::default()));
}

#[test]
fn plugin_c2_heat_massage_cold() {
    let (_, p) = planned(vec![heat_cold(m(None))], vec![], 14);
    assert_eq!(p.appointments.len() % 3, 0);
    assert!(!p.appointments.is_empty());
    for visit in p.appointments.chunks(3) {
        let kinds: Vec<Option<Adjunct>> = visit.iter().map(|a| a.adjunct).collect();
        assert_eq!(kinds, [Some(Adjunct::HeatBefore), None, Some(Adjunct::ColdAfter)]);
        assert_eq!(visit[0].end(), visit[1].start);
        assert_eq!(visit[1].end(), visit[2].start);
        assert!(visit.iter().all(|a| a.visit == visit[0].visit && a.room == visit[0].room));
    }
}

#[test]
fn plugin_c3_resources_and_availability() {
    let mut acu = with_other(plan("c1"), Acupuncture, 7, 45);
    acu.availability = vec![window(Weekday::Thursday, "13:00", "15:00"), window(Weekday::Friday, "09:00", "12:00")];
    let (_, p) = planned(vec![acu], vec![], 14);
    let sessions = of(&p, &Acupuncture);
    assert_eq!(days(&sessions), [date("2026-11-26"), date("2026-12-03")]);
    assert!(sessions.iter().all(|a| a.practitioner == "acu" && a.room == "a1"));
    assert!(
        sessions.iter().all(|a| a.start.time >= "13:00".parse().unwrap() && a.end().time <= "15:00".parse().unwrap())
    );
    // Fridays only, due Friday 2026-11-27 when the acupuncturist is on leave: unmet, then the next Friday.
    let mut fridays = with_other(plan("c1"), Acupuncture, 7, 45);
    fridays.availability = vec![window(Weekday::Friday, "09:00", "12:00")];
    fridays.other[0].last = Some(date("2026-11-20"));
    let (_, p) = planned(vec![fridays], vec![], 14);
    assert_eq!(days(&of(&p, &Acupuncture)), [date("2026-12-04")]);
    assert_eq!(p.unmet.len(), 1, "{:#?}", p.unmet);
    assert_eq!(p.unmet[0].due, date("2026-11-27"));
    assert!(p.unmet[0].reason.contains("no qualified practitioner was free"), "{}", p.unmet[0].reason);
    let (_, p) = planned(vec![with_other(plan("c1"), TaiChi, 7, 30)], vec![], 7);
    assert_eq!(
        of(&p, &TaiChi).iter().map(|a| (a.practitioner.as_str(), a.room.as_str())).collect::<Vec<_>>(),
        [("yogi", "s1")]
    );
    let (_, p) = planned(vec![with_other(plan("c1"), Discipline::parse("hydrotherapy"), 7, 30)], vec![], 14);
    assert!(p.appointments.is_empty());
    assert_eq!(p.unmet.len(), 2);
    assert!(p.unmet[0].reason.contains("no practitioner is qualified in hydrotherapy"), "{}", p.unmet[0].reason);
}

#[test]
fn plugin_c3_group_classes() {
    let yoga = |c: &str| with_other(plan(c), Yoga, 7, 60);
    let (_, p) = planned(vec![yoga("c1")], vec![], 14);
    assert_eq!(days(&of(&p, &Yoga)), [date("2026-11-24"), date("2026-12-01")]);
    assert!(p.appointments.iter().all(|a| a.class.as_deref() == Some("yoga-tue")));
    // Class full the first week: an individual session with the yoga teacher in the studio.
    let full = vec![yoga_place("c2", "2026-11-24"), yoga_place("c3", "2026-11-24")];
    let (_, p) = planned(vec![yoga("c1")], full, 14);
    let sessions = of(&p, &Yoga);
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].class, None);
    assert_eq!((sessions[0].practitioner.as_str(), sessions[0].room.as_str()), ("yogi", "s1"));
    assert_eq!(sessions[1].class.as_deref(), Some("yoga-tue"));
}

#[test]
fn plugin_c4_intervals() {
    let (_, p) = planned(vec![m(Some("2026-11-16"))], vec![], 56);
    let dates = days(&of(&p, &Massage));
    assert_eq!(dates.first(), Some(&date("2026-11-23")));
    let mut prev = date("2026-11-16");
    for d in &dates {
        assert!((7..=14).contains(&d.days_since(prev)), "{prev} -> {d}");
        prev = *d;
    }
    assert_eq!(dates.len(), 8);
    // Overdue: as soon as possible.
    let (_, p) = planned(vec![m(Some("2026-10-01"))], vec![], 14);
    assert_eq!(of(&p, &Massage)[0].start.date, date("2026-11-23"));
    // A hold: no massage demand, no massage.
    let (_, p) = planned(vec![with_other(plan("c1"), Acupuncture, 7, 45)], vec![], 14);
    assert!(of(&p, &Massage).is_empty());
    // A massage already booked on the second Monday: planning continues after it.
    let booked = vec![massage("2026-11-30T09:00")];
    let (_, p) = planned(vec![m(Some("2026-11-16"))], booked, 21);
    assert_eq!(days(&of(&p, &Massage)), [date("2026-12-07")]);
}

#[test]
fn plugin_c5_fibromyalgia() {
    let everything = fibro(with_other(
        with_other(with_other(heat_cold(m(None)), Yoga, 7, 60), Acupuncture, 7, 45),
        PhysicalTherapy,
        7,
        30,
    ));
    let (_, p) = planned(vec![everything], vec![], 28);
    let mut visit_days: Vec<Date> =
        p.appointments.iter().filter(|a| a.adjunct.is_none()).map(|a| a.start.date).collect();
    let n = visit_days.len();
    visit_days.dedup();
    assert_eq!(visit_days.len(), n, "two visits on one day");
    for week in 0..4 {
        let monday = date(MONDAY).add_days(7 * week);
        let in_week = visit_days.iter().filter(|d| d.week_start() == monday).count();
        assert_eq!(in_week, 3, "week of {monday}");
    }
    assert!(!p.unmet.is_empty());
    assert!(p.unmet.iter().all(|u| u.reason.contains("(C5)")), "{:#?}", p.unmet);
}

#[test]
fn plugin_prefers_fewer_trips() {
    let client = with_other(with_massage(plan("c1"), 7, 7, 30, Some("2026-11-16")), Acupuncture, 7, 45);
    let (_, p) = planned(vec![client], vec![], 28);
    let massage_days = days(&of(&p, &Massage));
    assert_eq!(massage_days.len(), 4);
    assert_eq!(days(&of(&p, &Acupuncture)), massage_days);
    // Back to back: one ends as the other starts.
    let (m0, a0) = (of(&p, &Massage)[0], of(&p, &Acupuncture)[0]);
    assert!(m0.end() == a0.start || a0.end() == m0.start, "{m0:?} {a0:?}");
}

/// The demo practice's shape: open Monday to Friday 09:00-17:00 and Saturday
/// 09:00-13:00; `mass` gives massage on weekdays; `chen` teaches tai chi on
/// Monday, Wednesday and Friday 09:00-17:00 and Saturday 09:00-13:00, and
/// leads `taichi-sat` (Saturday 10:00-11:00, 12 places, studio `s1`).
fn saturday_practice() -> Calendar {
    let mut chen = practitioner("chen", &[TaiChi]);
    chen.availability = [Weekday::Monday, Weekday::Wednesday, Weekday::Friday]
        .into_iter()
        .map(|d| window(d, "09:00", "17:00"))
        .chain([window(Weekday::Saturday, "09:00", "13:00")])
        .collect();
    let mut mass = practitioner("mass", &[Massage]);
    mass.availability = weekdays("09:00", "17:00");
    let mut opening = weekdays("09:00", "17:00");
    opening.push(window(Weekday::Saturday, "09:00", "13:00"));
    Calendar::new(
        "Europe/London",
        opening,
        vec![mass, chen],
        vec![room("t1", RoomKind::TreatmentRoom, 1), room("s1", RoomKind::Studio, 12)],
        vec![GroupClass {
            id: "taichi-sat".into(),
            name: "Saturday tai chi".into(),
            discipline: TaiChi,
            day: Weekday::Saturday,
            start: "10:00".parse().unwrap(),
            minutes: 60,
            practitioner: "chen".into(),
            room: "s1".into(),
            capacity: 12,
        }],
        CalendarRules::default(),
    )
    .expect("the Saturday practice is valid")
}

/// A client free Monday to Saturday 09:00-19:00 with weekly tai chi (60
/// minutes), and (`massage`) heat, massage and cold every 3-7 days, last on
/// Sunday 2026-11-15: Grace Lee of the demo.
fn tai_chi_client(massage: bool, fibromyalgia: bool) -> CarePlan {
    let mut p = with_other(plan("c1"), TaiChi, 7, 60);
    if massage {
        p = heat_cold(with_massage(p, 3, 7, 60, Some("2026-11-15")));
    }
    p.fibromyalgia = fibromyalgia;
    p.availability = Weekday::ALL[..6].iter().map(|&d| window(d, "09:00", "19:00")).collect();
    p
}

#[test]
fn plugin_saturday_class_each_week() {
    /// Plans 8 weeks in the Saturday practice after `change`, checked by the
    /// host; the client's tai chi must be exactly the class places on `weeks`
    /// Saturdays from `first` on, and the unmet tai chi (due day, reason) as given.
    fn check(
        change: impl FnOnce(&mut Calendar, &mut Vec<Appointment>),
        client: CarePlan,
        (first, weeks): (&str, i32),
        unmet: &[(&str, &str)],
    ) {
        let (mut cal, mut booked) = (saturday_practice(), Vec::new());
        change(&mut cal, &mut booked);
        let (_, p) = planned_in(cal, vec![client], booked, 56);
        let sessions = of(&p, &TaiChi);
        let got: Vec<(Date, Option<&str>)> = sessions.iter().map(|a| (a.start.date, a.class.as_deref())).collect();
        let want: Vec<(Date, Option<&str>)> =
            (0..weeks).map(|w| (date(first).add_days(7 * w), Some("taichi-sat"))).collect();
        assert_eq!(got, want, "{:#?}", p.unmet);
        let got: Vec<(String, &str)> =
            p.unmet.iter().filter(|u| u.discipline == TaiChi).map(|u| (u.due.to_string(), u.reason.as_str())).collect();
        let want: Vec<(String, &str)> = unmet.iter().map(|&(d, r)| (d.to_owned(), r)).collect();
        assert_eq!(got, want);
    }
    let nothing = |_: &mut Calendar, _: &mut Vec<Appointment>| {};
    // Massage every 3-7 days used to hold the tai chi back for the next massage
    // day, past the Saturday class: no tai chi at all in 8 weeks.
    check(nothing, tai_chi_client(true, false), ("2026-11-28", 8), &[]);
    check(nothing, tai_chi_client(false, false), ("2026-11-28", 8), &[]);
    check(nothing, tai_chi_client(true, true), ("2026-11-28", 8), &[]);
    // One place, taken on the first Saturday, and a teacher free only for the
    // class: every day of the first two windows is accounted for in the reason.
    // The sessions keep the rhythm of the first due day (Monday 2026-11-23): the
    // one due Monday 2027-01-18 is past the horizon and left to the next plan.
    let first_full = |cal: &mut Calendar, booked: &mut Vec<Appointment>| {
        cal.classes[0].capacity = 1;
        cal.practitioners[1].availability = vec![window(Weekday::Saturday, "10:00", "11:00")];
        let mut place = appt("c9", "chen", "s1", TaiChi, "2026-11-28T10:00", 60);
        place.class = Some("taichi-sat".into());
        booked.push(place);
    };
    check(
        first_full,
        tai_chi_client(true, false),
        ("2026-12-05", 6),
        &[
            (
                "2026-11-23",
                "no slot from 2026-11-23 to 2026-11-29: 1 day the client is not available while the practice is \
                 open (C3); 5 days no qualified practitioner was free while the client was (C3); 1 day the group \
                 classes that fit were full (C3)",
            ),
            (
                "2026-11-30",
                "no slot from 2026-11-27 to 2026-12-03: 1 day the client is not available while the practice is \
                 open (C3); 5 days no qualified practitioner was free while the client was (C3); 1 day the group \
                 classes that fit were full (C3)",
            ),
        ],
    );
}

#[test]
fn plugin_spreads_load() {
    let plans: Vec<CarePlan> = (0..4)
        .map(|i| {
            let mut p = with_massage(plan(&format!("c{i}")), 7, 14, 30, None);
            p.availability = vec![window(Weekday::Monday, "09:00", "10:00")];
            p
        })
        .collect();
    let (_, p) = planned(plans, vec![], 1);
    let who: Vec<&str> = p.appointments.iter().map(|a| a.practitioner.as_str()).collect();
    assert_eq!(who.len(), 4);
    assert_eq!(who.iter().filter(|w| **w == "mass").count(), 2, "{who:?}");
    assert_eq!(who.iter().filter(|w| **w == "mass2").count(), 2, "{who:?}");
}

#[test]
fn plugin_is_deterministic() {
    let plans = vec![
        heat_cold(m(Some("2026-11-18"))),
        fibro(with_other(with_massage(plan("c2"), 7, 14, 30, None), Yoga, 7, 60)),
        with_other(with_other(plan("c3"), Acupuncture, 14, 45), PhysicalTherapy, 7, 30),
    ];
    let (req, first) = planned(plans, vec![], 56);
    let second = handle().schedule(&req).unwrap();
    assert_eq!(first, second);
    let mut shuffled = req.clone();
    shuffled.plans.reverse();
    assert_eq!(handle().schedule(&shuffled).unwrap(), first, "plan order must not matter");
}

#[test]
fn plugin_refuses_bad_input() {
    fn check(change: impl FnOnce(&mut ScheduleRequest), expected: &str) {
        let cal = calendar();
        let mut req = request(&cal, 14, vec![m(None)], vec![]);
        change(&mut req);
        let err = handle().schedule(&req).expect_err("should be refused").to_string();
        assert!(err.contains(expected), "`{err}` lacks `{expected}`");
    }
    check(|r| r.plans.push(m(None)), "client `c1` has two care plans");
    check(|r| r.days = 0, "horizon of 0 days");
    check(|r| drop(r.settings.insert("weekly_cap".into(), 0.into())), "weekly_cap 0");
    check(|r| drop(r.settings.insert("colour".into(), "red".into())), "unknown field `colour`");
    check(|r| r.plans[0].massage.as_mut().unwrap().interval_days.min = 20, "massage interval 20-14");
    check(
        |r| r.plans[0].other.push(support::with_other(plan("x"), Massage, 7, 30).other[0].clone()),
        "massage comes from the protocols",
    );
    check(|r| r.rooms.push(room("t1", RoomKind::Studio, 3)), "room `t1` appears twice");
    check(|r| r.classes[0].practitioner = "ghost".into(), "names practitioner `ghost`");
    check(|r| r.opening_hours[0] = window(Weekday::Monday, "12:00", "11:00"), "ends before it starts");
    // A request that is not JSON of the right shape.
    let err = handle().call_raw(praxis_sdk::abi::Entry::Schedule, b"{\"start\": \"yesterday\"}").unwrap_err();
    assert!(err.to_string().contains("plugin could not read the host's request"), "{err}");
}

#[test]
fn host_refuses_a_tampered_proposal_visit_by_visit() {
    let cal = calendar();
    let req = request(&cal, 14, vec![heat_cold(with_massage(plan("c1"), 7, 10, 30, Some("2026-11-16")))], vec![]);
    let mut proposal = handle().schedule(&req).unwrap();
    assert_eq!(proposal.appointments.len(), 6);
    // Move the first massage (not its heat and cold) into the acupuncture room.
    proposal.appointments[1].room = "a1".into();
    let review = cal.review(&req, proposal);
    assert_eq!(review.refused.len(), 2, "{:#?}", review.refused);
    assert_eq!(review.refused[0].appointments.len(), 3, "the whole visit goes");
    let first = review.refused[0].to_string();
    assert!(
        first.contains("unsuitable room (C3)") && first.contains("heat, massage and cold not one visit"),
        "{first}"
    );
    // Without the first massage, the second is 14+ days after the last one: refused in the next round.
    let second = review.refused[1].to_string();
    assert!(second.contains("massage interval too long (C4)"), "{second}");
    assert!(review.accepted.is_empty());
}

/// The rule metadata is one table: every constraint names a rule of GUIDANCE-RULES.md (or the request's own
/// data) and a label of its own.
#[test]
fn every_constraint_names_its_rule_and_a_distinct_label() {
    use praxis_core::calendar::Constraint;
    let rules = ["calendar", "plan", "C2", "C3", "C4", "C5"];
    let mut labels: Vec<&str> = Constraint::ALL.iter().map(|c| c.label()).collect();
    for c in Constraint::ALL {
        assert!(rules.contains(&c.rule()), "{c:?} names rule `{}`", c.rule());
    }
    assert_eq!(Constraint::ALL.len(), 25);
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), Constraint::ALL.len(), "two constraints share a label");
}
