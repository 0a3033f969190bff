//! `praxis schedule plan | book | show | cancel | move | no-show`: parsing and
//! rendering around [`praxis_core::scheduling`], which does the work.
//!
//! `plan` asks the scheduler plugin for the next weeks, has the host's
//! checker review every proposal, and saves what passed as the current
//! proposal. `book` re-checks that proposal against the current store with
//! the checker (it does not plan again) and books it in one store transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::Result;
use clap::Subcommand;
use praxis_core::scheduling::{self, MoveTo, Plan, PlanOptions, ScheduleError};
use praxis_core::service::protocol::{Request, Response};
use praxis_core::world::ClientGuidance;
use praxis_sdk::{Date, DateTime, Discipline, snomed};

use super::{Backend, Locations, Practice, print_json, store_error, table, unexpected};

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Propose the next weeks' appointments for every client's care plan.
    Plan {
        /// Weeks to plan (default: the config's schedule.horizon_weeks, 8).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=52))]
        weeks: Option<u32>,
        /// First day to plan (default tomorrow); the same day and store give the same plan.
        #[arg(long, value_name = "DATE")]
        from: Option<Date>,
        /// Also write the exact request the scheduler plugin receives to FILE (JSON).
        #[arg(long, value_name = "FILE")]
        request_out: Option<std::path::PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Book the current proposal (from `praxis schedule plan`) in one transaction, after checking it again.
    Book {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show booked appointments.
    Show {
        /// First day (default today).
        #[arg(long, value_name = "DATE")]
        from: Option<Date>,
        /// Number of days.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
        /// Only this practitioner.
        #[arg(long, value_name = "ID")]
        practitioner: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Print an iCalendar (RFC 5545) feed instead (no clinical details; see `[calendar]`).
        #[arg(long, conflicts_with = "json")]
        ics: bool,
    },
    /// Cancel a booked appointment with its visit (heat, massage, cold); its demand re-opens for the next plan.
    Cancel {
        /// The appointment's id (see `praxis schedule show --json`).
        id: String,
        /// Why (kept with the appointment and in the audit log).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move a booked appointment with its visit to a new time, checked by the host's checker.
    Move {
        /// The appointment's id.
        id: String,
        /// The new start, local time (YYYY-MM-DDTHH:MM).
        #[arg(long, value_name = "DATETIME")]
        to: DateTime,
        /// A new practitioner.
        #[arg(long, value_name = "ID")]
        practitioner: Option<String>,
        /// A new room.
        #[arg(long, value_name = "ID")]
        room: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record that the client did not come (counts in the outcomes).
    NoShow {
        /// The appointment's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Bad input (exit 2) or failure (exit 1), with the library's message.
fn sched_error(e: ScheduleError) -> anyhow::Error {
    match e {
        ScheduleError::Store(e) => store_error(e),
        e if e.is_bad_input() => super::BadInput(e.to_string()).into(),
        e => anyhow::Error::new(e),
    }
}

/// Makes the plan (without saving or booking it).
pub fn make_plan(practice: &Practice, today: Date, options: PlanOptions, guidance: &[ClientGuidance]) -> Result<Plan> {
    scheduling::make_plan(&practice.store, &practice.config, practice.plugins(), guidance, today, options)
        .map_err(sched_error)
}

fn names(practice: &Practice) -> Result<BTreeMap<String, String>> {
    Ok(practice.store.clients().map_err(store_error)?.into_iter().map(|c| (c.id, c.name)).collect())
}

/// A readable summary of a plan, naming the C rules it keeps.
pub fn summarize(plan: &Plan, names: &BTreeMap<String, String>) -> String {
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let mut s = String::new();
    let end = plan.start.add_days(plan.days as i32 - 1);
    let _ = writeln!(s, "Schedule {} to {} ({} weeks)", plan.start, end, plan.days / 7);
    let mut by_discipline: BTreeMap<String, usize> = BTreeMap::new();
    let mut visits = BTreeSet::new();
    let mut bundled = 0;
    for a in &plan.appointments {
        if a.adjunct.is_none() {
            *by_discipline.entry(a.discipline.to_string()).or_default() += 1;
        }
        if let Some(v) = &a.visit
            && visits.insert((a.client.clone(), v.clone()))
            && plan
                .appointments
                .iter()
                .any(|b| b.client == a.client && b.visit.as_ref() == Some(v) && b.adjunct.is_some())
        {
            bundled += 1;
        }
    }
    let clients: BTreeSet<&str> = plan.appointments.iter().map(|a| a.client.as_str()).collect();
    let mixed = clients
        .iter()
        .filter(|c| {
            plan.appointments.iter().filter(|a| &a.client == *c).map(|a| &a.discipline).collect::<BTreeSet<_>>().len()
                > 1
        })
        .count();
    let _ = writeln!(
        s,
        "  {} appointments for {} clients: {}",
        plan.appointments.len(),
        clients.len(),
        by_discipline.iter().map(|(d, n)| format!("{n} {d}")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(s, "  C1 combined care: {mixed} clients mix massage with other therapies");
    let _ = writeln!(s, "  C2 heat before, massage, cold after as one visit: {bundled} visits");
    let _ = writeln!(
        s,
        "  C3 qualified practitioner, suitable room, inside hours and availability, never double-booked: checked by the host, {} refused",
        plan.refused.len()
    );
    let _ = writeln!(s, "  C4 massage intervals within the merged guidance's ranges: checked by the host");
    let _ = writeln!(
        s,
        "  C5 fibromyalgia: at most the cap in any 7 days, no two visits a day unless bundled: checked by the host"
    );
    if !plan.late.is_empty() {
        let days: u32 = plan.late.iter().map(|l| l.days).sum();
        let most = plan.late.iter().map(|l| l.days).max().unwrap_or(0);
        let _ = writeln!(
            s,
            "  {} massages placed after their window ({days} days late in all, at most {most}), to confirm:",
            plan.late.len()
        );
        for l in plan.late.iter().take(12) {
            let _ = writeln!(
                s,
                "    {} on {}, {} day{} after {}: {}",
                name(&l.client),
                l.placed,
                l.days,
                if l.days == 1 { "" } else { "s" },
                l.window_end,
                l.reason
            );
        }
        if plan.late.len() > 12 {
            let _ = writeln!(s, "    ... and {} more (see --json)", plan.late.len() - 12);
        }
    }
    for r in &plan.refused {
        let _ = writeln!(s, "  refused for {}: {}", name(&r.client), r.reason);
    }
    for b in &plan.blocked {
        let _ = writeln!(s, "  not planned, {}: {}", name(&b.client), b.reason);
    }
    if !plan.unmet.is_empty() {
        let _ = writeln!(s, "  {} demands not met:", plan.unmet.len());
        for u in plan.unmet.iter().take(12) {
            let _ = writeln!(s, "    {} {} due {}: {}", name(&u.client), u.discipline, u.due, u.reason);
        }
        if plan.unmet.len() > 12 {
            let _ = writeln!(s, "    ... and {} more (see --json)", plan.unmet.len() - 12);
        }
    }
    s
}

/// What the demo needs: plan, book, and the summary.
pub struct DemoPlan {
    pub summary: String,
    pub rules_shown: Vec<String>,
}

pub fn plan_and_book_for_demo(practice: &Practice, today: Date, guidance: &[ClientGuidance]) -> Result<DemoPlan> {
    let weeks = practice.config.file.schedule.horizon_weeks;
    let plan = make_plan(practice, today, PlanOptions { from: None, weeks }, guidance)?;
    scheduling::book_plan(
        &practice.store,
        &practice.config,
        practice.plugins(),
        guidance,
        today,
        &plan,
        &practice.actor,
    )
    .map_err(sched_error)?;
    let summary = summarize(&plan, &names(practice)?);
    let mut rules_shown = Vec::new();
    if summary.contains("C1 combined care") && plan.appointments.iter().any(|a| a.discipline != Discipline::Massage) {
        rules_shown.push("C1".to_owned());
    }
    if plan.appointments.iter().any(|a| a.adjunct.is_some()) {
        rules_shown.push("C2".to_owned());
    }
    if !plan.appointments.is_empty() {
        rules_shown.extend(["C3", "C4"].map(str::to_owned));
    }
    let fm_clients: BTreeSet<String> = practice
        .store
        .clients()
        .map_err(store_error)?
        .into_iter()
        .filter(|c| c.conditions.iter().any(|x| x.code == snomed::FIBROMYALGIA))
        .map(|c| c.id)
        .collect();
    if plan.appointments.iter().any(|a| fm_clients.contains(&a.client)) {
        rules_shown.push("C5".to_owned());
    }
    Ok(DemoPlan { summary, rules_shown })
}

fn render_appointments(names: &BTreeMap<String, String>, list: &[praxis_core::store::Appointment]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|x| {
            vec![
                x.start.to_string(),
                x.minutes.to_string(),
                names.get(&x.client).cloned().unwrap_or_else(|| x.client.clone()),
                match x.adjunct {
                    Some(praxis_sdk::Adjunct::HeatBefore) => "heat (before massage)".to_owned(),
                    Some(praxis_sdk::Adjunct::ColdAfter) => "cold (after massage)".to_owned(),
                    None => x.discipline.to_string(),
                },
                x.practitioner.clone(),
                x.room.clone(),
                x.status.to_string(),
                x.id.clone(),
            ]
        })
        .collect();
    table(&["START", "MIN", "CLIENT", "WHAT", "PRACTITIONER", "ROOM", "STATUS", "ID"], &rows)
}

fn backend_names(backend: &Backend) -> Result<BTreeMap<String, String>> {
    let Response::Clients(clients) = backend.call(Request::ListClients)? else { return unexpected() };
    Ok(clients.into_iter().map(|c| (c.id, c.name)).collect())
}

pub fn run(loc: &Locations, cmd: &ScheduleCommand) -> Result<()> {
    if let ScheduleCommand::Show { ics: true, from, days, practitioner, .. } = cmd {
        // The feed needs the audit log (SEQUENCE): it reads the store here.
        let practice = Practice::open(loc)?;
        let from = from.unwrap_or_else(|| practice.today());
        let list = scheduling::show(&practice.store, &practice.config, from, *days, practitioner.as_deref())
            .map_err(sched_error)?;
        return super::interop::print_ics(&practice, &list, practitioner.as_deref());
    }
    let backend = Backend::connect(loc)?;
    let changed = |list: Vec<praxis_core::store::Appointment>, json: bool, what: &str| -> Result<()> {
        if json {
            return print_json(&list);
        }
        out!("{}", render_appointments(&backend_names(&backend)?, &list));
        outln!("{what} {} appointment(s)", list.len());
        Ok(())
    };
    match cmd {
        ScheduleCommand::Plan { weeks, from, request_out, json } => {
            let request = Request::PlanSchedule { from: *from, weeks: *weeks, with_request: request_out.is_some() };
            eprintln!("planning every care plan ...");
            let Response::Plan(outcome) = backend.call(request)? else { return unexpected() };
            if let (Some(path), Some(request)) = (request_out, &outcome.request) {
                super::write_atomic(path, serde_json::to_string_pretty(request)?.as_bytes())?;
            }
            if *json {
                return print_json(&outcome.plan);
            }
            out!("{}", summarize(&outcome.plan, &backend_names(&backend)?));
            outln!("saved as the current proposal; book it with `praxis schedule book`");
        }
        ScheduleCommand::Book { json } => {
            let Response::Appointments(booked) = backend.call(Request::BookSchedule)? else { return unexpected() };
            if *json {
                return print_json(&booked);
            }
            outln!("booked {} appointments (one transaction, flushed to disk)", booked.len());
        }
        ScheduleCommand::Show { from, days, practitioner, json, .. } => {
            let request = Request::ShowSchedule { from: *from, days: *days, practitioner: practitioner.clone() };
            let Response::Appointments(list) = backend.call(request)? else { return unexpected() };
            if *json {
                return print_json(&list);
            }
            if list.is_empty() {
                let from = from.map_or_else(|| "today".to_owned(), |d| d.to_string());
                outln!("No appointments from {from} for {days} days.");
            } else {
                out!("{}", render_appointments(&backend_names(&backend)?, &list));
            }
        }
        ScheduleCommand::Cancel { id, reason, json } => {
            let request = Request::CancelAppointment { id: id.clone(), reason: reason.clone() };
            let Response::Appointments(list) = backend.call(request)? else { return unexpected() };
            changed(list, *json, "cancelled (the next `praxis schedule plan` plans their demand again):")?;
        }
        ScheduleCommand::Move { id, to, practitioner, room, json } => {
            let to = MoveTo { start: *to, practitioner: practitioner.clone(), room: room.clone() };
            let Response::Appointments(list) = backend.call(Request::MoveAppointment { id: id.clone(), to })? else {
                return unexpected();
            };
            changed(list, *json, "moved, checked by the host's checker:")?;
        }
        ScheduleCommand::NoShow { id, json } => {
            let Response::Appointments(list) = backend.call(Request::NoShow { id: id.clone() })? else {
                return unexpected();
            };
            changed(list, *json, "recorded as a no-show:")?;
        }
    }
    Ok(())
}
