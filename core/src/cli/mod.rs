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

mod audit;
mod data;
mod demo;
mod generate;
mod guidance;
mod interop;
mod plugin_host;
mod plugins;
mod practice;
mod schedule;
mod serve;
mod store;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use praxis_core::config::{CONFIG_FILE_NAME, PracticeConfig};
use praxis_core::plugin_host::PluginRegistry;
use praxis_core::server::socket::ServerClient;
use praxis_core::service::protocol::{Request, Response};
use praxis_core::service::{Actor, ErrorKind, PracticeService, ServiceError};
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
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`praxis ... | head`): stop quietly.
            std::process::exit(0);
        }
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
    /// Who is making changes, for the audit log (default: $USER, else your account name); must not be empty.
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
    Client(Box<practice::ClientCommand>),
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
    /// Export the whole practice as JSON (see `praxis schema`). The export holds health data (names, conditions,
    /// pain scores, medications): it is written with mode 0600; keep it where only the practice can read it.
    Export(data::ExportArgs),
    /// Import a practice export, all or nothing.
    Import(data::ImportArgs),
    /// Print the JSON Schema of the export format.
    Schema,
    /// Calendar: a practitioner's secret feed token (create, revoke), a client's confirmation as .ics.
    #[command(subcommand)]
    Calendar(interop::CalendarCommand),
    /// The audit log: verify its hash chain and every record against it.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The store: check it without changing it, or repair one that will not open (a copy is kept first).
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Run a demo clinic in a new folder: a dozen clients, guidance, an 8-week schedule, outcomes.
    Demo(demo::DemoArgs),
    /// Write a synthetic practice export at clinic scale (for benchmarks), deterministic with a seed.
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
    /// Serve the practice: the JSON API for the whole team, and this command line beside it.
    Serve(serve::ServeArgs),
    /// API tokens: create one (shown once), list them, revoke one.
    #[command(subcommand)]
    Token(serve::TokenCommand),
    /// Staff accounts: add, list, disable, change a password.
    #[command(subcommand)]
    User(serve::UserCommand),
    /// Configuration: reload praxis.toml in a running server.
    #[command(subcommand)]
    Config(serve::ConfigCommand),
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
    pub fn resolve(cli: &Cli) -> Result<Locations> {
        let config_path = match (&cli.config, &cli.data) {
            (Some(c), _) => c.clone(),
            (None, Some(d)) => d.join(CONFIG_FILE_NAME),
            (None, None) => PathBuf::from(CONFIG_FILE_NAME),
        };
        let user = std::env::var("USER").ok();
        let actor = praxis_core::local::resolve_actor(
            cli.actor.as_deref(),
            user.as_deref(),
            praxis_core::local::os_account_name,
        )
        .map_err(|e| BadInput(e.to_string()))?;
        Ok(Locations { config_path, data_override: cli.data.clone(), actor })
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

/// An open practice, for the commands that work on the store in this
/// process (the demo, and the scheduling commands): the service, and
/// shortcuts to its configuration and store.
pub struct Practice {
    pub config: Arc<PracticeConfig>,
    pub store: Arc<Store>,
    pub actor: String,
    pub service: PracticeService,
}

/// Maps store errors: what the user gave wrong is exit code 2, the rest 1.
pub fn store_error(e: StoreError) -> anyhow::Error {
    service_error(ServiceError::Store(e))
}

/// Maps service errors: bad input and unknown ids are exit code 2, the rest 1.
pub fn service_error(e: ServiceError) -> anyhow::Error {
    match e.kind() {
        ErrorKind::BadInput | ErrorKind::NotFound | ErrorKind::Forbidden | ErrorKind::Unauthenticated => {
            BadInput(e.to_string()).into()
        }
        ErrorKind::Conflict | ErrorKind::Failed => anyhow::Error::new(e),
    }
}

/// The answer a request should not have had (a server of another version).
pub fn unexpected<T>() -> Result<T> {
    anyhow::bail!("the practice service gave an unexpected answer: is the server the same Praxis version?")
}

impl Practice {
    /// Loads the config and opens the store, bringing the store's
    /// practitioners and rooms in line with the configuration.
    pub fn open(loc: &Locations) -> Result<Practice> {
        let config = loc.load_config()?;
        refuse_if_served(&config)?;
        Practice::wrap(loc, PracticeService::open(config).map_err(service_error)?)
    }

    /// Opens without touching the store's practitioners and rooms (for the
    /// commands that must see the store as it is: export, import, verify).
    pub fn open_unsynced(loc: &Locations) -> Result<Practice> {
        let config = loc.load_config()?;
        refuse_if_served(&config)?;
        Practice::wrap(loc, PracticeService::open_unsynced(config).map_err(service_error)?)
    }

    fn wrap(loc: &Locations, service: PracticeService) -> Result<Practice> {
        print_open_warnings(&service);
        Ok(Practice { config: service.config(), store: service.shared_store(), actor: loc.actor.clone(), service })
    }

    /// The person running the command: the local account that owns the
    /// data folder, named for the audit log by `--as` / `PRAXIS_USER` / `$USER`.
    pub fn owner(&self) -> Result<Actor> {
        Actor::new(&self.actor).map_err(service_error)
    }

    /// The practice's plugins, loaded on first use, once per command.
    pub fn plugins(&self) -> &PluginRegistry {
        self.service.plugins()
    }

    /// Today in the practice's time zone.
    pub fn today(&self) -> praxis_sdk::Date {
        self.config.today()
    }
}

fn print_open_warnings(service: &PracticeService) {
    for warning in service.open_warnings() {
        eprintln!("warning: {warning}");
    }
}

/// A command that works on the store in this process cannot run beside a
/// server that holds it: say so, rather than "in use".
pub(crate) fn refuse_if_served(config: &PracticeConfig) -> Result<()> {
    if ServerClient::find(&config.data_dir).is_some() {
        anyhow::bail!(
            "`praxis serve` is running on {}: this command cannot run beside it yet; stop the server, or use its API",
            config.data_dir.display()
        );
    }
    Ok(())
}

/// Where a command's operations run: in this process, or in the server
/// that has the practice open. Output and exit codes are the same either way.
pub enum Backend {
    /// This process opened the store.
    Local { service: Box<PracticeService>, actor: Actor },
    /// A running `praxis serve` carries the operations out.
    Server { client: ServerClient, actor: Actor },
}

impl Backend {
    /// The practice of `loc`: through its server if one runs, else opened here.
    pub fn connect(loc: &Locations) -> Result<Backend> {
        Backend::connect_with(loc, PracticeService::open)
    }

    /// As [`Backend::connect`], without bringing the configuration's
    /// practitioners and rooms into the store (export and import).
    pub fn connect_unsynced(loc: &Locations) -> Result<Backend> {
        Backend::connect_with(loc, PracticeService::open_unsynced)
    }

    fn connect_with(
        loc: &Locations,
        open: fn(PracticeConfig) -> Result<PracticeService, ServiceError>,
    ) -> Result<Backend> {
        let actor = Actor::new(&loc.actor).map_err(service_error)?;
        let config = loc.load_config()?;
        if let Some(client) = ServerClient::find(&config.data_dir) {
            tracing::debug!(data = %config.data_dir.display(), "a server runs on this practice: asking it");
            return Ok(Backend::Server { client, actor });
        }
        let service = open(config).map_err(service_error)?;
        print_open_warnings(&service);
        Ok(Backend::Local { service: Box::new(service), actor })
    }

    /// Carries out one operation.
    pub fn call(&self, request: Request) -> Result<Response> {
        match self {
            Backend::Local { service, actor } => service.execute(request, actor),
            Backend::Server { client, actor } => client.call(actor, request),
        }
        .map_err(service_error)
    }

    /// A client's name for a message, or its id if it cannot be had.
    pub fn client_name(&self, id: &str) -> String {
        match self.call(Request::ShowClient { client: id.to_owned() }) {
            Ok(Response::Record(r)) => r.client.name,
            _ => id.to_owned(),
        }
    }
}

fn init_logging() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let colour =
        praxis_core::local::log_colour(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .try_init();
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
    let loc = Locations::resolve(cli)?;
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
        Command::Calendar(cmd) => interop::calendar(&loc, cmd),
        Command::Schedule(cmd) => schedule::run(&loc, cmd),
        Command::Demo(args) => demo::demo(&loc, args),
        Command::Serve(args) => serve::serve(&loc, args),
        Command::Generate(args) => generate::generate(&loc, args),
        Command::Token(cmd) => serve::token(&loc, cmd),
        Command::Config(cmd) => serve::config(&loc, cmd),
        Command::User(cmd) => serve::user(&loc, cmd),
        Command::Audit(cmd) => audit::run(&loc, cmd),
        Command::Store(cmd) => store::run(&loc, cmd),
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

/// Writes a file atomically (temporary file, fsync, rename) with mode 0600:
/// everything Praxis writes may hold health data.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    praxis_core::store::write_private(path, contents).with_context(|| format!("writing {}", path.display()))
}
