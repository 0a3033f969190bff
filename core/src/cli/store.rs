//! `praxis store check` and `praxis store repair`.

use anyhow::Result;
use clap::Subcommand;
use praxis_core::store::{check_store, repair_store};

use super::{Locations, print_json, store_error};

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Check the store without changing it: open a copy, recover what sled left unfinished, verify the audit log.
    Check {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Repair a store that will not open: copy it first (to STORE.backup-TIME), then set aside what sled cannot
    /// read, and audit what was done.
    Repair {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(loc: &Locations, cmd: &StoreCommand) -> Result<()> {
    let dir = loc.load_config()?.store_dir();
    match cmd {
        StoreCommand::Check { json } => {
            let check = check_store(&dir).map_err(store_error)?;
            if *json {
                print_json(&check)?;
            } else {
                outln!("store: {}", dir.display());
                for s in &check.unfinished_snapshots {
                    outln!("  unfinished snapshot {s}: opening sets it aside (kept in recovered/)");
                }
                match (&check.error, &check.audit) {
                    (Some(e), _) => {
                        outln!("  does not open: {e}\n  run `praxis store repair` (it copies the store first)")
                    }
                    (None, Some(a)) if a.ok() => {
                        outln!("  opens; {} records; audit log verified ({} entries)", check.records, a.entries)
                    }
                    (None, Some(a)) => {
                        outln!("  opens; {} records; the audit log does NOT verify:", check.records);
                        for p in &a.problems {
                            outln!("    {p}");
                        }
                    }
                    (None, None) => outln!("  opens"),
                }
            }
            let bad = check.error.is_some() || check.audit.as_ref().is_some_and(|a| !a.ok());
            if bad {
                anyhow::bail!("the store at {} needs attention (see above)", dir.display());
            }
            Ok(())
        }
        StoreCommand::Repair { json } => {
            let report = repair_store(&dir).map_err(store_error)?;
            if *json {
                return print_json(&report);
            }
            for a in &report.actions {
                outln!("{a}");
            }
            if report.audit.ok() {
                outln!("the store opens; audit log verified ({} entries)", report.audit.entries);
            } else {
                outln!("the store opens, but its audit log does not verify: {}", report.audit.problems[0]);
            }
            outln!("the original is kept in {}", report.backup.display());
            Ok(())
        }
    }
}
