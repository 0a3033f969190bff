//! The planner: checks the request ([`request::ValidatedRequest`]), indexes
//! the calendar ([`request::Index`], immutable), then sweeps the horizon day
//! by day, earliest deadline first, taking practitioners, rooms and class
//! places through the [`occupancy::Occupancy`]. See the crate's README for
//! the algorithm in prose.

mod improve;
mod ix;
mod occupancy;
mod request;

use std::collections::HashMap;
use std::fmt::Write;

use praxis_sdk::{
    Adjunct, Appointment, CarePlan, Date, DateTime, Discipline, PluginError, RoomKind, ScheduleProposal,
    ScheduleRequest, TimeOfDay, Unmet, schedule::Late,
};

use crate::intervals::{Iv, contains, first_fit, intersect, overlaps, remove};
use crate::settings::Settings;
use ix::{ClassIx, ClientIx, DayIx, ItemIx, Ix, PracIx, RoomIx, Table};
use occupancy::{Occupancy, Use, start_mask};
use request::{Index, ValidatedRequest};

/// The longest horizon the planner accepts, in days.
pub const MAX_HORIZON_DAYS: u32 = 366;

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
            Fail::WeeklyCap => format!(
                "the client would have had more than {} visits in {} days (C5)",
                settings.weekly_cap, settings.cap_window_days
            ),
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

/// Which demand of a client's plan: the massage, or the plan's `other[n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum What {
    Massage,
    Other(usize),
}

struct Item {
    client: ClientIx,
    what: What,
    /// For `Other`: the occurrence number from the anchor.
    k: u32,
    due: Date,
    earliest: Date,
    latest: Date,
    fails: [u16; FAIL_KINDS],
    /// Days of its window that passed without an attempt (it waited for the
    /// client's massage, or opened during an earlier day's sweep), ascending.
    skipped: Vec<DayIx>,
    /// The first day of its window not yet tried or skipped.
    next: DayIx,
    /// The massage item it waits for, to share that visit's trip: on its
    /// next attempt the day of that attempt goes first, then the skipped days.
    wait_for: Option<ItemIx>,
    /// Tried at least once: it no longer waits for a massage.
    tried: bool,
    done: bool,
    /// Where it was placed.
    placed: Option<Placed>,
    /// Reported as unmet, why.
    unmet: Option<Unmet>,
    /// Placed after its window, why.
    late: Option<Late>,
}

/// A placed item: its day, its hold on the calendar, its appointments.
struct Placed {
    day: DayIx,
    hold: Use,
    appointments: Vec<Appointment>,
}

/// Where a session was placed.
enum Spot {
    Individual { prac: PracIx, room: RoomIx, start: u16 },
    Class(ClassIx),
}

/// A chain of one discipline of another kind than massage, for one client.
#[derive(Clone)]
struct OtherChain {
    prev: Option<Date>,
    /// The session before the horizon's first plannable one (recorded or booked).
    prev0: Option<Date>,
    anchor: Date,
    /// The first session of this demand is new or overdue: its window is one whole interval.
    open: bool,
}

/// The state of one client's chains.
struct Chains {
    massage_prev: Option<Date>,
    /// The massage before the horizon's first plannable one (recorded or booked).
    massage_prev0: Option<Date>,
    /// The first massage booked on or after the horizon's end.
    massage_after: Option<Date>,
    massage_pending: Option<ItemIx>,
    other: Vec<OtherChain>,
}

struct Planner<'a, 'p> {
    ix: &'p Index<'a>,
    s: &'p Settings,
    occ: Occupancy,
    chains: Table<ClientIx, Chains>,
    items: Table<ItemIx, Item>,
    /// The placed items of each day, kept by the improvement phase only.
    on_day: Table<DayIx, Vec<ItemIx>>,
}

/// Plans the request's horizon; see the README.
pub fn plan(req: &ScheduleRequest, settings: &Settings) -> Result<ScheduleProposal, PluginError> {
    let index = Index::new(ValidatedRequest::new(req, settings)?);
    let mut planner = Planner::new(&index, settings);
    planner.mark_booked();
    planner.seed();
    planner.sweep();
    if settings.improve_ms > 0 {
        let stats = planner.improve(
            std::time::Duration::from_millis(settings.improve_ms.into()),
            settings.improve_seed,
            settings.improve_rounds,
        );
        tracing::debug!(?stats, "improvement phase");
    }
    let mut out = planner.finish();
    out.appointments
        .sort_by(|a, b| (a.start, &a.client, a.adjunct.is_some()).cmp(&(b.start, &b.client, b.adjunct.is_some())));
    out.unmet.sort_by(|a, b| (&a.client, a.due, &a.discipline).cmp(&(&b.client, b.due, &b.discipline)));
    out.late.sort_by(|a, b| (&a.client, a.placed).cmp(&(&b.client, b.placed)));
    Ok(out)
}

impl<'a, 'p> Planner<'a, 'p> {
    fn new(ix: &'p Index<'a>, s: &'p Settings) -> Planner<'a, 'p> {
        let start = ix.h.start;
        Planner {
            ix,
            s,
            occ: Occupancy::new(ix, shortest_sessions(ix, s), s.slot_minutes),
            chains: ix
                .clients
                .values()
                .map(|c| Chains {
                    massage_prev: c.plan.massage.as_ref().and_then(|m| m.last),
                    massage_prev0: None,
                    massage_after: None,
                    massage_pending: None,
                    other: c
                        .plan
                        .other
                        .iter()
                        .map(|o| OtherChain { prev: o.last, prev0: None, anchor: start, open: false })
                        .collect(),
                })
                .collect(),
            items: Table::from_vec(Vec::new()),
            on_day: Table::from_vec(Vec::new()),
        }
    }

    /// The proposal: every placed item's appointments, every unmet and late report.
    fn finish(self) -> ScheduleProposal {
        let mut out = ScheduleProposal::default();
        for item in self.items.into_values() {
            if let Some(p) = item.placed {
                out.appointments.extend(p.appointments);
            }
            out.unmet.extend(item.unmet);
            out.late.extend(item.late);
        }
        out
    }

    fn date(&self, day: DayIx) -> Date {
        self.ix.h.date(day)
    }

    fn mark_booked(&mut self) {
        let ix = self.ix;
        let h = ix.h;
        let mut visits: HashMap<(ClientIx, String), Date> = HashMap::new();
        for (n, a) in ix.req.booked.iter().enumerate() {
            let client = ix.client_index(&a.client);
            let s = a.start.time.minutes();
            let span = (s, (u32::from(s) + u32::from(a.minutes)).min(1440) as u16);
            if let Some(c) = client {
                let date = a.start.date;
                let chains = &mut self.chains[c];
                if a.discipline == Discipline::Massage && a.adjunct.is_none() && a.class.is_none() {
                    if date < h.end {
                        let prev = &mut chains.massage_prev;
                        *prev = Some(prev.map_or(date, |p| p.max(date)));
                    } else {
                        let after = &mut chains.massage_after;
                        *after = Some(after.map_or(date, |p| p.min(date)));
                    }
                }
                if let Some(i) = ix.clients[c].plan.other.iter().position(|o| o.discipline == a.discipline)
                    && date < h.end
                {
                    let prev = &mut chains.other[i].prev;
                    *prev = Some(prev.map_or(date, |p| p.max(date)));
                }
                let key = a.visit.clone().unwrap_or_else(|| format!("#booked-{n}"));
                visits.entry((c, key)).and_modify(|d| *d = (*d).min(date)).or_insert(date);
            }
            let Some(day) = h.day_of(a.start.date) else { continue };
            if let Some(c) = client {
                self.occ.client_busy[c][day].push(span);
            }
            if let Some(&k) = a.class.as_deref().and_then(|id| ix.class_ids.get(id)) {
                self.occ.book_class_place(k, day);
                continue;
            }
            // The classes of its practitioner or its room that it overlaps.
            let prac = ix.prac_ids.get(a.practitioner.as_str()).copied();
            let room = ix.room_ids.get(a.room.as_str()).copied();
            let mut sharing: Vec<ClassIx> = prac.map_or(&[][..], |p| ix.classes_of_prac[p].as_slice()).to_vec();
            sharing.extend(room.map_or(&[][..], |r| ix.classes_of_room[r].as_slice()));
            for k in sharing {
                let class = &ix.classes[k];
                if class.weekday == a.start.date.weekday().index() && overlaps(&[class.span], span) {
                    self.occ.block_class(k, day);
                }
            }
            match ix.prac_ids.get(a.practitioner.as_str()) {
                Some(&p) => self.occ.book_practitioner(p, day, span, a.minutes),
                None => {
                    tracing::warn!(practitioner = %a.practitioner, "booked appointment names an unknown practitioner")
                }
            }
            match ix.room_ids.get(a.room.as_str()) {
                Some(&r) => self.occ.book_room(r, day, span),
                None => tracing::warn!(room = %a.room, "booked appointment names an unknown room"),
            }
        }
        let mut visits: Vec<((ClientIx, String), Date)> = visits.into_iter().collect();
        visits.sort();
        for ((c, _), date) in visits {
            let span_day = self.occ.span_ix(date);
            self.occ.book_visit(c, h.day_of(date), span_day);
        }
        self.occ.sort_busy();
    }

    fn tolerance(&self, every: u32) -> i32 {
        self.s.tolerance_days.min(every.saturating_sub(1) / 2) as i32
    }

    /// The first item of every chain.
    fn seed(&mut self) {
        let start = self.ix.h.start;
        for c in self.ix.clients.keys() {
            let plan = self.ix.clients[c].plan;
            let chains = &mut self.chains[c];
            chains.massage_prev0 = chains.massage_prev;
            for chain in &mut chains.other {
                chain.prev0 = chain.prev;
            }
            if plan.massage.is_some() {
                self.push_massage(c, self.chains[c].massage_prev);
            }
            for i in 0..plan.other.len() {
                let every = plan.other[i].every_days as i32;
                let chain = &mut self.chains[c].other[i];
                let next = chain.prev.map(|p| p.add_days(every));
                // New or overdue: the first session may fall anywhere in one interval from the start,
                // and the sessions after it keep its rhythm.
                chain.open = next.is_none_or(|d| d < start);
                chain.anchor = next.unwrap_or(start).max(start);
                self.push_other(c, i, 0);
            }
        }
    }

    fn new_item(&self, client: ClientIx, what: What, k: u32, due: Date, earliest: Date, latest: Date) -> Item {
        Item {
            client,
            what,
            k,
            due,
            earliest,
            latest,
            fails: [0; FAIL_KINDS],
            skipped: Vec::new(),
            next: DayIx::at(earliest.days_since(self.ix.h.start) as usize),
            wait_for: None,
            tried: false,
            done: false,
            placed: None,
            unmet: None,
            late: None,
        }
    }

    fn push_massage(&mut self, c: ClientIx, prev: Option<Date>) {
        let h = self.ix.h;
        let Some(m) = self.ix.clients[c].plan.massage.as_ref() else { return };
        let (min, max) = (m.interval_days.min as i32, m.interval_days.max as i32);
        let floor = m.not_before.map_or(h.start, |d| d.max(h.start));
        let (earliest, mut latest) = match prev {
            None => (floor, floor.add_days(max - min)),
            Some(p) => (p.add_days(min).max(floor), p.add_days(max)),
        };
        if latest < earliest {
            // Overdue: the interval closed before the horizon or before `not_before`;
            // plan it as soon as possible, in a window as wide as the interval range.
            latest = earliest.add_days(max - min);
        }
        if earliest >= h.end {
            self.chains[c].massage_pending = None;
            return;
        }
        let item = self.new_item(c, What::Massage, 0, earliest, earliest, latest);
        self.chains[c].massage_pending = Some(self.items.push(item));
    }

    fn push_other(&mut self, c: ClientIx, i: usize, k: u32) {
        let h = self.ix.h;
        let demand = &self.ix.clients[c].plan.other[i];
        let every = demand.every_days as i32;
        let tol = self.tolerance(demand.every_days);
        let chain = &self.chains[c].other[i];
        let due = chain.anchor.add_days(every * k as i32);
        if due >= h.end {
            return;
        }
        let mut earliest = due.add_days(-tol).max(h.start);
        if let Some(prev) = chain.prev {
            earliest = earliest.max(prev.add_days(every - tol));
        }
        let latest = if k == 0 && chain.open { due.add_days((every - 1).max(tol)) } else { due.add_days(tol) };
        let item = self.new_item(c, What::Other(i), k, due, earliest, latest);
        self.items.push(item);
    }

    fn discipline(&self, item: &Item) -> &'a Discipline {
        match item.what {
            What::Massage => &Discipline::Massage,
            What::Other(i) => &self.ix.clients[item.client].plan.other[i].discipline,
        }
    }

    fn sweep(&mut self) {
        let h = self.ix.h;
        let mut impossible: HashMap<Discipline, Option<String>> = HashMap::new();
        let mut pending: Vec<ItemIx> = Vec::new();
        let mut seen = 0;
        // Today's items that waited for a massage, per massage, in today's order.
        let mut waited: HashMap<ItemIx, Vec<ItemIx>> = HashMap::new();
        for day in DayIx::span(DayIx::at(0), h.last_plus_one()) {
            waited.clear();
            let date = self.date(day);
            pending.extend((seen..self.items.len()).map(ItemIx::at));
            seen = self.items.len();
            pending.retain(|&i| !self.items[i].done);
            let mut active: Vec<ItemIx> = pending.iter().copied().filter(|&i| self.items[i].earliest <= date).collect();
            active.sort_by_key(|&i| {
                let it = &self.items[i];
                let rank = match it.what {
                    What::Massage => 0,
                    What::Other(d) => 1 + d,
                };
                (it.latest, rank, it.client, it.k)
            });
            let last_day = day.next() == h.last_plus_one();
            for &i in &active {
                if self.items[i].done {
                    continue;
                }
                let discipline = self.discipline(&self.items[i]);
                let why_not =
                    impossible.entry(discipline.clone()).or_insert_with(|| self.ix.impossible(discipline)).clone();
                if let Some(reason) = why_not {
                    self.finish_unmet(i, Some(reason));
                    continue;
                }
                // Days of its window that passed before it opened (it was pushed during an earlier day).
                let it = &mut self.items[i];
                it.skipped.extend(DayIx::span(it.next, day));
                it.next = day.next();
                if let Some(m) = self.waits(i, day, date) {
                    let it = &mut self.items[i];
                    it.skipped.push(day);
                    it.wait_for = Some(m);
                    waited.entry(m).or_default().push(i);
                    continue;
                }
                let placed = self.try_days(i, Some(day));
                if placed && self.items[i].what == What::Massage {
                    // The sessions that waited for this massage and were passed over
                    // today (they came first in the order) try today first, now.
                    for j in waited.remove(&i).unwrap_or_default() {
                        let it = &self.items[j];
                        if !it.done && it.wait_for == Some(i) && it.skipped.last() == Some(&day) {
                            self.items[j].skipped.pop();
                            if !self.try_days(j, Some(day)) && last_day {
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
        let mut n = 0;
        while n < self.items.len() {
            let i = ItemIx::at(n);
            if !self.items[i].done {
                let it = &mut self.items[i];
                it.skipped.extend(DayIx::span(it.next, h.last_plus_one()));
                it.next = h.last_plus_one();
                it.wait_for = None;
                if !self.try_days(i, None) {
                    self.finish_unmet(i, None);
                }
            }
            n += 1;
        }
    }

    /// Tries item `i` on `day` (none when past the horizon) and on the days
    /// of its window it skipped, counting each failure. A waiting item tries
    /// `day` first (the day of the massage it waited for), any other the
    /// skipped days first, in date order. Whether it was placed.
    fn try_days(&mut self, i: ItemIx, day: Option<DayIx>) -> bool {
        let mut order = std::mem::take(&mut self.items[i].skipped);
        if let Some(day) = day {
            if self.items[i].wait_for.is_some() {
                order.insert(0, day);
            } else {
                order.push(day);
            }
        }
        self.items[i].wait_for = None;
        self.items[i].tried = true;
        for d in order {
            match self.attempt(i, d) {
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
    fn waits(&self, i: ItemIx, day: DayIx, date: Date) -> Option<ItemIx> {
        let it = &self.items[i];
        if it.what == What::Massage || it.tried || self.ix.clients[it.client].plan.fibromyalgia || date >= it.latest {
            return None;
        }
        if let Some(m) = it.wait_for {
            return (!self.items[m].done).then_some(m);
        }
        let m = self.chains[it.client].massage_pending?;
        let massage = &self.items[m];
        if massage.done || massage.earliest <= date || massage.earliest > it.latest {
            return None;
        }
        let discipline = self.discipline(it);
        let last = it.latest.min(self.ix.h.end.add_days(-1));
        let class_bound =
            is_group(discipline) && self.s.prefer_classes && self.class_from(it.client, day, last, discipline);
        (!class_bound).then_some(m)
    }

    fn finish_unmet(&mut self, i: ItemIx, reason: Option<String>) {
        let h = self.ix.h;
        let it = &self.items[i];
        let (c, what, due, earliest, latest) = (it.client, it.what, it.due, it.earliest, it.latest);
        let beyond = latest >= h.end;
        let discipline = self.discipline(it).clone();
        let client = self.ix.clients[c].plan.client.clone();
        let impossible = reason.is_some();
        let reason = reason.unwrap_or_else(|| {
            let last = latest.min(h.end.add_days(-1));
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
                self.chains[c].massage_pending = None;
                if beyond {
                    tracing::debug!(client = %client, %due, "massage window runs past the horizon; left to the next plan");
                    return;
                }
                // No day of the window had room: the nearest feasible day after it, never before the
                // interval's minimum (rest is safety), marked late; the chain goes on from there.
                if !impossible && let Some(from) = h.day_of(latest.add_days(1)) {
                    for day in DayIx::span(from, h.last_plus_one()) {
                        let date = self.date(day);
                        self.items[i].done = false;
                        if self.attempt(i, day).is_ok() {
                            let days = date.days_since(latest) as u32;
                            self.items[i].late = Some(Late {
                                client,
                                discipline: Discipline::Massage,
                                placed: date,
                                window_end: latest,
                                days,
                                reason,
                            });
                            return;
                        }
                    }
                    self.items[i].done = true;
                }
                let reason = if impossible {
                    reason
                } else {
                    format!("{reason}; and no day after it up to the horizon's end had room either")
                };
                self.items[i].unmet = Some(Unmet { client, discipline: Discipline::Massage, due, reason });
            }
            What::Other(d) => {
                if !beyond {
                    self.items[i].unmet = Some(Unmet { client, discipline, due, reason });
                }
                self.push_other(c, d, self.items[i].k + 1);
            }
        }
    }

    /// The heat, massage and cold steps (or the one session) of an item, with their minutes.
    fn segments(&self, c: ClientIx, what: What) -> (&'a Discipline, Vec<(Option<Adjunct>, u16)>) {
        segments_of(self.ix.clients[c].plan, what, self.s)
    }

    /// Where item `i` could go on `day`, checking C5 and C4 first. A `patient` group session waits for a class
    /// later in its window rather than take an individual session (the sweep); the improvement phase is not.
    fn find(&self, i: ItemIx, day: DayIx, patient: bool) -> Result<Spot, Fail> {
        let date = self.date(day);
        let c = self.items[i].client;
        let plan = self.ix.clients[c].plan;
        if plan.fibromyalgia {
            if self.s.same_day_bundled_only && self.occ.client_visits[c][day] > 0 {
                return Err(Fail::SameDay);
            }
            if self.occ.over_cap(c, day, self.s.weekly_cap) {
                return Err(Fail::WeeklyCap);
            }
        }
        let what = self.items[i].what;
        if what == What::Massage
            && let (Some(after), Some(m)) = (self.chains[c].massage_after, plan.massage.as_ref())
            && after.days_since(date) < m.interval_days.min as i32
        {
            return Err(Fail::BookedMassageNear);
        }
        let wd = date.weekday().index();
        let (discipline, segments) = self.segments(c, what);
        let total: u16 = segments.iter().map(|s| s.1).sum();
        let group = is_group(discipline);
        if group && self.s.prefer_classes {
            let last = self.items[i].latest.min(self.ix.h.end.add_days(-1));
            self.find_class(c, day, wd, discipline).or_else(|f1| {
                if patient && self.class_from(c, day.next(), last, discipline) {
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
        }
    }

    fn attempt(&mut self, i: ItemIx, day: DayIx) -> Result<(), Fail> {
        let spot = self.find(i, day, true)?;
        self.commit(i, day, spot);
        Ok(())
    }

    /// The first class, by start time then id, that runs on `day` and can take the client; or why none can.
    /// Classes at the same minutes are one group, which the client can take or not alike, so the client is
    /// checked once per group and the occupancy gives the group's first class with a place left.
    fn find_class(&self, c: ClientIx, day: DayIx, wd: usize, discipline: &Discipline) -> Result<Spot, Fail> {
        let mut fail = Fail::NoClass;
        let Some(groups) = self.ix.class_groups.get(&(discipline.clone(), wd)) else { return Err(fail) };
        for &g in groups {
            if self.occ.group_running(g, day) == 0 {
                continue;
            }
            let span = self.ix.groups[g].span;
            if !contains(&self.ix.clients[c].base[wd], span) {
                fail = worse(fail, Fail::ClientUnavailable);
                continue;
            }
            if overlaps(&self.occ.client_busy[c][day], span) {
                fail = worse(fail, Fail::ClientBusy);
                continue;
            }
            match self.occ.group_first_open(g, day) {
                Some(pos) => return Ok(Spot::Class(self.ix.groups[g].classes[pos as usize])),
                None => fail = worse(fail, Fail::ClassFull),
            }
        }
        Err(fail)
    }

    /// Whether a class of `discipline` from `day` up to `last` could take the client.
    fn class_from(&self, c: ClientIx, day: DayIx, last: Date, discipline: &Discipline) -> bool {
        let Some(last_day) = self.ix.h.day_of(last) else { return false };
        DayIx::span(day, last_day.next()).any(|d| {
            let wd = self.date(d).weekday().index();
            self.find_class(c, d, wd, discipline).is_ok()
        })
    }

    fn find_individual(
        &self,
        c: ClientIx,
        day: DayIx,
        wd: usize,
        discipline: &Discipline,
        total: u16,
    ) -> Result<Spot, Fail> {
        let step = self.s.slot_minutes;
        let base = &self.ix.clients[c].base[wd];
        if first_fit(base, total, step).is_none() {
            return Err(Fail::ClientUnavailable);
        }
        let busy = &self.occ.client_busy[c][day];
        let mut free = base.clone();
        for &b in busy {
            remove(&mut free, b);
        }
        if first_fit(&free, total, step).is_none() {
            return Err(Fail::ClientBusy);
        }
        let Some(&d) = self.ix.discipline_ix.get(discipline) else { return Err(Fail::NoPractitioner) };
        // Back-to-back with the client's other sessions that day, for one trip.
        let mut anchors: Vec<u16> = Vec::new();
        if !self.ix.clients[c].plan.fibromyalgia {
            for &(bs, be) in busy {
                anchors.push(be.div_ceil(step) * step);
                if let Some(before) = bs.checked_sub(total) {
                    anchors.push(before / step * step);
                }
            }
            anchors.sort_unstable();
            anchors.dedup();
            // A pair's minutes lie inside the client's free ones, so an anchor outside them never serves.
            anchors.retain(|&a| u32::from(a) + u32::from(total) <= 1440 && contains(&free, (a, a + total)));
        }
        // The practitioners come from the occupancy's index, least loaded first then by index, and only
        // those whose free minutes hold the discipline's shortest session (the others could not fit this
        // one either); the rooms likewise, by index. A room's minutes free while the client is are
        // computed when first needed, and kept for the next practitioner.
        // Only those with a start in a half hour where the client has one (the occupancy's masks): the others
        // cannot hold this session while the client is free, so skipping them changes nothing but the time.
        let window = start_mask(&free, total, step);
        let mut room_cache: Vec<(RoomIx, Vec<Iv>)> = Vec::new();
        let mut rooms_left = self.occ.open_rooms(d, day, window);
        let mut rooms_done = false;
        let mut room_at = |n: usize, cache: &mut Vec<(RoomIx, Vec<Iv>)>| -> bool {
            while cache.len() <= n && !rooms_done {
                match rooms_left.next() {
                    Some(r) => {
                        let rf = intersect(&free, &self.occ.room_free[r][day]);
                        if first_fit(&rf, total, step).is_some() {
                            cache.push((r, rf));
                        }
                    }
                    None => rooms_done = true,
                }
            }
            n < cache.len()
        };
        // The practitioners free long enough while the client is, with those minutes, in order.
        let mut open = self.occ.open_pracs(d, day, window).filter_map(|p| {
            let pf = intersect(&free, &self.occ.prac_free[p][day]);
            first_fit(&pf, total, step).map(|_| (p, pf))
        });
        let mut passed: Vec<(PracIx, Vec<Iv>)> = Vec::new();
        if !anchors.is_empty() {
            // Back-to-back first: the first practitioner (in order) who can sit at an anchor that some room
            // can take, with the first room (by index) that can take one of that practitioner's anchors, at
            // the first anchor both can (the pairs in the planner's order). A room that can take an anchor
            // does not depend on the practitioner, so each anchor's first room is found once.
            let mut live: Vec<(u16, usize)> = Vec::new();
            for &a in &anchors {
                let mut n = 0;
                while room_at(n, &mut room_cache) {
                    if contains(&room_cache[n].1, (a, a + total)) {
                        live.push((a, n));
                        break;
                    }
                    n += 1;
                }
            }
            if !live.is_empty() {
                for (p, pf) in open.by_ref() {
                    let first_room =
                        live.iter().filter(|&&(a, _)| contains(&pf, (a, a + total))).map(|&(_, n)| n).min();
                    if let Some(n) = first_room {
                        let (r, rf) = &room_cache[n];
                        let both = intersect(&pf, rf);
                        if let Some(&a) = anchors.iter().find(|&&a| contains(&both, (a, a + total))) {
                            return Ok(Spot::Individual { prac: p, room: *r, start: a });
                        }
                    }
                    passed.push((p, pf));
                }
            }
        }
        // No anchor served: the first practitioner with a room wins, at the earliest start both have.
        let mut any_prac = false;
        for (p, pf) in passed.into_iter().chain(open) {
            any_prac = true;
            let mut n = 0;
            while room_at(n, &mut room_cache) {
                let (r, rf) = &room_cache[n];
                let both = intersect(&pf, rf);
                if let Some(s) = first_fit(&both, total, step) {
                    return Ok(Spot::Individual { prac: p, room: *r, start: s });
                }
                n += 1;
            }
            if room_cache.is_empty() {
                break;
            }
        }
        Err(if any_prac { Fail::NoRoom } else { Fail::NoPractitioner })
    }

    /// The appointments of item `i` placed at `spot` on `day`, and their hold on the calendar.
    fn appointments(&self, i: ItemIx, day: DayIx, spot: &Spot) -> (Use, Vec<Appointment>) {
        let c = self.items[i].client;
        let date = self.date(day);
        let (discipline, segments) = self.segments(c, self.items[i].what);
        let client = &self.ix.clients[c].plan.client;
        match *spot {
            Spot::Individual { prac, room, start } => {
                let total: u16 = segments.iter().map(|s| s.1).sum();
                let span = (start, start + total);
                let visit = format!("{client}/{}", at(date, start));
                let mut t = start;
                let mut out = Vec::with_capacity(segments.len());
                for &(adjunct, minutes) in &segments {
                    out.push(Appointment {
                        client: client.clone(),
                        practitioner: self.ix.pracs[prac].id.clone(),
                        room: self.ix.rooms[room].id.clone(),
                        discipline: discipline.clone(),
                        start: at(date, t),
                        minutes,
                        visit: Some(visit.clone()),
                        adjunct,
                        class: None,
                    });
                    t += minutes;
                }
                (Use::Individual { client: c, day, prac, room, span }, out)
            }
            Spot::Class(k) => {
                let class = &self.ix.classes[k];
                let appointment = Appointment {
                    client: client.clone(),
                    practitioner: self.ix.pracs[class.prac].id.clone(),
                    room: self.ix.rooms[class.room].id.clone(),
                    discipline: discipline.clone(),
                    start: at(date, class.span.0),
                    minutes: class.span.1 - class.span.0,
                    visit: Some(format!("{client}/{}", at(date, class.span.0))),
                    adjunct: None,
                    class: Some(class.id.clone()),
                };
                (Use::Class { client: c, day, class: k, span: class.span }, vec![appointment])
            }
        }
    }

    fn commit(&mut self, i: ItemIx, day: DayIx, spot: Spot) {
        let (hold, appointments) = self.appointments(i, day, &spot);
        self.occ.reserve(&hold);
        self.items[i].placed = Some(Placed { day, hold, appointments });
        let date = self.date(day);
        let c = self.items[i].client;
        self.items[i].done = true;
        match self.items[i].what {
            What::Massage => {
                self.chains[c].massage_prev = Some(date);
                self.push_massage(c, Some(date));
            }
            What::Other(d) => {
                let k = self.items[i].k;
                let chain = &mut self.chains[c].other[d];
                chain.prev = Some(date);
                if k == 0 && chain.open {
                    chain.anchor = date;
                }
                self.push_other(c, d, k + 1);
            }
        }
    }
}

/// The heat, massage and cold steps (or the one session) of a plan's demand, with their minutes.
fn segments_of<'a>(plan: &'a CarePlan, what: What, s: &Settings) -> (&'a Discipline, Vec<(Option<Adjunct>, u16)>) {
    match what {
        What::Massage => {
            let m = plan.massage.as_ref().expect("a massage item has a massage demand");
            let mut seg: Vec<(Option<Adjunct>, u16)> = Vec::new();
            let len = |a: Adjunct| match a {
                Adjunct::HeatBefore => s.heat_minutes,
                Adjunct::ColdAfter => s.cold_minutes,
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
    }
}

/// Per discipline of the index: the minutes of the shortest session any plan asks for (`u16::MAX` when none
/// does), which bounds what the occupancy's indexes keep.
fn shortest_sessions(ix: &Index<'_>, s: &Settings) -> Vec<u16> {
    let mut out = vec![u16::MAX; ix.disciplines.len()];
    for c in ix.clients.values() {
        let plan = c.plan;
        let whats = plan.massage.iter().map(|_| What::Massage).chain((0..plan.other.len()).map(What::Other));
        for what in whats {
            let (discipline, segments) = segments_of(plan, what, s);
            if let Some(&d) = ix.discipline_ix.get(discipline) {
                let total: u16 = segments.iter().map(|x| x.1).sum();
                out[d] = out[d].min(total);
            }
        }
    }
    out
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
