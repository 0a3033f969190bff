//! `praxis guidance`, `praxis override`, `praxis report outcomes`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use praxis_core::outcomes;
use praxis_core::service::OverrideInput;
use praxis_core::service::protocol::{Request, Response};
use praxis_core::world::ClientGuidance;
use praxis_sdk::Date;

use super::{Backend, Locations, Practice, bad, print_json, service_error, unexpected};

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

pub fn guidance(loc: &Locations, args: &GuidanceArgs) -> Result<()> {
    let backend = Backend::connect(loc)?;
    let list = if args.all {
        let Response::GuidanceList(list) = backend.call(Request::AllGuidance { as_of: args.as_of })? else {
            return unexpected();
        };
        list
    } else {
        let Some(key) = &args.client else {
            return bad("name a client (id, id prefix or full name), or pass --all");
        };
        let Response::Guidance(g) = backend.call(Request::Guidance { client: key.clone(), as_of: args.as_of })? else {
            return unexpected();
        };
        vec![*g]
    };
    if args.json {
        return if args.all { print_json(&list) } else { print_json(&list[0]) };
    }
    // Names only for what is shown: one client's guidance needs one lookup.
    let names: BTreeMap<String, String> = if args.all {
        let Response::Clients(clients) = backend.call(Request::ListClients)? else { return unexpected() };
        clients.into_iter().map(|c| (c.id, c.name)).collect()
    } else {
        list.iter().map(|g| (g.client.clone(), backend.client_name(&g.client))).collect()
    };
    for (i, g) in list.iter().enumerate() {
        if i > 0 {
            outln!("{}", "-".repeat(72));
        }
        out!("{}", g.render_page(names.get(&g.client).map_or(&g.client, |n| n)));
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
    let backend = Backend::connect(loc)?;
    let input = OverrideInput { rule: args.rule.clone(), reason: args.reason.clone(), as_of: args.as_of };
    let Response::Override(ov) = backend.call(Request::Override { client: args.client.clone(), input })? else {
        return unexpected();
    };
    if args.json {
        print_json(&ov)
    } else {
        let name = backend.client_name(&ov.client);
        outln!("saved override {} of [{}] \"{}\" for {name}: {}", ov.id, ov.rule, ov.card_summary, ov.reason);
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

/// Guidance for every client of the practice, through the clinic world.
pub fn all_guidance(practice: &Practice, as_of: Date) -> Result<Vec<ClientGuidance>> {
    practice.service.all_guidance(Some(as_of), &practice.owner()?).map_err(service_error)
}

/// The outcomes report for some clients (all when `only` is `None`).
pub fn outcomes_report(
    practice: &Practice,
    only: Option<&str>,
    as_of: Date,
    weeks: u32,
) -> Result<outcomes::OutcomesReport> {
    practice.service.outcomes(only, Some(as_of), weeks, &practice.owner()?).map_err(service_error)
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
    let backend = Backend::connect(loc)?;
    let request = Request::Outcomes { client: args.client.clone(), as_of: args.as_of, weeks: args.weeks };
    let Response::Outcomes(report) = backend.call(request)? else { return unexpected() };
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
