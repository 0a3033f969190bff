//! The combined-therapy plugin's improvement phase (issue 16, item 6) against the host's checker: on generated
//! practices (the plugin's own generator, included by path), every improved plan passes the checker, late
//! massages included, and the phase changes some of them (so the test would see a broken move).

#[path = "../../plugins/combined-therapy/src/testgen.rs"]
mod testgen;

use praxis_core::calendar::{Calendar, CalendarRules};
use praxis_sdk::abi::PluginHandle;
use praxis_sdk::schedule::{ScheduleProposal, ScheduleRequest};

fn handle() -> PluginHandle {
    PluginHandle::from_static(praxis_combined_therapy::praxis_plugin_table()).expect("ABI table")
}

fn plan(req: &ScheduleRequest, improve_ms: u32, seed: u64) -> ScheduleProposal {
    let mut req = req.clone();
    req.settings.insert("improve_ms".into(), improve_ms.into());
    req.settings.insert("improve_seed".into(), seed.into());
    handle().schedule(&req).unwrap_or_else(|e| panic!("{e}"))
}

fn calendar(req: &ScheduleRequest) -> Calendar {
    Calendar::new(
        "Europe/London",
        req.opening_hours.clone(),
        req.practitioners.clone(),
        req.rooms.clone(),
        req.classes.clone(),
        CalendarRules::default(),
    )
    .unwrap_or_else(|e| panic!("generated calendar: {e}"))
}

/// Sessions placed (a visit counts once).
fn sessions(p: &ScheduleProposal) -> usize {
    p.appointments.iter().filter(|a| a.adjunct.is_none()).count()
}

#[test]
fn every_improved_plan_passes_the_checker() {
    let mut changed = 0;
    for seed in 1..=16u64 {
        let clients = [20, 40, 80, 150][seed as usize % 4];
        let days = [14, 21, 28][seed as usize % 3];
        let mut req = testgen::request(seed, clients, days);
        // The class leader works whenever the practice is open (the calendar refuses a class outside it).
        req.practitioners[1].availability.clear();
        // Half of a first plan booked, so the phase works around booked appointments too.
        if seed % 2 == 0 {
            let first = plan(&req, 0, 1);
            let mid = req.start.add_days(days as i32 / 2);
            req.booked = first.appointments.into_iter().filter(|a| a.start.date < mid).step_by(3).collect();
        }
        let cal = calendar(&req);
        let greedy = plan(&req, 0, 1);
        for improve_seed in [1, 2] {
            let better = plan(&req, 10_000, improve_seed);
            let violations = cal.check_with_late(&req, &better.appointments, &better.late);
            let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
            assert!(violations.is_empty(), "seed {seed}/{improve_seed}: {text:#?}");
            assert!(sessions(&better) >= sessions(&greedy), "seed {seed}: fewer sessions after improving");
            if better != greedy {
                changed += 1;
            }
        }
        let violations = cal.check_with_late(&req, &greedy.appointments, &greedy.late);
        assert!(violations.is_empty(), "seed {seed} (greedy): {violations:#?}");
    }
    assert!(changed >= 4, "the improvement phase changed only {changed} of 32 plans");
}
