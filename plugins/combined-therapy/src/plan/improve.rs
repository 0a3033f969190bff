//! The improvement phase: a large-neighbourhood search after the greedy
//! sweep. For each demand the sweep left unmet (inside the horizon) or
//! placed late, it tries each day of the demand's window; when the day is
//! blocked, it takes up to three sessions that block it (other clients'
//! sessions with the practitioners, rooms or classes it needs, or the
//! client's own sessions that fill its C5 window or its day) off the
//! calendar, places the demand, and puts each session it took off back on
//! another day of that session's own window. A move is kept only when all
//! of them find a place (one more demand met, or one massage no longer
//! late); otherwise everything is put back as it was. A second move
//! re-times one or two blocking massage chains: each massage from the
//! blocking one on goes to the last day of its interval that fits, which
//! frees days for the target; kept only when every massage whose window
//! closes inside the horizon still finds a day. Demand the sweep left to the
//! next plan (its window runs past the horizon) is a target too, as is the
//! massage after one the phase placed last in its chain.
//!
//! Every placement goes through the same checks as the sweep (C3 through
//! the occupancy, C5 through the rolling counts, C4 through the windows
//! computed from the chain's neighbours), so an improved plan breaks no rule
//! the greedy one keeps. The random choices come from the seed: with the
//! same seed and the passes finished inside the time budget, the same
//! request gives the same plan.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use praxis_sdk::{Date, Discipline, schedule::Late};

use super::ix::{DayIx, ItemIx, Ix, PracIx, RoomIx, Table};
use super::occupancy::Use;
use super::{Fail, Placed, Planner, What};

/// What the phase did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Stats {
    /// Unmet demand it placed.
    pub(crate) placed: u32,
    /// Late massages it moved into their window.
    pub(crate) on_time: u32,
    /// Passes over the targets.
    pub(crate) rounds: u32,
    /// Whether the time budget ran out.
    pub(crate) out_of_time: bool,
}

/// splitmix64: the phase's only source of choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// How many blockers one move takes off the calendar at most, and how many sets it tries per day.
const MAX_REMOVED: usize = 3;
const TRIES_PER_DAY: usize = 4;

/// A massage chain taken off from one massage on, to place again.
struct Tail {
    client: super::ClientIx,
    /// The massages from the blocking one on, in chain order.
    items: Vec<ItemIx>,
    /// The day of the massage before them, if placed.
    prev: Option<Date>,
    /// The first one's own window, for when none is placed before it.
    first: (Date, Date),
}

/// The dates an item may take, given its chain's neighbours as they are placed now.
#[derive(Debug, Clone, Copy)]
struct Range {
    lo: Date,
    hi: Date,
}

impl<'a> Planner<'a, '_> {
    /// Runs the phase; see the module's docs.
    pub(super) fn improve(&mut self, budget: Duration, seed: u64, rounds: u32) -> Stats {
        let started = Instant::now();
        let mut stats = Stats::default();
        let mut rng = Rng(seed);
        let mut chains: HashMap<(super::ClientIx, What), Vec<ItemIx>> = HashMap::new();
        for i in self.items.keys() {
            chains.entry((self.items[i].client, self.items[i].what)).or_default().push(i);
        }
        // Where each item sits in its chain.
        let mut position: HashMap<ItemIx, usize> =
            chains.values().flat_map(|list| list.iter().enumerate().map(|(n, &i)| (i, n))).collect();
        let mut impossible: HashMap<Discipline, bool> = HashMap::new();
        self.on_day = Table::filled(self.ix.h.days, Vec::new());
        for i in self.items.keys() {
            if let Some(p) = &self.items[i].placed {
                self.on_day[p.day].push(i);
            }
        }
        for _ in 0..rounds {
            stats.rounds += 1;
            let targets: Vec<ItemIx> = self
                .items
                .keys()
                .filter(|&i| {
                    let it = &self.items[i];
                    let discipline = self.discipline(it);
                    let never = *impossible
                        .entry(discipline.clone())
                        .or_insert_with(|| self.ix.impossible(discipline).is_some());
                    // Unmet, late, or left to the next plan while a day of its window lies inside the horizon.
                    let open = it.placed.is_none() && it.earliest < self.ix.h.end;
                    !never && (it.unmet.is_some() || it.late.is_some() || open)
                })
                .collect();
            let mut progress = false;
            for t in targets {
                if started.elapsed() >= budget {
                    stats.out_of_time = true;
                    return stats;
                }
                let was_late = self.items[t].late.is_some();
                if self.improve_one(t, &chains, &position, &mut rng) {
                    progress = true;
                    // A massage placed last in its chain opens the next one, as in the sweep.
                    let key = (self.items[t].client, What::Massage);
                    if self.items[t].what == What::Massage && chains[&key].last() == Some(&t) {
                        let date = self.items[t].placed.as_ref().map(|p| self.date(p.day));
                        let before = self.items.len();
                        self.push_massage(key.0, date);
                        if self.items.len() > before {
                            let new = ItemIx::at(before);
                            let list = chains.get_mut(&key).expect("the chain");
                            position.insert(new, list.len());
                            list.push(new);
                        }
                    }
                    if was_late {
                        stats.on_time += 1;
                    } else {
                        stats.placed += 1;
                    }
                }
            }
            if !progress {
                break;
            }
        }
        stats
    }

    /// The placed neighbours of item `i` in its chain: the date of the one before, the one after.
    fn neighbours(
        &self,
        i: ItemIx,
        chains: &HashMap<(super::ClientIx, What), Vec<ItemIx>>,
        position: &HashMap<ItemIx, usize>,
    ) -> (Option<Date>, Option<ItemIx>) {
        let it = &self.items[i];
        let list = &chains[&(it.client, it.what)];
        let n = position[&i];
        let prev = list[..n].iter().rev().find_map(|&j| self.items[j].placed.as_ref().map(|p| self.date(p.day)));
        let next = list[n + 1..].iter().copied().find(|&j| self.items[j].placed.is_some());
        (prev, next)
    }

    /// The dates item `i` may take now: its window, narrowed by its chain's placed neighbours so that their
    /// intervals stay inside the rules (C4 for massage; the discipline's rhythm for the others). `target`: the
    /// item being placed (an unmet massage may go after its window, as late); otherwise the item is being moved
    /// and must keep its status. `None` when it must not move.
    fn range(
        &self,
        i: ItemIx,
        target: bool,
        chains: &HashMap<(super::ClientIx, What), Vec<ItemIx>>,
        position: &HashMap<ItemIx, usize>,
    ) -> Option<Range> {
        let h = self.ix.h;
        let it = &self.items[i];
        let (prev, next) = self.neighbours(i, chains, position);
        let plan = self.ix.clients[it.client].plan;
        let (mut lo, mut hi) = match it.what {
            What::Massage => {
                let m = plan.massage.as_ref()?;
                let (min, max) = (m.interval_days.min as i32, m.interval_days.max as i32);
                if it.late.is_some() && !target {
                    return None;
                }
                let (lo, hi) = match prev {
                    Some(p) => (p.add_days(min), p.add_days(max)),
                    None => (it.earliest, it.latest),
                };
                let floor = m.not_before.map_or(h.start, |d| d.max(h.start));
                // An unmet massage may be placed late (never early); a late one is moved into its window.
                let hi = if target && it.unmet.is_some() { h.end.add_days(-1) } else { hi };
                let (mut lo, mut hi) = (lo.max(floor), hi);
                if let Some(n) = next {
                    if self.items[n].late.is_some() {
                        return None;
                    }
                    let nd = self.date(self.items[n].placed.as_ref()?.day);
                    lo = lo.max(nd.add_days(-max));
                    hi = hi.min(nd.add_days(-min));
                }
                (lo, hi)
            }
            What::Other(d) => {
                let demand = &plan.other[d];
                let every = demand.every_days as i32;
                let tol = self.tolerance(demand.every_days);
                let mut lo = it.due.add_days(-tol).max(h.start);
                let before = prev.or(self.chains[it.client].other[d].prev0);
                if let Some(p) = before {
                    lo = lo.max(p.add_days(every - tol));
                }
                let mut hi = it.latest;
                if let Some(n) = next {
                    let nd = self.date(self.items[n].placed.as_ref()?.day);
                    hi = hi.min(nd.add_days(-(every - tol)));
                }
                (lo, hi)
            }
        };
        lo = lo.max(h.start);
        hi = hi.min(h.end.add_days(-1));
        (lo <= hi).then_some(Range { lo, hi })
    }

    /// Takes a placed item off the calendar; what it held, to put it back.
    fn unplace(&mut self, i: ItemIx) -> Placed {
        let placed = self.items[i].placed.take().expect("a placed item");
        self.occ.release(&placed.hold);
        let list = &mut self.on_day[placed.day];
        if let Some(n) = list.iter().position(|&j| j == i) {
            list.swap_remove(n);
        }
        placed
    }

    /// Puts an item back exactly where it was.
    fn replace(&mut self, i: ItemIx, placed: Placed) {
        self.occ.reserve(&placed.hold);
        self.on_day[placed.day].push(i);
        self.items[i].placed = Some(placed);
    }

    /// Places item `i` on the first day of `days` it fits; whether it did.
    fn place_on(&mut self, i: ItemIx, days: &[DayIx]) -> bool {
        for &day in days {
            if let Ok(spot) = self.find(i, day, false) {
                let (hold, appointments) = self.appointments(i, day, &spot);
                self.occ.reserve(&hold);
                self.on_day[day].push(i);
                self.items[i].placed = Some(Placed { day, hold, appointments });
                return true;
            }
        }
        false
    }

    /// The placed items on `day` that could stand in the way of item `t` failing with `fail` there.
    fn blockers(&self, t: ItemIx, day: DayIx, fail: Fail) -> Vec<ItemIx> {
        let it = &self.items[t];
        let c = it.client;
        let discipline = self.discipline(it);
        let client_side = matches!(fail, Fail::SameDay | Fail::WeeklyCap | Fail::ClientBusy);
        let resource_side = matches!(fail, Fail::NoPractitioner | Fail::NoRoom | Fail::ClassFull);
        if !client_side && !resource_side {
            return Vec::new();
        }
        let reach = if fail == Fail::WeeklyCap { self.ix.h.pad } else { 0 };
        let d = self.ix.discipline_ix.get(discipline).copied();
        let qualified = |p: PracIx| d.is_some_and(|d| self.ix.prac_disciplines[p].contains(&d));
        let suits = |r: RoomIx| d.is_some_and(|d| self.ix.room_disciplines[r].contains(&d));
        let mut out = Vec::new();
        let h = self.ix.h;
        let from = day.ix().saturating_sub(reach);
        let to = (day.ix() + reach + 1).min(h.days);
        let mut near_days: Vec<ItemIx> =
            DayIx::span(DayIx::at(from), DayIx::at(to)).flat_map(|d| self.on_day[d].iter().copied()).collect();
        // `on_day` lists change order as items move; the choice must not.
        near_days.sort_unstable();
        for j in near_days {
            if j == t {
                continue;
            }
            let other = &self.items[j];
            let Some(p) = &other.placed else { continue };
            if other.late.is_some() || (other.client == c && other.what == it.what) {
                continue;
            }
            let near = p.day.ix().abs_diff(day.ix()) <= reach;
            let hit = if client_side {
                other.client == c && near
            } else {
                other.client != c
                    && p.day == day
                    && match p.hold {
                        Use::Individual { prac, room, .. } => qualified(prac) || suits(room),
                        Use::Class { class, .. } => self.ix.classes[class].discipline == *discipline,
                    }
            };
            if hit {
                out.push(j);
            }
        }
        out
    }

    /// The days of a range, the one nearest `around` first.
    fn days_near(&self, r: Range, around: Option<DayIx>) -> Vec<DayIx> {
        let h = self.ix.h;
        let (Some(lo), Some(hi)) = (h.day_of(r.lo), h.day_of(r.hi)) else { return Vec::new() };
        let mut days: Vec<DayIx> = DayIx::span(lo, hi.next()).collect();
        if let Some(a) = around {
            days.sort_by_key(|d| (d.ix().abs_diff(a.ix()), *d));
        }
        days
    }

    /// One move for target `t`; whether it was kept.
    fn improve_one(
        &mut self,
        t: ItemIx,
        chains: &HashMap<(super::ClientIx, What), Vec<ItemIx>>,
        position: &HashMap<ItemIx, usize>,
        rng: &mut Rng,
    ) -> bool {
        // A late massage leaves its day while it looks for one inside its window.
        let old = if self.items[t].late.is_some() { Some(self.unplace(t)) } else { None };
        let Some(range) = self.range(t, true, chains, position) else {
            if let Some(old) = old {
                self.replace(t, old);
            }
            return false;
        };
        let days = self.days_near(range, None);
        let mut kept = false;
        'days: for &day in &days {
            match self.find(t, day, false) {
                Ok(_) => {
                    kept = self.place_on(t, &[day]);
                    break 'days;
                }
                Err(fail) => {
                    let blockers = self.blockers(t, day, fail);
                    if blockers.is_empty() {
                        continue;
                    }
                    for _ in 0..TRIES_PER_DAY {
                        let k = 1 + rng.below(MAX_REMOVED.min(blockers.len()));
                        let mut set: Vec<ItemIx> = Vec::with_capacity(k);
                        while set.len() < k {
                            let b = blockers[rng.below(blockers.len())];
                            if !set.contains(&b) {
                                set.push(b);
                            }
                        }
                        set.sort_unstable();
                        if self.try_move(t, day, &set, chains, position) {
                            kept = true;
                            break 'days;
                        }
                    }
                    // A massage chain that blocks the day, re-timed from that massage on at the top of its
                    // interval, may free it.
                    let mut massages: Vec<ItemIx> =
                        blockers.iter().copied().filter(|&b| self.items[b].what == What::Massage).collect();
                    massages.sort_unstable();
                    massages.dedup();
                    for _ in 0..TRIES_PER_DAY.min(massages.len()) {
                        let k = 1 + rng.below(2.min(massages.len()));
                        let mut set: Vec<ItemIx> = Vec::with_capacity(k);
                        while set.len() < k {
                            let b = massages[rng.below(massages.len())];
                            if !set.contains(&b) {
                                set.push(b);
                            }
                        }
                        set.sort_unstable();
                        if self.try_retime(t, day, &set, chains, position) {
                            kept = true;
                            break 'days;
                        }
                    }
                }
            }
        }
        if !kept {
            if let Some(old) = old {
                self.replace(t, old);
            }
            return false;
        }
        self.settle(t, chains, position);
        true
    }

    /// Takes `set` off, places `t` on `day`, puts each of `set` back inside its own range; undoes it all unless
    /// every one found a place.
    fn try_move(
        &mut self,
        t: ItemIx,
        day: DayIx,
        set: &[ItemIx],
        chains: &HashMap<(super::ClientIx, What), Vec<ItemIx>>,
        position: &HashMap<ItemIx, usize>,
    ) -> bool {
        // Each must be movable, judged with the others still in place.
        let mut ranges = Vec::with_capacity(set.len());
        for &j in set {
            match self.range(j, false, chains, position) {
                Some(r) => ranges.push(r),
                None => return false,
            }
        }
        let old: Vec<(ItemIx, Placed)> = set.iter().map(|&j| (j, self.unplace(j))).collect();
        let mut moved: Vec<ItemIx> = Vec::new();
        let mut ok = self.place_on(t, &[day]);
        if ok {
            for (n, (j, was)) in old.iter().enumerate() {
                let days = self.days_near(ranges[n], Some(was.day));
                if self.place_on(*j, &days) {
                    moved.push(*j);
                } else {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return true;
        }
        for j in moved {
            self.unplace(j);
        }
        if self.items[t].placed.is_some() {
            self.unplace(t);
        }
        for (j, was) in old {
            self.replace(j, was);
        }
        false
    }

    /// Takes each massage of `bs` and every massage after it in its chain off, places `t` on `day`, then places
    /// those chains again, each massage on the last day of its interval that fits (so it takes the fewest days
    /// of the horizon). Kept only when every massage whose window closes inside the horizon finds a day (the
    /// ones whose window now runs past it are left to the next plan, as the sweep leaves them), none late;
    /// otherwise everything goes back as it was.
    fn try_retime(
        &mut self,
        t: ItemIx,
        day: DayIx,
        bs: &[ItemIx],
        chains: &HashMap<(super::ClientIx, What), Vec<ItemIx>>,
        position: &HashMap<ItemIx, usize>,
    ) -> bool {
        let h = self.ix.h;
        // Per chain: the massages from `b` on, the day before them, `b`'s own first window.
        let mut tails: Vec<Tail> = Vec::new();
        for &b in bs {
            let client = self.items[b].client;
            if client == self.items[t].client || tails.iter().any(|x| x.client == client) {
                return false;
            }
            let list = &chains[&(client, What::Massage)];
            let tail: Vec<ItemIx> = list[position[&b]..].to_vec();
            if tail.iter().any(|&j| self.items[j].placed.is_none() || self.items[j].late.is_some()) {
                return false;
            }
            let (prev, _) = self.neighbours(b, chains, position);
            tails.push(Tail { client, items: tail, prev, first: (self.items[b].earliest, self.items[b].latest) });
        }
        let old: Vec<(ItemIx, Placed)> = tails
            .iter()
            .flat_map(|x| x.items.clone())
            .collect::<Vec<_>>()
            .into_iter()
            .map(|j| (j, self.unplace(j)))
            .collect();
        let mut placed: Vec<ItemIx> = Vec::new();
        let mut ok = self.place_on(t, &[day]);
        for Tail { client, items: tail, prev, first } in &tails {
            if !ok {
                break;
            }
            let m = self.ix.clients[*client].plan.massage.as_ref().expect("a massage chain");
            let (min, max) = (m.interval_days.min as i32, m.interval_days.max as i32);
            let floor = m.not_before.map_or(h.start, |d| d.max(h.start));
            let mut last = *prev;
            for &j in tail {
                let (lo, hi) = match last {
                    Some(p) => (p.add_days(min), p.add_days(max)),
                    None => *first,
                };
                let lo = lo.max(floor);
                if lo >= h.end {
                    break;
                }
                let days: Vec<DayIx> = match (h.day_of(lo), h.day_of(hi.min(h.end.add_days(-1)))) {
                    (Some(a), Some(z)) if a <= z => DayIx::span(a, z.next()).rev().collect(),
                    _ => Vec::new(),
                };
                if self.place_on(j, &days) {
                    placed.push(j);
                    last = self.items[j].placed.as_ref().map(|p| self.date(p.day));
                } else if hi >= h.end {
                    // Its window runs past the horizon: left to the next plan.
                    break;
                } else {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return true;
        }
        for j in placed {
            self.unplace(j);
        }
        if self.items[t].placed.is_some() {
            self.unplace(t);
        }
        for (j, was) in old {
            self.replace(j, was);
        }
        false
    }

    /// After `t` was placed: its report changes (no longer unmet; late or on time).
    fn settle(
        &mut self,
        t: ItemIx,
        chains: &HashMap<(super::ClientIx, What), Vec<ItemIx>>,
        position: &HashMap<ItemIx, usize>,
    ) {
        let day = self.items[t].placed.as_ref().map(|p| p.day).expect("placed");
        let date = self.date(day);
        let it = &self.items[t];
        let window_end = match it.what {
            What::Massage => {
                let (prev, _) = self.neighbours(t, chains, position);
                let max = self.ix.clients[it.client].plan.massage.as_ref().map_or(0, |m| m.interval_days.max);
                prev.map_or(it.latest, |p| p.add_days(max as i32))
            }
            What::Other(_) => it.latest,
        };
        let unmet = self.items[t].unmet.take();
        let late = if date > window_end {
            let reason = unmet.map(|u| u.reason).unwrap_or_default();
            Some(Late {
                client: self.ix.clients[self.items[t].client].plan.client.clone(),
                discipline: Discipline::Massage,
                placed: date,
                window_end,
                days: date.days_since(window_end) as u32,
                reason: format!("{reason}; placed after its window by the improvement phase"),
            })
        } else {
            None
        };
        self.items[t].late = late;
    }
}
