//! `praxis schedule plan | book | show`.
//!
//! `plan` asks the scheduler plugin for the next weeks, has the host's
//! checker review every proposal, and saves what passed as the current
//! proposal. `book` plans again, refuses if anything changed since `plan`,
//! and books the proposal in one store transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use praxis_core::calendar::{Calendar, CalendarRules, Review};
use praxis_core::store::{self, AppointmentStatus, Override, new_id};
use praxis_core::world::{ClientGuidance, OverrideGrant, check_booking};
use praxis_sdk::schedule::{Appointment, CarePlan, DisciplineDemand, MassageDemand, Unmet};
use praxis_sdk::{Date, DateTime, Discipline, TimeOfDay, snomed};
use serde::{Deserialize, Serialize};

use super::{Locations, Practice, bad, print_json, store_error, table};

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Propose the next weeks' appointments for every client's care plan.
    Plan {
        /// Weeks to plan (default: the config's schedule.horizon_weeks, 8).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=52))]
        weeks: Option<u32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Book the current proposal (from `praxis schedule plan`) in one transaction.
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
    },
}

const PROPOSAL_FILE: &str = "proposal.json";

/// A planned schedule: what the plugin proposed and the checker accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// First day planned.
    pub start: Date,
    /// Days planned.
    pub days: u32,
    /// A digest of everything the plan was made from.
    pub fingerprint: String,
    /// Accepted appointments.
    pub appointments: Vec<Appointment>,
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefusedVisit {
    /// The client.
    pub client: String,
    /// Its appointments.
    pub appointments: Vec<Appointment>,
    /// Why.
    pub reason: String,
}

/// A client not planned because booking is blocked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockedClient {
    /// The client.
    pub client: String,
    /// Why.
    pub reason: String,
}

fn calendar(practice: &Practice, settings: &praxis_sdk::Settings) -> Result<Calendar> {
    let c = &practice.config;
    let rules = CalendarRules::from_settings(settings)
        .map_err(|e| super::BadInput(format!("plugins.combined-therapy.settings: {e}")))?;
    Calendar::new(
        &c.file.practice.time_zone,
        c.opening_hours.clone(),
        c.practitioners.clone(),
        c.rooms.clone(),
        c.classes.clone(),
        rules,
    )
    .map_err(|e| super::BadInput(format!("config {}: {e}", c.path.display())).into())
}

/// Pending overrides: for each (client, rule), the latest override is not yet tied to an appointment.
fn pending_overrides(practice: &Practice, client: &str) -> Result<Vec<Override>> {
    let mut latest: BTreeMap<String, Override> = BTreeMap::new();
    let mut all = practice.store.overrides_for(client).map_err(store_error)?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    for ov in all {
        latest.insert(ov.rule.clone(), ov);
    }
    Ok(latest.into_values().filter(|o| o.appointment.is_none()).collect())
}

/// Makes the plan (without saving or booking it).
pub fn make_plan(practice: &Practice, today: Date, weeks: u32, guidance: &[ClientGuidance]) -> Result<Plan> {
    let Some(scheduler) = practice.plugins().scheduler() else {
        return Err(anyhow::anyhow!(
            "no scheduler plugin is loaded: the combined-therapy plugin is built with `cargo build --release` next to the praxis binary (see `praxis plugins list`)"
        ));
    };
    let calendar = calendar(practice, scheduler.settings())?;
    let start = today.add_days(1);
    let days = weeks * 7;
    let from = DateTime::new(start.add_days(-35), TimeOfDay::MIDNIGHT);
    let to = DateTime::new(start.add_days(days as i32 + 35), TimeOfDay::MIDNIGHT);
    let booked: Vec<Appointment> = practice
        .store
        .appointments_between(from, to)
        .map_err(store_error)?
        .iter()
        .filter(|a| a.status == AppointmentStatus::Booked)
        .map(store::Appointment::plain)
        .collect();

    let clients = practice.store.clients().map_err(store_error)?;
    let mut plans = Vec::new();
    let mut blocked = Vec::new();
    let mut overrides_used = BTreeMap::new();
    for client in &clients {
        let Some(g) = guidance.iter().find(|g| g.client == client.id) else { continue };
        let sessions = practice.store.sessions_for(&client.id).map_err(store_error)?;
        let last_of = |d: &Discipline| {
            sessions.iter().filter(|s| &s.discipline == d && s.start.date <= today).map(|s| s.start.date).max()
        };
        // Critical cards and holds block booking unless a pending override covers each of their rules.
        if g.blocks_booking() {
            let pending = pending_overrides(practice, &client.id)?;
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
        let rec = &g.recommendation;
        let massage = match (rec.interval_days, g.hold.is_none()) {
            (Some(interval), true) => Some(MassageDemand {
                interval_days: interval,
                minutes: rec.minutes.unwrap_or(practice.config.file.schedule.massage_minutes),
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
        if massage.is_none() && other.is_empty() {
            continue;
        }
        plans.push(CarePlan {
            client: client.id.clone(),
            availability: client.availability.clone(),
            fibromyalgia: client.conditions.iter().any(|c| c.code == snomed::FIBROMYALGIA),
            massage,
            other,
        });
    }
    let request = calendar.request(start, days, booked, plans, scheduler.settings().clone());
    let fingerprint = {
        use sha2::{Digest, Sha256};
        let bytes = serde_json::to_vec(&request).context("encoding the schedule request")?;
        Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    eprintln!("planning {} care plans over {weeks} weeks from {start}...", request.plans.len());
    let proposal = scheduler.schedule(&request).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Review { accepted, refused, unmet } = calendar.review(&request, proposal);
    Ok(Plan {
        start,
        days,
        fingerprint,
        appointments: accepted,
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
        "  C5 fibromyalgia: at most the weekly cap, no two visits a day unless bundled: checked by the host"
    );
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
    let plan = make_plan(practice, today, practice.config.file.schedule.horizon_weeks, guidance)?;
    book_plan(practice, &plan)?;
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

fn book_plan(practice: &Practice, plan: &Plan) -> Result<Vec<store::Appointment>> {
    let mut visit_ids: BTreeMap<(String, String), String> = BTreeMap::new();
    let records: Vec<store::Appointment> = plan
        .appointments
        .iter()
        .map(|a| {
            let visit =
                a.visit.as_ref().map(|v| visit_ids.entry((a.client.clone(), v.clone())).or_insert_with(new_id).clone());
            store::Appointment::booked(a, visit)
        })
        .collect();
    practice.store.book(&records, &practice.actor).map_err(store_error)?;
    // Tie each override used to the client's first booked appointment, so it
    // lets through this booking only (overrides themselves are never changed).
    for (client, used) in &plan.overrides_used {
        let Some(first) = records.iter().filter(|a| &a.client == client).min_by_key(|a| a.start) else { continue };
        for (id, rule) in used {
            let Some(original) =
                practice.store.overrides_for(client).map_err(store_error)?.into_iter().find(|o| &o.id == id)
            else {
                continue;
            };
            let applied = Override {
                id: new_id(),
                client: client.clone(),
                rule: rule.clone(),
                card_summary: original.card_summary.clone(),
                reason: format!("{} (override {} applied)", original.reason, original.id),
                at: first.start,
                appointment: Some(first.id.clone()),
            };
            practice.store.record_override(&applied, &practice.actor).map_err(store_error)?;
        }
    }
    Ok(records)
}

pub fn run(loc: &Locations, cmd: &ScheduleCommand) -> Result<()> {
    let practice = Practice::open(loc)?;
    let today = practice.today();
    match cmd {
        ScheduleCommand::Plan { weeks, json } => {
            let weeks = weeks.unwrap_or(practice.config.file.schedule.horizon_weeks);
            let guidance = super::guidance::all_guidance(&practice, today)?;
            let plan = make_plan(&practice, today, weeks, &guidance)?;
            let path = practice.config.data_dir.join(PROPOSAL_FILE);
            super::write_atomic(&path, serde_json::to_string_pretty(&plan)?.as_bytes())?;
            if *json {
                return print_json(&plan);
            }
            out!("{}", summarize(&plan, &names(&practice)?));
            outln!("saved as the current proposal; book it with `praxis schedule book`");
        }
        ScheduleCommand::Book { json } => {
            let path = practice.config.data_dir.join(PROPOSAL_FILE);
            let saved: Plan = match std::fs::read_to_string(&path) {
                Ok(text) => serde_json::from_str(&text).map_err(|e| {
                    super::BadInput(format!(
                        "{} is not a proposal ({e}): run `praxis schedule plan` again",
                        path.display()
                    ))
                })?,
                Err(_) => return bad("there is no current proposal: run `praxis schedule plan` first"),
            };
            let guidance = super::guidance::all_guidance(&practice, today)?;
            let plan = make_plan(&practice, today, saved.days / 7, &guidance)?;
            if plan.fingerprint != saved.fingerprint || plan.appointments != saved.appointments {
                return bad(
                    "the practice changed since `praxis schedule plan` (records, bookings, settings or the date): run it again and review the new proposal",
                );
            }
            let booked = book_plan(&practice, &plan)?;
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            if *json {
                return print_json(&booked);
            }
            outln!("booked {} appointments (one transaction, flushed to disk)", booked.len());
        }
        ScheduleCommand::Show { from, days, practitioner, json } => {
            let from = from.unwrap_or(today);
            let a = DateTime::new(from, TimeOfDay::MIDNIGHT);
            let b = DateTime::new(from.add_days(*days as i32), TimeOfDay::MIDNIGHT);
            let list = match practitioner {
                Some(p) => {
                    if !practice.config.practitioners.iter().any(|x| &x.id == p) {
                        return bad(format!("no practitioner `{p}` in {}", practice.config.path.display()));
                    }
                    practice.store.appointments_for_practitioner(p, a, b).map_err(store_error)?
                }
                None => practice.store.appointments_between(a, b).map_err(store_error)?,
            };
            if *json {
                return print_json(&list);
            }
            let names = names(&practice)?;
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
                    ]
                })
                .collect();
            if rows.is_empty() {
                outln!("No appointments from {from} for {days} days.");
            } else {
                out!("{}", table(&["START", "MIN", "CLIENT", "WHAT", "PRACTITIONER", "ROOM", "STATUS"], &rows));
            }
        }
    }
    Ok(())
}
