//! `praxis guidance`, `praxis override`, `praxis report outcomes`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use praxis_core::outcomes::{self, ClientInput, MedicationUseKind};
use praxis_core::store::{MedicationUse, Override, new_id};
use praxis_core::world::{ClientGuidance, ClinicWorld, evaluate_client};
use praxis_sdk::{Date, DateTime, Indicator};

use super::Locations;
use super::{Practice, bad, print_json, store_error};

#[derive(Debug, Args)]
pub struct GuidanceArgs {
    /// Client id (or a unique prefix of it) or full name; omit with --all.
    pub client: Option<String>,
    /// Guidance for every client.
    #[arg(long, conflicts_with = "client")]
    pub all: bool,
    /// The day to give guidance for (default today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<Date>,
    /// Print JSON (the integration contract).
    #[arg(long)]
    pub json: bool,
}

/// Guidance for every client of the practice, through the clinic world.
pub fn all_guidance(practice: &Practice, as_of: Date) -> Result<Vec<ClientGuidance>> {
    let mut world = ClinicWorld::new(practice.plugins().clone(), practice.config.file.rules.clone(), as_of);
    world.hydrate(practice.store.snapshots().map_err(store_error)?);
    let stats = world.evaluate();
    tracing::info!(clients = stats.clients, plugin_calls = stats.plugin_calls, "evaluated the clinic");
    Ok(world.all_guidance())
}

pub fn guidance(loc: &Locations, args: &GuidanceArgs) -> Result<()> {
    let practice = Practice::open(loc)?;
    let as_of = args.as_of.unwrap_or_else(|| practice.today());
    let names: BTreeMap<String, String> =
        practice.store.clients().map_err(store_error)?.into_iter().map(|c| (c.id, c.name)).collect();
    let list = if args.all {
        all_guidance(&practice, as_of)?
    } else {
        let Some(key) = &args.client else {
            return bad("name a client (id, id prefix or full name), or pass --all");
        };
        let client = practice.find_client(key)?;
        let snapshot = practice.store.snapshot(&client.id).map_err(store_error)?;
        vec![evaluate_client(practice.plugins(), &practice.config.file.rules, as_of, &snapshot)]
    };
    if args.json {
        return if args.all { print_json(&list) } else { print_json(&list[0]) };
    }
    for (i, g) in list.iter().enumerate() {
        if i > 0 {
            outln!("{}", "-".repeat(72));
        }
        if let Some(name) = names.get(&g.client) {
            outln!("{name}");
        }
        out!("{}", g.render_text());
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct OverrideArgs {
    /// Client id (or a unique prefix of it) or full name.
    pub client: String,
    /// The rule id of the critical card or hold to override (such as S1 or R2).
    #[arg(long)]
    pub rule: String,
    /// Why: one of the card's override reasons (code or text), or free text.
    #[arg(long)]
    pub reason: String,
    /// The day the guidance is for (default today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<Date>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn override_card(loc: &Locations, args: &OverrideArgs) -> Result<()> {
    let practice = Practice::open(loc)?;
    let as_of = args.as_of.unwrap_or_else(|| practice.today());
    let client = practice.find_client(&args.client)?;
    let snapshot = practice.store.snapshot(&client.id).map_err(store_error)?;
    let g = evaluate_client(practice.plugins(), &practice.config.file.rules, as_of, &snapshot);
    let rule = args.rule.trim();
    let blocking: Vec<_> =
        g.cards.iter().filter(|c| c.indicator == Indicator::Critical && c.rule.eq_ignore_ascii_case(rule)).collect();
    let Some(card) = blocking.first() else {
        let critical: Vec<String> =
            g.cards.iter().filter(|c| c.indicator == Indicator::Critical).map(|c| c.rule.clone()).collect();
        return bad(format!(
            "{} has no critical card of rule `{rule}` on {as_of}; critical cards now: {}",
            client.name,
            if critical.is_empty() { "none".to_owned() } else { critical.join(", ") }
        ));
    };
    let reason = args.reason.trim();
    if reason.is_empty() {
        return bad("an override needs a reason: --reason \"...\"");
    }
    // A reason given as one of the card's codes is recorded with its display text.
    let reason = card
        .override_reasons
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(reason))
        .map_or_else(|| reason.to_owned(), |r| format!("{} ({})", r.display, r.code));
    let ov = Override {
        id: new_id(),
        client: client.id.clone(),
        rule: card.rule.clone(),
        card_summary: card.summary.clone(),
        reason,
        at: DateTime::new(practice.today(), praxis_sdk::TimeOfDay::MIDNIGHT),
        appointment: None,
    };
    practice.store.record_override(&ov, &practice.actor).map_err(store_error)?;
    if args.json {
        print_json(&ov)
    } else {
        outln!("saved override {} of [{}] \"{}\" for {}: {}", ov.id, ov.rule, ov.card_summary, client.name, ov.reason);
        outln!("It lets the next booking for this client through that card; it is in the audit log.");
        Ok(())
    }
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Pain before and after, trend, flares, sessions per week against the plan, medication use.
    Outcomes(OutcomesArgs),
}

#[derive(Debug, Args)]
pub struct OutcomesArgs {
    /// Only this client (id, id prefix or full name).
    #[arg(long)]
    pub client: Option<String>,
    /// Weeks the per-week figures cover.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=520))]
    pub weeks: u32,
    /// The report date (default today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<Date>,
    /// Draw the client's pain trend as an SVG chart to this file (needs --client).
    #[arg(long, value_name = "FILE", requires = "client")]
    pub svg: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The outcomes report for some clients (all when `only` is `None`).
pub fn outcomes_report(
    practice: &Practice,
    only: Option<&str>,
    as_of: Date,
    weeks: u32,
) -> Result<outcomes::OutcomesReport> {
    let clients = match only {
        Some(key) => vec![practice.find_client(key)?],
        None => practice.store.clients().map_err(store_error)?,
    };
    let registry = practice.plugins();
    let mut inputs = Vec::new();
    for client in &clients {
        let snapshot = practice.store.snapshot(&client.id).map_err(store_error)?;
        let sessions = practice.store.sessions_for(&client.id).map_err(store_error)?;
        let medication = sessions
            .iter()
            .filter_map(|s| {
                Some((
                    s.id.clone(),
                    match s.pain_medication? {
                        MedicationUse::None => MedicationUseKind::None,
                        MedicationUse::LessThanUsual => MedicationUseKind::Less,
                        MedicationUse::AsUsual => MedicationUseKind::AsUsual,
                        MedicationUse::MoreThanUsual => MedicationUseKind::More,
                    },
                ))
            })
            .collect();
        let g = evaluate_client(registry, &practice.config.file.rules, as_of, &snapshot);
        let planned_per_week = g
            .recommendation
            .interval_days
            .filter(|_| g.hold.is_none())
            .map(|r| 7.0 / ((f64::from(r.min) + f64::from(r.max)) / 2.0).max(1.0));
        inputs.push(ClientInput { snapshot, name: client.name.clone(), medication, planned_per_week });
    }
    Ok(outcomes::report(&inputs, as_of, weeks))
}

/// Prints the report as text.
pub fn print_report(report: &outcomes::OutcomesReport) {
    out!(
        "{}",
        report.render_text(|code| super::practice::known_condition_name(code).map_or(code.to_owned(), str::to_owned))
    );
}

pub fn report(loc: &Locations, cmd: &ReportCommand) -> Result<()> {
    let ReportCommand::Outcomes(args) = cmd;
    let practice = Practice::open(loc)?;
    let as_of = args.as_of.unwrap_or_else(|| practice.today());
    let report = outcomes_report(&practice, args.client.as_deref(), as_of, args.weeks)?;
    if let Some(path) = &args.svg {
        let svg = outcomes::pain_chart_svg(&report.clients[0]);
        super::write_atomic(path, svg.as_bytes())?;
        if !args.json {
            outln!("wrote the pain chart of {} to {}", report.clients[0].name, path.display());
        }
    }
    if args.json {
        return print_json(&report);
    }
    print_report(&report);
    Ok(())
}
