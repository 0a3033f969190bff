//! The checker: every proposed or hand-booked appointment against rules C2
//! to C5, written apart from any plugin's code.

use std::collections::HashMap;
use std::fmt;

use praxis_sdk::schedule::{Appointment, CarePlan, GroupClass, RoomKind};
use praxis_sdk::{Adjunct, Date, Discipline, Weekday, WeeklyWindow};

use super::Calendar;

/// A constraint an appointment can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Constraint {
    /// Zero minutes, or running past midnight.
    BadLength,
    /// Outside the planning horizon.
    OutsideHorizon,
    /// A local time the practice's clock skips (daylight-saving change).
    NonexistentLocalTime,
    /// The practitioner is not in the calendar.
    UnknownPractitioner,
    /// The room is not in the calendar.
    UnknownRoom,
    /// The group class is not in the calendar.
    UnknownClass,
    /// The client has no care plan in the request.
    UnknownClient,
    /// A class place that does not match its class (time, room, practitioner, discipline).
    ClassMismatch,
    /// The client's plan has no such discipline (or no massage: a hold or no advice).
    NotInPlan,
    /// The practitioner is not qualified in the discipline (C3).
    NotQualified,
    /// The room's kind does not suit the discipline (C3).
    UnsuitableRoom,
    /// Outside opening hours (C3).
    OutsideHours,
    /// Outside the practitioner's availability, or on leave (C3).
    PractitionerUnavailable,
    /// Outside the client's availability (C3).
    ClientUnavailable,
    /// The practitioner has something else then (C3).
    DoubleBookedPractitioner,
    /// The room is full then (C3).
    DoubleBookedRoom,
    /// The client has something else then (C3).
    DoubleBookedClient,
    /// The class has no place left (C3).
    ClassFull,
    /// Heat, massage and cold not one contiguous visit in that order, or
    /// not the adjuncts the plan asks for (C2).
    VisitOrder,
    /// Massage minutes outside the merged guidance's range.
    MassageLength,
    /// A massage before the plan's first allowed day.
    TooEarly,
    /// Fewer days since the previous massage than the interval allows (C4).
    IntervalTooShort,
    /// More days since the previous massage than the interval allows (C4).
    IntervalTooLong,
    /// More visits in a Monday-Sunday week than the cap (C5).
    WeeklyCapExceeded,
    /// A second visit on one day (C5).
    SameDay,
}

impl Constraint {
    /// The rule id of `GUIDANCE-RULES.md` behind it, or `plan`/`calendar` for
    /// a check of the request's own data.
    pub fn rule(self) -> &'static str {
        use Constraint::*;
        match self {
            BadLength | OutsideHorizon | NonexistentLocalTime | UnknownPractitioner | UnknownRoom | UnknownClass
            | ClassMismatch => "calendar",
            UnknownClient | NotInPlan | MassageLength | TooEarly => "plan",
            VisitOrder => "C2",
            NotQualified
            | UnsuitableRoom
            | OutsideHours
            | PractitionerUnavailable
            | ClientUnavailable
            | DoubleBookedPractitioner
            | DoubleBookedRoom
            | DoubleBookedClient
            | ClassFull => "C3",
            IntervalTooShort | IntervalTooLong => "C4",
            WeeklyCapExceeded | SameDay => "C5",
        }
    }

    /// A short name for people.
    pub fn label(self) -> &'static str {
        use Constraint::*;
        match self {
            BadLength => "bad length",
            OutsideHorizon => "outside the planning horizon",
            NonexistentLocalTime => "nonexistent local time",
            UnknownPractitioner => "unknown practitioner",
            UnknownRoom => "unknown room",
            UnknownClass => "unknown group class",
            UnknownClient => "unknown client",
            ClassMismatch => "class place does not match its class",
            NotInPlan => "not in the care plan",
            NotQualified => "practitioner not qualified",
            UnsuitableRoom => "unsuitable room",
            OutsideHours => "outside opening hours",
            PractitionerUnavailable => "practitioner unavailable",
            ClientUnavailable => "client unavailable",
            DoubleBookedPractitioner => "practitioner double-booked",
            DoubleBookedRoom => "room double-booked",
            DoubleBookedClient => "client double-booked",
            ClassFull => "class full",
            VisitOrder => "heat, massage and cold not one visit in order",
            MassageLength => "massage length outside guidance",
            TooEarly => "massage before its first allowed day",
            IntervalTooShort => "massage interval too short",
            IntervalTooLong => "massage interval too long",
            WeeklyCapExceeded => "weekly cap exceeded",
            SameDay => "second visit on one day",
        }
    }
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
            tz: jiff::tz::TimeZone::get(&cal.time_zone).ok(),
            out: Vec::new(),
        }
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
        self.overlaps(&entries, proposal);
        self.class_places(&entries);
        self.visits(&entries);
        self.intervals(&entries);
        self.weeks(&entries);
        let mut out = self.out;
        out.sort_by(|x, y| (x.index, x.constraint, &x.detail).cmp(&(y.index, y.constraint, &y.detail)));
        out.dedup_by(|x, y| x.index == y.index && x.constraint == y.constraint && x.detail == y.detail);
        out
    }

    fn class(&self, id: &str) -> Option<&'a GroupClass> {
        self.cal.classes.iter().find(|c| c.id == id)
    }

    /// The checks of one appointment on its own; `false` when its length makes the rest meaningless.
    fn single(&mut self, i: usize, a: &Appointment) -> bool {
        use Constraint::*;
        let cal = self.cal;
        let end = end_minute(a);
        if a.minutes == 0 || end > 24 * 60 {
            self.flag(i, a, BadLength, format!("{} minutes from {} do not fit in one day", a.minutes, a.start.time));
            return false;
        }
        let (start, end) = (a.start.time.minutes(), end as u16);
        let date = a.start.date;
        let day = date.weekday();
        if let Some((first, days)) = self.horizon {
            let last = first.add_days(days as i32 - 1);
            if date < first || date > last {
                self.flag(i, a, OutsideHorizon, format!("the horizon runs from {first} to {last}"));
            }
        }
        if let Some(tz) = self.tz.clone() {
            let (y, m, d) = date.ymd();
            for minute in [start, end.min(24 * 60 - 1)] {
                let civil = jiff::civil::DateTime::new(
                    y as i16,
                    m as i8,
                    d as i8,
                    (minute / 60) as i8,
                    (minute % 60) as i8,
                    0,
                    0,
                );
                if let Ok(civil) = civil
                    && matches!(tz.to_ambiguous_zoned(civil).offset(), jiff::tz::AmbiguousOffset::Gap { .. })
                {
                    self.flag(
                        i,
                        a,
                        NonexistentLocalTime,
                        format!("{date} {} does not exist in {} (clock change)", hhmm(minute), cal.time_zone),
                    );
                }
            }
        }
        let is_class = a.class.is_some();
        if let Some(id) = &a.class {
            match self.class(id) {
                None => self.flag(i, a, UnknownClass, format!("group class `{id}` is not in the calendar")),
                Some(c) => {
                    let mut wrong = Vec::new();
                    if c.discipline != a.discipline {
                        wrong.push(format!("the class is {}", c.discipline));
                    }
                    if c.day != day || c.start != a.start.time || c.minutes != a.minutes {
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
                        self.flag(i, a, ClassMismatch, format!("{}: {}", id, wrong.join(", ")));
                    }
                }
            }
        }
        match cal.practitioners.iter().find(|p| p.id == a.practitioner) {
            None => self.flag(i, a, UnknownPractitioner, format!("`{}` is not in the calendar", a.practitioner)),
            Some(p) => {
                if !p.disciplines.contains(&a.discipline) {
                    self.flag(i, a, NotQualified, format!("`{}` is not qualified in {}", p.id, a.discipline));
                }
                if let Some(off) = p.time_off.iter().find(|r| r.contains(date)) {
                    self.flag(
                        i,
                        a,
                        PractitionerUnavailable,
                        format!("`{}` is on leave from {} to {}", p.id, off.from, off.to),
                    );
                } else if !p.availability.is_empty() && !within_windows(&p.availability, day, start, end) {
                    self.flag(
                        i,
                        a,
                        PractitionerUnavailable,
                        format!("`{}` does not work {day} {}-{}", p.id, hhmm(start), hhmm(end)),
                    );
                }
            }
        }
        match cal.rooms.iter().find(|r| r.id == a.room) {
            None => self.flag(i, a, UnknownRoom, format!("`{}` is not in the calendar", a.room)),
            Some(r) => {
                let kinds = suitable_room_kinds(&a.discipline, is_class);
                if !kinds.contains(&r.kind) {
                    let what = if is_class { "a group class".to_owned() } else { a.discipline.to_string() };
                    self.flag(
                        i,
                        a,
                        UnsuitableRoom,
                        format!("`{}` is a {:?}; {what} needs a {:?}", r.id, r.kind, kinds[0]),
                    );
                }
            }
        }
        if !within_windows(&cal.opening_hours, day, start, end) {
            self.flag(
                i,
                a,
                OutsideHours,
                format!("the practice is not open all of {day} {}-{}", hhmm(start), hhmm(end)),
            );
        }
        match self.plans.get(a.client.as_str()).copied() {
            None => {
                if self.require_plan {
                    self.flag(i, a, UnknownClient, format!("client `{}` has no care plan in the request", a.client));
                }
            }
            Some(plan) => {
                if !plan.availability.is_empty() && !within_windows(&plan.availability, day, start, end) {
                    self.flag(
                        i,
                        a,
                        ClientUnavailable,
                        format!("the client is not available {day} {}-{}", hhmm(start), hhmm(end)),
                    );
                }
                if a.discipline == Discipline::Massage {
                    match &plan.massage {
                        None => self.flag(
                            i,
                            a,
                            NotInPlan,
                            "no massage is planned for the client (a hold, or no protocol advice)".to_owned(),
                        ),
                        Some(m) if a.adjunct.is_none() => {
                            if !m.minutes.contains(u32::from(a.minutes)) {
                                self.flag(
                                    i,
                                    a,
                                    MassageLength,
                                    format!("{} minutes; the guidance gives {} minutes", a.minutes, m.minutes),
                                );
                            }
                            if let Some(nb) = m.not_before
                                && date < nb
                            {
                                self.flag(i, a, TooEarly, format!("no massage before {nb}"));
                            }
                        }
                        Some(_) => {}
                    }
                } else if !plan.other.iter().any(|o| o.discipline == a.discipline) {
                    self.flag(i, a, NotInPlan, format!("the care plan has no {}", a.discipline));
                }
            }
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
                    if let (Some(i), Some(_)) = (e.proposed, e.a.adjunct) {
                        self.flag(
                            i,
                            e.a,
                            VisitOrder,
                            "a heat or cold step must share a visit with its massage".to_owned(),
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
                            if !overdue {
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
        let mut per_week: HashMap<(&str, Date), u32> = HashMap::new();
        let mut per_day: HashMap<(&str, Date), u32> = HashMap::new();
        for (client, VisitSpan { date, proposed, .. }) in list {
            let week = per_week.entry((client, date.week_start())).or_default();
            *week += 1;
            let day = per_day.entry((client, date)).or_default();
            *day += 1;
            let Some((i, a)) = proposed else { continue };
            if *week > rules.weekly_cap {
                self.flag(
                    i,
                    a,
                    Constraint::WeeklyCapExceeded,
                    format!("visit {} in the week of {}; the cap is {}", *week, date.week_start(), rules.weekly_cap),
                );
            }
            if rules.same_day_bundled_only && *day > 1 {
                self.flag(i, a, Constraint::SameDay, format!("the client already has a visit on {date}"));
            }
        }
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
