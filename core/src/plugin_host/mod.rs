//! The plugin host: finds plugin libraries, checks them, loads them once and
//! calls them.
//!
//! Order of checks for a file, each refusal a clear message and never a crash:
//! trust (SHA-256 in the practice's trust list, unless the file sits next to
//! the running executable) **before** the library is opened, since opening a
//! library runs its code; then "is it a shared library", the
//! `praxis_plugin_v1` symbol, magic, ABI major, ABI minor, every required
//! function pointer of the table (read as `Option`s, so a NULL from C is a
//! value, never undefined behaviour), the manifest, the entry point of each
//! kind it declares, a plugin id not already loaded, and the practice's
//! settings for it.
//!
//! A client whose condition has a module that is not working (not found,
//! refused, untrusted, misconfigured) gets a `warning` card naming the module
//! and the reason ([`PluginRegistry::unavailable`]).
//!
//! A loaded library is never unloaded (invariant 5). Every call is wrapped in
//! a `tracing` span and its answer validated before the host uses it
//! (invariant 6).

pub mod cache;
pub mod sandbox;
pub mod stdout;
pub mod verify;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use praxis_sdk::abi::{CallError, Entry, PluginHandle, PluginTableV1};
use praxis_sdk::schema::{Message, unknown_fields};
use praxis_sdk::{
    Card, ClientSnapshot, Date, Guidance, Indicator, Manifest, PluginKind, ScheduleProposal, ScheduleRequest, Settings,
};
use sha2::{Digest, Sha256};

/// Where to look for plugins, and which files to trust.
#[derive(Debug, Clone, Default)]
pub struct PluginSearch {
    /// The running executable's folder: `praxis_*` libraries here are first
    /// party and trusted without a hash.
    pub exe_dir: Option<PathBuf>,
    /// The practice's configured plugin folders.
    pub folders: Vec<PathBuf>,
    /// Folders from `PRAXIS_PLUGIN_PATH`.
    pub env_folders: Vec<PathBuf>,
    /// Lowercase hex SHA-256 digests the practice trusts.
    pub trusted: BTreeSet<String>,
    /// The private folder trusted files are copied to and loaded from
    /// (default [`cache::default_dir`]).
    pub cache_dir: Option<PathBuf>,
}

impl PluginSearch {
    /// The executable's folder and `PRAXIS_PLUGIN_PATH`, plus the given folders and trust list.
    pub fn from_env(folders: Vec<PathBuf>, trusted: BTreeSet<String>) -> PluginSearch {
        let exe_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf));
        let env_folders = std::env::var_os("PRAXIS_PLUGIN_PATH")
            .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
            .unwrap_or_default();
        PluginSearch { exe_dir, folders, env_folders, trusted, cache_dir: None }
    }

    /// Candidate files, in a stable order: executable folder first, then the
    /// configured folders, then `PRAXIS_PLUGIN_PATH`; each folder sorted by name.
    pub fn candidates(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        if let Some(dir) = &self.exe_dir {
            for path in library_files(dir) {
                let first_party = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{}praxis_", std::env::consts::DLL_PREFIX)));
                if first_party && seen.insert(canonical(&path)) {
                    out.push(Candidate { path, origin: Origin::ExecutableFolder });
                }
            }
        }
        for (folders, origin) in [(&self.folders, Origin::ConfigFolder), (&self.env_folders, Origin::EnvPath)] {
            for dir in folders {
                for path in library_files(dir) {
                    if seen.insert(canonical(&path)) {
                        out.push(Candidate { path, origin });
                    }
                }
            }
        }
        out
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn library_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::debug!(dir = %dir.display(), "plugin folder not readable; skipped");
        return Vec::new();
    };
    let suffix = std::env::consts::DLL_SUFFIX;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(suffix)))
        .collect();
    files.sort();
    files
}

/// Where a candidate file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Next to the running executable (trusted).
    ExecutableFolder,
    /// A folder from the practice config.
    ConfigFolder,
    /// A folder from `PRAXIS_PLUGIN_PATH`.
    EnvPath,
    /// Named directly (`praxis plugins verify FILE`).
    Direct,
}

/// A file that may be a plugin.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its path.
    pub path: PathBuf,
    /// Where it was found.
    pub origin: Origin,
}

/// Why a file was not loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The file could not be read to hash it.
    Unreadable(String),
    /// Its SHA-256 is not in the practice's trust list.
    Untrusted {
        /// The file's digest.
        sha256: String,
    },
    /// The dynamic loader would not open it.
    NotALibrary(String),
    /// No `praxis_plugin_v1` symbol.
    NoSymbol,
    /// The table failed its checks (magic, ABI version, a required function is NULL).
    Table(praxis_sdk::abi::TableError),
    /// As `Table`, for a table whose manifest could still be read (to name the plugin).
    TableOf(praxis_sdk::abi::TableError, Box<Manifest>),
    /// The manifest could not be read or is invalid.
    Manifest(String),
    /// The manifest declares a kind whose entry point the table leaves NULL.
    MissingEntry {
        /// The kind (`protocol`, `scheduler`).
        kind: &'static str,
        /// The entry point (`evaluate`, `schedule`).
        entry: &'static str,
    },
    /// The practice's settings for the plugin are wrong: a configuration
    /// error, not the plugin's fault.
    Settings {
        /// Where: the config file, line and key.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The plugin's own process refused it (the message says why).
    Isolated(String),
    /// A plugin with this id is already loaded.
    DuplicateId {
        /// The id.
        id: String,
        /// The file that has it.
        loaded_from: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unreadable(e) => write!(f, "cannot read the file: {e}"),
            Refusal::Untrusted { sha256 } => write!(
                f,
                "not trusted: its SHA-256 {sha256} is not in the practice's trust list; if you trust this file, run `praxis plugins trust FILE`"
            ),
            Refusal::NotALibrary(e) => write!(f, "not a loadable shared library: {e}"),
            Refusal::NoSymbol => write!(
                f,
                "no `praxis_plugin_v1` symbol: not a Praxis plugin (build it with praxis_sdk::export_plugin!)"
            ),
            Refusal::Table(e) | Refusal::TableOf(e, _) => write!(f, "{e}"),
            Refusal::Manifest(e) => write!(f, "bad manifest: {e}"),
            Refusal::MissingEntry { kind, entry } => write!(
                f,
                "its manifest declares kind `{kind}` but the table's `{entry}` entry point is NULL: fix the plugin's table"
            ),
            Refusal::Settings { location, message } => {
                write!(f, "configuration error: {location}: {message}; fix praxis.toml")
            }
            Refusal::Isolated(e) => write!(f, "{e}"),
            Refusal::DuplicateId { id, loaded_from } => {
                write!(f, "a plugin with id `{id}` is already loaded from {loaded_from}; remove one of the two files")
            }
        }
    }
}

/// Errors of the plugin host.
#[derive(Debug, Clone, PartialEq)]
pub enum HostError {
    /// No loaded plugin has this id.
    UnknownPlugin(String),
    /// Settings for a plugin are wrong.
    BadSettings {
        /// The plugin.
        plugin: String,
        /// What is wrong.
        message: String,
    },
    /// A compiled-in table was refused.
    Refused {
        /// Which plugin or file.
        what: String,
        /// Why.
        refusal: Refusal,
    },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::UnknownPlugin(id) => {
                write!(f, "no plugin with id `{id}` is loaded (see `praxis plugins list`)")
            }
            HostError::BadSettings { plugin, message } => write!(f, "settings for plugin `{plugin}`: {message}"),
            HostError::Refused { what, refusal } => write!(f, "{what}: {refusal}"),
        }
    }
}

impl std::error::Error for HostError {}

/// A plugin call that failed; the host turns it into a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginFailure {
    /// The plugin's id.
    pub plugin: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for PluginFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin `{}`: {}", self.plugin, self.message)
    }
}

impl std::error::Error for PluginFailure {}

const UNAVAILABLE_PREFIX: &str = "module not working: ";

/// The rule id of cards the host makes about failing plugins.
pub const PLUGIN_FAILURE_RULE: &str = "HOST-PLUGIN";

impl PluginFailure {
    /// A `warning` card naming the plugin: its advice is missing from this guidance.
    pub fn to_card(&self) -> Card {
        let summary = match self.message.strip_prefix(UNAVAILABLE_PREFIX) {
            // "not found", "refused", "not trusted", "configuration error".
            Some(reason) => format!(
                "Module `{}` is not working ({}); its guidance is missing",
                self.plugin,
                reason.split(':').next().unwrap_or(reason)
            ),
            None => format!("Plugin `{}` failed ({}); its guidance is missing", self.plugin, self.message),
        };
        let summary: String = if summary.chars().count() > 139 {
            summary.chars().take(136).chain("...".chars()).collect()
        } else {
            summary
        };
        let mut card = Card::new(
            PLUGIN_FAILURE_RULE,
            Indicator::Warning,
            summary,
            format!(
                "The host got no usable guidance from plugin `{}`: {}\n\nThe other modules' guidance still stands. \
                 Ask the practice's administrator to check the plugin (`praxis plugins list`).",
                self.plugin, self.message
            ),
        )
        .with_source("Praxis host");
        card.source.plugin = Some("host".to_owned());
        card.source.version = Some(env!("CARGO_PKG_VERSION").to_owned());
        card
    }
}

/// One loaded plugin. Cloning it copies its description and shares the
/// loaded library (which is never unloaded).
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    manifest: Manifest,
    backend: Backend,
    abi_minor: u16,
    sdk_version: String,
    path: Option<PathBuf>,
    sha256: Option<String>,
    settings: Settings,
    enabled: bool,
    max_answer_bytes: usize,
    /// The manifest as the plugin wrote it, when it could be read as JSON.
    manifest_json: Option<Arc<serde_json::Value>>,
    /// Whether a guidance answer, and a schedule answer, were checked for
    /// unknown fields (once per plugin: see [`warn_unknown_fields`]).
    answers_checked: Arc<[AtomicBool; 2]>,
}

/// Logs a warning when `value`, a plugin's `message`, has fields the host
/// does not know: they are ignored, so what they say is lost (a misspelt
/// `pressureMax` for `pressure_max`). The host checks a plugin's manifest
/// and its first answer of each kind; `praxis plugins verify --strict`
/// checks several.
fn warn_unknown_fields(plugin: &str, message: Message, value: &serde_json::Value) {
    let slips = unknown_fields(&message.schema(), value);
    if slips.is_empty() {
        return;
    }
    let fields = slips.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    tracing::warn!(
        plugin,
        answer = message.file_name().trim_end_matches(".json"),
        %fields,
        "the plugin's answer has fields the host does not know and ignores (run `praxis plugins verify --strict FILE`)"
    );
}

/// Checks the first answer of a kind for unknown fields (see [`warn_unknown_fields`]).
fn check_first_answer(flag: &AtomicBool, plugin: &str, message: Message, bytes: &[u8]) {
    if !flag.swap(true, Ordering::Relaxed)
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
    {
        warn_unknown_fields(plugin, message, &value);
    }
}

impl LoadedPlugin {
    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The plugin's id.
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// The file it was loaded from (`None` when compiled in).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The file's SHA-256.
    pub fn sha256(&self) -> Option<&str> {
        self.sha256.as_deref()
    }

    /// The manifest exactly as the plugin wrote it (unknown fields included),
    /// for `praxis plugins verify --strict`.
    pub fn manifest_json(&self) -> Option<&serde_json::Value> {
        self.manifest_json.as_deref()
    }

    /// Its settings: manifest defaults overlaid with the practice's.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether the practice has it switched on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The ABI version the plugin was built for, as `1.minor`.
    pub fn abi(&self) -> String {
        format!("{}.{}", praxis_sdk::abi::ABI_MAJOR, self.abi_minor)
    }

    /// The SDK version it was built with.
    pub fn sdk_version(&self) -> String {
        self.sdk_version.clone()
    }

    /// Whether it runs in its own process.
    pub fn isolation(&self) -> Isolation {
        match self.backend {
            Backend::InProcess(_) => Isolation::InProcess,
            Backend::Process(_) => Isolation::Process,
        }
    }

    fn call(&self, entry: Entry, request: &[u8]) -> Result<Vec<u8>, String> {
        match &self.backend {
            Backend::InProcess(handle) => {
                handle.call_limited(entry, request, self.max_answer_bytes).map_err(|e| e.to_string())
            }
            Backend::Process(sandbox) => sandbox.call(entry, request),
        }
    }

    /// Guidance for one client, validated and stamped with this plugin's id and
    /// version. The client's history is trimmed to what the manifest asks for.
    pub fn evaluate(&self, as_of: Date, client: &ClientSnapshot) -> Result<Guidance, PluginFailure> {
        let span = tracing::debug_span!("plugin.evaluate", plugin = %self.manifest.id, client = %client.id);
        let _enter = span.enter();
        let fail = |message: String| PluginFailure { plugin: self.manifest.id.clone(), message };
        let bytes = self.evaluate_raw(as_of, client)?;
        check_first_answer(&self.answers_checked[0], &self.manifest.id, Message::Guidance, &bytes);
        let mut guidance: Guidance =
            serde_json::from_slice(&bytes).map_err(|e| fail(CallError::Malformed(e.to_string()).to_string()))?;
        guidance.validate().map_err(|e| fail(format!("invalid guidance: {e}")))?;
        for card in &mut guidance.cards {
            card.source.plugin = Some(self.manifest.id.clone());
            card.source.version = Some(self.manifest.version.clone());
            if card.source.label.is_empty() {
                card.source.label.clone_from(&self.manifest.name);
            }
        }
        tracing::trace!(cards = guidance.cards.len(), "plugin answered");
        Ok(guidance)
    }

    /// The request [`evaluate`](Self::evaluate) sends, and the bytes the
    /// plugin answered, neither decoded nor validated (for `praxis plugins
    /// verify --strict` and the contract tests).
    pub fn evaluate_raw(&self, as_of: Date, client: &ClientSnapshot) -> Result<Vec<u8>, PluginFailure> {
        let fail = |message: String| PluginFailure { plugin: self.manifest.id.clone(), message };
        // Encode straight from the borrowed client; copy it only when the
        // manifest asks for less history than the client has.
        let trimmed;
        let client = match self.manifest.history_days {
            Some(days) => {
                let since = as_of.add_days(-(days.min(i32::MAX as u32) as i32));
                if client.sessions.iter().any(|s| s.date < since) {
                    let mut c = client.clone();
                    c.sessions.retain(|s| s.date >= since);
                    trimmed = c;
                    &trimmed
                } else {
                    client
                }
            }
            None => client,
        };
        #[derive(serde::Serialize)]
        struct Request<'a> {
            as_of: Date,
            client: &'a ClientSnapshot,
            settings: &'a Settings,
        }
        let request = serde_json::to_vec(&Request { as_of, client, settings: &self.settings })
            .map_err(|e| fail(format!("could not encode the request: {e}")))?;
        self.call(Entry::Evaluate, &request).map_err(fail)
    }

    /// A schedule proposal (decoded, not yet checked: the calendar checks it).
    pub fn schedule(&self, request: &ScheduleRequest) -> Result<ScheduleProposal, PluginFailure> {
        let span = tracing::info_span!("plugin.schedule", plugin = %self.manifest.id, plans = request.plans.len());
        let _enter = span.enter();
        let fail = |message: String| PluginFailure { plugin: self.manifest.id.clone(), message };
        let bytes = self.schedule_raw(request)?;
        check_first_answer(&self.answers_checked[1], &self.manifest.id, Message::ScheduleProposal, &bytes);
        serde_json::from_slice(&bytes).map_err(|e| fail(CallError::Malformed(e.to_string()).to_string()))
    }

    /// The bytes the scheduler answered to `request` (with this plugin's
    /// settings), not decoded (for `praxis plugins verify --strict` and the
    /// contract tests).
    pub fn schedule_raw(&self, request: &ScheduleRequest) -> Result<Vec<u8>, PluginFailure> {
        let mut request = request.clone();
        request.settings = self.settings.clone();
        let fail = |message: String| PluginFailure { plugin: self.manifest.id.clone(), message };
        let request = serde_json::to_vec(&request).map_err(|e| fail(CallError::Encode(e.to_string()).to_string()))?;
        self.call(Entry::Schedule, &request).map_err(fail)
    }
}

/// How a plugin's code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// In a child process (`praxis plugin-host`): the default for plugin folders.
    Process,
    /// Inside the host: the default for first-party plugins beside the executable.
    InProcess,
}

impl Isolation {
    /// The default for a file found here.
    pub fn default_for(origin: Origin) -> Isolation {
        match origin {
            Origin::ExecutableFolder => Isolation::InProcess,
            _ => Isolation::Process,
        }
    }
}

#[derive(Debug, Clone)]
enum Backend {
    InProcess(PluginHandle),
    Process(Arc<sandbox::Sandbox>),
}

/// What the host thinks of one file (for `praxis plugins list` and `verify`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginReport {
    /// The file.
    pub path: String,
    /// Where it was found.
    pub origin: String,
    /// Its SHA-256, if readable.
    pub sha256: Option<String>,
    /// `loaded`, `disabled` or `refused`.
    pub status: String,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Id, when the manifest was read.
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Kinds.
    pub kinds: Vec<String>,
    /// ABI version.
    pub abi: Option<String>,
    /// SDK version it was built with.
    pub sdk_version: Option<String>,
    /// Conditions handled (SNOMED CT codes).
    pub conditions: Vec<String>,
    /// `process` or `in-process`, once loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<Isolation>,
}

/// The loaded plugins, and what was refused.
#[derive(Debug, Default, Clone)]
pub struct PluginRegistry {
    plugins: Vec<LoadedPlugin>,
    reports: Vec<PluginReport>,
    unavailable: Vec<Unavailable>,
    cache_dir: Option<PathBuf>,
}

/// The project default of [`PluginPolicy::max_answer_bytes`]: 4 MiB.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The first-party protocol modules this host ships with: id, library name
/// and the conditions (SNOMED CT) each handles. A client with one of these
/// conditions whose module is not working gets a warning card, even when the
/// module's file is missing and so says nothing of itself.
pub const FIRST_PARTY_PROTOCOLS: &[(&str, &str, &[&str])] = &[
    ("fibromyalgia", "praxis_fibromyalgia", &[praxis_sdk::snomed::FIBROMYALGIA]),
    ("arthritis", "praxis_arthritis", &[praxis_sdk::snomed::RHEUMATOID_ARTHRITIS, praxis_sdk::snomed::OSTEOARTHRITIS]),
];

/// A module that should handle some conditions but is not working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// The module's id.
    pub id: String,
    /// The conditions it would handle (SNOMED CT codes).
    pub conditions: Vec<String>,
    /// Why it is not working: `not found: ...`, `refused: ...`, `not trusted: ...`,
    /// `configuration error: ...`.
    pub reason: String,
}

impl Unavailable {
    /// The failure a client with one of its conditions is shown (as a `warning` card).
    pub fn failure(&self) -> PluginFailure {
        PluginFailure { plugin: self.id.clone(), message: format!("{UNAVAILABLE_PREFIX}{}", self.reason) }
    }

    /// Whether it would handle this condition.
    pub fn handles(&self, code: &str) -> bool {
        self.conditions.iter().any(|c| c == code)
    }
}

/// Lowercase hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    sha256_reader(&std::fs::File::open(path)?)
}

fn sha256_reader(mut file: &std::fs::File) -> std::io::Result<String> {
    use std::io::Read;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The per-plugin part of the practice config the host needs.
pub trait PluginPolicy {
    /// Whether the plugin with this id is switched on.
    fn enabled(&self, id: &str) -> bool;
    /// The practice's settings for the plugin (without defaults).
    fn settings(&self, id: &str) -> Settings;
    /// Where the practice sets `key` for plugin `id`, for error messages
    /// (such as "praxis.toml line 12, `plugins.fibromyalgia.settings.bogus_key`").
    fn setting_location(&self, id: &str, key: &str) -> String {
        format!("`plugins.{id}.settings.{key}`")
    }
    /// The plugin ids the practice configures (`[plugins.<id>]`).
    fn configured(&self) -> Vec<String> {
        Vec::new()
    }
    /// The largest answer, in bytes, the host accepts from a plugin call.
    fn max_answer_bytes(&self) -> usize {
        DEFAULT_MAX_ANSWER_BYTES
    }
    /// How the plugin with this id, found here, runs
    /// (default [`Isolation::default_for`] the origin).
    fn isolation(&self, id: &str, origin: Origin) -> Isolation {
        let _ = id;
        Isolation::default_for(origin)
    }
    /// The time and memory limits of an isolated plugin.
    fn limits(&self) -> sandbox::Limits {
        sandbox::Limits { max_answer_bytes: self.max_answer_bytes(), ..sandbox::Limits::default() }
    }
    /// The program that runs `plugin-host` for isolated plugins: by default
    /// this process's executable when it is the `praxis` binary. `None`
    /// loads every plugin in process.
    fn plugin_host_program(&self) -> Option<PathBuf> {
        std::env::current_exe().ok().filter(|p| p.file_stem().and_then(|n| n.to_str()) == Some("praxis"))
    }
}

/// Every plugin on, with its defaults: for tests and `plugins verify`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPolicy;

impl PluginPolicy for DefaultPolicy {
    fn enabled(&self, _: &str) -> bool {
        true
    }
    fn settings(&self, _: &str) -> Settings {
        Settings::new()
    }
    /// Everything in process: the library's tests call plugins directly.
    fn isolation(&self, _: &str, _: Origin) -> Isolation {
        Isolation::InProcess
    }
    fn plugin_host_program(&self) -> Option<PathBuf> {
        None
    }
}

/// Overlays the practice's settings on a manifest's defaults, refusing unknown
/// keys and values of the wrong JSON type.
pub fn merge_settings(manifest: &Manifest, given: &Settings) -> Result<Settings, String> {
    merge_settings_keyed(manifest, given).map_err(|(_, message)| message)
}

/// As [`merge_settings`], the error naming the key at fault.
fn merge_settings_keyed(manifest: &Manifest, given: &Settings) -> Result<Settings, (String, String)> {
    let mut merged = manifest.default_settings();
    for (key, value) in given {
        let Some(spec) = manifest.settings.iter().find(|s| &s.key == key) else {
            let known: Vec<&str> = manifest.settings.iter().map(|s| s.key.as_str()).collect();
            return Err((
                key.clone(),
                format!(
                    "unknown setting `{key}`; plugin `{}` accepts: {}",
                    manifest.id,
                    if known.is_empty() { "no settings".to_owned() } else { known.join(", ") }
                ),
            ));
        };
        if json_kind(&spec.default) != json_kind(value) {
            return Err((
                key.clone(),
                format!("setting `{key}` must be {} (default {}), not {value}", json_kind(&spec.default), spec.default),
            ));
        }
        merged.insert(key.clone(), value.clone());
    }
    Ok(merged)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(n) if n.is_f64() => "a number",
        serde_json::Value::Number(_) => "a whole number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a table",
    }
}

/// The manifest as the plugin wrote it, as JSON, if it is JSON.
fn raw_manifest(handle: &PluginHandle) -> Option<serde_json::Value> {
    handle.manifest_raw().ok().and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// Opens a library and returns its checked table. The library stays loaded
/// for the rest of the process, whatever the outcome.
fn open_table(path: &Path) -> Result<PluginHandle, Refusal> {
    // SAFETY: opening a library runs its initialisers. The caller has checked
    // the file is trusted (next to our executable, or its SHA-256 is in the
    // practice's trust list), which is the host's whole defence here.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| Refusal::NotALibrary(e.to_string()))?;
    // Never unload (invariant 5): leak the handle so the code stays mapped.
    let library: &'static libloading::Library = Box::leak(Box::new(library));
    // SAFETY: ABI v1 declares `praxis_plugin_v1` as `extern "C" fn() -> *const PluginTableV1`.
    let symbol = unsafe { library.get::<unsafe extern "C" fn() -> *const PluginTableV1>(praxis_sdk::abi::SYMBOL_V1) }
        .map_err(|_| Refusal::NoSymbol)?;
    // SAFETY: calling the entry point per the ABI; it takes no arguments and returns a pointer.
    let table = unsafe { symbol() };
    // SAFETY: the table lives in a library we never unload; `from_raw` checks null, magic and versions
    // before reading anything else, then reads the required function pointers as `Option`s.
    unsafe { PluginHandle::from_raw(table) }.map_err(|e| {
        let manifest = match e {
            // SAFETY: as above; `peek_manifest` repeats the header checks and leaks the one buffer.
            praxis_sdk::abi::TableError::NullEntry("free_buffer") => unsafe { PluginHandle::peek_manifest(table) },
            _ => None,
        };
        match manifest {
            Some(manifest) => Refusal::TableOf(e, Box::new(manifest)),
            None => Refusal::Table(e),
        }
    })
}

impl PluginRegistry {
    /// Loads every plugin the search finds. Nothing here fails as a whole: a
    /// refused file is recorded in [`reports`](Self::reports) and skipped.
    pub fn discover(search: &PluginSearch, policy: &dyn PluginPolicy) -> PluginRegistry {
        let mut registry = PluginRegistry::with_cache_dir(search.cache_dir.clone());
        for candidate in search.candidates() {
            registry.load_file(&candidate, &search.trusted, policy);
        }
        registry.find_unavailable(search, policy);
        registry
    }

    /// Records the modules that should handle some condition but do not: a
    /// refused file whose manifest was read, a first-party module (when the
    /// search includes the executable's folder) refused or missing, and a
    /// configured module that is missing.
    fn find_unavailable(&mut self, search: &PluginSearch, policy: &dyn PluginPolicy) {
        let loaded = |id: &str, reg: &PluginRegistry| reg.plugins.iter().any(|p| p.manifest.id == id);
        let file_stem = |r: &PluginReport| {
            Path::new(&r.path).file_name().and_then(|n| n.to_str()).map(|n| {
                n.trim_start_matches(std::env::consts::DLL_PREFIX)
                    .trim_end_matches(std::env::consts::DLL_SUFFIX)
                    .to_owned()
            })
        };
        let mut unavailable: Vec<Unavailable> = Vec::new();
        for report in self.reports.iter().filter(|r| r.status == "refused") {
            let Some(id) = &report.id else { continue };
            if loaded(id, self) || !policy.enabled(id) || report.conditions.is_empty() {
                continue;
            }
            if unavailable.iter().any(|u| &u.id == id) {
                continue;
            }
            unavailable.push(Unavailable {
                id: id.clone(),
                conditions: report.conditions.clone(),
                reason: report.reason.clone().unwrap_or_default(),
            });
        }
        let mut missing_reports = Vec::new();
        if search.exe_dir.is_some() {
            for (id, lib, conditions) in FIRST_PARTY_PROTOCOLS {
                if loaded(id, self) || !policy.enabled(id) || unavailable.iter().any(|u| u.id == *id) {
                    continue;
                }
                let file = format!("{}{lib}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
                let reason = match self.reports.iter().find(|r| file_stem(r).as_deref() == Some(*lib)) {
                    Some(r) => format!("refused: {}", r.reason.as_deref().unwrap_or("refused")),
                    None => {
                        missing_reports.push(missing_report(id, &file));
                        format!(
                            "not found: no {file} next to the praxis executable or in the practice's plugin folders; \
                             reinstall Praxis or put the file back"
                        )
                    }
                };
                unavailable.push(Unavailable {
                    id: (*id).to_owned(),
                    conditions: conditions.iter().map(|c| (*c).to_owned()).collect(),
                    reason,
                });
            }
        }
        for id in policy.configured() {
            let known = loaded(&id, self)
                || unavailable.iter().any(|u| u.id == id)
                || self.reports.iter().any(|r| r.id.as_deref() == Some(id.as_str()));
            if !known && policy.enabled(&id) {
                let mut report = missing_report(&id, "-");
                report.reason =
                    Some(format!("not found: praxis.toml configures `[plugins.{id}]` but no plugin file has that id"));
                missing_reports.push(report);
            }
        }
        for u in &unavailable {
            tracing::warn!(plugin = %u.id, reason = %u.reason, "module not working: clients with its conditions get a warning card");
        }
        self.reports.extend(missing_reports);
        self.unavailable = unavailable;
    }

    /// Modules that should handle some condition but are not working, with why.
    pub fn unavailable(&self) -> &[Unavailable] {
        &self.unavailable
    }

    /// The unavailable module with this id.
    pub fn unavailable_module(&self, id: &str) -> Option<&Unavailable> {
        self.unavailable.iter().find(|u| u.id == id)
    }

    /// An empty registry whose trusted copies go to `dir` (`None`: [`cache::default_dir`]).
    pub fn with_cache_dir(dir: Option<PathBuf>) -> PluginRegistry {
        PluginRegistry { cache_dir: dir, ..PluginRegistry::default() }
    }

    /// Loads one file (also used by `praxis plugins verify`). Returns the report.
    pub fn load_file(
        &mut self,
        candidate: &Candidate,
        trusted: &BTreeSet<String>,
        policy: &dyn PluginPolicy,
    ) -> &PluginReport {
        let path = &candidate.path;
        let mut report = PluginReport {
            path: path.display().to_string(),
            origin: match candidate.origin {
                Origin::ExecutableFolder => "executable folder",
                Origin::ConfigFolder => "plugin folder",
                Origin::EnvPath => "PRAXIS_PLUGIN_PATH",
                Origin::Direct => "named file",
            }
            .to_owned(),
            sha256: None,
            status: "refused".to_owned(),
            reason: None,
            id: None,
            name: None,
            version: None,
            kinds: Vec::new(),
            abi: None,
            sdk_version: None,
            conditions: Vec::new(),
            isolation: None,
        };
        match self.try_load(candidate, trusted, policy, &mut report) {
            Ok(()) => {}
            Err(refusal) => {
                tracing::warn!(path = %path.display(), reason = %refusal, "plugin refused");
                report.reason = Some(refusal.to_string());
            }
        }
        self.reports.push(report);
        self.reports.last().expect("just pushed")
    }

    fn try_load(
        &mut self,
        candidate: &Candidate,
        trusted: &BTreeSet<String>,
        policy: &dyn PluginPolicy,
        report: &mut PluginReport,
    ) -> Result<(), Refusal> {
        let path = &candidate.path;
        let (sha, open_path) = if candidate.origin == Origin::ExecutableFolder {
            // The executable's own folder is as trusted as the executable:
            // opened where it is, hashed for the report only.
            let sha = sha256_file(path).map_err(|e| Refusal::Unreadable(e.to_string()))?;
            (sha, path.clone())
        } else {
            // Anything else is read once, hashed while copied into the
            // private cache, and the copy opened (see `cache`): no window
            // between the check and the open.
            let dir = self.cache_dir.clone().unwrap_or_else(cache::default_dir);
            match cache::copy_if_trusted(path, &dir, |sha| trusted.contains(sha)) {
                Ok(cache::Copied::Trusted(copy)) => (copy.sha256, copy.path),
                Ok(cache::Copied::Untrusted(sha256)) => {
                    report.sha256 = Some(sha256.clone());
                    return Err(Refusal::Untrusted { sha256 });
                }
                Err(e) => {
                    return Err(Refusal::Unreadable(format!("{e} (copying into the plugin cache {})", dir.display())));
                }
            }
        };
        report.sha256 = Some(sha.clone());
        let describe = |report: &mut PluginReport, manifest: &Manifest| {
            report.id = Some(manifest.id.clone());
            report.name = Some(manifest.name.clone());
            report.version = Some(manifest.version.clone());
            report.kinds = manifest.kinds.iter().map(|k| k.as_str().to_owned()).collect();
            report.conditions = manifest.conditions.iter().map(|c| c.code.clone()).collect();
        };
        let program = policy.plugin_host_program();
        let isolate_first = Isolation::default_for(candidate.origin) == Isolation::Process && program.is_some();
        let (manifest, mut backend, abi_minor, sdk_version, manifest_json) = if isolate_first {
            // Third-party code: even its manifest is read in a child.
            let program = program.as_deref().expect("checked");
            let (sandbox, hello) = sandbox::Sandbox::start(program, &open_path, policy.limits())
                .map_err(|e| Refusal::NotALibrary(format!("in its own process: {e}")))?;
            if let Some(manifest) = &hello.manifest {
                describe(report, manifest);
            }
            if let Some(refusal) = hello.refusal {
                return Err(Refusal::Isolated(refusal));
            }
            let manifest = hello.manifest.ok_or_else(|| Refusal::Manifest("the plugin host sent none".into()))?;
            (manifest, Backend::Process(Arc::new(sandbox)), hello.abi_minor, hello.sdk_version, hello.manifest_json)
        } else {
            let handle = open_table(&open_path).inspect_err(|refusal| {
                if let Refusal::TableOf(_, manifest) = refusal {
                    describe(report, manifest);
                }
            })?;
            let manifest = handle.manifest().map_err(|e| Refusal::Manifest(e.to_string()))?;
            describe(report, &manifest);
            check_entries(&handle, &manifest)?;
            (manifest, Backend::InProcess(handle), handle.abi_minor(), handle.sdk_version(), raw_manifest(&handle))
        };
        if let Some(json) = &manifest_json {
            warn_unknown_fields(&manifest.id, Message::Manifest, json);
        }
        report.abi = Some(format!("{}.{abi_minor}", praxis_sdk::abi::ABI_MAJOR));
        report.sdk_version = Some(sdk_version.clone());
        if let Some(other) = self.plugins.iter().find(|p| p.manifest.id == manifest.id) {
            return Err(Refusal::DuplicateId {
                id: manifest.id.clone(),
                loaded_from: other.path.as_ref().map_or("the host".to_owned(), |p| p.display().to_string()),
            });
        }
        // The practice may choose otherwise for this id.
        match (policy.isolation(&manifest.id, candidate.origin), &backend) {
            (Isolation::InProcess, Backend::Process(_)) => {
                backend = Backend::InProcess(open_table(&open_path)?);
            }
            (Isolation::Process, Backend::InProcess(_)) => match program.as_deref() {
                Some(program) => {
                    let (sandbox, _) = sandbox::Sandbox::start(program, &open_path, policy.limits())
                        .map_err(|e| Refusal::NotALibrary(format!("in its own process: {e}")))?;
                    backend = Backend::Process(Arc::new(sandbox));
                }
                None => tracing::warn!(plugin = %manifest.id, "no plugin-host program: the plugin runs in process"),
            },
            _ => {}
        }
        if let Backend::InProcess(handle) = &backend {
            handle.install_logger(&manifest.id, max_log_level());
        }
        let enabled = policy.enabled(&manifest.id);
        let settings = merge_settings_keyed(&manifest, &policy.settings(&manifest.id)).map_err(|(key, message)| {
            Refusal::Settings { location: policy.setting_location(&manifest.id, &key), message }
        })?;
        report.status = if enabled { "loaded" } else { "disabled" }.to_owned();
        let isolation = match backend {
            Backend::InProcess(_) => Isolation::InProcess,
            Backend::Process(_) => Isolation::Process,
        };
        report.isolation = Some(isolation);
        tracing::info!(plugin = %manifest.id, version = %manifest.version, path = %path.display(), enabled, ?isolation, "plugin loaded");
        self.plugins.push(LoadedPlugin {
            manifest,
            backend,
            abi_minor,
            sdk_version,
            path: Some(path.clone()),
            sha256: Some(sha),
            settings,
            enabled,
            max_answer_bytes: policy.max_answer_bytes(),
            manifest_json: manifest_json.map(Arc::new),
            answers_checked: Arc::default(),
        });
        Ok(())
    }

    /// A registry of plugins compiled into this program, each on with its
    /// default settings (for tests and benchmarks).
    pub fn from_tables(tables: &[&'static PluginTableV1]) -> Result<PluginRegistry, HostError> {
        let mut registry = PluginRegistry::default();
        for table in tables {
            let refused = |refusal| HostError::Refused { what: "compiled-in plugin".to_owned(), refusal };
            let handle = PluginHandle::from_static(table).map_err(|e| refused(Refusal::Table(e)))?;
            let manifest = handle.manifest().map_err(|e| refused(Refusal::Manifest(e.to_string())))?;
            check_entries(&handle, &manifest).map_err(refused)?;
            if registry.get(&manifest.id).is_some() {
                return Err(refused(Refusal::DuplicateId { id: manifest.id, loaded_from: "the host".to_owned() }));
            }
            let settings = manifest.default_settings();
            registry.plugins.push(LoadedPlugin {
                manifest,
                abi_minor: handle.abi_minor(),
                sdk_version: handle.sdk_version(),
                backend: Backend::InProcess(handle),
                path: None,
                sha256: None,
                settings,
                enabled: true,
                max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
                manifest_json: raw_manifest(&handle).map(Arc::new),
                answers_checked: Arc::default(),
            });
        }
        Ok(registry)
    }

    /// Every loaded plugin, on or off.
    pub fn all(&self) -> &[LoadedPlugin] {
        &self.plugins
    }

    /// What the host made of each file it looked at.
    pub fn reports(&self) -> &[PluginReport] {
        &self.reports
    }

    /// The enabled protocol plugins.
    pub fn protocols(&self) -> impl Iterator<Item = &LoadedPlugin> {
        self.plugins.iter().filter(|p| p.enabled && p.manifest.is(PluginKind::Protocol))
    }

    /// The enabled scheduler plugin (the first, if several).
    pub fn scheduler(&self) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|p| p.enabled && p.manifest.is(PluginKind::Scheduler))
    }

    /// A loaded plugin by id.
    pub fn get(&self, id: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|p| p.manifest.id == id)
    }

    /// Replaces a plugin's practice settings (validated against its manifest).
    pub fn set_settings(&mut self, id: &str, settings: Settings) -> Result<(), HostError> {
        let plugin = self
            .plugins
            .iter_mut()
            .find(|p| p.manifest.id == id)
            .ok_or_else(|| HostError::UnknownPlugin(id.to_owned()))?;
        plugin.settings = merge_settings(&plugin.manifest, &settings)
            .map_err(|message| HostError::BadSettings { plugin: id.to_owned(), message })?;
        Ok(())
    }
}

fn missing_report(id: &str, file: &str) -> PluginReport {
    PluginReport {
        path: file.to_owned(),
        origin: "-".to_owned(),
        sha256: None,
        status: "missing".to_owned(),
        reason: Some(format!(
            "not found: no {file} next to the praxis executable or in the practice's plugin folders; reinstall Praxis or put the file back"
        )),
        id: Some(id.to_owned()),
        name: None,
        version: None,
        kinds: Vec::new(),
        abi: None,
        sdk_version: None,
        conditions: Vec::new(),
        isolation: None,
    }
}

/// Each kind the manifest declares has its entry point in the table.
fn check_entries(handle: &PluginHandle, manifest: &Manifest) -> Result<(), Refusal> {
    for (kind, entry, name) in
        [(PluginKind::Protocol, Entry::Evaluate, "evaluate"), (PluginKind::Scheduler, Entry::Schedule, "schedule")]
    {
        if manifest.is(kind) && !handle.has_entry(entry) {
            return Err(Refusal::MissingEntry { kind: kind.as_str(), entry: name });
        }
    }
    Ok(())
}

/// Sets the address-space limit of a child before it runs the plugin host.
fn limit_memory(command: &mut std::process::Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    let limit = rustix::process::Rlimit { current: Some(bytes), maximum: Some(bytes) };
    // SAFETY: the closure runs in the forked child before `exec`. It only
    // makes the `setrlimit` system call (async-signal-safe: no allocation,
    // no lock), on a value computed before the fork.
    unsafe {
        command.pre_exec(move || {
            rustix::process::setrlimit(rustix::process::Resource::As, limit).map_err(std::io::Error::from)
        });
    }
}

fn max_log_level() -> tracing::Level {
    tracing::level_filters::LevelFilter::current().into_level().unwrap_or(tracing::Level::ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use praxis_sdk::SettingSpec;

    fn manifest() -> Manifest {
        Manifest {
            id: "m".into(),
            name: "M".into(),
            version: "1".into(),
            description: String::new(),
            kinds: vec![PluginKind::Protocol],
            conditions: vec![],
            settings: vec![SettingSpec::new("days", 14, "d"), SettingSpec::new("label", "x", "l")],
            history_days: None,
        }
    }

    #[test]
    fn settings_are_checked() {
        fn check(given: serde_json::Value, expected: Result<&str, &str>) {
            let given = given.as_object().unwrap().clone();
            let got = merge_settings(&manifest(), &given).map(|m| serde_json::Value::Object(m).to_string());
            match (got, expected) {
                (Ok(m), Ok(e)) => assert_eq!(m, e),
                (Err(m), Err(e)) => assert!(m.contains(e), "{m}"),
                (got, expected) => panic!("got {got:?}, expected {expected:?}"),
            }
        }
        check(serde_json::json!({}), Ok(r#"{"days":14,"label":"x"}"#));
        check(serde_json::json!({"days": 21}), Ok(r#"{"days":21,"label":"x"}"#));
        check(serde_json::json!({"dayz": 21}), Err("unknown setting `dayz`; plugin `m` accepts: days, label"));
        check(serde_json::json!({"days": "21"}), Err("setting `days` must be a whole number"));
        check(serde_json::json!({"days": 2.5}), Err("setting `days` must be a whole number"));
        check(serde_json::json!({"label": true}), Err("setting `label` must be a string"));
    }
}
