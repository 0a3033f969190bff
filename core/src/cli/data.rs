//! `praxis export`, `praxis import`, `praxis schema`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use praxis_core::service::protocol::{Request, Response};
use praxis_core::store::{EXPORT_SCHEMA, PracticeExport};

use super::{Backend, Locations, bad, print_json, store_error, unexpected};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `json` (the Praxis export format) or `fhir` (a FHIR R4 Bundle).
    #[arg(long, value_enum, default_value_t = super::interop::Format::Json)]
    pub format: super::interop::Format,
}

pub fn export(loc: &Locations, args: &ExportArgs) -> Result<()> {
    if args.format == super::interop::Format::Fhir {
        return super::interop::export_fhir(loc, args.out.as_deref());
    }
    let backend = Backend::connect_unsynced(loc)?;
    let Response::Export(export) = backend.call(Request::Export)? else { return unexpected() };
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
    /// `json` (a Praxis export) or `fhir` (a FHIR R4 Bundle of Patients and Conditions).
    #[arg(long, value_enum, default_value_t = super::interop::Format::Json)]
    pub format: super::interop::Format,
}

pub fn import(loc: &Locations, args: &ImportArgs) -> Result<()> {
    if args.format == super::interop::Format::Fhir {
        return super::interop::import_fhir(loc, &args.file, args.json);
    }
    let limit = loc.load_config()?.max_import_bytes();
    let export = if args.file.as_os_str() == "-" {
        PracticeExport::from_reader(std::io::stdin().lock(), limit)
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => PracticeExport::from_reader(f, limit),
            Err(e) => return bad(format!("cannot read {}: {e}", args.file.display())),
        }
    }
    .map_err(store_error)?;
    let backend = Backend::connect_unsynced(loc)?;
    let Response::Imported(report) = backend.call(Request::Import { export: Box::new(export) })? else {
        return unexpected();
    };
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
