//! `praxis plugins list | verify | trust`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use praxis_core::plugin_host::{
    Candidate, DefaultPolicy, Origin, PluginPolicy, PluginRegistry, PluginReport, PluginSearch, sha256_file,
};
use praxis_sdk::testing::{ClientBuilder, massage};
use praxis_sdk::{ConditionStatus, Date, PluginKind, Pressure};

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
        PluginsCommand::Verify { file, json } => verify(loc, file, *json),
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
        println!(
            "No plugin files found (looked next to the executable, in the practice's plugin folders and in PRAXIS_PLUGIN_PATH)."
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = reports.iter().map(row).collect();
    print!("{}", table(&["ID", "NAME", "VERSION", "KINDS", "ABI", "STATUS", "SHA-256", "FILE"], &rows));
    for r in reports.iter().filter(|r| r.reason.is_some()) {
        println!("\n{}: refused: {}", r.path, r.reason.as_deref().unwrap_or_default());
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

/// A synthetic client with every condition the plugin handles, for a smoke call.
fn sample_client(codes: &[String], today: Date) -> praxis_sdk::ClientSnapshot {
    let mut b = ClientBuilder::new("verify-sample").intake(&today.add_days(-60).to_string());
    for code in codes {
        b = b.condition(code, ConditionStatus::Active);
    }
    for back in [42, 28, 14] {
        b = b.session(massage(&today.add_days(-back).to_string()).minutes(30).pressure(Pressure::Light).pain(6, 4));
    }
    b.build()
}

fn verify(loc: &Locations, file: &std::path::Path, json: bool) -> Result<()> {
    if !file.is_file() {
        return bad(format!("{} is not a file", file.display()));
    }
    let config = if loc.config_path.exists() { Some(loc.load_config()?) } else { None };
    let trusted = config.as_ref().map(|c| c.trusted()).unwrap_or_default();
    let sha = sha256_file(file).with_context(|| format!("reading {}", file.display()))?;
    let is_trusted = trusted.contains(&sha);
    let mut registry = PluginRegistry::default();
    // `verify` names the file explicitly: the user asks for it to be opened,
    // so the trust list decides only whether the practice would load it.
    let mut allow = trusted.clone();
    allow.insert(sha.clone());
    let policy: &dyn PluginPolicy = match &config {
        Some(c) => c,
        None => &DefaultPolicy,
    };
    let report =
        registry.load_file(&Candidate { path: file.to_path_buf(), origin: Origin::Direct }, &allow, policy).clone();
    let mut smoke = None;
    if let Some(plugin) = registry.all().first() {
        let today = config.as_ref().map_or_else(|| Date::from_days(20_000), |c| c.today());
        if plugin.manifest().is(PluginKind::Protocol) {
            let codes: Vec<String> = plugin.manifest().conditions.iter().map(|c| c.code.clone()).collect();
            smoke = Some(match plugin.evaluate(today, &sample_client(&codes, today)) {
                Ok(g) => Ok(format!(
                    "answered a sample client with {} card(s); the guidance passed validation",
                    g.cards.len()
                )),
                Err(e) => Err(e.to_string()),
            });
        }
    }
    if json {
        let value = serde_json::json!({
            "report": report,
            "trusted": is_trusted,
            "smoke_test": smoke.as_ref().map(|r| match r { Ok(m) => serde_json::json!({"ok": true, "message": m}), Err(m) => serde_json::json!({"ok": false, "message": m}) }),
        });
        print_json(&value)?;
    } else {
        println!("file:      {}", report.path);
        println!("sha-256:   {sha}");
        match &report.reason {
            Some(reason) => println!("verdict:   REFUSED: {reason}"),
            None => {
                println!("verdict:   accepted");
                println!(
                    "plugin:    {} {} ({})",
                    report.id.as_deref().unwrap_or("?"),
                    report.version.as_deref().unwrap_or("?"),
                    report.name.as_deref().unwrap_or("?")
                );
                println!("kinds:     {}", report.kinds.join(", "));
                println!(
                    "abi:       {} (sdk {})",
                    report.abi.as_deref().unwrap_or("?"),
                    report.sdk_version.as_deref().unwrap_or("?")
                );
                println!(
                    "handles:   {}",
                    if report.conditions.is_empty() { "-".to_owned() } else { report.conditions.join(", ") }
                );
            }
        }
        if let Some(s) = &smoke {
            match s {
                Ok(m) => println!("smoke:     {m}"),
                Err(m) => println!("smoke:     FAILED: {m}"),
            }
        }
        if config.is_some() {
            println!(
                "trusted:   {}",
                if is_trusted {
                    "yes, in this practice's trust list".to_owned()
                } else {
                    "no: run `praxis plugins trust FILE` to let this practice load it from a plugin folder".to_owned()
                }
            );
        }
    }
    if let Some(reason) = report.reason {
        return bad(format!("plugin refused: {reason}"));
    }
    if let Some(Err(m)) = smoke {
        return bad(format!("plugin loads but its answer was refused: {m}"));
    }
    Ok(())
}

fn trust(loc: &Locations, file: &std::path::Path) -> Result<()> {
    let config = loc.load_config()?;
    if !file.is_file() {
        return bad(format!("{} is not a file", file.display()));
    }
    let sha = sha256_file(file).with_context(|| format!("reading {}", file.display()))?;
    if config.trusted().contains(&sha) {
        println!("{} is already trusted ({sha})", file.display());
        return Ok(());
    }
    let text = std::fs::read_to_string(&config.path).with_context(|| format!("reading {}", config.path.display()))?;
    let mut doc: toml_edit::DocumentMut = text.parse().with_context(|| format!("parsing {}", config.path.display()))?;
    let plugins = doc.entry("plugins").or_insert(toml_edit::table());
    let plugins = plugins.as_table_like_mut().context("`plugins` in the config is not a table")?;
    let trusted = plugins.entry("trusted").or_insert(toml_edit::value(toml_edit::Array::new()));
    let array = trusted.as_array_mut().context("`plugins.trusted` in the config is not a list")?;
    array.push(sha.clone());
    super::write_atomic(&config.path, doc.to_string().as_bytes())?;
    println!("trusted {} ({sha}) in {}", file.display(), config.path.display());
    Ok(())
}
