//! `praxis audit verify`: the audit log's hash chain and every record against
//! it; `praxis audit show`: who read and who changed what.

use anyhow::Result;
use clap::Subcommand;

use praxis_core::service::AuditFilter;
use praxis_core::service::protocol::{Request, Response};

use super::{Backend, Locations, Practice, print_json, store_error, table, unexpected};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show audit entries, oldest first: every change and every read of a chart, with who and when.
    Show {
        /// Only entries about this client (id, id prefix or full name).
        #[arg(long)]
        client: Option<String>,
        /// Only entries made by this person (a login, or the local name).
        #[arg(long)]
        user: Option<String>,
        /// Only entries on or after this day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<praxis_sdk::Date>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify the audit log: its hash chain, and every record against the state the log last recorded. Exits 1
    /// and names the first entry at fault when something does not match.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(loc: &Locations, cmd: &AuditCommand) -> Result<()> {
    let json = match cmd {
        AuditCommand::Show { client, user, since, json } => {
            let filter = AuditFilter { client: client.clone(), user: user.clone(), since: *since };
            return show(loc, filter, *json);
        }
        AuditCommand::Verify { json } => json,
    };
    let practice = Practice::open_unsynced(loc)?;
    let check = practice.store.verify_audit().map_err(store_error)?;
    if *json {
        print_json(&check)?;
    } else if check.ok() {
        outln!(
            "audit log verified: {} entries, {} records match their last audited state\nhead: {} (keep it elsewhere: a log rewritten as a whole changes it)",
            check.entries,
            check.records,
            check.head
        );
    } else {
        outln!("the audit log does NOT verify ({} entries, {} records):", check.entries, check.records);
        for p in &check.problems {
            outln!("  {p}");
        }
    }
    match check.problems.first() {
        None => Ok(()),
        Some(first) => anyhow::bail!(
            "the audit log does not verify: first problem at {first}; the store was changed outside Praxis: restore it from a backup you trust, and find out who could write to {}",
            practice.store.path().display()
        ),
    }
}

fn show(loc: &Locations, filter: AuditFilter, json: bool) -> Result<()> {
    let backend = Backend::connect_unsynced(loc)?;
    let Response::AuditLog(entries) = backend.call(Request::AuditLog { filter })? else { return unexpected() };
    if json {
        return print_json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let what = e
                .after
                .as_ref()
                .and_then(|a| a.get("read").or_else(|| a.get("event")).or_else(|| a.get("change")))
                .and_then(|v| v.as_str())
                .map_or_else(String::new, str::to_owned);
            vec![
                e.seq.to_string(),
                e.at.to_string(),
                e.actor.clone(),
                format!("{:?}", e.action).to_lowercase(),
                e.entity.clone(),
                e.key.clone(),
                what,
            ]
        })
        .collect();
    out!("{}", table(&["SEQ", "AT", "WHO", "ACTION", "RECORD", "ID", "WHAT"], &rows));
    Ok(())
}
