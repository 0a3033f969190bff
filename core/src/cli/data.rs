//! `praxis export`, `praxis import`, `praxis schema`.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
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
        None => outln!("{json}"),
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
    let text = if args.file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading standard input")?;
        s
    } else {
        match std::fs::read_to_string(&args.file) {
            Ok(s) => s,
            Err(e) => return bad(format!("cannot read {}: {e}", args.file.display())),
        }
    };
    let export = PracticeExport::from_json(&text).map_err(store_error)?;
    let practice = Practice::open_unsynced(loc)?;
    let today = practice.today();
    let report = practice.store.import(&export, today, &practice.actor).map_err(store_error)?;
    if args.json {
        return print_json(&report);
    }
    outln!(
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
    out!("{EXPORT_SCHEMA}");
    if !EXPORT_SCHEMA.ends_with('\n') {
        outln!();
    }
    Ok(())
}
