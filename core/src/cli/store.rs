//! `praxis store check`, `praxis store repair` and `praxis store copy`.

use anyhow::Result;
use clap::Subcommand;
use praxis_core::store::{Store, StoreLocation, check_store, is_postgres_url, repair_store};

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
    /// Copy the whole practice (records, audit log, staff accounts, tokens) into another, empty store, all or
    /// nothing: a PostgreSQL database (`postgres://...`) or a folder. Stop the servers first. Then point
    /// `[store] url` at the copy (or remove the key to use the folder `store` in the data folder).
    Copy {
        /// The target: `postgres://user@host/database`, or a folder for a sled store.
        #[arg(long, value_name = "URL-OR-DIR")]
        to: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(loc: &Locations, cmd: &StoreCommand) -> Result<()> {
    let config = loc.load_config()?;
    if let StoreCommand::Copy { to, json } = cmd {
        return copy(&config, to, *json);
    }
    if let StoreLocation::Postgres(_) = config.store_location() {
        return super::bad(
            "`praxis store check` and `repair` are for the sled store in the data folder; this practice is on \
             PostgreSQL (`[store] url`): use `praxis audit verify`, and PostgreSQL's own tools (pg_amcheck, backups)",
        );
    }
    let dir = config.store_dir();
    match cmd {
        StoreCommand::Copy { .. } => unreachable!("handled above"),
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

fn copy(config: &praxis_core::config::PracticeConfig, to: &str, json: bool) -> Result<()> {
    super::refuse_if_served(config)?;
    let target = StoreLocation::parse(to);
    if let StoreLocation::Folder(dir) = &target
        && dir.exists()
        && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true)
    {
        return super::bad(format!(
            "{} exists and is not empty: copy into a new folder (or a PostgreSQL URL, postgres://...)",
            dir.display()
        ));
    }
    if !is_postgres_url(to) && to.contains("://") {
        return super::bad(format!(
            "`{}` is neither a PostgreSQL URL (postgres://...) nor a folder",
            praxis_core::service::excerpt(to)
        ));
    }
    let source_at = config.store_location();
    if source_at == target {
        return super::bad("the target is the store this practice already uses: name another database or folder");
    }
    let source = Store::open_at(&source_at, config.store_options()).map_err(store_error)?;
    let copy = Store::open_at(&target, config.store_options()).map_err(store_error)?;
    let report = source.copy_to(&copy).map_err(store_error)?;
    if json {
        return print_json(&report);
    }
    outln!(
        "copied {} records, {} audit entries and {} accounts and tokens from {} to {}",
        report.records,
        report.audit_entries,
        report.credentials,
        source.location(),
        copy.location()
    );
    outln!("the copy exports the same practice; its audit head is the same");
    match target {
        StoreLocation::Postgres(url) => {
            outln!("to use it, set in {}:\n  [store]\n  url = \"{url}\"", config.path.display())
        }
        StoreLocation::Folder(dir) => outln!(
            "to use it, remove `[store] url` from {} and put {} in place of {}",
            config.path.display(),
            dir.display(),
            config.store_dir().display()
        ),
    }
    Ok(())
}
