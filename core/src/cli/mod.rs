//! The command line: argument parsing, the practice context, and dispatch.
//!
//! Output goes through `out!` / `outln!`, never `print!`: they write to the
//! host's own stdout (`plugin_host::stdout`), which no plugin can reach.

/// `print!` to the host's own stdout.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_out(format_args!($($arg)*)) };
}

/// `println!` to the host's own stdout.
macro_rules! outln {
    () => { $crate::cli::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

mod data;
mod demo;
mod guidance;
mod plugin_host;
mod plugins;
mod practice;
mod schedule;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use praxis_core::config::{CONFIG_FILE_NAME, PracticeConfig};
use praxis_core::plugin_host::{PluginRegistry, PluginSearch};
use praxis_core::store::{Store, StoreError};

/// Bad usage or bad input: exit code 2. Anything else that fails is exit code 1.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// Writes to the host's own stdout; like `print!`, panics if stdout is gone.
pub fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    if let Err(e) = praxis_core::plugin_host::stdout::host_stdout().write_fmt(args) {
        panic!("failed printing to stdout: {e}");
    }
}

/// Returns a bad-input error.
pub fn bad<T>(message: impl Into<String>) -> Result<T> {
    Err(BadInput(message.into()).into())
}

#[derive(Debug, Parser)]
#[command(name = "praxis", version, about = "Practice-management workspace for chronic-pain clinics", long_about = None)]
pub struct Cli {
    /// The practice's data folder (holds the store, and praxis.toml unless --config says otherwise).
    #[arg(long, global = true, env = "PRAXIS_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The practice's configuration file.
    #[arg(long, global = true, env = "PRAXIS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Who is making changes, for the audit log (default: $USER).
    #[arg(long = "as", global = true, env = "PRAXIS_USER", value_name = "NAME")]
    pub actor: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new practice: a data folder with a praxis.toml and an empty store.
    Init(practice::InitArgs),
    /// Clients: add, list, show, update.
    #[command(subcommand)]
    Client(practice::ClientCommand),
    /// Record a client's intake: pain patterns, sensitivities, previous treatments, medications (rule S3).
    Intake(practice::IntakeArgs),
    /// Sessions: record one, or add its 24-48 hour follow-up pain report.
    #[command(subcommand)]
    Session(practice::SessionCommand),
    /// Guidance for a client before a session: what is safe today, how long, how firm, what to avoid, when next.
    Guidance(guidance::GuidanceArgs),
    /// Override a client's critical card for the next booking, with a reason (recorded in the audit log).
    Override(guidance::OverrideArgs),
    /// Schedule: plan the next weeks for every care plan, book the plan, show bookings.
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// Reports.
    #[command(subcommand)]
    Report(guidance::ReportCommand),
    /// Plugins: list what the host loads, verify a file, trust a file.
    #[command(subcommand)]
    Plugins(plugins::PluginsCommand),
    /// Export the whole practice as JSON (see `praxis schema`).
    Export(data::ExportArgs),
    /// Import a practice export, all or nothing.
    Import(data::ImportArgs),
    /// Print the JSON Schema of the export format.
    Schema,
    /// Run a demo clinic in a new folder: a dozen clients, guidance, an 8-week schedule, outcomes.
    Demo(demo::DemoArgs),
    /// The child process of an isolated plugin (used by the host itself).
    #[command(hide = true)]
    PluginHost(plugin_host::PluginHostArgs),
}

/// Where the practice lives, resolved from the global flags.
#[derive(Debug, Clone)]
pub struct Locations {
    pub config_path: PathBuf,
    pub data_override: Option<PathBuf>,
    pub actor: String,
}

impl Locations {
    pub fn resolve(cli: &Cli) -> Locations {
        let config_path = match (&cli.config, &cli.data) {
            (Some(c), _) => c.clone(),
            (None, Some(d)) => d.join(CONFIG_FILE_NAME),
            (None, None) => PathBuf::from(CONFIG_FILE_NAME),
        };
        let actor = cli
            .actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|a| !a.trim().is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        Locations { config_path, data_override: cli.data.clone(), actor }
    }

    pub fn load_config(&self) -> Result<PracticeConfig> {
        if !self.config_path.exists() {
            return bad(format!(
                "no practice configuration at {}: create a practice with `praxis init --data DIR`, or pass --config FILE / --data DIR",
                self.config_path.display()
            ));
        }
        PracticeConfig::load(&self.config_path, self.data_override.as_deref())
            .map_err(|e| BadInput(e.to_string()).into())
    }
}

/// An open practice: its configuration and its store.
pub struct Practice {
    pub config: PracticeConfig,
    pub store: Store,
    pub actor: String,
    plugins: std::cell::OnceCell<PluginRegistry>,
}

/// Maps store errors: what the user gave wrong is exit code 2, the rest 1.
pub fn store_error(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid(_)
        | StoreError::NotFound { .. }
        | StoreError::Format { .. }
        | StoreError::UnsupportedFormat { .. }
        | StoreError::BadActor(_) => BadInput(e.to_string()).into(),
        other => anyhow::Error::new(other),
    }
}

impl Practice {
    /// Loads the config and opens the store, bringing the store's
    /// practitioners and rooms in line with the configuration.
    pub fn open(loc: &Locations) -> Result<Practice> {
        let practice = Practice::open_unsynced(loc)?;
        practice.sync_calendar()?;
        Ok(practice)
    }

    /// Opens without touching the store's practitioners and rooms (for
    /// `init`, `export` and `import`, which must see the store as it is).
    pub fn open_unsynced(loc: &Locations) -> Result<Practice> {
        let config = loc.load_config()?;
        let dir = config.store_dir();
        let store = Store::open(&dir).map_err(store_error)?;
        Ok(Practice { config, store, actor: loc.actor.clone(), plugins: std::cell::OnceCell::new() })
    }

    fn sync_calendar(&self) -> Result<()> {
        let stored = self.store.practitioners().map_err(store_error)?;
        for p in &self.config.practitioners {
            if !stored.iter().any(|s| s == p) {
                self.store.put_practitioner(p, &self.actor).map_err(store_error)?;
            }
        }
        let rooms = self.store.rooms().map_err(store_error)?;
        for r in &self.config.rooms {
            if !rooms.iter().any(|s| s == r) {
                self.store.put_room(r, &self.actor).map_err(store_error)?;
            }
        }
        Ok(())
    }

    /// The practice's plugins, loaded on first use, once per command.
    pub fn plugins(&self) -> &PluginRegistry {
        self.plugins.get_or_init(|| load_plugins(&self.config))
    }

    /// Today in the practice's time zone.
    pub fn today(&self) -> praxis_sdk::Date {
        self.config.today()
    }

    /// A client by id, unique id prefix, or full name (case-insensitive).
    pub fn find_client(&self, key: &str) -> Result<praxis_core::store::Client> {
        let key = key.trim();
        if let Some(c) = self.store.get_client(key).map_err(store_error)? {
            return Ok(c);
        }
        let clients = self.store.clients().map_err(store_error)?;
        let by_prefix: Vec<_> = clients.iter().filter(|c| key.len() >= 4 && c.id.starts_with(key)).collect();
        let by_name: Vec<_> = clients.iter().filter(|c| c.name.eq_ignore_ascii_case(key)).collect();
        match (by_prefix.as_slice(), by_name.as_slice()) {
            ([one], _) | ([], [one]) => Ok((*one).clone()),
            ([], []) => bad(format!("no client `{key}`: give an id (see `praxis client list`) or the full name")),
            _ => bad(format!("`{key}` matches several clients: give the full id (see `praxis client list`)")),
        }
    }
}

/// Loads every plugin the practice's config allows.
pub fn load_plugins(config: &PracticeConfig) -> PluginRegistry {
    let search = PluginSearch::from_env(config.plugin_folders(), config.trusted());
    let registry = PluginRegistry::discover(&search, config);
    for id in config.file.plugins.modules.keys() {
        if registry.get(id).is_none() {
            tracing::warn!(plugin = %id, "the configuration has settings for plugin `{id}`, but no such plugin was loaded");
        }
    }
    registry
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

pub fn run() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    // Before any plugin is loaded: fd 1 becomes stderr, the host keeps a
    // private copy of its stdout (see `plugin_host::stdout`).
    if let Err(e) = praxis_core::plugin_host::stdout::take_stdout() {
        tracing::warn!("could not keep stdout from plugins: {e}");
    }
    match dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<BadInput>().is_some() {
                eprintln!("error: {e}");
                ExitCode::from(2)
            } else {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        }
    }
}

fn dispatch(cli: &Cli) -> Result<()> {
    let loc = Locations::resolve(cli);
    match &cli.command {
        Command::Init(args) => practice::init(&loc, args),
        Command::Client(cmd) => practice::client(&loc, cmd, false),
        Command::Intake(args) => practice::intake(&loc, args),
        Command::Session(cmd) => practice::session(&loc, cmd),
        Command::Guidance(args) => guidance::guidance(&loc, args),
        Command::Override(args) => guidance::override_card(&loc, args),
        Command::Report(cmd) => guidance::report(&loc, cmd),
        Command::Plugins(cmd) => plugins::run(&loc, cmd),
        Command::Export(args) => data::export(&loc, args),
        Command::Import(args) => data::import(&loc, args),
        Command::Schema => data::schema(),
        Command::Schedule(cmd) => schedule::run(&loc, cmd),
        Command::Demo(args) => demo::demo(&loc, args),
        Command::PluginHost(args) => plugin_host::run(args),
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    outln!("{}", serde_json::to_string_pretty(value).context("encoding JSON")?);
    Ok(())
}

/// Formats rows as a plain aligned table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// Writes a file atomically: a temporary file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("praxis")));
    let mut f = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(contents).with_context(|| format!("writing {}", tmp.display()))?;
    f.sync_all().with_context(|| format!("syncing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
