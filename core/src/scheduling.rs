//! Scheduling use cases: plan, book, show, and an appointment's lifecycle
//! (cancel, move, no-show).
//!
//! Plain functions over the store, the practice configuration, the plugin
//! registry and the clinic's merged guidance (from the world), returning typed
//! results and a [`ScheduleError`]. The command line and the HTTP service both
//! call these and only parse and render around them.
//!
//! - [`make_plan`] builds every client's care plan from the guidance (with the
//!   override policy: a hold or a critical card without a pending override
//!   keeps a client out), asks the scheduler plugin, and has the host's
//!   checker review the answer. Given the same store, configuration and
//!   [`PlanOptions::from`], it gives the same [`Plan`].
//! - [`book_plan`] re-checks a saved plan against the current store with the
//!   checker (it does not plan again) and books it in one transaction, or
//!   says what changed.
//! - [`cancel`], [`move_visit`] and [`no_show`] change a booked visit (heat,
//!   massage and cold together); a move passes the host's checker first.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use praxis_sdk::schedule::{Appointment, CarePlan, DisciplineDemand, Late, MassageDemand, ScheduleRequest, Unmet};
use praxis_sdk::{Date, DateTime, Discipline, TimeOfDay, snomed};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarRules, Review, Violation};
use crate::config::PracticeConfig;
use crate::plugin_host::{LoadedPlugin, PluginRegistry};
use crate::store::{self, AppointmentStatus, Override, Store, StoreError, new_id};
use crate::world::{ClientGuidance, OverrideGrant, check_booking};

/// Why a scheduling operation did not happen. [`ScheduleError::is_bad_input`]
/// tells what the caller gave wrong (exit code 2, HTTP 4xx) from a failure.
#[derive(Debug)]
pub enum ScheduleError {
    /// No scheduler plugin is loaded.
    NoScheduler,
    /// The scheduler plugin's settings are not usable by the checker.
    BadSettings(String),
    /// The practice's calendar (hours, practitioners, rooms, classes) is not usable.
    BadCalendar(String),
    /// A request the caller made is not possible (a start in the past, an unknown practitioner...).
    BadRequest(String),
    /// The plugin failed.
    Plugin(String),
    /// Encoding the request failed.
    Encode(String),
    /// The saved plan no longer holds: what changed, one line per visit.
    Changed(Vec<String>),
    /// A move the checker refuses, with the constraints broken.
    Refused(Vec<Violation>),
    /// The store failed or refused.
    Store(StoreError),
}

impl ScheduleError {
    /// Whether the caller gave something wrong (rather than something failing).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ScheduleError::NoScheduler | ScheduleError::Plugin(_) | ScheduleError::Encode(_) => false,
            ScheduleError::BadSettings(_)
            | ScheduleError::BadCalendar(_)
            | ScheduleError::BadRequest(_)
            | ScheduleError::Changed(_)
            | ScheduleError::Refused(_) => true,
            ScheduleError::Store(e) => matches!(
                e,
                StoreError::Invalid(_)
                    | StoreError::NotFound { .. }
                    | StoreError::Format { .. }
                    | StoreError::UnsupportedFormat { .. }
                    | StoreError::BadActor(_)
            ),
        }
    }
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::NoScheduler => f.write_str(
                "no scheduler plugin is loaded: the combined-therapy plugin is built with `cargo build --release` next to the praxis binary (see `praxis plugins list`)",
            ),
            ScheduleError::BadSettings(m) => write!(f, "plugins.combined-therapy.settings: {m}"),
            ScheduleError::BadCalendar(m) | ScheduleError::BadRequest(m) => f.write_str(m),
            ScheduleError::Plugin(m) => write!(f, "the scheduler plugin failed: {m}"),
            ScheduleError::Encode(m) => write!(f, "encoding the schedule request: {m}"),
            ScheduleError::Changed(lines) => write!(
                f,
                "the practice changed since `praxis schedule plan`, so the saved proposal no longer holds:\n  {}\nrun `praxis schedule plan` again and review the new proposal",
                lines.join("\n  ")
            ),
            ScheduleError::Refused(v) => write!(
                f,
                "the host's checker refuses it: {}",
                v.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            ),
            ScheduleError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ScheduleError {}

impl From<StoreError> for ScheduleError {
    fn from(e: StoreError) -> ScheduleError {
        ScheduleError::Store(e)
    }
}

/// What to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    /// First day planned; `None`: the day after `today`. It must be after `today`.
    pub from: Option<Date>,
    /// Weeks to plan (1-52).
    pub weeks: u32,
}

/// A planned schedule: what the plugin proposed and the checker accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// First day planned.
    pub start: Date,
    /// Days planned.
    pub days: u32,
    /// A digest of the request the plan was made from.
    pub fingerprint: String,
    /// Accepted appointments.
    pub appointments: Vec<Appointment>,
    /// Massages placed after their window (rule C4's longest interval), for the front desk to confirm.
    #[serde(default)]
    pub late: Vec<Late>,
    /// Demand not met, with the reason.
    pub unmet: Vec<Unmet>,
    /// Proposals the host's checker refused, with the constraint.
    pub refused: Vec<RefusedVisit>,
    /// Clients held back by a hold or a critical card without an override.
    pub blocked: Vec<BlockedClient>,
    /// Overrides this plan uses, by client: (override id, rule).
    pub overrides_used: BTreeMap<String, Vec<(String, String)>>,
}

/// A visit the checker refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedVisit {
    /// The client.
    pub client: String,
    /// Its appointments.
    pub appointments: Vec<Appointment>,
    /// Why.
    pub reason: String,
}

/// A client not planned because booking is blocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockedClient {
    /// The client.
    pub client: String,
    /// Why.
    pub reason: String,
}

/// The practice's calendar with the checker's C5 values from the scheduler's settings.
pub fn calendar(config: &PracticeConfig, settings: &praxis_sdk::Settings) -> Result<Calendar, ScheduleError> {
    let rules = CalendarRules::from_settings(settings).map_err(|e| ScheduleError::BadSettings(e.to_string()))?;
    Calendar::new(
        &config.file.practice.time_zone,
        config.opening_hours.clone(),
        config.practitioners.clone(),
        config.rooms.clone(),
        config.classes.clone(),
        rules,
    )
    .map_err(|e| ScheduleError::BadCalendar(format!("config {}: {e}", config.path.display())))
}

fn scheduler(plugins: &PluginRegistry) -> Result<&LoadedPlugin, ScheduleError> {
    plugins.scheduler().ok_or(ScheduleError::NoScheduler)
}

/// Pending overrides: for each (client, rule), the latest override is not yet tied to an appointment.
fn pending_overrides(store: &Store, client: &str) -> Result<Vec<Override>, ScheduleError> {
    let mut latest: BTreeMap<String, Override> = BTreeMap::new();
    let mut all = store.overrides_for(client)?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    for ov in all {
        latest.insert(ov.rule.clone(), ov);
    }
    Ok(latest.into_values().filter(|o| o.appointment.is_none()).collect())
}

/// The scheduler request for a horizon, with the clients kept out and the overrides used.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// Exactly what the scheduler plugin receives.
    pub request: ScheduleRequest,
    /// Clients held back.
    pub blocked: Vec<BlockedClient>,
    /// Overrides the plan would use, by client.
    pub overrides_used: BTreeMap<String, Vec<(String, String)>>,
}

/// The first day of a plan: `from`, or the day after `today`; never today or earlier.
pub fn plan_start(today: Date, from: Option<Date>) -> Result<Date, ScheduleError> {
    match from {
        None => Ok(today.add_days(1)),
        Some(d) if d > today => Ok(d),
        Some(d) => Err(ScheduleError::BadRequest(format!(
            "--from {d} is not after today ({today}): plans start tomorrow at the earliest; give a later date"
        ))),
    }
}

/// Builds the request for `days` days from `start`: the booked appointments
/// around the horizon, and one care plan per client from its guidance (looked
/// up by id, once per client).
pub fn plan_input(
    store: &Store,
    config: &PracticeConfig,
    plugins: &PluginRegistry,
    guidance: &[ClientGuidance],
    today: Date,
    start: Date,
    days: u32,
) -> Result<PlanInput, ScheduleError> {
    let scheduler = scheduler(plugins)?;
    let calendar = calendar(config, scheduler.settings())?;
    let from = DateTime::new(start.add_days(-35), TimeOfDay::MIDNIGHT);
    let to = DateTime::new(start.add_days(days as i32 + 35), TimeOfDay::MIDNIGHT);
    let booked: Vec<Appointment> = store
        .appointments_between(from, to)?
        .iter()
        .filter(|a| a.status == AppointmentStatus::Booked)
        .map(store::Appointment::plain)
        .collect();
    let by_client: HashMap<&str, &ClientGuidance> = guidance.iter().map(|g| (g.client.as_str(), g)).collect();
    let clients = store.clients()?;
    let mut plans = Vec::new();
    let mut blocked = Vec::new();
    let mut overrides_used = BTreeMap::new();
    for client in &clients {
        let Some(g) = by_client.get(client.id.as_str()) else { continue };
        // Critical cards and holds block booking unless a pending override covers each of their rules.
        if g.blocks_booking() {
            let pending = pending_overrides(store, &client.id)?;
            let grants: Vec<OverrideGrant> = pending.iter().map(|o| OverrideGrant::new(&o.rule, &o.reason)).collect();
            if let Err(refused) = check_booking(g, &grants) {
                let reasons: Vec<String> =
                    refused.blockers.iter().map(|b| format!("[{}] {}", b.rule, b.summary)).collect();
                blocked.push(BlockedClient {
                    client: client.id.clone(),
                    reason: format!(
                        "{} (record an override with `praxis override` to plan anyway)",
                        reasons.join("; ")
                    ),
                });
                continue;
            }
            overrides_used.insert(client.id.clone(), pending.iter().map(|o| (o.id.clone(), o.rule.clone())).collect());
        }
        let wants_massage = g.recommendation.interval_days.is_some() && g.hold.is_none();
        let wants_other = client.therapies.iter().any(|t| t.discipline != Discipline::Massage);
        if !wants_massage && !wants_other {
            continue;
        }
        let sessions = store.sessions_for(&client.id)?;
        let last_of = |d: &Discipline| {
            sessions.iter().filter(|s| &s.discipline == d && s.start.date <= today).map(|s| s.start.date).max()
        };
        let rec = &g.recommendation;
        let massage = match (rec.interval_days, wants_massage) {
            (Some(interval), true) => Some(MassageDemand {
                interval_days: interval,
                minutes: rec.minutes.unwrap_or(config.file.schedule.massage_minutes),
                before: rec.before.clone(),
                after: rec.after.clone(),
                last: last_of(&Discipline::Massage),
                not_before: None,
            }),
            _ => None,
        };
        let other: Vec<DisciplineDemand> = client
            .therapies
            .iter()
            .filter(|t| t.discipline != Discipline::Massage)
            .map(|t| DisciplineDemand {
                discipline: t.discipline.clone(),
                every_days: t.every_days,
                minutes: t.minutes,
                last: last_of(&t.discipline),
            })
            .collect();
        plans.push(CarePlan {
            client: client.id.clone(),
            availability: client.availability.clone(),
            fibromyalgia: client.conditions.iter().any(|c| c.code == snomed::FIBROMYALGIA),
            massage,
            other,
        });
    }
    let request = calendar.request(start, days, booked, plans, scheduler.settings().clone());
    Ok(PlanInput { request, blocked, overrides_used })
}

fn fingerprint(request: &ScheduleRequest) -> Result<String, ScheduleError> {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(request).map_err(|e| ScheduleError::Encode(e.to_string()))?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

/// Makes the plan (without saving or booking it): the request from
/// [`plan_input`], the plugin's proposal, the checker's review.
pub fn make_plan(
    store: &Store,
    config: &PracticeConfig,
    plugins: &PluginRegistry,
    guidance: &[ClientGuidance],
    today: Date,
    options: PlanOptions,
) -> Result<Plan, ScheduleError> {
    let start = plan_start(today, options.from)?;
    let days = options.weeks * 7;
    let input = plan_input(store, config, plugins, guidance, today, start, days)?;
    plan_from_input(config, plugins, input)
}

/// The plan for a request already built (see [`plan_input`]).
pub fn plan_from_input(
    config: &PracticeConfig,
    plugins: &PluginRegistry,
    input: PlanInput,
) -> Result<Plan, ScheduleError> {
    let scheduler = scheduler(plugins)?;
    let calendar = calendar(config, scheduler.settings())?;
    let PlanInput { request, blocked, overrides_used } = input;
    let fingerprint = fingerprint(&request)?;
    tracing::info!(plans = request.plans.len(), days = request.days, start = %request.start, "planning");
    let proposal = scheduler.schedule(&request).map_err(|e| ScheduleError::Plugin(e.to_string()))?;
    let Review { accepted, refused, unmet, late } = calendar.review(&request, proposal);
    Ok(Plan {
        start: request.start,
        days: request.days,
        fingerprint,
        appointments: accepted,
        late,
        unmet,
        refused: refused
            .into_iter()
            .map(|r| RefusedVisit {
                client: r.appointments.first().map(|a| a.client.clone()).unwrap_or_default(),
                reason: r.to_string(),
                appointments: r.appointments,
            })
            .collect(),
        blocked,
        overrides_used,
    })
}

/// Re-checks a saved plan against the current store, guidance and settings
/// with the host's checker, without planning again; books it in one
/// transaction when it still holds, or says what changed. Returns the booked records.
pub fn book_plan(
    store: &Store,
    config: &PracticeConfig,
    plugins: &PluginRegistry,
    guidance: &[ClientGuidance],
    today: Date,
    plan: &Plan,
    actor: &str,
) -> Result<Vec<store::Appointment>, ScheduleError> {
    if plan.start <= today {
        return Err(ScheduleError::Changed(vec![format!(
            "the proposal starts on {}, which is not after today ({today})",
            plan.start
        )]));
    }
    let input = plan_input(store, config, plugins, guidance, today, plan.start, plan.days)?;
    let scheduler = scheduler(plugins)?;
    let calendar = calendar(config, scheduler.settings())?;
    let violations = calendar.check_with_late(&input.request, &plan.appointments, &plan.late);
    if !violations.is_empty() {
        return Err(ScheduleError::Changed(violations.iter().map(ToString::to_string).collect()));
    }
    book_checked(store, &plan.appointments, &input.overrides_used, actor)
}

/// Books appointments that passed the checker, and ties each override used to
/// the client's first booked appointment, so it lets this booking through only.
fn book_checked(
    store: &Store,
    appointments: &[Appointment],
    overrides_used: &BTreeMap<String, Vec<(String, String)>>,
    actor: &str,
) -> Result<Vec<store::Appointment>, ScheduleError> {
    let mut visit_ids: BTreeMap<(String, String), String> = BTreeMap::new();
    let records: Vec<store::Appointment> = appointments
        .iter()
        .map(|a| {
            let visit =
                a.visit.as_ref().map(|v| visit_ids.entry((a.client.clone(), v.clone())).or_insert_with(new_id).clone());
            store::Appointment::booked(a, visit)
        })
        .collect();
    store.book(&records, actor)?;
    for (client, used) in overrides_used {
        let Some(first) = records.iter().filter(|a| &a.client == client).min_by_key(|a| a.start) else { continue };
        let recorded = store.overrides_for(client)?;
        for (id, rule) in used {
            let Some(original) = recorded.iter().find(|o| &o.id == id) else { continue };
            let applied = Override {
                id: new_id(),
                client: client.clone(),
                rule: rule.clone(),
                card_summary: original.card_summary.clone(),
                reason: format!("{} (override {} applied)", original.reason, original.id),
                at: first.start,
                appointment: Some(first.id.clone()),
            };
            store.record_override(&applied, actor)?;
        }
    }
    Ok(records)
}

/// Booked appointments from `from` for `days` days, of one practitioner when given.
pub fn show(
    store: &Store,
    config: &PracticeConfig,
    from: Date,
    days: u32,
    practitioner: Option<&str>,
) -> Result<Vec<store::Appointment>, ScheduleError> {
    let a = DateTime::new(from, TimeOfDay::MIDNIGHT);
    let b = DateTime::new(from.add_days(days as i32), TimeOfDay::MIDNIGHT);
    Ok(match practitioner {
        Some(p) => {
            if !config.practitioners.iter().any(|x| x.id == p) {
                return Err(ScheduleError::BadRequest(format!("no practitioner `{p}` in {}", config.path.display())));
            }
            store.appointments_for_practitioner(p, a, b)?
        }
        None => store.appointments_between(a, b)?,
    })
}

/// The booked appointment `id` and the others of its visit (heat, massage,
/// cold), by start time.
fn booked_visit(store: &Store, id: &str) -> Result<Vec<store::Appointment>, ScheduleError> {
    let Some(a) = store.get_appointment(id)? else {
        return Err(ScheduleError::BadRequest(format!(
            "no appointment `{id}`: give an id from `praxis schedule show --json`"
        )));
    };
    if a.status != AppointmentStatus::Booked {
        return Err(ScheduleError::BadRequest(format!(
            "appointment `{id}` is {}, not booked: only a booked appointment can change",
            a.status
        )));
    }
    let mut visit = match &a.visit {
        None => vec![a],
        Some(v) => store
            .appointments_for_client(&a.client)?
            .into_iter()
            .filter(|x| x.visit.as_ref() == Some(v) && x.status == AppointmentStatus::Booked)
            .collect(),
    };
    visit.sort_by_key(|x| x.start);
    Ok(visit)
}

/// Cancels a booked appointment with its visit (heat, massage, cold), with a
/// reason. A cancelled massage is no longer booked, so the next plan meets its
/// demand again. Returns the cancelled records.
pub fn cancel(store: &Store, id: &str, reason: &str, actor: &str) -> Result<Vec<store::Appointment>, ScheduleError> {
    if reason.trim().is_empty() {
        return Err(ScheduleError::BadRequest("give a reason for the cancellation (--reason TEXT)".to_owned()));
    }
    let visit = booked_visit(store, id)?;
    let ids: Vec<&str> = visit.iter().map(|a| a.id.as_str()).collect();
    Ok(store.close_appointments(&ids, AppointmentStatus::Cancelled, Some(reason), actor)?)
}

/// Records that the client did not come to a booked appointment (and its
/// visit), on or after its day. No-shows count in the outcomes. Returns the records.
pub fn no_show(store: &Store, today: Date, id: &str, actor: &str) -> Result<Vec<store::Appointment>, ScheduleError> {
    let visit = booked_visit(store, id)?;
    if let Some(first) = visit.first()
        && first.start.date > today
    {
        return Err(ScheduleError::BadRequest(format!(
            "appointment `{id}` is on {}, after today ({today}): record a no-show on or after its day, or cancel it",
            first.start.date
        )));
    }
    let ids: Vec<&str> = visit.iter().map(|a| a.id.as_str()).collect();
    Ok(store.close_appointments(&ids, AppointmentStatus::NoShow, None, actor)?)
}

/// The days of a client's massage appointments recorded as a no-show (for the outcomes report).
pub fn massage_no_shows(store: &Store, client: &str) -> Result<Vec<Date>, ScheduleError> {
    Ok(store
        .appointments_for_client(client)?
        .into_iter()
        .filter(|a| a.status == AppointmentStatus::NoShow && a.discipline == Discipline::Massage && a.adjunct.is_none())
        .map(|a| a.start.date)
        .collect())
}

/// Where to move a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveTo {
    /// The new start of the appointment named (its visit's other steps keep their offsets).
    pub start: DateTime,
    /// A new practitioner, or keep the current one.
    pub practitioner: Option<String>,
    /// A new room, or keep the current one.
    pub room: Option<String>,
}

/// Moves a booked appointment with its visit (heat, massage and cold keep
/// their order and offsets), after the host's checker has passed the new
/// times against the calendar, the other bookings and the client's care plan
/// (from `guidance`). Returns the moved records.
#[allow(clippy::too_many_arguments)]
pub fn move_visit(
    store: &Store,
    config: &PracticeConfig,
    plugins: &PluginRegistry,
    guidance: &[ClientGuidance],
    today: Date,
    id: &str,
    to: &MoveTo,
    actor: &str,
) -> Result<Vec<store::Appointment>, ScheduleError> {
    if to.start.date <= today {
        return Err(ScheduleError::BadRequest(format!(
            "--to {} is not after today ({today}): give a later day",
            to.start
        )));
    }
    let visit = booked_visit(store, id)?;
    let Some(named) = visit.iter().find(|a| a.id == id) else {
        return Err(ScheduleError::BadRequest(format!("no appointment `{id}`")));
    };
    let shift = to.start.epoch_minutes() - named.start.epoch_minutes();
    let moved: Vec<store::Appointment> = visit
        .iter()
        .map(|a| {
            let mut b = a.clone();
            b.start = a.start.add_minutes(shift);
            if let Some(p) = &to.practitioner {
                b.practitioner = p.clone();
            }
            if let Some(r) = &to.room {
                b.room = r.clone();
            }
            if b.class.is_some() && (shift != 0 || to.practitioner.is_some() || to.room.is_some()) {
                b.class = None;
            }
            b
        })
        .collect();
    // The client's care plan, as the next plan would see it, for C3-C5.
    let start = to.start.date.min(today.add_days(1));
    let input = plan_input(store, config, plugins, guidance, today, start, 7)?;
    let plan = input.request.plans.iter().find(|p| p.client == named.client);
    let ids: Vec<&str> = visit.iter().map(|a| a.id.as_str()).collect();
    let window_from = DateTime::new(to.start.date.add_days(-60), TimeOfDay::MIDNIGHT);
    let window_to = DateTime::new(to.start.date.add_days(61), TimeOfDay::MIDNIGHT);
    let others: Vec<Appointment> = store
        .appointments_between(window_from, window_to)?
        .iter()
        .filter(|a| a.status == AppointmentStatus::Booked && !ids.contains(&a.id.as_str()))
        .map(store::Appointment::plain)
        .collect();
    let calendar = calendar(config, scheduler(plugins)?.settings())?;
    let new: Vec<Appointment> = moved.iter().map(store::Appointment::plain).collect();
    calendar.check_booking(today, &others, plan, &new).map_err(ScheduleError::Refused)?;
    store.book(&moved, actor)?;
    Ok(moved)
}
