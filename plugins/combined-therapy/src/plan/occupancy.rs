//! What is taken, per day of the horizon: practitioners' and rooms' free
//! minutes, class places, clients' busy minutes and visit counts. The
//! planner changes it only through [`Occupancy::reserve`] and
//! [`Occupancy::release`] (and, while loading the calendar, the class
//! sessions and booked appointments), so a placement can be undone exactly.

use super::ix::{ClassIx, ClientIx, DayIx, Ix, PracIx, RoomIx, Table};
use super::request::{Horizon, Index};
use crate::intervals::{Iv, below_capacity, normalize, remove};

const FULL_DAY: Iv = (0, 1440);

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
    pub(crate) class_taken: Table<ClassIx, PerDay<u16>>,
    /// A booked individual session takes the class's practitioner or room.
    pub(crate) class_blocked: Table<ClassIx, PerDay<bool>>,
    pub(crate) client_busy: Table<ClientIx, PerDay<Vec<Iv>>>,
    pub(crate) client_visits: Table<ClientIx, PerDay<u8>>,
    /// Visits per day, from `pad` days before the horizon to `pad` days after it (rule C5's rolling window).
    client_span: Table<ClientIx, Vec<u8>>,
}

impl Occupancy {
    /// Everything free but leave, and the class sessions' practitioners and rooms taken.
    pub(crate) fn new(ix: &Index<'_>) -> Occupancy {
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
            client_busy: Table::filled(n_clients, Table::filled(days, Vec::new())),
            client_visits: Table::filled(n_clients, Table::filled(days, 0)),
            client_span: Table::filled(n_clients, vec![0; days + 2 * h.pad]),
        };
        // A class instance takes its practitioner's and room's time, unless the practitioner is on leave.
        for c in ix.classes.values() {
            for day in DayIx::span(DayIx::at(0), h.last_plus_one()) {
                let date = h.date(day);
                if date.weekday().index() != c.weekday || ix.pracs[c.prac].off(date) {
                    continue;
                }
                remove(&mut occ.prac_free[c.prac][day], c.span);
                remove(&mut occ.room_base[c.room][day], c.span);
                occ.refresh_room(c.room, day);
            }
        }
        occ
    }

    fn refresh_room(&mut self, r: RoomIx, day: DayIx) {
        self.room_free[r][day] = below_capacity(&self.room_base[r][day], &self.room_used[r][day], self.room_cap[r]);
    }

    /// A booked session's practitioner time (`minutes` counted in its load).
    pub(crate) fn book_practitioner(&mut self, p: PracIx, day: DayIx, span: Iv, minutes: u16) {
        remove(&mut self.prac_free[p][day], span);
        self.prac_load[p] += u32::from(minutes);
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
                self.prac_load[prac] += u32::from(span.1 - span.0);
                self.room_used[room][day].push(span);
                self.refresh_room(room, day);
                span
            }
            Use::Class { day, class, span, .. } => {
                self.class_taken[class][day] += 1;
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
                self.prac_load[prac] -= u32::from(span.1 - span.0);
                let used = &mut self.room_used[room][day];
                if let Some(at) = used.iter().position(|&x| x == span) {
                    used.remove(at);
                }
                self.refresh_room(room, day);
                span
            }
            Use::Class { day, class, span, .. } => {
                self.class_taken[class][day] -= 1;
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
