//! # praxis-combined-therapy
//!
//! The Praxis scheduler plugin for combined-therapy care plans: massage with
//! heat before and cold after as one visit, and yoga, tai chi, mindfulness,
//! acupuncture and physical therapy around it (rules C1 to C5 of the
//! project's `GUIDANCE-RULES.md`). Given the practice calendar, each client's
//! care plan and a horizon, it proposes appointments and reports every demand
//! it could not meet, with the reason. The host checks every proposal again
//! on its own before anything is shown or booked.
//!
//! ```
//! use praxis_combined_therapy::CombinedTherapy;
//! use praxis_sdk::schedule::*;
//! use praxis_sdk::{Discipline, Scheduler, Weekday, WeeklyWindow};
//!
//! let window = |day| WeeklyWindow { day, start: "09:00".parse().unwrap(), end: "17:00".parse().unwrap() };
//! let request = ScheduleRequest {
//!     start: "2026-11-23".parse().unwrap(),
//!     days: 14,
//!     opening_hours: vec![window(Weekday::Monday), window(Weekday::Wednesday)],
//!     practitioners: vec![Practitioner {
//!         id: "ana".into(),
//!         name: "Ana".into(),
//!         disciplines: vec![Discipline::Acupuncture],
//!         availability: vec![],
//!         time_off: vec![],
//!     }],
//!     rooms: vec![Room { id: "a1".into(), name: String::new(), kind: RoomKind::AcupunctureRoom, capacity: 1 }],
//!     classes: vec![],
//!     booked: vec![],
//!     plans: vec![CarePlan {
//!         client: "c1".into(),
//!         availability: vec![],
//!         fibromyalgia: false,
//!         massage: None,
//!         other: vec![DisciplineDemand { discipline: Discipline::Acupuncture, every_days: 7, minutes: 45, last: None }],
//!     }],
//!     settings: Default::default(),
//! };
//! let proposal = CombinedTherapy.schedule(&request).unwrap();
//! assert_eq!(proposal.appointments.len(), 2);
//! assert!(proposal.unmet.is_empty());
//! ```
#![deny(missing_docs)]

mod intervals;
mod plan;
mod settings;

use praxis_sdk::prelude::*;

pub use plan::{MAX_HORIZON_DAYS, suitable_room};
pub use settings::{
    DEFAULT_CAP_WINDOW_DAYS, DEFAULT_COLD_MINUTES, DEFAULT_HEAT_MINUTES, DEFAULT_IMPROVE_MS, DEFAULT_IMPROVE_ROUNDS,
    DEFAULT_IMPROVE_SEED, DEFAULT_SLOT_MINUTES, DEFAULT_TOLERANCE_DAYS, DEFAULT_WEEKLY_CAP,
    Settings as SchedulerSettings,
};

/// The plugin's id, as the practice config names it.
pub const PLUGIN_ID: &str = "combined-therapy";

/// The combined-therapy scheduler.
#[derive(Debug, Default, Clone, Copy)]
pub struct CombinedTherapy;

impl Plugin for CombinedTherapy {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: PLUGIN_ID.into(),
            name: "Combined therapy".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Plans massage visits (heat, massage, cold) with yoga, tai chi, mindfulness, acupuncture \
                          and physical therapy around practitioners, rooms, classes and each client's week \
                          (rules C1-C5)."
                .into(),
            kinds: vec![PluginKind::Scheduler],
            conditions: vec![],
            settings: SchedulerSettings::specs(),
            history_days: None,
        }
    }
}

impl Scheduler for CombinedTherapy {
    fn schedule(&self, request: &ScheduleRequest) -> Result<ScheduleProposal, PluginError> {
        let settings = SchedulerSettings::from_map(&request.settings)?;
        let span = tracing::info_span!("combined_therapy_plan", start = %request.start, days = request.days);
        let _guard = span.enter();
        let proposal = plan::plan(request, &settings)?;
        tracing::info!(
            clients = request.plans.len(),
            appointments = proposal.appointments.len(),
            unmet = proposal.unmet.len(),
            "planned"
        );
        Ok(proposal)
    }
}

praxis_sdk::export_plugin!(scheduler = CombinedTherapy);

#[cfg(test)]
mod testgen;
#[cfg(test)]
mod tests;
