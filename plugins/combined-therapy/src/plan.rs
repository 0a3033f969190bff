//! The planner: checks the request, indexes the calendar, then sweeps the
//! horizon day by day, earliest deadline first. See the crate's README for
//! the algorithm in prose.

use std::collections::HashMap;
use std::fmt::Write;

use praxis_sdk::{
    Adjunct, Appointment, CarePlan, Date, DateRange, DateTime, Discipline, PluginError, RoomKind, ScheduleProposal,
    ScheduleRequest, TimeOfDay, Unmet, WeeklyWindow,
};

use crate::intervals::{Iv, below_capacity, contains, first_fit, intersect, normalize, overlaps, remove};
use crate::settings::Settings;

/// The longest horizon the planner accepts, in days.
pub const MAX_HORIZON_DAYS: u32 = 366;

const FULL_DAY: Iv = (0, 1440);

/// The room kinds a discipline may use (the fixed table of the README).
pub fn suitable_room(discipline: &Discipline, kind: RoomKind) -> bool {
    match discipline {
        Discipline::Massage | Discipline::PhysicalTherapy => kind == RoomKind::TreatmentRoom,
        Discipline::Acupuncture => kind == RoomKind::AcupunctureRoom,
        Discipline::Yoga | Discipline::TaiChi | Discipline::Mindfulness => kind == RoomKind::Studio,
        Discipline::Other(_) => kind == RoomKind::TreatmentRoom,
    }
}

fn is_group(discipline: &Discipline) -> bool {
    matches!(discipline, Discipline::Yoga | Discipline::TaiChi | Discipline::Mindfulness)
}

fn bad(message: String) -> PluginError {
    PluginError::BadInput(message)
}

/// Weekly windows as seven normalized lists, Monday first.
fn by_weekday(windows: &[WeeklyWindow], whose: &str) -> Result<[Vec<Iv>; 7], PluginError> {
    let mut days: [Vec<Iv>; 7] = Default::default();
    for w in windows {
        if w.start >= w.end {
            return Err(bad(format!(
                "{whose} has a window on {} from {} to {} that ends before it starts: give an end after the start",
                w.day, w.start, w.end
            )));
        }
        days[w.day.index()].push((w.start.minutes(), w.end.minutes()));
    }
    Ok(days.map(normalize))
}

struct Prac {
    id: String,
    avail: [Vec<Iv>; 7],
    time_off: Vec<DateRange>,
}

impl Prac {
    fn off(&self, date: Date) -> bool {
        self.time_off.iter().any(|r| r.contains(date))
    }
}

struct Class {
    id: String,
    discipline: Discipline,
    weekday: usize,
    span: Iv,
    prac: usize,
    room: usize,
    places: u16,
    /// Inside opening hours and its practitioner's availability.
    usable: bool,
}

struct Client<'a> {
    plan: &'a CarePlan,
    /// Opening hours intersected with the client's availability, per weekday.
    base: [Vec<Iv>; 7],
}

/// Why an attempt on one day failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    SameDay,
    WeeklyCap,
    ClientUnavailable,
    ClientBusy,
    NoPractitioner,
    NoRoom,
    ClassFull,
    NoClass,
    ClassLater,
    BookedMassageNear,
}

const FAIL_KINDS: usize = 10;

impl Fail {
    fn index(self) -> usize {
        self as usize
    }

    fn describe(self, settings: &Settings) -> String {
        match self {
            Fail::SameDay => "the client already had a visit that day (C5)".to_owned(),
            Fail::WeeklyCap => format!("the client had reached the weekly cap of {} (C5)", settings.weekly_cap),
            Fail::ClientUnavailable => "the client is not available while the practice is open (C3)".to_owned(),
            Fail::ClientBusy => "the client had no free time long enough (C3)".to_owned(),
            Fail::NoPractitioner => "no qualified practitioner was free while the client was (C3)".to_owned(),
            Fail::NoRoom => "no suitable room was free when practitioner and client were (C3)".to_owned(),
            Fail::ClassFull => "the group classes that fit were full (C3)".to_owned(),
            Fail::NoClass => "no group class of it ran that day and no individual session fit (C3)".to_owned(),
            Fail::ClassLater => {
                "no group class of it ran that day; it was kept for a class later in its window (C3)".to_owned()
            }
            Fail::BookedMassageNear => "a massage booked later would follow too soon (C4)".to_owned(),
        }
    }

    const ALL: [Fail; FAIL_KINDS] = [
        Fail::SameDay,
        Fail::WeeklyCap,
        Fail::ClientUnavailable,
        Fail::ClientBusy,
        Fail::NoPractitioner,
        Fail::NoRoom,
        Fail::ClassFull,
        Fail::NoClass,
        Fail::ClassLater,
        Fail::BookedMassageNear,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Massage,
    Other(usize),
}

struct Item {
    client: usize,
    what: What,
    /// For `Other`: the occurrence number from the anchor.
    k: u32,
    due: Date,
    earliest: Date,
    latest: Date,
    fails: [u16; FAIL_KINDS],
    /// Days of its window that passed without an attempt (it waited for the
    /// client's massage, or opened during an earlier day's sweep), ascending.
    skipped: Vec<usize>,
    /// The first day of its window not yet tried or skipped.
    next: usize,
    /// The massage item it waits for, to share that visit's trip: on its
    /// next attempt the day of that attempt goes first, then the skipped days.
    wait_for: Option<usize>,
    /// Tried at least once: it no longer waits for a massage.
    tried: bool,
    done: bool,
}

/// Where a session was placed.
enum Spot {
    Individual { prac: usize, room: usize, start: u16 },
    Class(usize),
}

struct Planner<'a> {
    req: &'a ScheduleRequest,
    s: &'a Settings,
    start: Date,
    end: Date,
    days: usize,
    weeks: usize,
    pracs: Vec<Prac>,
    rooms: Vec<(String, RoomKind, u16)>,
    classes: Vec<Class>,
    clients: Vec<Client<'a>>,
    /// Practitioners qualified per discipline (indices, ascending).
    qualified: HashMap<Discipline, Vec<usize>>,
    /// Classes per (discipline, weekday), by start time then id.
    class_index: HashMap<(Discipline, usize), Vec<usize>>,
    // Mutable state, per day of the horizon.
    prac_free: Vec<Vec<Vec<Iv>>>,
    prac_load: Vec<u32>,
    room_base: Vec<Vec<Vec<Iv>>>,
    room_used: Vec<Vec<Vec<Iv>>>,
    room_free: Vec<Vec<Vec<Iv>>>,
    class_taken: Vec<Vec<u16>>,
    /// A booked individual session takes the class's practitioner or room.
    class_blocked: Vec<Vec<bool>>,
    client_busy: Vec<Vec<Vec<Iv>>>,
    client_visits: Vec<Vec<u8>>,
    client_week: Vec<Vec<u32>>,
    // Chains.
    massage_prev: Vec<Option<Date>>,
    /// The first massage booked on or after the horizon's end.
    massage_after: Vec<Option<Date>>,
    other_prev: Vec<Vec<Option<Date>>>,
    other_anchor: Vec<Vec<Date>>,
    /// The first session of this demand is new or overdue: its window is one whole interval.
    other_open: Vec<Vec<bool>>,
    massage_pending: Vec<Option<usize>>,
    items: Vec<Item>,
    out: ScheduleProposal,
}

/// Plans the request's horizon; see the README.
pub fn plan(req: &ScheduleRequest, settings: &Settings) -> Result<ScheduleProposal, PluginError> {
    let mut planner = Planner::new(req, settings)?;
    planner.mark_classes();
    planner.mark_booked();
    planner.seed();
    planner.sweep();
    let mut out = planner.out;
    out.appointments
        .sort_by(|a, b| (a.start, &a.client, a.adjunct.is_some()).cmp(&(b.start, &b.client, b.adjunct.is_some())));
    out.unmet.sort_by(|a, b| (&a.client, a.due, &a.discipline).cmp(&(&b.client, b.due, &b.discipline)));
    Ok(out)
}

impl<'a> Planner<'a> {
    fn new(req: &'a ScheduleRequest, s: &'a Settings) -> Result<Planner<'a>, PluginError> {
        if req.days == 0 || req.days > MAX_HORIZON_DAYS {
            return Err(bad(format!(
                "horizon of {} days is outside 1-{MAX_HORIZON_DAYS}: give a horizon such as 56 (8 weeks)",
                req.days
            )));
        }
        let days = req.days as usize;
        let start = req.start;
        let end = start.add_days(req.days as i32);
        let opening = by_weekday(&req.opening_hours, "the practice's opening hours")?;

        let mut prac_ids: HashMap<&str, usize> = HashMap::new();
        let mut pracs = Vec::with_capacity(req.practitioners.len());
        let mut qualified: HashMap<Discipline, Vec<usize>> = HashMap::new();
        for (i, p) in req.practitioners.iter().enumerate() {
            if p.id.trim().is_empty() {
                return Err(bad(format!(
                    "practitioner number {} has an empty id: give every practitioner an id",
                    i + 1
                )));
            }
            if prac_ids.insert(&p.id, i).is_some() {
                return Err(bad(format!("practitioner `{}` appears twice: give each practitioner one entry", p.id)));
            }
            let whose = format!("practitioner `{}`", p.id);
            let own = by_weekday(&p.availability, &whose)?;
            // No availability listed: whenever the practice is open.
            let avail = if p.availability.is_empty() { opening.clone() } else { own };
            let avail: [Vec<Iv>; 7] = std::array::from_fn(|d| intersect(&avail[d], &opening[d]));
            for r in &p.time_off {
                if r.from > r.to {
                    return Err(bad(format!(
                        "{whose} has time off from {} to {}: the end is before the start",
                        r.from, r.to
                    )));
                }
            }
            let mut ds = p.disciplines.clone();
            ds.sort();
            ds.dedup();
            for d in ds {
                qualified.entry(d).or_default().push(i);
            }
            pracs.push(Prac { id: p.id.clone(), avail, time_off: p.time_off.clone() });
        }

        let mut room_ids: HashMap<&str, usize> = HashMap::new();
        let mut rooms = Vec::with_capacity(req.rooms.len());
        for (i, r) in req.rooms.iter().enumerate() {
            if r.id.trim().is_empty() {
                return Err(bad(format!("room number {} has an empty id: give every room an id", i + 1)));
            }
            if room_ids.insert(&r.id, i).is_some() {
                return Err(bad(format!("room `{}` appears twice: give each room one entry", r.id)));
            }
            if r.capacity == 0 {
                return Err(bad(format!("room `{}` has capacity 0: give how many clients it holds at once", r.id)));
            }
            rooms.push((r.id.clone(), r.kind, r.capacity));
        }

        let mut class_ids: HashMap<&str, ()> = HashMap::new();
        let mut classes = Vec::with_capacity(req.classes.len());
        for c in &req.classes {
            if class_ids.insert(&c.id, ()).is_some() {
                return Err(bad(format!("group class `{}` appears twice: give each class one entry", c.id)));
            }
            let prac = *prac_ids.get(c.practitioner.as_str()).ok_or_else(|| {
                bad(format!(
                    "group class `{}` names practitioner `{}`, who is not in the calendar",
                    c.id, c.practitioner
                ))
            })?;
            let room = *room_ids.get(c.room.as_str()).ok_or_else(|| {
                bad(format!("group class `{}` names room `{}`, which is not in the calendar", c.id, c.room))
            })?;
            if rooms[room].1 != RoomKind::Studio {
                return Err(bad(format!("group class `{}` is in room `{}`, which is not a studio (C3)", c.id, c.room)));
            }
            if !req.practitioners[prac].disciplines.contains(&c.discipline) {
                return Err(bad(format!(
                    "group class `{}` is {} but its practitioner `{}` is not qualified in it (C3)",
                    c.id, c.discipline, c.practitioner
                )));
            }
            let s = c.start.minutes();
            let e = u32::from(s) + u32::from(c.minutes);
            if c.minutes == 0 || e > 1440 {
                return Err(bad(format!(
                    "group class `{}` of {} minutes from {} does not fit in one day",
                    c.id, c.minutes, c.start
                )));
            }
            if c.capacity == 0 {
                return Err(bad(format!("group class `{}` has capacity 0: give its number of places", c.id)));
            }
            let span = (s, e as u16);
            let weekday = c.day.index();
            let usable = contains(&pracs[prac].avail[weekday], span);
            if !usable {
                tracing::warn!(class = %c.id, "group class is outside opening hours or its practitioner's availability; no places are planned in it");
            }
            let places = c.capacity.min(rooms[room].2);
            classes.push(Class {
                id: c.id.clone(),
                discipline: c.discipline.clone(),
                weekday,
                span,
                prac,
                room,
                places,
                usable,
            });
        }
        let mut class_index: HashMap<(Discipline, usize), Vec<usize>> = HashMap::new();
        for (k, c) in classes.iter().enumerate() {
            class_index.entry((c.discipline.clone(), c.weekday)).or_default().push(k);
        }
        for list in class_index.values_mut() {
            list.sort_by(|&a, &b| (classes[a].span, &classes[a].id).cmp(&(classes[b].span, &classes[b].id)));
        }

        let mut plans: Vec<&CarePlan> = req.plans.iter().collect();
        plans.sort_by(|a, b| a.client.cmp(&b.client));
        if let Some(w) = plans.windows(2).find(|w| w[0].client == w[1].client) {
            return Err(bad(format!("client `{}` has two care plans: merge them into one", w[0].client)));
        }
        let mut clients = Vec::with_capacity(plans.len());
        for plan in plans {
            check_plan(plan)?;
            let whose = format!("client `{}`", plan.client);
            let own = by_weekday(&plan.availability, &whose)?;
            let avail = if plan.availability.is_empty() { opening.clone() } else { own };
            let base = std::array::from_fn(|d| intersect(&avail[d], &opening[d]));
            clients.push(Client { plan, base });
        }

        let weeks = ((end.add_days(-1).week_start().days_since(start.week_start())) / 7 + 1) as usize;
        let n_clients = clients.len();
        let room_base = vec![vec![vec![FULL_DAY]; days]; rooms.len()];
        let mut prac_free = Vec::with_capacity(pracs.len());
        for p in &pracs {
            let per_day: Vec<Vec<Iv>> = (0..days)
                .map(|d| {
                    let date = start.add_days(d as i32);
                    if p.off(date) { Vec::new() } else { p.avail[date.weekday().index()].clone() }
                })
                .collect();
            prac_free.push(per_day);
        }
        Ok(Planner {
            req,
            s,
            start,
            end,
            days,
            weeks,
            room_used: vec![vec![Vec::new(); days]; rooms.len()],
            room_free: room_base.clone(),
            room_base,
            prac_load: vec![0; pracs.len()],
            class_taken: vec![vec![0; days]; classes.len()],
            class_blocked: vec![vec![false; days]; classes.len()],
            massage_after: vec![None; n_clients],
            client_busy: vec![vec![Vec::new(); days]; n_clients],
            client_visits: vec![vec![0; days]; n_clients],
            client_week: vec![vec![0; weeks]; n_clients],
            massage_prev: clients.iter().map(|c| c.plan.massage.as_ref().and_then(|m| m.last)).collect(),
            other_prev: clients.iter().map(|c| c.plan.other.iter().map(|o| o.last).collect()).collect(),
            other_anchor: clients.iter().map(|c| vec![start; c.plan.other.len()]).collect(),
            other_open: clients.iter().map(|c| vec![false; c.plan.other.len()]).collect(),
            massage_pending: vec![None; n_clients],
            prac_free,
            pracs,
            rooms,
            classes,
            clients,
            qualified,
            class_index,
            items: Vec::new(),
            out: ScheduleProposal::default(),
        })
    }

    fn day_of(&self, date: Date) -> Option<usize> {
        let d = date.days_since(self.start);
        (d >= 0 && (d as usize) < self.days).then_some(d as usize)
    }

    fn week_of(&self, date: Date) -> Option<usize> {
        let w = date.week_start().days_since(self.start.week_start());
        (w >= 0 && ((w / 7) as usize) < self.weeks).then_some((w / 7) as usize)
    }

    fn client_index(&self, id: &str) -> Option<usize> {
        self.clients.binary_search_by(|c| c.plan.client.as_str().cmp(id)).ok()
    }

    /// A class instance takes its practitioner's and room's time, unless the practitioner is on leave.
    fn mark_classes(&mut self) {
        for k in 0..self.classes.len() {
            for day in 0..self.days {
                let date = self.start.add_days(day as i32);
                let c = &self.classes[k];
                if date.weekday().index() != c.weekday || self.pracs[c.prac].off(date) {
                    continue;
                }
                let (p, r, span) = (c.prac, c.room, c.span);
                remove(&mut self.prac_free[p][day], span);
                remove(&mut self.room_base[r][day], span);
                self.refresh_room(r, day);
            }
        }
    }

    fn refresh_room(&mut self, r: usize, day: usize) {
        self.room_free[r][day] = below_capacity(&self.room_base[r][day], &self.room_used[r][day], self.rooms[r].2);
    }

    fn mark_booked(&mut self) {
        let prac_ids: HashMap<&str, usize> = self.pracs.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
        let room_ids: HashMap<&str, usize> = self.rooms.iter().enumerate().map(|(i, r)| (r.0.as_str(), i)).collect();
        let class_ids: HashMap<&str, usize> =
            self.classes.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
        let mut visits: HashMap<(usize, String), Date> = HashMap::new();
        let req = self.req;
        for (n, a) in req.booked.iter().enumerate() {
            let client = self.client_index(&a.client);
            let s = a.start.time.minutes();
            let span = (s, (u32::from(s) + u32::from(a.minutes)).min(1440) as u16);
            if let Some(c) = client {
                let date = a.start.date;
                if a.discipline == Discipline::Massage && a.adjunct.is_none() && a.class.is_none() {
                    if date < self.end {
                        let prev = &mut self.massage_prev[c];
                        *prev = Some(prev.map_or(date, |p| p.max(date)));
                    } else {
                        let after = &mut self.massage_after[c];
                        *after = Some(after.map_or(date, |p| p.min(date)));
                    }
                }
                if let Some(i) = self.clients[c].plan.other.iter().position(|o| o.discipline == a.discipline)
                    && date < self.end
                {
                    let prev = &mut self.other_prev[c][i];
                    *prev = Some(prev.map_or(date, |p| p.max(date)));
                }
                let key = a.visit.clone().unwrap_or_else(|| format!("#booked-{n}"));
                visits.entry((c, key)).and_modify(|d| *d = (*d).min(date)).or_insert(date);
            }
            let Some(day) = self.day_of(a.start.date) else { continue };
            if let Some(c) = client {
                self.client_busy[c][day].push(span);
            }
            if let Some(&k) = a.class.as_deref().and_then(|id| class_ids.get(id)) {
                self.class_taken[k][day] = self.class_taken[k][day].saturating_add(1);
                continue;
            }
            for k in 0..self.classes.len() {
                let class = &self.classes[k];
                let runs = class.weekday == a.start.date.weekday().index();
                let shares = self.pracs[class.prac].id == a.practitioner || self.rooms[class.room].0 == a.room;
                if runs && shares && overlaps(&[class.span], span) {
                    self.class_blocked[k][day] = true;
                }
            }
            match prac_ids.get(a.practitioner.as_str()) {
                Some(&p) => {
                    remove(&mut self.prac_free[p][day], span);
                    self.prac_load[p] += u32::from(a.minutes);
                }
                None => {
                    tracing::warn!(practitioner = %a.practitioner, "booked appointment names an unknown practitioner")
                }
            }
            match room_ids.get(a.room.as_str()) {
                Some(&r) => {
                    self.room_used[r][day].push(span);
                    self.room_free[r][day] =
                        below_capacity(&self.room_base[r][day], &self.room_used[r][day], self.rooms[r].2);
                }
                None => tracing::warn!(room = %a.room, "booked appointment names an unknown room"),
            }
        }
        let mut visits: Vec<((usize, String), Date)> = visits.into_iter().collect();
        visits.sort();
        for ((c, _), date) in visits {
            if let Some(day) = self.day_of(date) {
                self.client_visits[c][day] = self.client_visits[c][day].saturating_add(1);
            }
            if let Some(w) = self.week_of(date) {
                self.client_week[c][w] += 1;
            }
        }
        for busy in self.client_busy.iter_mut().flatten() {
            busy.sort_unstable();
        }
    }

    fn tolerance(&self, every: u32) -> i32 {
        self.s.tolerance_days.min(every.saturating_sub(1) / 2) as i32
    }

    /// The first item of every chain.
    fn seed(&mut self) {
        for c in 0..self.clients.len() {
            let plan = self.clients[c].plan;
            if plan.massage.is_some() {
                self.push_massage(c, self.massage_prev[c]);
            }
            for i in 0..plan.other.len() {
                let every = plan.other[i].every_days as i32;
                let next = self.other_prev[c][i].map(|p| p.add_days(every));
                // New or overdue: the first session may fall anywhere in one interval from the start,
                // and the sessions after it keep its rhythm.
                self.other_open[c][i] = next.is_none_or(|d| d < self.start);
                self.other_anchor[c][i] = next.unwrap_or(self.start).max(self.start);
                self.push_other(c, i, 0);
            }
        }
    }

    fn push_massage(&mut self, c: usize, prev: Option<Date>) {
        let Some(m) = self.clients[c].plan.massage.as_ref() else { return };
        let (min, max) = (m.interval_days.min as i32, m.interval_days.max as i32);
        let floor = m.not_before.map_or(self.start, |d| d.max(self.start));
        let (earliest, mut latest) = match prev {
            None => (floor, floor.add_days(max - min)),
            Some(p) => (p.add_days(min).max(floor), p.add_days(max)),
        };
        if latest < earliest {
            // Overdue: the interval closed before the horizon or before `not_before`;
            // plan it as soon as possible, in a window as wide as the interval range.
            latest = earliest.add_days(max - min);
        }
        if earliest >= self.end {
            self.massage_pending[c] = None;
            return;
        }
        self.massage_pending[c] = Some(self.items.len());
        self.items.push(Item {
            client: c,
            what: What::Massage,
            k: 0,
            due: earliest,
            earliest,
            latest,
            fails: [0; FAIL_KINDS],
            skipped: Vec::new(),
            next: earliest.days_since(self.start) as usize,
            wait_for: None,
            tried: false,
            done: false,
        });
    }

    fn push_other(&mut self, c: usize, i: usize, k: u32) {
        let demand = &self.clients[c].plan.other[i];
        let every = demand.every_days as i32;
        let tol = self.tolerance(demand.every_days);
        let due = self.other_anchor[c][i].add_days(every * k as i32);
        if due >= self.end {
            return;
        }
        let mut earliest = due.add_days(-tol).max(self.start);
        if let Some(prev) = self.other_prev[c][i] {
            earliest = earliest.max(prev.add_days(every - tol));
        }
        let latest =
            if k == 0 && self.other_open[c][i] { due.add_days((every - 1).max(tol)) } else { due.add_days(tol) };
        self.items.push(Item {
            client: c,
            what: What::Other(i),
            k,
            due,
            earliest,
            latest,
            fails: [0; FAIL_KINDS],
            skipped: Vec::new(),
            next: earliest.days_since(self.start) as usize,
            wait_for: None,
            tried: false,
            done: false,
        });
    }

    fn discipline(&self, item: &Item) -> &'a Discipline {
        match item.what {
            What::Massage => &Discipline::Massage,
            What::Other(i) => &self.clients[item.client].plan.other[i].discipline,
        }
    }

    /// Why a discipline can never be placed in this practice, if so.
    fn impossible(&self, discipline: &Discipline) -> Option<String> {
        let has_class = self.classes.iter().any(|c| c.usable && &c.discipline == discipline);
        if has_class {
            return None;
        }
        if self.qualified.get(discipline).is_none_or(Vec::is_empty) {
            return Some(format!("no practitioner is qualified in {discipline} and no group class offers it (C3)"));
        }
        if !self.rooms.iter().any(|r| suitable_room(discipline, r.1)) {
            return Some(format!("the practice has no room suitable for {discipline} (C3; see the room table)"));
        }
        None
    }

    fn sweep(&mut self) {
        let mut impossible: HashMap<Discipline, Option<String>> = HashMap::new();
        let mut pending: Vec<usize> = Vec::new();
        let mut seen = 0;
        for day in 0..self.days {
            let date = self.start.add_days(day as i32);
            pending.extend(seen..self.items.len());
            seen = self.items.len();
            pending.retain(|&i| !self.items[i].done);
            let mut active: Vec<usize> = pending.iter().copied().filter(|&i| self.items[i].earliest <= date).collect();
            active.sort_by_key(|&i| {
                let it = &self.items[i];
                let rank = match it.what {
                    What::Massage => 0,
                    What::Other(d) => 1 + d,
                };
                (it.latest, rank, it.client, it.k)
            });
            let last_day = day + 1 == self.days;
            for n in 0..active.len() {
                let i = active[n];
                if self.items[i].done {
                    continue;
                }
                let discipline = self.discipline(&self.items[i]);
                let why_not =
                    impossible.entry(discipline.clone()).or_insert_with(|| self.impossible(discipline)).clone();
                if let Some(reason) = why_not {
                    self.finish_unmet(i, Some(reason));
                    continue;
                }
                // Days of its window that passed before it opened (it was pushed during an earlier day).
                let it = &mut self.items[i];
                it.skipped.extend(it.next..day);
                it.next = day + 1;
                if let Some(m) = self.waits(i, day, date) {
                    let it = &mut self.items[i];
                    it.skipped.push(day);
                    it.wait_for = Some(m);
                    continue;
                }
                let placed = self.try_days(i, day);
                if placed && self.items[i].what == What::Massage {
                    // The sessions that waited for this massage and were passed over
                    // today (they came first in the order) try today first, now.
                    for &j in &active[..n] {
                        let it = &self.items[j];
                        if !it.done && it.wait_for == Some(i) && it.skipped.last() == Some(&day) {
                            self.items[j].skipped.pop();
                            if !self.try_days(j, day) && last_day {
                                self.finish_unmet(j, None);
                            }
                        }
                    }
                }
                if !placed && (date >= self.items[i].latest || last_day) {
                    self.finish_unmet(i, None);
                }
            }
        }
        // Whatever is still open opened on the horizon's last day or was never
        // reached: try the days of its window that passed, then report it.
        let mut i = 0;
        while i < self.items.len() {
            if !self.items[i].done {
                let it = &mut self.items[i];
                it.skipped.extend(it.next..self.days);
                it.next = self.days;
                it.wait_for = None;
                if !self.try_days(i, self.days) {
                    self.finish_unmet(i, None);
                }
            }
            i += 1;
        }
    }

    /// Tries item `i` on `day` (none when `day` is past the horizon) and on
    /// the days of its window it skipped, counting each failure. A waiting
    /// item tries `day` first (the day of the massage it waited for), any
    /// other the skipped days first, in date order. Whether it was placed.
    fn try_days(&mut self, i: usize, day: usize) -> bool {
        let mut order = std::mem::take(&mut self.items[i].skipped);
        if day < self.days {
            if self.items[i].wait_for.is_some() {
                order.insert(0, day);
            } else {
                order.push(day);
            }
        }
        self.items[i].wait_for = None;
        self.items[i].tried = true;
        for d in order {
            let date = self.start.add_days(d as i32);
            match self.attempt(i, d, date) {
                Ok(()) => return true,
                Err(fail) => self.items[i].fails[fail.index()] += 1,
            }
        }
        false
    }

    /// The massage item that item `i` (of a client without fibromyalgia)
    /// waits for today, so both share a trip: a wait starts when the client's
    /// next massage cannot be today but may land inside the item's window, and
    /// lasts until that massage is placed or given up, at most until the
    /// item's last day. An item waits only before its first attempt, and not
    /// when a group class in its window can take it (a class runs at its own
    /// time, whatever the massage day).
    fn waits(&self, i: usize, day: usize, date: Date) -> Option<usize> {
        let it = &self.items[i];
        if it.what == What::Massage || it.tried || self.clients[it.client].plan.fibromyalgia || date >= it.latest {
            return None;
        }
        if let Some(m) = it.wait_for {
            return (!self.items[m].done).then_some(m);
        }
        let m = self.massage_pending[it.client]?;
        let massage = &self.items[m];
        if massage.done || massage.earliest <= date || massage.earliest > it.latest {
            return None;
        }
        let discipline = self.discipline(it);
        let last = it.latest.min(self.end.add_days(-1));
        let class_bound =
            is_group(discipline) && self.s.prefer_classes && self.class_from(it.client, day, last, discipline);
        (!class_bound).then_some(m)
    }

    fn finish_unmet(&mut self, i: usize, reason: Option<String>) {
        let it = &self.items[i];
        let (c, what, due, earliest, latest) = (it.client, it.what, it.due, it.earliest, it.latest);
        let beyond = latest >= self.end;
        let discipline = self.discipline(it).clone();
        let client = self.clients[c].plan.client.clone();
        let reason = reason.unwrap_or_else(|| {
            let last = latest.min(self.end.add_days(-1));
            let mut text = format!("no slot from {earliest} to {last}:");
            let mut first = true;
            for f in Fail::ALL {
                let n = it.fails[f.index()];
                if n > 0 {
                    let _ = write!(
                        text,
                        "{} {n} day{} {}",
                        if first { "" } else { ";" },
                        if n == 1 { "" } else { "s" },
                        f.describe(self.s)
                    );
                    first = false;
                }
            }
            if first {
                text.push_str(" no day was tried");
            }
            text
        });
        self.items[i].done = true;
        match what {
            What::Massage => {
                self.massage_pending[c] = None;
                if beyond {
                    tracing::debug!(client = %client, %due, "massage window runs past the horizon; left to the next plan");
                    return;
                }
                self.out.unmet.push(Unmet { client: client.clone(), discipline: Discipline::Massage, due, reason });
                // The interval chain (C4) is broken: later massages are reported, not planned.
                let Some(m) = self.clients[c].plan.massage.as_ref() else { return };
                let (min, max) = (m.interval_days.min as i32, m.interval_days.max as i32);
                let mut next = due.add_days(min.max(1));
                while next.add_days(max - min) < self.end {
                    self.out.unmet.push(Unmet {
                        client: client.clone(),
                        discipline: Discipline::Massage,
                        due: next,
                        reason: format!(
                            "not planned: the massage due {due} could not be placed, which breaks the interval \
                             chain (C4); book that one by hand, then plan again"
                        ),
                    });
                    next = next.add_days(min.max(1));
                }
            }
            What::Other(d) => {
                if !beyond {
                    self.out.unmet.push(Unmet { client, discipline, due, reason });
                }
                self.push_other(c, d, self.items[i].k + 1);
            }
        }
    }

    fn attempt(&mut self, i: usize, day: usize, date: Date) -> Result<(), Fail> {
        let c = self.items[i].client;
        let plan = self.clients[c].plan;
        let week = self.week_of(date);
        if plan.fibromyalgia {
            if self.s.same_day_bundled_only && self.client_visits[c][day] > 0 {
                return Err(Fail::SameDay);
            }
            if week.is_some_and(|w| self.client_week[c][w] >= self.s.weekly_cap) {
                return Err(Fail::WeeklyCap);
            }
        }
        let what = self.items[i].what;
        if what == What::Massage
            && let (Some(after), Some(m)) = (self.massage_after[c], plan.massage.as_ref())
            && after.days_since(date) < m.interval_days.min as i32
        {
            return Err(Fail::BookedMassageNear);
        }
        let wd = date.weekday().index();
        let (discipline, segments): (&Discipline, Vec<(Option<Adjunct>, u16)>) = match what {
            What::Massage => {
                let m = plan.massage.as_ref().expect("a massage item has a massage demand");
                let mut seg: Vec<(Option<Adjunct>, u16)> = Vec::new();
                let len = |a: Adjunct| match a {
                    Adjunct::HeatBefore => self.s.heat_minutes,
                    Adjunct::ColdAfter => self.s.cold_minutes,
                };
                seg.extend(m.before.iter().map(|&a| (Some(a), len(a))));
                seg.push((None, m.minutes.max as u16));
                seg.extend(m.after.iter().map(|&a| (Some(a), len(a))));
                (&Discipline::Massage, seg)
            }
            What::Other(d) => {
                let demand = &plan.other[d];
                (&demand.discipline, vec![(None, demand.minutes)])
            }
        };
        let total: u16 = segments.iter().map(|s| s.1).sum();
        let group = is_group(discipline);
        let spot = if group && self.s.prefer_classes {
            let last = self.items[i].latest.min(self.end.add_days(-1));
            self.find_class(c, day, wd, discipline).or_else(|f1| {
                if self.class_from(c, day + 1, last, discipline) {
                    // A class later in the window may still take it: wait for it.
                    return Err(if f1 == Fail::NoClass { Fail::ClassLater } else { f1 });
                }
                self.find_individual(c, day, wd, discipline, total).map_err(|f2| worse(f1, f2))
            })
        } else if group {
            self.find_individual(c, day, wd, discipline, total)
                .or_else(|f1| self.find_class(c, day, wd, discipline).map_err(|f2| worse(f1, f2)))
        } else {
            self.find_individual(c, day, wd, discipline, total)
        }?;
        self.commit(i, day, date, week, discipline, &segments, spot);
        Ok(())
    }

    fn find_class(&self, c: usize, day: usize, wd: usize, discipline: &Discipline) -> Result<Spot, Fail> {
        let date = self.start.add_days(day as i32);
        let mut fail = Fail::NoClass;
        let Some(list) = self.class_index.get(&(discipline.clone(), wd)) else { return Err(fail) };
        for &k in list {
            let class = &self.classes[k];
            if !class.usable || self.class_blocked[k][day] || self.pracs[class.prac].off(date) {
                continue;
            }
            if !contains(&self.clients[c].base[wd], class.span) {
                fail = worse(fail, Fail::ClientUnavailable);
                continue;
            }
            if overlaps(&self.client_busy[c][day], class.span) {
                fail = worse(fail, Fail::ClientBusy);
                continue;
            }
            if self.class_taken[k][day] >= class.places {
                fail = worse(fail, Fail::ClassFull);
                continue;
            }
            return Ok(Spot::Class(k));
        }
        Err(fail)
    }

    /// Whether a class of `discipline` from `day` up to `last` could take the client.
    fn class_from(&self, c: usize, day: usize, last: Date, discipline: &Discipline) -> bool {
        let Some(last_day) = self.day_of(last) else { return false };
        (day..=last_day).any(|d| {
            let wd = self.start.add_days(d as i32).weekday().index();
            self.find_class(c, d, wd, discipline).is_ok()
        })
    }

    fn find_individual(
        &self,
        c: usize,
        day: usize,
        wd: usize,
        discipline: &Discipline,
        total: u16,
    ) -> Result<Spot, Fail> {
        let step = self.s.slot_minutes;
        let base = &self.clients[c].base[wd];
        if first_fit(base, total, step).is_none() {
            return Err(Fail::ClientUnavailable);
        }
        let busy = &self.client_busy[c][day];
        let mut free = base.clone();
        for &b in busy {
            remove(&mut free, b);
        }
        if first_fit(&free, total, step).is_none() {
            return Err(Fail::ClientBusy);
        }
        let Some(qualified) = self.qualified.get(discipline) else { return Err(Fail::NoPractitioner) };
        let date = self.start.add_days(day as i32);
        let mut pracs: Vec<usize> = qualified.iter().copied().filter(|&p| !self.pracs[p].off(date)).collect();
        pracs.sort_by_key(|&p| (self.prac_load[p], p));
        let rooms: Vec<usize> = (0..self.rooms.len()).filter(|&r| suitable_room(discipline, self.rooms[r].1)).collect();
        // Back-to-back with the client's other sessions that day, for one trip.
        let mut anchors: Vec<u16> = Vec::new();
        if !self.clients[c].plan.fibromyalgia {
            for &(bs, be) in busy {
                anchors.push(be.div_ceil(step) * step);
                if let Some(before) = bs.checked_sub(total) {
                    anchors.push(before / step * step);
                }
            }
            anchors.sort_unstable();
            anchors.dedup();
        }
        let mut any_prac = false;
        let mut candidates: Vec<(usize, Vec<Iv>)> = Vec::with_capacity(pracs.len());
        for &p in &pracs {
            let pf = intersect(&free, &self.prac_free[p][day]);
            if first_fit(&pf, total, step).is_some() {
                any_prac = true;
                candidates.push((p, pf));
            }
        }
        for (p, pf) in &candidates {
            for &r in &rooms {
                let rf = intersect(pf, &self.room_free[r][day]);
                if let Some(&a) =
                    anchors.iter().find(|&&a| u32::from(a) + u32::from(total) <= 1440 && contains(&rf, (a, a + total)))
                {
                    return Ok(Spot::Individual { prac: *p, room: r, start: a });
                }
            }
        }
        for (p, pf) in &candidates {
            for &r in &rooms {
                let rf = intersect(pf, &self.room_free[r][day]);
                if let Some(s) = first_fit(&rf, total, step) {
                    return Ok(Spot::Individual { prac: *p, room: r, start: s });
                }
            }
        }
        Err(if any_prac { Fail::NoRoom } else { Fail::NoPractitioner })
    }

    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        i: usize,
        day: usize,
        date: Date,
        week: Option<usize>,
        discipline: &Discipline,
        segments: &[(Option<Adjunct>, u16)],
        spot: Spot,
    ) {
        let c = self.items[i].client;
        let client = self.clients[c].plan.client.clone();
        let span = match spot {
            Spot::Individual { prac, room, start } => {
                let total: u16 = segments.iter().map(|s| s.1).sum();
                let span = (start, start + total);
                remove(&mut self.prac_free[prac][day], span);
                self.prac_load[prac] += u32::from(total);
                self.room_used[room][day].push(span);
                self.refresh_room(room, day);
                let visit = format!("{client}/{}", at(date, start));
                let mut t = start;
                for &(adjunct, minutes) in segments {
                    self.out.appointments.push(Appointment {
                        client: client.clone(),
                        practitioner: self.pracs[prac].id.clone(),
                        room: self.rooms[room].0.clone(),
                        discipline: discipline.clone(),
                        start: at(date, t),
                        minutes,
                        visit: Some(visit.clone()),
                        adjunct,
                        class: None,
                    });
                    t += minutes;
                }
                span
            }
            Spot::Class(k) => {
                let class = &self.classes[k];
                self.class_taken[k][day] += 1;
                self.out.appointments.push(Appointment {
                    client: client.clone(),
                    practitioner: self.pracs[class.prac].id.clone(),
                    room: self.rooms[class.room].0.clone(),
                    discipline: discipline.clone(),
                    start: at(date, class.span.0),
                    minutes: class.span.1 - class.span.0,
                    visit: Some(format!("{client}/{}", at(date, class.span.0))),
                    adjunct: None,
                    class: Some(class.id.clone()),
                });
                class.span
            }
        };
        let busy = &mut self.client_busy[c][day];
        let at_pos = busy.partition_point(|b| *b < span);
        busy.insert(at_pos, span);
        self.client_visits[c][day] = self.client_visits[c][day].saturating_add(1);
        if let Some(w) = week {
            self.client_week[c][w] += 1;
        }
        self.items[i].done = true;
        match self.items[i].what {
            What::Massage => {
                self.massage_prev[c] = Some(date);
                self.push_massage(c, Some(date));
            }
            What::Other(d) => {
                self.other_prev[c][d] = Some(date);
                let k = self.items[i].k;
                if k == 0 && self.other_open[c][d] {
                    self.other_anchor[c][d] = date;
                }
                self.push_other(c, d, k + 1);
            }
        }
    }
}

/// Of two failures, the one that says more about what blocked the session.
fn worse(a: Fail, b: Fail) -> Fail {
    // Resource shortages say more than a client's time; a full class says the most.
    let rank = |f: Fail| match f {
        Fail::ClassFull => 6,
        Fail::NoRoom => 5,
        Fail::NoPractitioner => 4,
        Fail::ClientBusy => 3,
        Fail::ClientUnavailable => 2,
        Fail::NoClass => 1,
        Fail::ClassLater => 1,
        Fail::BookedMassageNear => 1,
        Fail::WeeklyCap => 1,
        Fail::SameDay => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn at(date: Date, minutes: u16) -> DateTime {
    DateTime::new(date, TimeOfDay::from_minutes(u32::from(minutes)).unwrap_or(TimeOfDay::MIDNIGHT))
}

/// Checks one care plan; the first problem, saying what to give instead.
fn check_plan(plan: &CarePlan) -> Result<(), PluginError> {
    let who = &plan.client;
    if who.trim().is_empty() {
        return Err(bad("a care plan has an empty client id: give the client's id".to_owned()));
    }
    if let Some(m) = &plan.massage {
        let i = m.interval_days;
        if i.min == 0 || i.min > i.max || i.max > MAX_HORIZON_DAYS {
            return Err(bad(format!(
                "client `{who}`: massage interval {}-{} days is not a range from 1 to {MAX_HORIZON_DAYS} days with min at most max",
                i.min, i.max
            )));
        }
        let n = m.minutes;
        if n.min == 0 || n.min > n.max || n.max > 240 {
            return Err(bad(format!(
                "client `{who}`: massage minutes {}-{} is not a range within 1-240 with min at most max",
                n.min, n.max
            )));
        }
        if m.before.iter().any(|&a| a != Adjunct::HeatBefore) || m.before.len() > 1 {
            return Err(bad(format!("client `{who}`: only one heat step may come before a massage (C2)")));
        }
        if m.after.iter().any(|&a| a != Adjunct::ColdAfter) || m.after.len() > 1 {
            return Err(bad(format!("client `{who}`: only one cold step may come after a massage (C2)")));
        }
    }
    let mut seen: Vec<&Discipline> = Vec::new();
    for o in &plan.other {
        if o.discipline == Discipline::Massage {
            return Err(bad(format!(
                "client `{who}`: massage comes from the protocols' merged guidance, not from the plan's other disciplines"
            )));
        }
        if seen.contains(&&o.discipline) {
            return Err(bad(format!("client `{who}`: {} appears twice in the plan: give one frequency", o.discipline)));
        }
        seen.push(&o.discipline);
        if o.every_days == 0 || o.every_days > MAX_HORIZON_DAYS {
            return Err(bad(format!(
                "client `{who}`: {} every {} days is outside 1-{MAX_HORIZON_DAYS}: give days between sessions (7 for weekly)",
                o.discipline, o.every_days
            )));
        }
        if o.minutes == 0 || o.minutes > 480 {
            return Err(bad(format!("client `{who}`: {} of {} minutes is outside 1-480", o.discipline, o.minutes)));
        }
    }
    Ok(())
}
