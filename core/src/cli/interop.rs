//! The command-line side of `praxis_core::interop`: `export --format fhir`,
//! `import --format fhir`, `schedule show --ics`, `calendar token`, `calendar confirmation`.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Subcommand;
use praxis_core::interop::ics::{FeedInput, FeedTokens, feed};
use praxis_core::interop::{InteropError, fhir, fhir_import};
use praxis_core::store::Appointment;

use super::{BadInput, Locations, Practice, bad, print_json, store_error};

/// The format of `praxis export` and `praxis import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The Praxis export format (`praxis schema`).
    Json,
    /// HL7 FHIR R4 (4.0.1): a Bundle.
    Fhir,
}

fn interop_error(e: InteropError) -> anyhow::Error {
    if e.is_caller_error() { BadInput(e.to_string()).into() } else { anyhow::Error::new(e) }
}

/// `praxis export --format fhir [--out FILE]`.
pub fn export_fhir(loc: &Locations, out: Option<&Path>) -> Result<()> {
    let practice = Practice::open_unsynced(loc)?;
    let records = practice.store.export().map_err(store_error)?;
    let bundle =
        fhir::FhirExporter::new(&records, practice.config.time_zone(), &practice.config.file.practice.name).bundle();
    let json = serde_json::to_string_pretty(&bundle).context("encoding the FHIR bundle")?;
    match out {
        Some(path) => {
            super::write_atomic(path, json.as_bytes())?;
            let counts = fhir::count_by_type(&bundle);
            let total: usize = counts.values().sum();
            let parts: Vec<String> = counts.iter().map(|(t, n)| format!("{n} {t}")).collect();
            eprintln!("exported {total} FHIR R4 resources to {}: {}", path.display(), parts.join(", "));
        }
        None => outln!("{json}"),
    }
    Ok(())
}

/// `praxis import --format fhir FILE`.
pub fn import_fhir(loc: &Locations, file: &PathBuf, json: bool) -> Result<()> {
    let text = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .take(fhir_import::MAX_IMPORT_BYTES as u64 + 1)
            .read_to_string(&mut s)
            .context("reading standard input")?;
        s
    } else {
        if let Ok(meta) = std::fs::metadata(file)
            && meta.len() > fhir_import::MAX_IMPORT_BYTES as u64
        {
            return Err(interop_error(InteropError::TooLarge {
                bytes: usize::try_from(meta.len()).unwrap_or(usize::MAX),
                limit: fhir_import::MAX_IMPORT_BYTES,
            }));
        }
        match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => return bad(format!("cannot read {}: {e}", file.display())),
        }
    };
    let practice = Practice::open_unsynced(loc)?;
    let report =
        fhir_import::import_bundle(&practice.store, &text, practice.today(), &practice.actor).map_err(interop_error)?;
    if json {
        return print_json(&report);
    }
    outln!("imported {} patients with {} conditions", report.patients, report.conditions);
    for (t, n) in &report.skipped {
        outln!("skipped {n} {t} (not imported by Praxis)");
    }
    for line in &report.not_mapped {
        outln!("not mapped: {line}");
    }
    Ok(())
}

/// `praxis schedule show --ics`: the shown appointments as a feed.
pub fn print_ics(practice: &Practice, list: &[Appointment], practitioner: Option<&str>) -> Result<()> {
    let clients = practice.store.clients().map_err(store_error)?;
    let audit = practice.store.audit().map_err(store_error)?;
    let name = match practitioner.and_then(|p| practice.config.practitioners.iter().find(|x| x.id == p)) {
        Some(p) => format!("{} - {}", practice.config.file.practice.name, p.name),
        None => practice.config.file.practice.name.clone(),
    };
    let input = FeedInput {
        name,
        tz: practice.config.time_zone(),
        appointments: list,
        clients: &clients,
        rooms: &practice.config.rooms,
        audit: &audit,
        client_names: practice.config.file.calendar.client_names,
    };
    out!("{}", feed(&input));
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// A practitioner's secret feed token: create (replacing any older one) or revoke.
    #[command(subcommand)]
    Token(FeedTokenCommand),
    /// A client's confirmation of an appointment (or of its whole visit) as iCalendar.
    Confirmation {
        /// The appointment's id.
        appointment: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub fn calendar(loc: &Locations, cmd: &CalendarCommand) -> Result<()> {
    match cmd {
        CalendarCommand::Token(t) => feed_token(loc, t),
        CalendarCommand::Confirmation { appointment, out } => confirmation(loc, appointment, out.as_deref()),
    }
}

fn confirmation(loc: &Locations, appointment: &str, out: Option<&Path>) -> Result<()> {
    let practice = Practice::open_unsynced(loc)?;
    let Some(a) = practice.store.get_appointment(appointment).map_err(store_error)? else {
        return bad(format!("no appointment `{appointment}`: see `praxis schedule show --json` for ids"));
    };
    let list = practice.store.appointments_for_client(&a.client).map_err(store_error)?;
    let clients = practice.store.clients().map_err(store_error)?;
    let audit = practice.store.audit().map_err(store_error)?;
    let name = &practice.config.file.practice.name;
    let input = FeedInput {
        name: name.clone(),
        tz: practice.config.time_zone(),
        appointments: &list,
        clients: &clients,
        rooms: &practice.config.rooms,
        audit: &audit,
        client_names: practice.config.file.calendar.client_names,
    };
    let text = praxis_core::interop::ics::confirmation(appointment, name, &input).map_err(interop_error)?;
    match out {
        Some(path) => super::write_atomic(path, text.as_bytes())?,
        None => out!("{text}"),
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum FeedTokenCommand {
    /// Make a new secret token for a practitioner's calendar feed (replacing any older one); prints it once.
    Create {
        /// The practitioner's id.
        practitioner: String,
    },
    /// Revoke a practitioner's feed token.
    Revoke {
        /// The practitioner's id.
        practitioner: String,
    },
}

fn feed_token(loc: &Locations, cmd: &FeedTokenCommand) -> Result<()> {
    let config = loc.load_config()?;
    let mut tokens = FeedTokens::load(&config.data_dir).map_err(interop_error)?;
    match cmd {
        FeedTokenCommand::Create { practitioner } => {
            if !config.practitioners.iter().any(|p| &p.id == practitioner) {
                return bad(format!("no practitioner `{practitioner}` in {}", config.path.display()));
            }
            let token = tokens.create(practitioner).map_err(interop_error)?;
            outln!("{token}");
            eprintln!(
                "feed URL: /calendar/practitioner/{practitioner}.ics?token={token} (shown once; only its SHA-256 is kept)"
            );
        }
        FeedTokenCommand::Revoke { practitioner } => {
            if !tokens.revoke(practitioner).map_err(interop_error)? {
                return bad(format!("practitioner `{practitioner}` has no feed token"));
            }
            eprintln!("revoked the feed token of {practitioner}");
        }
    }
    Ok(())
}
