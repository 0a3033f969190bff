//! Rule C5 as a property: the host's checker refuses every proposal that puts
//! more than the cap of visits in some 7 consecutive days for a client with
//! fibromyalgia, and accepts every one that does not, whatever weeks the days
//! fall in. The oracle counts each 7-day run directly; the inputs come from
//! proptest's strategies, so a failure shrinks to a small case.

#[path = "calendar_support.rs"]
mod support;

use praxis_core::calendar::{Calendar, CalendarRules, Constraint};
use praxis_sdk::Discipline::PhysicalTherapy;
use praxis_sdk::schedule::Appointment;
use proptest::prelude::*;
use support::*;

/// A physical therapy session for `c1` on the day `offset` days after Monday 2026-11-23.
fn session(offset: u32) -> Appointment {
    let day = date("2026-11-23").add_days(offset as i32);
    appt("c1", "mass", "t2", PhysicalTherapy, &format!("{day}T14:00"), 30)
}

/// Weekly PT for a client with fibromyalgia, and a calendar with the cap.
fn checked(cap: u32, booked: Vec<Appointment>, proposed: &[Appointment]) -> Vec<Constraint> {
    let cal = Calendar { rules: CalendarRules { weekly_cap: cap, ..CalendarRules::default() }, ..calendar() };
    let plan = fibro(with_other(plan("c1"), PhysicalTherapy, 7, 30));
    let req = request(&cal, 21, vec![plan], booked);
    cal.check(&req, proposed).into_iter().map(|v| v.constraint).collect()
}

/// The most of `days` in any 7 consecutive days.
fn densest_week(days: &[u32]) -> usize {
    days.iter().map(|&d| days.iter().filter(|&&e| e >= d && e < d + 7).count()).max().unwrap_or(0)
}

proptest! {
    /// cap + 1 visits inside one 7-day run, starting on any weekday, some of them already booked: refused.
    #[test]
    fn more_than_the_cap_in_any_seven_days_is_refused(
        cap in 1u32..=4,
        first in 0u32..7,
        picks in proptest::sample::subsequence((0u32..7).collect::<Vec<_>>(), 5),
        booked_mask in proptest::collection::vec(any::<bool>(), 5),
    ) {
        let days: Vec<u32> = picks.iter().take(cap as usize + 1).map(|d| first + d).collect();
        prop_assume!(days.len() == cap as usize + 1);
        let mut booked = Vec::new();
        let mut proposed = Vec::new();
        for (k, &d) in days.iter().enumerate() {
            // The last visit is always proposed, so there is something to refuse.
            if booked_mask[k] && k + 1 < days.len() { booked.push(session(d)) } else { proposed.push(session(d)) }
        }
        let got = checked(cap, booked, &proposed);
        prop_assert!(got.contains(&Constraint::WeeklyCapExceeded), "{days:?} cap {cap}: {got:?}");
    }

    /// Any set of days, all proposed: refused exactly when some 7-day run holds more than the cap.
    #[test]
    fn the_checker_agrees_with_counting_each_seven_day_run(
        cap in 1u32..=4,
        days in proptest::collection::btree_set(0u32..21, 0..10),
    ) {
        let days: Vec<u32> = days.into_iter().collect();
        let proposed: Vec<Appointment> = days.iter().map(|&d| session(d)).collect();
        let got = checked(cap, Vec::new(), &proposed);
        let refused = got.contains(&Constraint::WeeklyCapExceeded);
        prop_assert_eq!(refused, densest_week(&days) > cap as usize, "{:?} cap {}: {:?}", days, cap, got);
    }
}
