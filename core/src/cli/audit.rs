//! `praxis audit verify`: the audit log's hash chain and every record against it.

use anyhow::Result;
use clap::Subcommand;

use super::{Locations, Practice, print_json, store_error};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log: its hash chain, and every record against the state the log last recorded. Exits 1
    /// and names the first entry at fault when something does not match.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(loc: &Locations, cmd: &AuditCommand) -> Result<()> {
    let AuditCommand::Verify { json } = cmd;
    let practice = Practice::open_unsynced(loc)?;
    let check = practice.store.verify_audit().map_err(store_error)?;
    if *json {
        print_json(&check)?;
    } else if check.ok() {
        println!(
            "audit log verified: {} entries, {} records match their last audited state\nhead: {} (keep it elsewhere: a log rewritten as a whole changes it)",
            check.entries, check.records, check.head
        );
    } else {
        println!("the audit log does NOT verify ({} entries, {} records):", check.entries, check.records);
        for p in &check.problems {
            println!("  {p}");
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
