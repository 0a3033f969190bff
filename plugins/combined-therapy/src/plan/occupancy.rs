//! What is taken, per day of the horizon: practitioners' and rooms' free
//! minutes, class places, clients' busy minutes and visit counts. The
//! planner changes it only through [`Occupancy::reserve`] and
//! [`Occupancy::release`] (and, while loading the calendar, the class
//! sessions and booked appointments), so a placement can be undone exactly.
//!
//! It also keeps indexes of what is still free, so that an attempt looks only
//! at what can take a session: per discipline and day, the qualified
//! practitioners whose free minutes hold that discipline's shortest session,
//! ordered by load then index (the planner's order); per discipline and day,
//! the suitable rooms whose free minutes hold it, by index; per class group
//! (one discipline, weekday and time) and day, the classes with a place left,
//! by id. Every change to free minutes, load or places updates them.
//!
//! Each practitioner and room in those indexes carries a mask of the times
//! of day at which its discipline's shortest session could start (one bit
//! per half hour, see [`start_mask`]). An attempt computes the same mask for
//! the client's free minutes and skips, by one bit test, whoever has no
//! start in common with the client: a morning client no longer intersects
//! the minutes of every late-shift practitioner. The order is unchanged, so
//! the candidates are the same, in the same order, as without the masks.

use std::collections::{BTreeMap, BTreeSet};

use super::ix::{ClassIx, ClientIx, DayIx, Ix, PracIx, RoomIx, Table};
use super::request::{Horizon, Index};
use crate::intervals::{Iv, below_capacity, normalize, remove};

const FULL_DAY: Iv = (0, 1440);

/// Minutes of the day per bit of a [`start_mask`]: 48 half hours fill 48 of a `u64`'s bits.
const BUCKET: u32 = 30;

/// The half hours of the day (bit `n` for minutes `[30n, 30n + 30)`) in which some start, a multiple of
/// `step`, lets `len` minutes fit inside one interval of `free`. A session of at least `len` minutes that
/// fits both a practitioner's (or room's) and a client's free minutes starts in a half hour set in both
/// their masks, so a candidate whose mask shares no bit with the client's cannot take it. With a step longer
/// than 30 minutes the mask may also hold half hours between two starts; it is never empty when a start fits.
pub(crate) fn start_mask(free: &[Iv], len: u16, step: u16) -> u64 {
    let step = u32::from(step.max(1));
    let mut mask = 0u64;
    for &(fs, fe) in free {
        let first = u32::from(fs).div_ceil(step) * step;
        let Some(last) = u32::from(fe).checked_sub(u32::from(len)) else { continue };
        if first > last {
            continue;
        }
        // The last start that fits, rounded down to a multiple of the step.
        let last = last / step * step;
        let (lo, hi) = (first / BUCKET, (last / BUCKET).min(63));
        mask |= (u64::MAX >> (63 - hi + lo)) << lo;
    }
    mask
}

/// One placed session's hold on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// An individual session (a whole heat-massage-cold visit is one span).
    Individual {
        /// Whose.
        client: ClientIx,
        /// When.
        day: DayIx,
        /// With whom.
        prac: PracIx,
        /// Where.
        room: RoomIx,
        /// Minutes of the day, start to end.
        span: Iv,
    },
    /// A place in a group class.
    Class {
        /// Whose.
        client: ClientIx,
        /// When.
        day: DayIx,
        /// Which class.
        class: ClassIx,
        /// The class's minutes.
        span: Iv,
    },
}

impl Use {
    /// The client and the day.
    pub(crate) fn client_day(&self) -> (ClientIx, DayIx) {
        match *self {
            Use::Individual { client, day, .. } | Use::Class { client, day, .. } => (client, day),
        }
    }
}

type PerDay<T> = Table<DayIx, T>;

/// The calendar's state while planning.
pub(crate) struct Occupancy {
    h: Horizon,
    pub(crate) prac_free: Table<PracIx, PerDay<Vec<Iv>>>,
    /// Minutes booked or planned so far, to spread load.
    pub(crate) prac_load: Table<PracIx, u32>,
    room_cap: Table<RoomIx, u16>,
    /// A room's minutes not taken by a class session.
    room_base: Table<RoomIx, PerDay<Vec<Iv>>>,
    room_used: Table<RoomIx, PerDay<Vec<Iv>>>,
    /// A room's minutes below its capacity.
    pub(crate) room_free: Table<RoomIx, PerDay<Vec<Iv>>>,
    class_taken: Table<ClassIx, PerDay<u16>>,
    /// A booked individual session takes the class's practitioner or room.
    class_blocked: Table<ClassIx, PerDay<bool>>,
    /// The class runs that day: its weekday, usable, its practitioner not on leave.
    class_runs: Table<ClassIx, PerDay<bool>>,
    class_places: Table<ClassIx, u16>,
    /// Each class's group and position in it (from the index).
    group_of: Table<ClassIx, (usize, u32)>,
    /// Per group and day: how many of its classes run and are not blocked.
    group_running: Vec<PerDay<u16>>,
    /// Per group and day: the positions of its classes that run, are not blocked and have a place left.
    group_open: Vec<PerDay<BTreeSet<u32>>>,
    /// Start times are multiples of this many minutes.
    step: u16,
    /// Per discipline (the index's positions): the minutes of its shortest session.
    min_len: Vec<u16>,
    prac_disciplines: Table<PracIx, Vec<usize>>,
    room_disciplines: Table<RoomIx, Vec<usize>>,
    /// Per discipline and day: (load, practitioner) of the qualified practitioners whose free minutes hold the
    /// discipline's shortest session, each with its [`start_mask`] for that session.
    open_pracs: Vec<PerDay<BTreeMap<(u32, PracIx), u64>>>,
    /// Per discipline and day: the suitable rooms whose free minutes hold its shortest session, each with its
    /// [`start_mask`] for that session.
    open_rooms: Vec<PerDay<BTreeMap<RoomIx, u64>>>,
    pub(crate) client_busy: Table<ClientIx, PerDay<Vec<Iv>>>,
    pub(crate) client_visits: Table<ClientIx, PerDay<u8>>,
    /// Visits per day, from `pad` days before the horizon to `pad` days after it (rule C5's rolling window).
    client_span: Table<ClientIx, Vec<u8>>,
}

impl Occupancy {
    /// Everything free but leave, and the class sessions' practitioners and rooms taken. `min_len`: per
    /// discipline of the index, the minutes of its shortest session (`u16::MAX` when none is asked for);
    /// `step`: start times are multiples of it.
    pub(crate) fn new(ix: &Index<'_>, min_len: Vec<u16>, step: u16) -> Occupancy {
        let h = ix.h;
        let days = h.days;
        let prac_free = ix
            .pracs
            .values()
            .map(|p| {
                (0..days)
                    .map(|d| {
                        let date = h.start.add_days(d as i32);
                        if p.off(date) { Vec::new() } else { p.avail[date.weekday().index()].clone() }
                    })
                    .collect()
            })
            .collect();
        let n_rooms = ix.rooms.len();
        let n_clients = ix.clients.len();
        let n_classes = ix.classes.len();
        let room_base: Table<RoomIx, PerDay<Vec<Iv>>> = Table::filled(n_rooms, Table::filled(days, vec![FULL_DAY]));
        let mut occ = Occupancy {
            h,
            prac_free,
            prac_load: Table::filled(ix.pracs.len(), 0),
            room_cap: ix.rooms.values().map(|r| r.capacity).collect(),
            room_used: Table::filled(n_rooms, Table::filled(days, Vec::new())),
            room_free: room_base.clone(),
            room_base,
            class_taken: Table::filled(n_classes, Table::filled(days, 0)),
            class_blocked: Table::filled(n_classes, Table::filled(days, false)),
            class_runs: Table::filled(n_classes, Table::filled(days, false)),
            class_places: ix.classes.values().map(|c| c.places).collect(),
            group_of: ix.group_of.clone(),
            group_running: vec![Table::filled(days, 0); ix.groups.len()],
            group_open: vec![Table::filled(days, BTreeSet::new()); ix.groups.len()],
            step: step.max(1),
            min_len,
            prac_disciplines: ix.prac_disciplines.clone(),
            room_disciplines: ix.room_disciplines.clone(),
            open_pracs: vec![Table::filled(days, BTreeMap::new()); ix.disciplines.len()],
            open_rooms: vec![Table::filled(days, BTreeMap::new()); ix.disciplines.len()],
            client_busy: Table::filled(n_clients, Table::filled(days, Vec::new())),
            client_visits: Table::filled(n_clients, Table::filled(days, 0)),
            client_span: Table::filled(n_clients, vec![0; days + 2 * h.pad]),
        };
        // A class instance takes its practitioner's and room's time, unless the practitioner is on leave.
        for (k, c) in ix.classes.iter() {
            for day in DayIx::span(DayIx::at(0), h.last_plus_one()) {
                let date = h.date(day);
                if date.weekday().index() != c.weekday || ix.pracs[c.prac].off(date) {
                    continue;
                }
                remove(&mut occ.prac_free[c.prac][day], c.span);
                remove(&mut occ.room_base[c.room][day], c.span);
                occ.room_free[c.room][day] =
                    below_capacity(&occ.room_base[c.room][day], &occ.room_used[c.room][day], occ.room_cap[c.room]);
                if c.usable {
                    occ.class_runs[k][day] = true;
                    occ.group_running[occ.group_of[k].0][day] += 1;
                    occ.refresh_class(k, day);
                }
            }
        }
        for day in DayIx::span(DayIx::at(0), h.last_plus_one()) {
            for p in ix.pracs.keys() {
                occ.refresh_prac(p, day);
            }
            for r in ix.rooms.keys() {
                occ.refresh_room(r, day);
            }
        }
        occ
    }

    fn refresh_room(&mut self, r: RoomIx, day: DayIx) {
        self.room_free[r][day] = below_capacity(&self.room_base[r][day], &self.room_used[r][day], self.room_cap[r]);
        for &d in &self.room_disciplines[r] {
            let set = &mut self.open_rooms[d][day];
            let mask = start_mask(&self.room_free[r][day], self.min_len[d], self.step);
            if mask != 0 {
                set.insert(r, mask);
            } else {
                set.remove(&r);
            }
        }
    }

    /// Puts practitioner `p` in or out of the day's indexes after its free minutes changed.
    fn refresh_prac(&mut self, p: PracIx, day: DayIx) {
        let key = (self.prac_load[p], p);
        for &d in &self.prac_disciplines[p] {
            let set = &mut self.open_pracs[d][day];
            let mask = start_mask(&self.prac_free[p][day], self.min_len[d], self.step);
            if mask != 0 {
                set.insert(key, mask);
            } else {
                set.remove(&key);
            }
        }
    }

    /// Changes a practitioner's load, moving it in every day's order.
    fn set_load(&mut self, p: PracIx, load: u32) {
        let old = self.prac_load[p];
        if old == load {
            return;
        }
        self.prac_load[p] = load;
        for &d in &self.prac_disciplines[p] {
            for set in self.open_pracs[d].values_mut() {
                if let Some(mask) = set.remove(&(old, p)) {
                    set.insert((load, p), mask);
                }
            }
        }
    }

    /// Puts class `k` in or out of its group's open classes on `day`.
    fn refresh_class(&mut self, k: ClassIx, day: DayIx) {
        let (g, pos) = self.group_of[k];
        let open =
            self.class_runs[k][day] && !self.class_blocked[k][day] && self.class_taken[k][day] < self.class_places[k];
        let set = &mut self.group_open[g][day];
        if open {
            set.insert(pos);
        } else {
            set.remove(&pos);
        }
    }

    /// The qualified practitioners in discipline `d` (the index's position) whose free minutes on `day` hold
    /// its shortest session starting in one of the half hours of `window` (a [`start_mask`]; `u64::MAX` for
    /// any time), least loaded first, then by index.
    pub(crate) fn open_pracs(&self, d: usize, day: DayIx, window: u64) -> impl Iterator<Item = PracIx> + '_ {
        self.open_pracs[d][day].iter().filter(move |&(_, &m)| m & window != 0).map(|(&(_, p), _)| p)
    }

    /// The rooms suitable for discipline `d` whose free minutes on `day` hold its shortest session starting in
    /// one of the half hours of `window`, by index.
    pub(crate) fn open_rooms(&self, d: usize, day: DayIx, window: u64) -> impl Iterator<Item = RoomIx> + '_ {
        self.open_rooms[d][day].iter().filter(move |&(_, &m)| m & window != 0).map(|(&r, _)| r)
    }

    /// How many classes of group `g` run on `day` and are not blocked by a booked session.
    pub(crate) fn group_running(&self, g: usize, day: DayIx) -> u16 {
        self.group_running[g][day]
    }

    /// The first (by id) class of group `g` with a place left on `day`, as its position in the group.
    pub(crate) fn group_first_open(&self, g: usize, day: DayIx) -> Option<u32> {
        self.group_open[g][day].first().copied()
    }

    /// A booked place in class `k` on `day`.
    pub(crate) fn book_class_place(&mut self, k: ClassIx, day: DayIx) {
        self.class_taken[k][day] = self.class_taken[k][day].saturating_add(1);
        self.refresh_class(k, day);
    }

    /// A booked individual session takes class `k`'s practitioner or room on `day`.
    pub(crate) fn block_class(&mut self, k: ClassIx, day: DayIx) {
        if self.class_blocked[k][day] {
            return;
        }
        self.class_blocked[k][day] = true;
        if self.class_runs[k][day] {
            self.group_running[self.group_of[k].0][day] -= 1;
        }
        self.refresh_class(k, day);
    }

    /// A booked session's practitioner time (`minutes` counted in its load).
    pub(crate) fn book_practitioner(&mut self, p: PracIx, day: DayIx, span: Iv, minutes: u16) {
        remove(&mut self.prac_free[p][day], span);
        self.set_load(p, self.prac_load[p] + u32::from(minutes));
        self.refresh_prac(p, day);
    }

    /// A booked session's room time.
    pub(crate) fn book_room(&mut self, r: RoomIx, day: DayIx, span: Iv) {
        self.room_used[r][day].push(span);
        self.refresh_room(r, day);
    }

    /// A booked visit of a client, counted for C5 on its day (which may lie outside the horizon).
    pub(crate) fn book_visit(&mut self, c: ClientIx, day: Option<DayIx>, span_day: Option<usize>) {
        if let Some(day) = day {
            self.client_visits[c][day] = self.client_visits[c][day].saturating_add(1);
        }
        if let Some(ix) = span_day {
            self.client_span[c][ix] = self.client_span[c][ix].saturating_add(1);
        }
    }

    /// The index of a day (possibly outside the horizon) in the padded visit counts, if that close.
    pub(crate) fn span_ix(&self, date: praxis_sdk::Date) -> Option<usize> {
        let d = date.days_since(self.h.start) + self.h.pad as i32;
        (d >= 0 && (d as usize) < self.h.days + 2 * self.h.pad).then_some(d as usize)
    }

    /// Whether one more visit on `day` would give client `c` more than `cap` visits in some run of
    /// `pad + 1` days that holds it (rule C5).
    pub(crate) fn over_cap(&self, c: ClientIx, day: DayIx, cap: u32) -> bool {
        let w = self.h.pad + 1;
        let counts = &self.client_span[c];
        let at = day.ix() + self.h.pad;
        // Windows [from, from + w) that hold `at`; `counts` is padded so each lies inside it.
        (at + 1 - w..=at).any(|from| counts[from..from + w].iter().map(|&n| u32::from(n)).sum::<u32>() >= cap)
    }

    /// Takes a session's practitioner, room or class place, and the client's time and visit.
    pub(crate) fn reserve(&mut self, u: &Use) {
        let span = match *u {
            Use::Individual { day, prac, room, span, .. } => {
                remove(&mut self.prac_free[prac][day], span);
                self.set_load(prac, self.prac_load[prac] + u32::from(span.1 - span.0));
                self.refresh_prac(prac, day);
                self.room_used[room][day].push(span);
                self.refresh_room(room, day);
                span
            }
            Use::Class { day, class, span, .. } => {
                self.class_taken[class][day] += 1;
                self.refresh_class(class, day);
                span
            }
        };
        let (c, day) = u.client_day();
        let busy = &mut self.client_busy[c][day];
        let at = busy.partition_point(|b| *b < span);
        busy.insert(at, span);
        self.client_visits[c][day] = self.client_visits[c][day].saturating_add(1);
        let ix = day.ix() + self.h.pad;
        self.client_span[c][ix] = self.client_span[c][ix].saturating_add(1);
    }

    /// Gives back what [`Occupancy::reserve`] took for the same use.
    pub(crate) fn release(&mut self, u: &Use) {
        let span = match *u {
            Use::Individual { day, prac, room, span, .. } => {
                let free = &mut self.prac_free[prac][day];
                free.push(span);
                *free = normalize(std::mem::take(free));
                self.set_load(prac, self.prac_load[prac] - u32::from(span.1 - span.0));
                self.refresh_prac(prac, day);
                let used = &mut self.room_used[room][day];
                if let Some(at) = used.iter().position(|&x| x == span) {
                    used.remove(at);
                }
                self.refresh_room(room, day);
                span
            }
            Use::Class { day, class, span, .. } => {
                self.class_taken[class][day] -= 1;
                self.refresh_class(class, day);
                span
            }
        };
        let (c, day) = u.client_day();
        let busy = &mut self.client_busy[c][day];
        if let Some(at) = busy.iter().position(|&x| x == span) {
            busy.remove(at);
        }
        self.client_visits[c][day] -= 1;
        let ix = day.ix() + self.h.pad;
        self.client_span[c][ix] -= 1;
    }

    /// Sorts each client's busy minutes (after the booked ones were added in any order).
    pub(crate) fn sort_busy(&mut self) {
        for busy in self.client_busy.values_mut().flat_map(|d| d.values_mut()) {
            busy.sort_unstable();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intervals::{contains, first_fit, intersect};
    use crate::plan::request::ValidatedRequest;
    use crate::settings::Settings;
    use crate::testgen::Rng;

    /// The half hours in which `len` minutes can start, at a multiple of `step`, inside one interval of `free`:
    /// every start tried.
    fn mask_by_scan(free: &[Iv], len: u16, step: u16) -> u64 {
        (0..=1440u32)
            .step_by(step as usize)
            .filter(|&s| s + u32::from(len) <= 1440 && contains(free, (s as u16, s as u16 + len)))
            .fold(0, |m, s| m | 1 << (s / 30))
    }

    /// A random list of free minutes (normalized), as a client's day might be.
    fn random_free(rng: &mut Rng) -> Vec<Iv> {
        let n = rng.range(0, 3);
        normalize(
            (0..n)
                .map(|_| {
                    let s = rng.range(0, 1430) as u16;
                    (s, (s + 5 * rng.range(1, 80) as u16).min(1440))
                })
                .collect(),
        )
    }

    #[test]
    fn a_start_mask_holds_the_half_hours_of_every_start_that_fits() {
        let mut rng = Rng::new(7);
        for case in 0..3000 {
            let free = random_free(&mut rng);
            let step = *rng.pick(&[1u16, 5, 10, 15, 20, 30, 45, 60]);
            let len = if rng.chance(3) { u16::MAX } else { 5 * rng.range(0, 60) as u16 };
            let (got, want) = (start_mask(&free, len, step), mask_by_scan(&free, len, step));
            if step <= 30 {
                assert_eq!(got, want, "case {case}: {free:?} {len} {step}");
            } else {
                // Steps longer than a half hour leave some half hours without a start; the mask may keep them.
                assert_eq!(got & want, want, "case {case}: {free:?} {len} {step}");
                assert_eq!(got == 0, want == 0, "case {case}: {free:?} {len} {step}");
            }
        }
        // Whole day, short session: every half hour.
        assert_eq!(start_mask(&[FULL_DAY], 15, 15), (1u64 << 48) - 1);
        // Nothing free, or too short: no bit.
        assert_eq!(start_mask(&[], 15, 15), 0);
        assert_eq!(start_mask(&[(600, 610)], 15, 15), 0);
        // A start at 10:15 only (the step rounds 10:05 up): the 10:00 half hour.
        assert_eq!(start_mask(&[(605, 645)], 30, 15), 1 << 20);
    }

    /// What the indexes should hold, found by scanning every practitioner, room and class; and for random
    /// client windows, that the masks keep everyone who can take a session in them.
    fn check(occ: &Occupancy, ix: &Index<'_>, what: &str, rng: &mut Rng) {
        let h = ix.h;
        for day in DayIx::span(DayIx::at(0), h.last_plus_one()) {
            for d in 0..ix.disciplines.len() {
                let fits = |free: &[Iv]| first_fit(free, occ.min_len[d], occ.step).is_some();
                let mut pracs: Vec<PracIx> = ix
                    .pracs
                    .keys()
                    .filter(|&p| ix.prac_disciplines[p].contains(&d) && fits(&occ.prac_free[p][day]))
                    .collect();
                pracs.sort_by_key(|&p| (occ.prac_load[p], p));
                let any = u64::MAX;
                assert_eq!(
                    occ.open_pracs(d, day, any).collect::<Vec<_>>(),
                    pracs,
                    "{what}: practitioners, {d} {day:?}"
                );
                let rooms: Vec<RoomIx> = ix
                    .rooms
                    .keys()
                    .filter(|&r| ix.room_disciplines[r].contains(&d) && fits(&occ.room_free[r][day]))
                    .collect();
                assert_eq!(occ.open_rooms(d, day, any).collect::<Vec<_>>(), rooms, "{what}: rooms, {d} {day:?}");
                if occ.min_len[d] == u16::MAX {
                    continue;
                }
                for _ in 0..3 {
                    let free = random_free(rng);
                    let total = occ.min_len[d] + 15 * rng.range(0, 3) as u16;
                    let window = start_mask(&free, total, occ.step);
                    let shares = |own: &[Iv]| mask_by_scan(own, occ.min_len[d], occ.step) & window != 0;
                    let takes = |own: &[Iv]| first_fit(&intersect(&free, own), total, occ.step).is_some();
                    let want: Vec<PracIx> = pracs.iter().copied().filter(|&p| shares(&occ.prac_free[p][day])).collect();
                    let got: Vec<PracIx> = occ.open_pracs(d, day, window).collect();
                    assert_eq!(got, want, "{what}: practitioners in {free:?} for {total}, {d} {day:?}");
                    for &p in &pracs {
                        let ok = !takes(&occ.prac_free[p][day]) || got.contains(&p);
                        assert!(ok, "{what}: {p:?} can take {total} in {free:?} but was skipped, {d} {day:?}");
                    }
                    let want: Vec<RoomIx> = rooms.iter().copied().filter(|&r| shares(&occ.room_free[r][day])).collect();
                    let got: Vec<RoomIx> = occ.open_rooms(d, day, window).collect();
                    assert_eq!(got, want, "{what}: rooms in {free:?} for {total}, {d} {day:?}");
                    for &r in &rooms {
                        let ok = !takes(&occ.room_free[r][day]) || got.contains(&r);
                        assert!(ok, "{what}: {r:?} can take {total} in {free:?} but was skipped, {d} {day:?}");
                    }
                }
            }
            let date = h.date(day);
            for (g, group) in ix.groups.iter().enumerate() {
                let running: Vec<u32> = (0..group.classes.len() as u32)
                    .filter(|&n| {
                        let k = group.classes[n as usize];
                        let c = &ix.classes[k];
                        c.usable
                            && c.weekday == date.weekday().index()
                            && !ix.pracs[c.prac].off(date)
                            && !occ.class_blocked[k][day]
                    })
                    .collect();
                let open = running.iter().copied().find(|&n| {
                    let k = group.classes[n as usize];
                    occ.class_taken[k][day] < ix.classes[k].places
                });
                assert_eq!(occ.group_running(g, day) as usize, running.len(), "{what}: group {g} {day:?}");
                assert_eq!(occ.group_first_open(g, day), open, "{what}: group {g} {day:?}");
            }
        }
    }

    /// A random session the calendar can take now: an individual one at a free minute of a qualified
    /// practitioner and a suitable room, or a place in a class that has one.
    fn random_use(occ: &Occupancy, ix: &Index<'_>, rng: &mut Rng) -> Option<Use> {
        let day = DayIx::at(rng.range(0, ix.h.days as u32 - 1) as usize);
        let client = ClientIx::at(rng.range(0, ix.clients.len() as u32 - 1) as usize);
        if rng.chance(25) && ix.classes.len() > 0 {
            let k = ClassIx::at(rng.range(0, ix.classes.len() as u32 - 1) as usize);
            let (g, pos) = ix.group_of[k];
            let open = occ.group_open[g][day].contains(&pos);
            return open.then_some(Use::Class { client, day, class: k, span: ix.classes[k].span });
        }
        let prac = PracIx::at(rng.range(0, ix.pracs.len() as u32 - 1) as usize);
        if ix.prac_disciplines[prac].is_empty() {
            return None;
        }
        let d = *rng.pick(ix.prac_disciplines[prac].as_slice());
        let rooms: Vec<RoomIx> = ix.rooms.keys().filter(|&r| ix.room_disciplines[r].contains(&d)).collect();
        if rooms.is_empty() {
            return None;
        }
        let room = *rng.pick(rooms.as_slice());
        let both = intersect(&occ.prac_free[prac][day], &occ.room_free[room][day]);
        let len = 15 * rng.range(1, 6) as u16;
        let fits: Vec<Iv> = both.into_iter().filter(|&(s, e)| e - s >= len).collect();
        if fits.is_empty() {
            return None;
        }
        let (s, e) = *rng.pick(fits.as_slice());
        let start = s + rng.range(0, u32::from(e - s - len)) as u16;
        Some(Use::Individual { client, day, prac, room, span: (start, start + len) })
    }

    #[test]
    fn the_indexes_agree_with_a_scan_after_random_reserves_and_releases() {
        for seed in 1..=6u64 {
            let req = crate::testgen::request(seed, 20 + 10 * seed as usize, 14);
            let settings = Settings::default();
            let ix = Index::new(ValidatedRequest::new(&req, &settings).expect("a valid request"));
            let mut rng = Rng::new(seed);
            let min_len: Vec<u16> = (0..ix.disciplines.len())
                .map(|_| if rng.chance(10) { u16::MAX } else { 15 * rng.range(1, 4) as u16 })
                .collect();
            let mut occ = Occupancy::new(&ix, min_len, 15);
            // The client windows the check tries come from their own sequence.
            let mut windows = Rng::new(seed + 100);
            check(&occ, &ix, &format!("seed {seed}, new"), &mut windows);
            // Booked sessions first, as the planner loads them.
            for _ in 0..10 {
                if let Some(Use::Individual { day, prac, room, span, .. }) = random_use(&occ, &ix, &mut rng) {
                    occ.book_practitioner(prac, day, span, span.1 - span.0);
                    occ.book_room(room, day, span);
                }
                if ix.classes.len() > 0 {
                    let k = ClassIx::at(rng.range(0, ix.classes.len() as u32 - 1) as usize);
                    let day = DayIx::at(rng.range(0, ix.h.days as u32 - 1) as usize);
                    if rng.chance(50) { occ.block_class(k, day) } else { occ.book_class_place(k, day) }
                }
            }
            check(&occ, &ix, &format!("seed {seed}, booked"), &mut windows);
            let mut held: Vec<Use> = Vec::new();
            let (mut reserves, mut releases) = (0, 0);
            for step in 0..600 {
                if held.is_empty() || rng.chance(65) {
                    if let Some(u) = random_use(&occ, &ix, &mut rng) {
                        occ.reserve(&u);
                        held.push(u);
                        reserves += 1;
                    }
                } else {
                    let u = held.swap_remove(rng.range(0, held.len() as u32 - 1) as usize);
                    occ.release(&u);
                    releases += 1;
                }
                if step % 20 == 0 {
                    check(&occ, &ix, &format!("seed {seed}, step {step}"), &mut windows);
                }
            }
            check(&occ, &ix, &format!("seed {seed}, end"), &mut windows);
            assert!(reserves > 100 && releases > 50, "seed {seed}: {reserves} reserves, {releases} releases");
            // Everything given back: the indexes are as when new.
            for u in held.drain(..).rev() {
                occ.release(&u);
            }
            check(&occ, &ix, &format!("seed {seed}, all released"), &mut windows);
        }
    }
}
