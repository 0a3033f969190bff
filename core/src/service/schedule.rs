//! Scheduling as operations of the practice service: plan from a day, book
//! the saved proposal (re-checked, never planned again), show, cancel, move,
//! no-show. The logic is [`crate::scheduling`]'s; this adds the role checks,
//! the saved proposal and the live world's updates.

use std::io::Write as _;
use std::path::PathBuf;

use praxis_sdk::Date;
use praxis_sdk::schedule::ScheduleRequest;
use serde::{Deserialize, Serialize};

use super::{Actor, Operation, PracticeService, ServiceError};
use crate::scheduling::{self, MoveTo, Plan, PlanOptions, ScheduleError};
use crate::store::Appointment;

type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The file, in the data folder, that holds the proposal between plan and book.
pub const PROPOSAL_FILE: &str = "proposal.json";

/// A plan, with the exact request the scheduler plugin received when asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutcome {
    /// The plan, saved as the current proposal.
    pub plan: Plan,
    /// The request, when asked for (`--request-out`).
    pub request: Option<ScheduleRequest>,
}

impl From<ScheduleError> for ServiceError {
    fn from(e: ScheduleError) -> ServiceError {
        match e {
            ScheduleError::Store(e) => ServiceError::Store(e),
            ScheduleError::Changed(_) => ServiceError::Conflict(e.to_string()),
            e if e.is_bad_input() => ServiceError::BadInput(e.to_string()),
            e => ServiceError::Failed(e.to_string()),
        }
    }
}

impl PracticeService {
    fn proposal_path(&self) -> PathBuf {
        self.config().data_dir.join(PROPOSAL_FILE)
    }

    /// Plans `weeks` weeks (default the config's horizon) from `from`
    /// (default tomorrow) for every care plan, checked by the host's
    /// checker, and saves it as the current proposal. The same store and
    /// `from` give the same plan.
    pub fn plan_schedule(
        &self,
        from: Option<Date>,
        weeks: Option<u32>,
        with_request: bool,
        actor: &Actor,
    ) -> Result<PlanOutcome> {
        actor.require(Operation::EditSchedule)?;
        let config = self.config();
        let today = self.today();
        let weeks = weeks.unwrap_or(config.file.schedule.horizon_weeks);
        let options = PlanOptions { from, weeks };
        let start = scheduling::plan_start(today, options.from)?;
        let guidance = self.evaluate_all(Some(today))?;
        let input =
            scheduling::plan_input(&self.store, &config, self.plugins(), &guidance, today, start, options.weeks * 7)?;
        let request = with_request.then(|| input.request.clone());
        let mut plan = self.with_plugins(|plugins| scheduling::plan_from_input(&config, plugins, input))??;
        if !super::allowed(actor.role(), Operation::ReadGuidance) {
            // The reasons name clinical findings (an injury, a flare): the
            // front desk sees only that the client needs an override.
            for b in &mut plan.blocked {
                b.reason =
                    "booking is blocked: it needs an override or a hold to lift (see the client's booking status)"
                        .into();
            }
        }
        let text =
            serde_json::to_vec_pretty(&plan).map_err(|e| ServiceError::Failed(format!("encoding the plan: {e}")))?;
        write_private(&self.proposal_path(), &text)?;
        Ok(PlanOutcome { plan, request })
    }

    /// Books the saved proposal after re-checking it against the current
    /// store with the host's checker (a 409 conflict says what changed).
    pub fn book_schedule(&self, actor: &Actor) -> Result<Vec<Appointment>> {
        actor.require(Operation::EditSchedule)?;
        let path = self.proposal_path();
        let saved: Plan = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ServiceError::BadInput(format!(
                    "{} is not a proposal ({e}): run `praxis schedule plan` again",
                    path.display()
                ))
            })?,
            Err(_) => {
                return Err(ServiceError::BadInput(
                    "there is no current proposal: run `praxis schedule plan` first".into(),
                ));
            }
        };
        let config = self.config();
        let today = self.today();
        let guidance = self.evaluate_all(Some(today))?;
        let booked =
            scheduling::book_plan(&self.store, &config, self.plugins(), &guidance, today, &saved, actor.name())?;
        std::fs::remove_file(&path)
            .map_err(|e| ServiceError::Failed(format!("booked, but cannot remove {}: {e}", path.display())))?;
        self.calendar_changed(&booked)?;
        Ok(booked)
    }

    /// Booked appointments, as `praxis schedule show` lists them.
    pub fn show_schedule(
        &self,
        from: Option<Date>,
        days: u32,
        practitioner: Option<&str>,
        actor: &Actor,
    ) -> Result<Vec<Appointment>> {
        actor.require(Operation::ReadSchedule)?;
        let from = from.unwrap_or_else(|| self.today());
        Ok(scheduling::show(&self.store, &self.config(), from, days, practitioner)?)
    }

    /// One appointment and the others of its visit (heat, massage, cold:
    /// rule R4), in time order; `NotFound` for an unknown id.
    pub fn appointment_visit(&self, id: &str, actor: &Actor) -> Result<(Appointment, Vec<Appointment>)> {
        actor.require(Operation::ReadSchedule)?;
        let Some(appointment) = self.store.get_appointment(id)? else {
            return Err(ServiceError::NotFound(format!("no appointment `{}`: check the id", super::excerpt(id))));
        };
        let mut visit: Vec<Appointment> = match &appointment.visit {
            None => vec![appointment.clone()],
            Some(v) => self
                .store
                .appointments_for_client(&appointment.client)?
                .into_iter()
                .filter(|a| a.visit.as_ref() == Some(v))
                .collect(),
        };
        visit.sort_by_key(|a| a.start);
        Ok((appointment, visit))
    }

    /// Cancels a booked appointment with its visit; its demand re-opens.
    pub fn cancel_appointment(&self, id: &str, reason: &str, actor: &Actor) -> Result<Vec<Appointment>> {
        actor.require(Operation::EditSchedule)?;
        let changed = scheduling::cancel(&self.store, id, reason, actor.name())?;
        self.calendar_changed(&changed)?;
        Ok(changed)
    }

    /// Moves a booked appointment with its visit, checked by the host's checker.
    pub fn move_appointment(&self, id: &str, to: &MoveTo, actor: &Actor) -> Result<Vec<Appointment>> {
        actor.require(Operation::EditSchedule)?;
        let today = self.today();
        let guidance = self.evaluate_all(Some(today))?;
        let moved = scheduling::move_visit(
            &self.store,
            &self.config(),
            self.plugins(),
            &guidance,
            today,
            id,
            to,
            actor.name(),
        )?;
        self.calendar_changed(&moved)?;
        Ok(moved)
    }

    /// Records that the client did not come.
    pub fn no_show(&self, id: &str, actor: &Actor) -> Result<Vec<Appointment>> {
        actor.require(Operation::EditSchedule)?;
        let changed = scheduling::no_show(&self.store, self.today(), id, actor.name())?;
        self.calendar_changed(&changed)?;
        Ok(changed)
    }

    /// The live world sees the booked calendar: its clients are re-read.
    fn calendar_changed(&self, changed: &[Appointment]) -> Result<()> {
        if !self.is_live() {
            return Ok(());
        }
        let mut clients: Vec<&str> = changed.iter().map(|a| a.client.as_str()).collect();
        clients.sort_unstable();
        clients.dedup();
        if let Some(mut world) = self.world() {
            world.hydrate_from_store(&self.store)?;
        }
        Ok(())
    }
}

/// Writes a file readable by its owner only (0600), atomically.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let failed = |e: std::io::Error| ServiceError::Failed(format!("writing {}: {e}", path.display()));
    let tmp = path.with_extension("tmp");
    let mut f =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(failed)?;
    f.write_all(bytes).map_err(failed)?;
    f.sync_all().map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(failed)?;
    Ok(())
}
