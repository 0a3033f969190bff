//! The request, checked once ([`ValidatedRequest`]), and the immutable
//! index built from it ([`Index`]): practitioners, rooms, classes and
//! clients by newtype index, with their weekly windows and the lookups the
//! planner needs. Nothing here changes while planning.

use std::collections::HashMap;

use praxis_sdk::{
    Adjunct, CarePlan, Date, DateRange, Discipline, PluginError, RoomKind, ScheduleRequest, WeeklyWindow,
};

use super::ix::{ClassIx, ClientIx, DayIx, Ix, PracIx, RoomIx, Table};
use super::{MAX_HORIZON_DAYS, bad, suitable_room};
use crate::intervals::{Iv, contains, intersect, normalize};
use crate::settings::Settings;

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

/// A practitioner: weekly availability within opening hours, and leave.
pub(crate) struct Prac {
    pub(crate) id: String,
    pub(crate) avail: [Vec<Iv>; 7],
    pub(crate) time_off: Vec<DateRange>,
}

impl Prac {
    /// Whether on leave that day.
    pub(crate) fn off(&self, date: Date) -> bool {
        self.time_off.iter().any(|r| r.contains(date))
    }
}

/// A room: id, kind, how many clients at once.
pub(crate) struct RoomInfo {
    pub(crate) id: String,
    pub(crate) kind: RoomKind,
    pub(crate) capacity: u16,
}

/// A weekly group class, its references resolved.
pub(crate) struct Class {
    pub(crate) id: String,
    pub(crate) discipline: Discipline,
    pub(crate) weekday: usize,
    pub(crate) span: Iv,
    pub(crate) prac: PracIx,
    pub(crate) room: RoomIx,
    pub(crate) places: u16,
    /// Inside opening hours and its practitioner's availability.
    pub(crate) usable: bool,
}

/// Classes of one discipline on one weekday at the same minutes.
pub(crate) struct ClassGroup {
    /// Their minutes.
    pub(crate) span: Iv,
    /// The classes, by id.
    pub(crate) classes: Vec<ClassIx>,
}

/// A client's care plan and the times it may come.
pub(crate) struct Client<'a> {
    pub(crate) plan: &'a CarePlan,
    /// Opening hours intersected with the client's availability, per weekday.
    pub(crate) base: [Vec<Iv>; 7],
}

/// The planning horizon.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Horizon {
    pub(crate) start: Date,
    /// The day after the last.
    pub(crate) end: Date,
    pub(crate) days: usize,
    /// Days of C5's rolling window before the horizon (and after it) that the occupancy also counts.
    pub(crate) pad: usize,
}

impl Horizon {
    /// The index of `date`, if inside the horizon.
    pub(crate) fn day_of(&self, date: Date) -> Option<DayIx> {
        let d = date.days_since(self.start);
        (d >= 0 && (d as usize) < self.days).then(|| DayIx::at(d as usize))
    }

    /// The date of a day.
    pub(crate) fn date(&self, day: DayIx) -> Date {
        self.start.add_days(day.ix() as i32)
    }

    /// The day after the last, as an index.
    pub(crate) fn last_plus_one(&self) -> DayIx {
        DayIx::at(self.days)
    }
}

/// A request whose every id, reference, window and range has been checked: only [`ValidatedRequest::new`]
/// makes one.
pub(crate) struct ValidatedRequest<'a> {
    req: &'a ScheduleRequest,
    horizon: Horizon,
    pracs: Table<PracIx, Prac>,
    disciplines: Table<PracIx, Vec<Discipline>>,
    rooms: Table<RoomIx, RoomInfo>,
    classes: Table<ClassIx, Class>,
    clients: Table<ClientIx, Client<'a>>,
}

impl<'a> ValidatedRequest<'a> {
    /// Checks the request; the first problem, saying what to give instead.
    pub(crate) fn new(req: &'a ScheduleRequest, s: &Settings) -> Result<ValidatedRequest<'a>, PluginError> {
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

        let mut prac_ids: HashMap<&str, PracIx> = HashMap::new();
        let mut pracs: Table<PracIx, Prac> = Table::from_vec(Vec::with_capacity(req.practitioners.len()));
        let mut disciplines: Table<PracIx, Vec<Discipline>> = Table::from_vec(Vec::new());
        for (i, p) in req.practitioners.iter().enumerate() {
            if p.id.trim().is_empty() {
                return Err(bad(format!(
                    "practitioner number {} has an empty id: give every practitioner an id",
                    i + 1
                )));
            }
            if prac_ids.insert(&p.id, PracIx::at(i)).is_some() {
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
            disciplines.push(ds);
            pracs.push(Prac { id: p.id.clone(), avail, time_off: p.time_off.clone() });
        }

        let mut room_ids: HashMap<&str, RoomIx> = HashMap::new();
        let mut rooms: Table<RoomIx, RoomInfo> = Table::from_vec(Vec::with_capacity(req.rooms.len()));
        for (i, r) in req.rooms.iter().enumerate() {
            if r.id.trim().is_empty() {
                return Err(bad(format!("room number {} has an empty id: give every room an id", i + 1)));
            }
            if room_ids.insert(&r.id, RoomIx::at(i)).is_some() {
                return Err(bad(format!("room `{}` appears twice: give each room one entry", r.id)));
            }
            if r.capacity == 0 {
                return Err(bad(format!("room `{}` has capacity 0: give how many clients it holds at once", r.id)));
            }
            rooms.push(RoomInfo { id: r.id.clone(), kind: r.kind, capacity: r.capacity });
        }

        let mut class_ids: HashMap<&str, ()> = HashMap::new();
        let mut classes: Table<ClassIx, Class> = Table::from_vec(Vec::with_capacity(req.classes.len()));
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
            if rooms[room].kind != RoomKind::Studio {
                return Err(bad(format!("group class `{}` is in room `{}`, which is not a studio (C3)", c.id, c.room)));
            }
            if !req.practitioners[prac.ix()].disciplines.contains(&c.discipline) {
                return Err(bad(format!(
                    "group class `{}` is {} but its practitioner `{}` is not qualified in it (C3)",
                    c.id, c.discipline, c.practitioner
                )));
            }
            let st = c.start.minutes();
            let e = u32::from(st) + u32::from(c.minutes);
            if c.minutes == 0 || e > 1440 {
                return Err(bad(format!(
                    "group class `{}` of {} minutes from {} does not fit in one day",
                    c.id, c.minutes, c.start
                )));
            }
            if c.capacity == 0 {
                return Err(bad(format!("group class `{}` has capacity 0: give its number of places", c.id)));
            }
            let span = (st, e as u16);
            let weekday = c.day.index();
            let usable = contains(&pracs[prac].avail[weekday], span);
            if !usable {
                tracing::warn!(class = %c.id, "group class is outside opening hours or its practitioner's availability; no places are planned in it");
            }
            let places = c.capacity.min(rooms[room].capacity);
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

        let mut plans: Vec<&CarePlan> = req.plans.iter().collect();
        plans.sort_by(|a, b| a.client.cmp(&b.client));
        if let Some(w) = plans.windows(2).find(|w| w[0].client == w[1].client) {
            return Err(bad(format!("client `{}` has two care plans: merge them into one", w[0].client)));
        }
        let mut clients: Table<ClientIx, Client<'a>> = Table::from_vec(Vec::with_capacity(plans.len()));
        for plan in plans {
            check_plan(plan)?;
            let whose = format!("client `{}`", plan.client);
            let own = by_weekday(&plan.availability, &whose)?;
            let avail = if plan.availability.is_empty() { opening.clone() } else { own };
            let base = std::array::from_fn(|d| intersect(&avail[d], &opening[d]));
            clients.push(Client { plan, base });
        }
        let pad = s.cap_window_days.saturating_sub(1) as usize;
        Ok(ValidatedRequest {
            req,
            horizon: Horizon { start, end, days, pad },
            pracs,
            disciplines,
            rooms,
            classes,
            clients,
        })
    }
}

/// Everything the planner looks up and never changes.
pub(crate) struct Index<'a> {
    pub(crate) req: &'a ScheduleRequest,
    pub(crate) h: Horizon,
    pub(crate) pracs: Table<PracIx, Prac>,
    pub(crate) rooms: Table<RoomIx, RoomInfo>,
    pub(crate) classes: Table<ClassIx, Class>,
    pub(crate) clients: Table<ClientIx, Client<'a>>,
    /// Practitioners qualified per discipline (ascending).
    pub(crate) qualified: HashMap<Discipline, Vec<PracIx>>,
    /// The disciplines some practitioner is qualified in, ascending: the occupancy's indexes are kept per
    /// discipline by position in this list.
    pub(crate) disciplines: Vec<Discipline>,
    /// The position in `disciplines` of each.
    pub(crate) discipline_ix: HashMap<Discipline, usize>,
    /// Each practitioner's disciplines, as positions in `disciplines`.
    pub(crate) prac_disciplines: Table<PracIx, Vec<usize>>,
    /// The disciplines each room suits (of those some practitioner is qualified in), as positions.
    pub(crate) room_disciplines: Table<RoomIx, Vec<usize>>,
    /// Classes of the same discipline, weekday and minutes, which a client can take or not alike; per
    /// (discipline, weekday) by start time. Their classes by id.
    pub(crate) groups: Vec<ClassGroup>,
    /// The groups per (discipline, weekday), by minutes.
    pub(crate) class_groups: HashMap<(Discipline, usize), Vec<usize>>,
    /// Each class's group and its position in it.
    pub(crate) group_of: Table<ClassIx, (usize, u32)>,
    /// The classes each practitioner teaches.
    pub(crate) classes_of_prac: Table<PracIx, Vec<ClassIx>>,
    /// The classes held in each room.
    pub(crate) classes_of_room: Table<RoomIx, Vec<ClassIx>>,
    pub(crate) prac_ids: HashMap<String, PracIx>,
    pub(crate) room_ids: HashMap<String, RoomIx>,
    pub(crate) class_ids: HashMap<String, ClassIx>,
}

impl<'a> Index<'a> {
    /// The lookups of a checked request.
    pub(crate) fn new(v: ValidatedRequest<'a>) -> Index<'a> {
        let ValidatedRequest { req, horizon, pracs, disciplines, rooms, classes, clients } = v;
        let mut qualified: HashMap<Discipline, Vec<PracIx>> = HashMap::new();
        for (p, ds) in disciplines.iter() {
            for d in ds {
                qualified.entry(d.clone()).or_default().push(p);
            }
        }
        let mut class_index: HashMap<(Discipline, usize), Vec<ClassIx>> = HashMap::new();
        for (k, c) in classes.iter() {
            class_index.entry((c.discipline.clone(), c.weekday)).or_default().push(k);
        }
        let mut keys: Vec<(Discipline, usize)> = class_index.keys().cloned().collect();
        keys.sort();
        let mut groups: Vec<ClassGroup> = Vec::new();
        let mut class_groups: HashMap<(Discipline, usize), Vec<usize>> = HashMap::new();
        let mut group_of: Table<ClassIx, (usize, u32)> = Table::filled(classes.len(), (0, 0));
        for key in keys {
            let mut list = class_index.remove(&key).unwrap_or_default();
            // By start time then id: the order in which the planner offers classes.
            list.sort_by(|&a, &b| (classes[a].span, &classes[a].id).cmp(&(classes[b].span, &classes[b].id)));
            let mut of_key = Vec::new();
            for k in list {
                let span = classes[k].span;
                if groups.last().is_none_or(|g| g.span != span || of_key.is_empty()) {
                    of_key.push(groups.len());
                    groups.push(ClassGroup { span, classes: Vec::new() });
                }
                let g = groups.len() - 1;
                group_of[k] = (g, groups[g].classes.len() as u32);
                groups[g].classes.push(k);
            }
            class_groups.insert(key, of_key);
        }
        let mut discipline_list: Vec<Discipline> = qualified.keys().cloned().collect();
        discipline_list.sort();
        let discipline_ix: HashMap<Discipline, usize> =
            discipline_list.iter().enumerate().map(|(n, d)| (d.clone(), n)).collect();
        let prac_disciplines: Table<PracIx, Vec<usize>> =
            disciplines.values().map(|ds| ds.iter().map(|d| discipline_ix[d]).collect()).collect();
        let room_disciplines: Table<RoomIx, Vec<usize>> = rooms
            .values()
            .map(|r| (0..discipline_list.len()).filter(|&n| suitable_room(&discipline_list[n], r.kind)).collect())
            .collect();
        let mut classes_of_prac: Table<PracIx, Vec<ClassIx>> = Table::filled(pracs.len(), Vec::new());
        let mut classes_of_room: Table<RoomIx, Vec<ClassIx>> = Table::filled(rooms.len(), Vec::new());
        for (k, c) in classes.iter() {
            classes_of_prac[c.prac].push(k);
            classes_of_room[c.room].push(k);
        }
        let prac_ids = pracs.iter().map(|(i, p)| (p.id.clone(), i)).collect();
        let room_ids = rooms.iter().map(|(i, r)| (r.id.clone(), i)).collect();
        let class_ids = classes.iter().map(|(i, c)| (c.id.clone(), i)).collect();
        Index {
            req,
            h: horizon,
            pracs,
            rooms,
            classes,
            clients,
            qualified,
            disciplines: discipline_list,
            discipline_ix,
            prac_disciplines,
            room_disciplines,
            groups,
            class_groups,
            group_of,
            classes_of_prac,
            classes_of_room,
            prac_ids,
            room_ids,
            class_ids,
        }
    }

    /// The client with this id.
    pub(crate) fn client_index(&self, id: &str) -> Option<ClientIx> {
        self.clients.values().as_slice().binary_search_by(|c| c.plan.client.as_str().cmp(id)).ok().map(ClientIx::at)
    }

    /// Why a discipline can never be placed in this practice, if so.
    pub(crate) fn impossible(&self, discipline: &Discipline) -> Option<String> {
        let has_class = self.classes.values().any(|c| c.usable && &c.discipline == discipline);
        if has_class {
            return None;
        }
        if self.qualified.get(discipline).is_none_or(Vec::is_empty) {
            return Some(format!("no practitioner is qualified in {discipline} and no group class offers it (C3)"));
        }
        if !self.rooms.values().any(|r| suitable_room(discipline, r.kind)) {
            return Some(format!("the practice has no room suitable for {discipline} (C3; see the room table)"));
        }
        None
    }
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
