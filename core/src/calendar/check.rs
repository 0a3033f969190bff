//! The checker: every proposed or hand-booked appointment against rules C2
//! to C5, written apart from any plugin's code.

use std::collections::{HashMap, HashSet};
use std::fmt;

use praxis_sdk::schedule::{Appointment, CarePlan, GroupClass, RoomKind};
use praxis_sdk::{Adjunct, Date, Discipline, Weekday, WeeklyWindow};

use super::Calendar;

/// Writes [`Constraint`] with each variant's rule id and label next to it: the rule metadata in one place.
macro_rules! constraints {
    ($($(#[$doc:meta])* $name:ident => $rule:literal, $label:literal;)*) => {
        /// A constraint an appointment can break.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Constraint {
            $($(#[$doc])* $name,)*
        }

        impl Constraint {
            /// Every constraint, in order.
            pub const ALL: &'static [Constraint] = &[$(Constraint::$name,)*];

            /// The rule id of `GUIDANCE-RULES.md` behind it, or `plan`/`calendar` for a check of the request's
            /// own data.
            pub fn rule(self) -> &'static str {
                match self {
                    $(Constraint::$name => $rule,)*
                }
            }

            /// A short name for people.
            pub fn label(self) -> &'static str {
                match self {
                    $(Constraint::$name => $label,)*
                }
            }
        }
    };
}

constraints! {
    /// Zero minutes, or running past midnight.
    BadLength => "calendar", "bad length";
    /// Outside the planning horizon.
    OutsideHorizon => "calendar", "outside the planning horizon";
    /// A local time the practice's clock skips (daylight-saving change).
    NonexistentLocalTime => "calendar", "nonexistent local time";
    /// The practitioner is not in the calendar.
    UnknownPractitioner => "calendar", "unknown practitioner";
    /// The room is not in the calendar.
    UnknownRoom => "calendar", "unknown room";
    /// The group class is not in the calendar.
    UnknownClass => "calendar", "unknown group class";
    /// The client has no care plan in the request.
    UnknownClient => "plan", "unknown client";
    /// A class place that does not match its class (time, room, practitioner, discipline).
    ClassMismatch => "calendar", "class place does not match its class";
    /// The client's plan has no such discipline (or no massage: a hold or no advice).
    NotInPlan => "plan", "not in the care plan";
    /// The practitioner is not qualified in the discipline (C3).
    NotQualified => "C3", "practitioner not qualified";
    /// The room's kind does not suit the discipline (C3).
    UnsuitableRoom => "C3", "unsuitable room";
    /// Outside opening hours (C3).
    OutsideHours => "C3", "outside opening hours";
    /// Outside the practitioner's availability, or on leave (C3).
    PractitionerUnavailable => "C3", "practitioner unavailable";
    /// Outside the client's availability (C3).
    ClientUnavailable => "C3", "client unavailable";
    /// The practitioner has something else then (C3).
    DoubleBookedPractitioner => "C3", "practitioner double-booked";
    /// The room is full then (C3).
    DoubleBookedRoom => "C3", "room double-booked";
    /// The client has something else then (C3).
    DoubleBookedClient => "C3", "client double-booked";
    /// The class has no place left (C3).
    ClassFull => "C3", "class full";
    /// Heat, massage and cold not one contiguous visit in that order, or
    /// not the adjuncts the plan asks for (C2).
    VisitOrder => "C2", "heat, massage and cold not one visit in order";
    /// Massage minutes outside the merged guidance's range.
    MassageLength => "plan", "massage length outside guidance";
    /// A massage before the plan's first allowed day.
    TooEarly => "plan", "massage before its first allowed day";
    /// Fewer days since the previous massage than the interval allows (C4).
    IntervalTooShort => "C4", "massage interval too short";
    /// More days since the previous massage than the interval allows (C4).
    IntervalTooLong => "C4", "massage interval too long";
    /// More visits in some run of consecutive days (7 by default) than the cap (C5).
    WeeklyCapExceeded => "C5", "cap of visits in 7 days exceeded";
    /// A second visit on one day (C5).
    SameDay => "C5", "second visit on one day";
}

/// One broken constraint, naming the appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The appointment's index in the list checked.
    pub index: usize,
    /// The appointment.
    pub appointment: Appointment,
    /// The constraint broken.
    pub constraint: Constraint,
    /// What exactly, for people.
    pub detail: String,
}

impl Violation {
    /// The rule id behind the constraint.
    pub fn rule(&self) -> &'static str {
        self.constraint.rule()
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.appointment;
        let step = match a.adjunct {
            Some(Adjunct::HeatBefore) => " (heat step)",
            Some(Adjunct::ColdAfter) => " (cold step)",
            None => "",
        };
        write!(
            f,
            "{} {}{step} at {} with `{}` in `{}`: {} ({}): {}",
            a.client,
            a.discipline,
            a.start,
            a.practitioner,
            a.room,
            self.constraint.label(),
            self.constraint.rule(),
            self.detail
        )
    }
}

/// The room kinds that suit a discipline (rule C3): massage, physical therapy
/// and other disciplines in a treatment room, acupuncture in an acupuncture
/// room, yoga, tai chi and mindfulness in a studio; every group class in a studio.
pub fn suitable_room_kinds(discipline: &Discipline, class: bool) -> &'static [RoomKind] {
    if class {
        return &[RoomKind::Studio];
    }
    match discipline {
        Discipline::Massage | Discipline::PhysicalTherapy | Discipline::Other(_) => &[RoomKind::TreatmentRoom],
        Discipline::Acupuncture => &[RoomKind::AcupunctureRoom],
        Discipline::Yoga | Discipline::TaiChi | Discipline::Mindfulness => &[RoomKind::Studio],
    }
}

/// Whether `[start, end)` minutes on `day` lie inside the union of `windows`
/// (touching windows join).
pub(crate) fn within_windows(windows: &[WeeklyWindow], day: Weekday, start: u16, end: u16) -> bool {
    let mut spans: Vec<(u16, u16)> =
        windows.iter().filter(|w| w.day == day).map(|w| (w.start.minutes(), w.end.minutes())).collect();
    spans.sort_unstable();
    let mut reach: Option<(u16, u16)> = None;
    for (s, e) in spans {
        reach = match reach {
            Some((rs, re)) if s <= re => Some((rs, re.max(e))),
            Some((rs, re)) if rs <= start && end <= re => return true,
            _ => Some((s, e)),
        };
    }
    reach.is_some_and(|(rs, re)| rs <= start && end <= re)
}

/// `HH:MM` for minutes since midnight.
pub(crate) fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn end_minute(a: &Appointment) -> u32 {
    u32::from(a.start.time.minutes()) + u32::from(a.minutes)
}

/// An appointment in the checker's view: booked (context) or proposed (checked).
#[derive(Clone, Copy)]
struct Entry<'a> {
    a: &'a Appointment,
    /// Index in the proposal, for proposed ones.
    proposed: Option<usize>,
    start: i64,
    end: i64,
}

impl<'a> Entry<'a> {
    fn new(a: &'a Appointment, proposed: Option<usize>) -> Entry<'a> {
        let start = a.start.epoch_minutes();
        Entry { a, proposed, start, end: start + i64::from(a.minutes) }
    }

    fn overlaps(&self, s: i64, e: i64) -> bool {
        self.start < e && s < self.end
    }
}

pub(crate) struct Checker<'a> {
    cal: &'a Calendar,
    horizon: Option<(Date, u32)>,
    /// The first day the planner could use: an interval that closed before it is overdue, not broken.
    floor: Date,
    booked: &'a [Appointment],
    plans: HashMap<&'a str, &'a CarePlan>,
    require_plan: bool,
    /// Proposed massages the plugin marked late: (client, day). Their interval may exceed the maximum (C4), never
    /// fall short of the minimum.
    late: HashSet<(&'a str, Date)>,
    tz: Option<jiff::tz::TimeZone>,
    out: Vec<Violation>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(
        cal: &'a Calendar,
        horizon: Option<(Date, u32)>,
        floor: Date,
        booked: &'a [Appointment],
        plans: &'a [CarePlan],
        require_plan: bool,
    ) -> Checker<'a> {
        Checker {
            cal,
            horizon,
            floor,
            booked,
            plans: plans.iter().map(|p| (p.client.as_str(), p)).collect(),
            require_plan,
            late: HashSet::new(),
            tz: jiff::tz::TimeZone::get(&cal.time_zone).ok(),
            out: Vec::new(),
        }
    }

    /// Accepts these proposed massages as placed after their window (see [`praxis_sdk::schedule::Late`]).
    pub(crate) fn with_late(mut self, late: &'a [praxis_sdk::schedule::Late]) -> Checker<'a> {
        self.late = late.iter().map(|l| (l.client.as_str(), l.placed)).collect();
        self
    }

    fn flag(&mut self, index: usize, a: &Appointment, constraint: Constraint, detail: String) {
        self.out.push(Violation { index, appointment: a.clone(), constraint, detail });
    }

    pub(crate) fn run(mut self, proposal: &[Appointment]) -> Vec<Violation> {
        let mut sane = Vec::with_capacity(proposal.len());
        for (i, a) in proposal.iter().enumerate() {
            if self.single(i, a) {
                sane.push(i);
            }
        }
        let mut entries: Vec<Entry<'_>> = self.booked.iter().map(|a| Entry::new(a, None)).collect();
        entries.extend(sane.iter().map(|&i| Entry::new(&proposal[i], Some(i))));
        for &(rule, check) in GROUP_CHECKS {
            let before = self.out.len();
            check(&mut self, &entries, proposal);
            debug_assert!(self.out[before..].iter().all(|v| v.rule() == rule), "a {rule} check flagged another rule");
        }
        let mut out = self.out;
        out.sort_by(|x, y| (x.index, x.constraint, &x.detail).cmp(&(y.index, y.constraint, &y.detail)));
        out.dedup_by(|x, y| x.index == y.index && x.constraint == y.constraint && x.detail == y.detail);
        out
    }

    fn class(&self, id: &str) -> Option<&'a GroupClass> {
        self.cal.classes.iter().find(|c| c.id == id)
    }

    /// The checks of one appointment on its own ([`SINGLE_CHECKS`]); `false` when its length makes the rest
    /// meaningless.
    fn single(&mut self, i: usize, a: &Appointment) -> bool {
        let end = end_minute(a);
        if a.minutes == 0 || end > 24 * 60 {
            let detail = format!("{} minutes from {} do not fit in one day", a.minutes, a.start.time);
            self.flag(i, a, Constraint::BadLength, detail);
            return false;
        }
        let one = One { ck: self, a, start: a.start.time.minutes(), end: end as u16, date: a.start.date };
        let mut found: Vec<(Constraint, String)> = Vec::new();
        for &(rule, check) in SINGLE_CHECKS {
            let before = found.len();
            check(&one, &mut found);
            debug_assert!(found[before..].iter().all(|(c, _)| c.rule() == rule), "a {rule} check flagged another rule");
        }
        for (constraint, detail) in found {
            self.flag(i, a, constraint, detail);
        }
        true
    }

    /// The class sessions that run on `date`: their practitioner is not on leave.
    fn sessions_on(&self, date: Date) -> impl Iterator<Item = (&'a GroupClass, i64, i64)> + '_ {
        let cal = self.cal;
        cal.classes.iter().filter_map(move |c| {
            let runs = c.day == date.weekday()
                && !cal
                    .practitioners
                    .iter()
                    .any(|p| p.id == c.practitioner && p.time_off.iter().any(|r| r.contains(date)));
            let start = i64::from(date.days()) * 1440 + i64::from(c.start.minutes());
            runs.then_some((c, start, start + i64::from(c.minutes)))
        })
    }

    fn overlaps(&mut self, entries: &[Entry<'_>], proposal: &[Appointment]) {
        use Constraint::*;
        let mut by_prac: HashMap<(&str, Date), Vec<Entry<'_>>> = HashMap::new();
        let mut by_room: HashMap<(&str, Date), Vec<Entry<'_>>> = HashMap::new();
        let mut by_client: HashMap<(&str, Date), Vec<Entry<'_>>> = HashMap::new();
        for e in entries {
            let date = e.a.start.date;
            by_client.entry((e.a.client.as_str(), date)).or_default().push(*e);
            if e.a.class.is_none() {
                by_prac.entry((e.a.practitioner.as_str(), date)).or_default().push(*e);
                by_room.entry((e.a.room.as_str(), date)).or_default().push(*e);
            }
        }
        for e in entries.iter().filter(|e| e.proposed.is_some()) {
            let i = e.proposed.unwrap_or_default();
            let a = &proposal[i];
            let date = a.start.date;
            let same = |o: &Entry<'_>| std::ptr::eq(o.a, e.a);
            let prac_list = by_prac.get(&(a.practitioner.as_str(), date)).map_or(&[][..], Vec::as_slice);
            let room_list = by_room.get(&(a.room.as_str(), date)).map_or(&[][..], Vec::as_slice);
            if a.class.is_none() {
                if let Some(o) = prac_list.iter().find(|o| !same(o) && o.overlaps(e.start, e.end)) {
                    self.flag(
                        i,
                        a,
                        DoubleBookedPractitioner,
                        format!("`{}` also has {} at {}", a.practitioner, o.a.client, o.a.start),
                    );
                }
                let sessions: Vec<_> = self.sessions_on(date).collect();
                if let Some((c, _, _)) =
                    sessions.iter().find(|(c, s, x)| c.practitioner == a.practitioner && e.overlaps(*s, *x))
                {
                    self.flag(
                        i,
                        a,
                        DoubleBookedPractitioner,
                        format!("`{}` leads group class `{}` then", a.practitioner, c.id),
                    );
                }
                if let Some((c, _, _)) = sessions.iter().find(|(c, s, x)| c.room == a.room && e.overlaps(*s, *x)) {
                    self.flag(i, a, DoubleBookedRoom, format!("group class `{}` uses `{}` then", c.id, a.room));
                } else if let Some(room) = self.cal.rooms.iter().find(|r| r.id == a.room) {
                    let others: Vec<(i64, i64)> = room_list
                        .iter()
                        .filter(|o| !same(o) && o.overlaps(e.start, e.end))
                        .map(|o| (o.start.max(e.start), o.end.min(e.end)))
                        .collect();
                    let peak = peak_load(&others) + 1;
                    if peak > usize::from(room.capacity) {
                        self.flag(
                            i,
                            a,
                            DoubleBookedRoom,
                            format!("`{}` holds {} at once; this makes {peak}", room.id, room.capacity),
                        );
                    }
                }
            } else {
                // A class place: its class's practitioner and room must not be taken by an individual session.
                if let Some(o) = prac_list.iter().find(|o| o.overlaps(e.start, e.end)) {
                    self.flag(
                        i,
                        a,
                        DoubleBookedPractitioner,
                        format!("`{}` also has {} at {}", a.practitioner, o.a.client, o.a.start),
                    );
                }
                if let Some(o) = room_list.iter().find(|o| o.overlaps(e.start, e.end)) {
                    self.flag(
                        i,
                        a,
                        DoubleBookedRoom,
                        format!("`{}` is also used by {} at {}", a.room, o.a.client, o.a.start),
                    );
                }
            }
            let client_list = by_client.get(&(a.client.as_str(), date)).map_or(&[][..], Vec::as_slice);
            if let Some(o) = client_list.iter().find(|o| !same(o) && o.overlaps(e.start, e.end)) {
                self.flag(i, a, DoubleBookedClient, format!("the client also has {} at {}", o.a.discipline, o.a.start));
            }
        }
    }

    fn class_places(&mut self, entries: &[Entry<'_>]) {
        let mut taken: HashMap<(&str, Date), usize> = HashMap::new();
        // Booked places first: they hold their seats.
        let ordered =
            entries.iter().filter(|e| e.proposed.is_none()).chain(entries.iter().filter(|e| e.proposed.is_some()));
        for e in ordered {
            let Some(id) = e.a.class.as_deref() else { continue };
            let Some(class) = self.class(id) else { continue };
            let room_cap = self.cal.rooms.iter().find(|r| r.id == class.room).map_or(0, |r| usize::from(r.capacity));
            let places = usize::from(class.capacity).min(room_cap);
            let n = taken.entry((id, e.a.start.date)).or_default();
            *n += 1;
            if let Some(i) = e.proposed
                && *n > places
            {
                self.flag(i, e.a, Constraint::ClassFull, format!("`{id}` has {places} places on {}", e.a.start.date));
            }
        }
    }

    fn visits(&mut self, entries: &[Entry<'_>]) {
        use Constraint::VisitOrder;
        let mut groups: HashMap<(&str, &str), Vec<Entry<'_>>> = HashMap::new();
        for e in entries {
            match &e.a.visit {
                Some(v) => groups.entry((e.a.client.as_str(), v.as_str())).or_default().push(*e),
                None => {
                    let Some(i) = e.proposed else { continue };
                    if e.a.adjunct.is_some() {
                        self.flag(
                            i,
                            e.a,
                            VisitOrder,
                            "a heat or cold step must share a visit with its massage".to_owned(),
                        );
                    } else if e.a.discipline == Discipline::Massage
                        && e.a.class.is_none()
                        && let Some(demand) = self.plans.get(e.a.client.as_str()).and_then(|p| p.massage.as_ref())
                        && (!demand.before.is_empty() || !demand.after.is_empty())
                    {
                        // A massage on its own, when the plan asks for heat before or cold after it.
                        self.flag(
                            i,
                            e.a,
                            VisitOrder,
                            format!(
                                "the plan asks for {:?} before and {:?} after the massage; it has no visit with them",
                                demand.before, demand.after
                            ),
                        );
                    }
                }
            }
        }
        let mut keys: Vec<(&str, &str)> = groups.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let mut members = groups.remove(&key).unwrap_or_default();
            if members.iter().all(|m| m.proposed.is_none()) {
                continue;
            }
            members.sort_by_key(|m| (m.start, m.a.adjunct.is_some()));
            let massages: Vec<&Entry<'_>> = members.iter().filter(|m| m.a.adjunct.is_none()).collect();
            let problem = if members.len() == 1 && members[0].a.adjunct.is_none() {
                None
            } else if massages.len() != 1
                || massages[0].a.discipline != Discipline::Massage
                || massages[0].a.class.is_some()
            {
                Some(format!(
                    "visit `{}` holds {}: only heat, one massage and cold form one visit",
                    key.1,
                    members.iter().map(|m| describe(m.a)).collect::<Vec<_>>().join(", ")
                ))
            } else {
                let m = massages[0].a;
                let mut problem = None;
                let mut seen_massage = false;
                for (k, x) in members.iter().enumerate() {
                    if x.a.discipline != Discipline::Massage || x.a.practitioner != m.practitioner || x.a.room != m.room
                    {
                        problem = Some(format!("{} is not with the massage's practitioner and room", describe(x.a)));
                        break;
                    }
                    if k > 0 && members[k - 1].end != x.start {
                        problem = Some(format!(
                            "{} does not follow {} without a gap",
                            describe(x.a),
                            describe(members[k - 1].a)
                        ));
                        break;
                    }
                    match x.a.adjunct {
                        None => seen_massage = true,
                        Some(Adjunct::HeatBefore) if seen_massage => {
                            problem = Some("heat comes after the massage".to_owned())
                        }
                        Some(Adjunct::ColdAfter) if !seen_massage => {
                            problem = Some("cold comes before the massage".to_owned())
                        }
                        Some(_) => {}
                    }
                    if problem.is_some() {
                        break;
                    }
                }
                problem
            };
            if let Some(problem) = problem {
                for m in members.iter().filter(|m| m.proposed.is_some()) {
                    self.flag(m.proposed.unwrap_or_default(), m.a, VisitOrder, problem.clone());
                }
                continue;
            }
            // The adjuncts the client's plan asks for (R4, C2), when the plan is known.
            let Some(m) = massages
                .first()
                .filter(|m| m.proposed.is_some() && m.a.discipline == Discipline::Massage && m.a.class.is_none())
            else {
                continue;
            };
            let Some(demand) = self.plans.get(m.a.client.as_str()).and_then(|p| p.massage.as_ref()) else { continue };
            let before: Vec<Adjunct> =
                members.iter().take_while(|x| x.a.adjunct.is_some()).filter_map(|x| x.a.adjunct).collect();
            let after: Vec<Adjunct> =
                members.iter().skip_while(|x| x.a.adjunct.is_some()).skip(1).filter_map(|x| x.a.adjunct).collect();
            if before != demand.before || after != demand.after {
                let i = m.proposed.unwrap_or_default();
                let a = m.a;
                self.flag(
                    i,
                    a,
                    VisitOrder,
                    format!(
                        "the plan asks for {:?} before and {:?} after the massage; the visit has {before:?} and {after:?}",
                        demand.before, demand.after
                    ),
                );
            }
        }
    }

    fn intervals(&mut self, entries: &[Entry<'_>]) {
        let mut by_client: HashMap<&str, Vec<MassageAt<'_>>> = HashMap::new();
        for e in entries {
            if e.a.discipline == Discipline::Massage && e.a.adjunct.is_none() && e.a.class.is_none() {
                by_client.entry(e.a.client.as_str()).or_default().push((e.a.start.date, e.proposed, e.a));
            }
        }
        let mut clients: Vec<&str> = by_client.keys().copied().collect();
        clients.sort_unstable();
        for client in clients {
            let mut list = by_client.remove(client).unwrap_or_default();
            if list.iter().all(|x| x.1.is_none()) {
                continue;
            }
            let Some(demand) = self.plans.get(client).and_then(|p| p.massage.as_ref()) else { continue };
            let (min, max) = (demand.interval_days.min as i32, demand.interval_days.max as i32);
            let floor = demand.not_before.map_or(self.floor, |nb| nb.max(self.floor));
            // Booked massages on or before the last one recorded are history, not new.
            list.retain(|x| x.1.is_some() || demand.last.is_none_or(|last| x.0 > last));
            list.sort_by_key(|x| (x.0, x.1.is_some(), x.2.start));
            let mut prev: Option<(Date, Option<usize>, Option<&Appointment>)> = demand.last.map(|d| (d, None, None));
            for (date, proposed, a) in list {
                if let Some((pd, pp, pa)) = prev {
                    // Reported on the later massage when it is proposed, else on the earlier proposed one.
                    let target = match (proposed, pp, pa) {
                        (Some(i), _, _) => Some((i, a)),
                        (None, Some(j), Some(b)) => Some((j, b)),
                        _ => None,
                    };
                    if let Some((i, t)) = target {
                        let gap = date.days_since(pd);
                        let detail = format!(
                            "{gap} days between the massages of {pd} and {date}; the interval is {} days",
                            demand.interval_days
                        );
                        if gap < min {
                            self.flag(i, t, Constraint::IntervalTooShort, detail);
                        } else if gap > max && proposed.is_some() {
                            // Too long is the later massage's fault; a massage booked long after a proposed one
                            // leaves room to book more in between. Overdue: the window had closed before planning
                            // could begin.
                            let overdue = pp.is_none() && pd.add_days(max) < floor;
                            let late = self.late.contains(&(client, date));
                            if !overdue && !late {
                                self.flag(i, t, Constraint::IntervalTooLong, detail);
                            }
                        }
                    }
                }
                prev = Some((date, proposed, Some(a)));
            }
        }
    }

    fn weeks(&mut self, entries: &[Entry<'_>]) {
        let rules = self.cal.rules;
        // Visits of clients with fibromyalgia, by (client, visit key).
        let mut visits: HashMap<(&str, String), VisitSpan<'_>> = HashMap::new();
        for (n, e) in entries.iter().enumerate() {
            if !self.plans.get(e.a.client.as_str()).is_some_and(|p| p.fibromyalgia) {
                continue;
            }
            let key = e.a.visit.clone().unwrap_or_else(|| format!("#{n}"));
            let v = visits.entry((e.a.client.as_str(), key)).or_insert(VisitSpan {
                date: e.a.start.date,
                start: e.start,
                proposed: None,
            });
            if e.start < v.start {
                v.date = e.a.start.date;
                v.start = e.start;
            }
            if let Some(i) = e.proposed
                && v.proposed.is_none_or(|(j, _)| i < j)
            {
                v.proposed = Some((i, e.a));
            }
        }
        let mut list: Vec<(&str, VisitSpan<'_>)> = visits.into_iter().map(|((c, _), v)| (c, v)).collect();
        // Booked visits hold their place; proposed ones queue by time.
        list.sort_by_key(|(c, v)| (*c, v.proposed.is_some(), v.start, v.proposed.map(|p| p.0)));
        // The visit days counted so far, per client: booked ones always, proposed ones that passed.
        let mut counted: HashMap<&str, Vec<Date>> = HashMap::new();
        let span = rules.window_days as i32;
        for (client, VisitSpan { date, proposed, .. }) in list {
            let days = counted.entry(client).or_default();
            let Some((i, a)) = proposed else {
                days.push(date);
                continue;
            };
            let mut ok = true;
            if rules.same_day_bundled_only && days.contains(&date) {
                self.flag(i, a, Constraint::SameDay, format!("the client already has a visit on {date}"));
                ok = false;
            }
            // The fullest run of `span` days that holds this day.
            let (from, n) = (0..span)
                .map(|k| {
                    let from = date.add_days(k - (span - 1));
                    let to = from.add_days(span - 1);
                    (from, days.iter().filter(|d| **d >= from && **d <= to).count() as u32 + 1)
                })
                .max_by_key(|&(from, n)| (n, std::cmp::Reverse(from)))
                .unwrap_or((date, 1));
            if n > rules.weekly_cap {
                self.flag(
                    i,
                    a,
                    Constraint::WeeklyCapExceeded,
                    format!(
                        "visit {n} in the {span} days from {from} to {}; the cap is {} in any {span} days",
                        from.add_days(span - 1),
                        rules.weekly_cap
                    ),
                );
                ok = false;
            }
            if ok {
                days.push(date);
            }
        }
    }
}

/// A check over all appointments (booked for context, proposed to check) at once.
type GroupCheck = for<'a, 'e> fn(&mut Checker<'a>, &[Entry<'e>], &'e [Appointment]);

/// The checks that need the other appointments, each with the rule id of what it flags.
const GROUP_CHECKS: &[(&str, GroupCheck)] = &[
    ("C3", |ck, entries, proposal| ck.overlaps(entries, proposal)),
    ("C3", |ck, entries, _| ck.class_places(entries)),
    ("C2", |ck, entries, _| ck.visits(entries)),
    ("C4", |ck, entries, _| ck.intervals(entries)),
    ("C5", |ck, entries, _| ck.weeks(entries)),
];

/// One appointment as the per-appointment checks see it: its minutes of the day and its date.
struct One<'c, 'a> {
    ck: &'c Checker<'a>,
    a: &'c Appointment,
    start: u16,
    end: u16,
    date: Date,
}

impl One<'_, '_> {
    fn day(&self) -> Weekday {
        self.date.weekday()
    }
}

/// A check of one appointment on its own: pushes each constraint it finds broken, with the detail.
type SingleCheck = fn(&One<'_, '_>, &mut Vec<(Constraint, String)>);

/// The checks of one appointment on its own, each with the rule id every constraint it flags belongs to. The
/// checks that need the other appointments (double booking, class places, visits, intervals, the C5 window) run
/// after these, over all of them.
const SINGLE_CHECKS: &[(&str, SingleCheck)] = &[
    ("calendar", check_horizon),
    ("calendar", check_local_time),
    ("calendar", check_class_place),
    ("calendar", check_practitioner_known),
    ("C3", check_qualified),
    ("C3", check_practitioner_available),
    ("calendar", check_room_known),
    ("C3", check_room_suits),
    ("C3", check_opening_hours),
    ("plan", check_client_known),
    ("C3", check_client_available),
    ("plan", check_in_plan),
    ("plan", check_massage_length),
    ("plan", check_not_before),
];

fn check_horizon(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if let Some((first, days)) = o.ck.horizon {
        let last = first.add_days(days as i32 - 1);
        if o.date < first || o.date > last {
            out.push((Constraint::OutsideHorizon, format!("the horizon runs from {first} to {last}")));
        }
    }
}

fn check_local_time(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    let Some(tz) = &o.ck.tz else { return };
    let (y, m, d) = o.date.ymd();
    for minute in [o.start, o.end.min(24 * 60 - 1)] {
        let civil =
            jiff::civil::DateTime::new(y as i16, m as i8, d as i8, (minute / 60) as i8, (minute % 60) as i8, 0, 0);
        if let Ok(civil) = civil
            && matches!(tz.to_ambiguous_zoned(civil).offset(), jiff::tz::AmbiguousOffset::Gap { .. })
        {
            out.push((
                Constraint::NonexistentLocalTime,
                format!("{} {} does not exist in {} (clock change)", o.date, hhmm(minute), o.ck.cal.time_zone),
            ));
        }
    }
}

fn check_class_place(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    let a = o.a;
    let Some(id) = &a.class else { return };
    let Some(c) = o.ck.class(id) else {
        out.push((Constraint::UnknownClass, format!("group class `{id}` is not in the calendar")));
        return;
    };
    let mut wrong = Vec::new();
    if c.discipline != a.discipline {
        wrong.push(format!("the class is {}", c.discipline));
    }
    if c.day != o.day() || c.start != a.start.time || c.minutes != a.minutes {
        wrong.push(format!("the class runs {} {} for {} minutes", c.day, c.start, c.minutes));
    }
    if c.practitioner != a.practitioner {
        wrong.push(format!("the class is led by `{}`", c.practitioner));
    }
    if c.room != a.room {
        wrong.push(format!("the class is in room `{}`", c.room));
    }
    if a.adjunct.is_some() {
        wrong.push("a class place cannot be a heat or cold step".to_owned());
    }
    if !wrong.is_empty() {
        out.push((Constraint::ClassMismatch, format!("{}: {}", id, wrong.join(", "))));
    }
}

fn practitioner<'c>(o: &One<'c, '_>) -> Option<&'c praxis_sdk::schedule::Practitioner> {
    o.ck.cal.practitioners.iter().find(|p| p.id == o.a.practitioner)
}

fn check_practitioner_known(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if practitioner(o).is_none() {
        out.push((Constraint::UnknownPractitioner, format!("`{}` is not in the calendar", o.a.practitioner)));
    }
}

fn check_qualified(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if let Some(p) = practitioner(o)
        && !p.disciplines.contains(&o.a.discipline)
    {
        out.push((Constraint::NotQualified, format!("`{}` is not qualified in {}", p.id, o.a.discipline)));
    }
}

fn check_practitioner_available(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    let Some(p) = practitioner(o) else { return };
    if let Some(off) = p.time_off.iter().find(|r| r.contains(o.date)) {
        out.push((
            Constraint::PractitionerUnavailable,
            format!("`{}` is on leave from {} to {}", p.id, off.from, off.to),
        ));
    } else if !p.availability.is_empty() && !within_windows(&p.availability, o.day(), o.start, o.end) {
        out.push((
            Constraint::PractitionerUnavailable,
            format!("`{}` does not work {} {}-{}", p.id, o.day(), hhmm(o.start), hhmm(o.end)),
        ));
    }
}

fn room<'c>(o: &One<'c, '_>) -> Option<&'c praxis_sdk::schedule::Room> {
    o.ck.cal.rooms.iter().find(|r| r.id == o.a.room)
}

fn check_room_known(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if room(o).is_none() {
        out.push((Constraint::UnknownRoom, format!("`{}` is not in the calendar", o.a.room)));
    }
}

fn check_room_suits(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    let Some(r) = room(o) else { return };
    let is_class = o.a.class.is_some();
    let kinds = suitable_room_kinds(&o.a.discipline, is_class);
    if !kinds.contains(&r.kind) {
        let what = if is_class { "a group class".to_owned() } else { o.a.discipline.to_string() };
        out.push((Constraint::UnsuitableRoom, format!("`{}` is a {:?}; {what} needs a {:?}", r.id, r.kind, kinds[0])));
    }
}

fn check_opening_hours(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if !within_windows(&o.ck.cal.opening_hours, o.day(), o.start, o.end) {
        out.push((
            Constraint::OutsideHours,
            format!("the practice is not open all of {} {}-{}", o.day(), hhmm(o.start), hhmm(o.end)),
        ));
    }
}

fn plan<'c>(o: &One<'c, '_>) -> Option<&'c CarePlan> {
    o.ck.plans.get(o.a.client.as_str()).copied()
}

fn check_client_known(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if o.ck.require_plan && plan(o).is_none() {
        out.push((Constraint::UnknownClient, format!("client `{}` has no care plan in the request", o.a.client)));
    }
}

fn check_client_available(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if let Some(plan) = plan(o)
        && !plan.availability.is_empty()
        && !within_windows(&plan.availability, o.day(), o.start, o.end)
    {
        out.push((
            Constraint::ClientUnavailable,
            format!("the client is not available {} {}-{}", o.day(), hhmm(o.start), hhmm(o.end)),
        ));
    }
}

fn check_in_plan(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    let Some(plan) = plan(o) else { return };
    if o.a.discipline == Discipline::Massage {
        if plan.massage.is_none() {
            out.push((
                Constraint::NotInPlan,
                "no massage is planned for the client (a hold, or no protocol advice)".to_owned(),
            ));
        }
    } else if !plan.other.iter().any(|d| d.discipline == o.a.discipline) {
        out.push((Constraint::NotInPlan, format!("the care plan has no {}", o.a.discipline)));
    }
}

/// The plan's massage demand, when `o` is the massage itself (not a heat or cold step).
fn massage_demand<'c>(o: &One<'c, '_>) -> Option<&'c praxis_sdk::schedule::MassageDemand> {
    (o.a.discipline == Discipline::Massage && o.a.adjunct.is_none()).then(|| plan(o)?.massage.as_ref()).flatten()
}

fn check_massage_length(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if let Some(m) = massage_demand(o)
        && !m.minutes.contains(u32::from(o.a.minutes))
    {
        out.push((
            Constraint::MassageLength,
            format!("{} minutes; the guidance gives {} minutes", o.a.minutes, m.minutes),
        ));
    }
}

fn check_not_before(o: &One<'_, '_>, out: &mut Vec<(Constraint, String)>) {
    if let Some(nb) = massage_demand(o).and_then(|m| m.not_before)
        && o.date < nb
    {
        out.push((Constraint::TooEarly, format!("no massage before {nb}")));
    }
}

/// A massage of a client: its day, its index when proposed, the appointment.
type MassageAt<'a> = (Date, Option<usize>, &'a Appointment);

/// One visit of a client with fibromyalgia: its day, its first start, its first proposed appointment.
#[derive(Clone, Copy)]
struct VisitSpan<'a> {
    date: Date,
    start: i64,
    proposed: Option<(usize, &'a Appointment)>,
}

fn describe(a: &Appointment) -> String {
    match a.adjunct {
        Some(Adjunct::HeatBefore) => format!("heat at {}", a.start.time),
        Some(Adjunct::ColdAfter) => format!("cold at {}", a.start.time),
        None => format!("{} at {}", a.discipline, a.start.time),
    }
}

/// The most intervals running at once.
fn peak_load(spans: &[(i64, i64)]) -> usize {
    let mut events: Vec<(i64, i32)> = spans.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
    events.sort_unstable();
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        peak = peak.max(now);
    }
    peak as usize
}
