//! `praxis export`, `praxis import`, `praxis schema`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use praxis_core::store::{EXPORT_SCHEMA, PracticeExport};

use super::{Locations, Practice, bad, print_json, store_error};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn export(loc: &Locations, args: &ExportArgs) -> Result<()> {
    let practice = Practice::open_unsynced(loc)?;
    let export = practice.store.export().map_err(store_error)?;
    let json = export.to_json().map_err(store_error)?;
    match &args.out {
        Some(path) => {
            super::write_atomic(path, json.as_bytes())?;
            eprintln!("exported {} records to {}", export.len(), path.display());
        }
        None => println!("{json}"),
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export file (`-` for standard input).
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn import(loc: &Locations, args: &ImportArgs) -> Result<()> {
    let limit = praxis_core::store::DEFAULT_MAX_IMPORT_BYTES;
    let export = if args.file.as_os_str() == "-" {
        PracticeExport::from_reader(std::io::stdin().lock(), limit)
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => PracticeExport::from_reader(f, limit),
            Err(e) => return bad(format!("cannot read {}: {e}", args.file.display())),
        }
    }
    .map_err(store_error)?;
    let practice = Practice::open_unsynced(loc)?;
    let today = practice.today();
    let calendar = import_calendar(&practice)?;
    let check = |appointments: &[praxis_core::store::Appointment]| -> Result<(), (usize, String)> {
        let plain: Vec<_> = appointments.iter().map(|a| a.plain()).collect();
        calendar.check_booking(today, &[], None, &plain).map_err(|v| (v[0].index, v[0].to_string()))
    };
    let report = practice.store.import_checked(&export, today, &practice.actor, &check).map_err(store_error)?;
    if args.json {
        return print_json(&report);
    }
    println!(
        "imported {} clients, {} intakes, {} sessions, {} appointments, {} overrides, {} practitioners, {} rooms, {} audit entries ({} batches, each flushed)",
        report.clients,
        report.intakes,
        report.sessions,
        report.appointments,
        report.overrides,
        report.practitioners,
        report.rooms,
        report.audit_entries,
        report.batches
    );
    Ok(())
}

pub fn schema() -> Result<()> {
    print!("{EXPORT_SCHEMA}");
    if !EXPORT_SCHEMA.ends_with('\n') {
        println!();
    }
    Ok(())
}

/// The practice's calendar, for checking imported appointments like planned ones.
fn import_calendar(practice: &Practice) -> Result<praxis_core::calendar::Calendar> {
    let c = &practice.config;
    let rules = praxis_core::calendar::CalendarRules::default();
    praxis_core::calendar::Calendar::new(
        &c.file.practice.time_zone,
        c.opening_hours.clone(),
        c.practitioners.clone(),
        c.rooms.clone(),
        c.classes.clone(),
        rules,
    )
    .map_err(|e| super::BadInput(format!("config {}: {e}", c.path.display())).into())
}
