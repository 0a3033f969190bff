//! `praxis plugins list | verify | trust`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use praxis_core::plugin_host::{DefaultPolicy, PluginPolicy, PluginRegistry, PluginReport, PluginSearch, verify};
use praxis_sdk::Date;

use super::{Locations, bad, print_json, table};

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List every plugin file the host finds, loaded or refused, and why.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load one plugin file and report what the host thinks of it.
    Verify {
        /// The shared library.
        file: PathBuf,
        /// Also run it on several sample clients (or a sample schedule
        /// request) and report every field of its answers, and of its
        /// manifest, that the host does not know; exit 2 when there is one.
        #[arg(long)]
        strict: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a plugin file's SHA-256 to the practice's trust list.
    Trust {
        /// The shared library.
        file: PathBuf,
    },
}

pub fn run(loc: &Locations, cmd: &PluginsCommand) -> Result<()> {
    match cmd {
        PluginsCommand::List { json } => list(loc, *json),
        PluginsCommand::Verify { file, strict, json } => verify(loc, file, *strict, *json),
        PluginsCommand::Trust { file } => trust(loc, file),
    }
}

fn list(loc: &Locations, json: bool) -> Result<()> {
    let registry = if loc.config_path.exists() {
        praxis_core::service::load_plugins(&loc.load_config()?)
    } else {
        tracing::info!(config = %loc.config_path.display(), "no practice config: listing the executable's folder and PRAXIS_PLUGIN_PATH only");
        PluginRegistry::discover(&PluginSearch::from_env(Vec::new(), BTreeSet::new()), &DefaultPolicy)
    };
    let reports = registry.reports();
    if json {
        return print_json(&reports);
    }
    if reports.is_empty() {
        outln!(
            "No plugin files found (looked next to the executable, in the practice's plugin folders and in PRAXIS_PLUGIN_PATH)."
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = reports.iter().map(row).collect();
    out!("{}", table(&["ID", "NAME", "VERSION", "KINDS", "ABI", "STATUS", "SHA-256", "FILE"], &rows));
    for r in reports.iter().filter(|r| r.reason.is_some()) {
        outln!("\n{}: {}: {}", r.path, r.status, r.reason.as_deref().unwrap_or_default());
    }
    Ok(())
}

fn row(r: &PluginReport) -> Vec<String> {
    vec![
        r.id.clone().unwrap_or_else(|| "-".into()),
        r.name.clone().unwrap_or_else(|| "-".into()),
        r.version.clone().unwrap_or_else(|| "-".into()),
        if r.kinds.is_empty() { "-".into() } else { r.kinds.join(",") },
        r.abi.clone().unwrap_or_else(|| "-".into()),
        r.status.clone(),
        r.sha256.as_deref().map_or("-".into(), |s| s[..12.min(s.len())].to_owned()),
        r.path.clone(),
    ]
}

fn verify(loc: &Locations, file: &std::path::Path, strict: bool, json: bool) -> Result<()> {
    let config = if loc.config_path.exists() { Some(loc.load_config()?) } else { None };
    let trusted = config.as_ref().map(|c| c.trusted()).unwrap_or_default();
    let named = match verify::inspect(file, &trusted) {
        Ok(named) => named,
        Err(e) => return bad(e.to_string()),
    };
    // Say whether the file is trusted before any of its code runs.
    if !json {
        outln!("file:      {}", named.path.display());
        outln!("sha-256:   {}", named.sha256);
        if config.is_some() {
            outln!(
                "trusted:   {}",
                if named.trusted {
                    "yes, in this practice's trust list".to_owned()
                } else {
                    "no: run `praxis plugins trust FILE` to let this practice load it from a plugin folder".to_owned()
                }
            );
        } else {
            outln!("trusted:   no practice config here; nothing is trusted but the executable's folder");
        }
    }
    let policy: &dyn PluginPolicy = match &config {
        Some(c) => c,
        None => &DefaultPolicy,
    };
    let today = config.as_ref().map_or_else(|| Date::from_days(20_000), |c| c.today());
    let verification = verify::verify(&named, policy, today, strict);
    let report = &verification.report;
    if json {
        let value = serde_json::json!({
            "report": report,
            "trusted": named.trusted,
            "smoke_test": verification.smoke.as_ref().map(|r| match r { Ok(m) => serde_json::json!({"ok": true, "message": m}), Err(m) => serde_json::json!({"ok": false, "message": m}) }),
            "strict": verification.strict,
        });
        print_json(&value)?;
    } else {
        match &report.reason {
            Some(reason) => outln!("verdict:   REFUSED: {reason}"),
            None => {
                outln!("verdict:   accepted");
                outln!(
                    "plugin:    {} {} ({})",
                    report.id.as_deref().unwrap_or("?"),
                    report.version.as_deref().unwrap_or("?"),
                    report.name.as_deref().unwrap_or("?")
                );
                outln!("kinds:     {}", report.kinds.join(", "));
                outln!(
                    "abi:       {} (sdk {})",
                    report.abi.as_deref().unwrap_or("?"),
                    report.sdk_version.as_deref().unwrap_or("?")
                );
                outln!(
                    "handles:   {}",
                    if report.conditions.is_empty() { "-".to_owned() } else { report.conditions.join(", ") }
                );
            }
        }
        match &verification.smoke {
            Some(Ok(m)) => outln!("smoke:     {m}"),
            Some(Err(m)) => outln!("smoke:     FAILED: {m}"),
            None => {}
        }
        if let Some(strict) = &verification.strict {
            outln!(
                "strict:    read {} answer(s): {}; {} unknown field(s)",
                strict.answers.len(),
                strict.answers.join(", "),
                strict.unknown.len()
            );
            for slip in &strict.unknown {
                outln!("  {slip}");
            }
            for failure in &strict.failures {
                outln!("  FAILED: {failure}");
            }
        }
    }
    match verification.refusal() {
        Some(refusal) => bad(refusal),
        None => Ok(()),
    }
}

fn trust(loc: &Locations, file: &std::path::Path) -> Result<()> {
    let config = loc.load_config()?;
    let named = match verify::inspect(file, &config.trusted()) {
        Ok(named) => named,
        Err(e) => return bad(e.to_string()),
    };
    let (file, sha) = (named.path.as_path(), named.sha256.clone());
    if named.trusted {
        outln!("{} is already trusted ({sha})", file.display());
        return Ok(());
    }
    // The same verification as `plugins verify`: never trust what it refuses.
    if let Some(refusal) = verify::verify(&named, &config, config.today(), false).refusal() {
        return bad(format!("not trusted: {}: {refusal}", file.display()));
    }
    let text = std::fs::read_to_string(&config.path).with_context(|| format!("reading {}", config.path.display()))?;
    let mut doc: toml_edit::DocumentMut = text.parse().with_context(|| format!("parsing {}", config.path.display()))?;
    let plugins = doc.entry("plugins").or_insert(toml_edit::table());
    let plugins = plugins.as_table_like_mut().context("`plugins` in the config is not a table")?;
    let trusted = plugins.entry("trusted").or_insert(toml_edit::value(toml_edit::Array::new()));
    let array = trusted.as_array_mut().context("`plugins.trusted` in the config is not a list")?;
    array.push(sha.clone());
    super::write_atomic(&config.path, doc.to_string().as_bytes())?;
    outln!("trusted {} ({sha}) in {}", file.display(), config.path.display());
    Ok(())
}
