//! The plugin host: finds plugin libraries, checks them, loads them once and
//! calls them.
//!
//! Order of checks for a file, each refusal a clear message and never a crash:
//! trust (SHA-256 in the practice's trust list, unless the file sits next to
//! the running executable) **before** the library is opened, since opening a
//! library runs its code; then "is it a shared library", the
//! `praxis_plugin_v1` symbol, magic, ABI major, ABI minor, the manifest, and
//! a plugin id not already loaded.
//!
//! A loaded library is never unloaded (invariant 5). Every call is wrapped in
//! a `tracing` span and its answer validated before the host uses it
//! (invariant 6).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use praxis_sdk::abi::{PluginHandle, PluginTableV1};
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
}

impl PluginSearch {
    /// The executable's folder and `PRAXIS_PLUGIN_PATH`, plus the given folders and trust list.
    pub fn from_env(folders: Vec<PathBuf>, trusted: BTreeSet<String>) -> PluginSearch {
        let exe_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf));
        let env_folders = std::env::var_os("PRAXIS_PLUGIN_PATH")
            .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
            .unwrap_or_default();
        PluginSearch { exe_dir, folders, env_folders, trusted }
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The table failed its checks (magic, ABI version).
    Table(praxis_sdk::abi::TableError),
    /// The manifest could not be read or is invalid.
    Manifest(String),
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
            Refusal::Table(e) => write!(f, "{e}"),
            Refusal::Manifest(e) => write!(f, "bad manifest: {e}"),
            Refusal::DuplicateId { id, loaded_from } => {
                write!(f, "a plugin with id `{id}` is already loaded from {loaded_from}; remove one of the two files")
            }
        }
    }
}

/// Errors of the plugin host.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The rule id of cards the host makes about failing plugins.
pub const PLUGIN_FAILURE_RULE: &str = "HOST-PLUGIN";

impl PluginFailure {
    /// A `warning` card naming the plugin: its advice is missing from this guidance.
    pub fn to_card(&self) -> Card {
        let summary: String =
            format!("Plugin `{}` failed; its guidance is missing", self.plugin).chars().take(139).collect();
        let mut card = Card::new(
            PLUGIN_FAILURE_RULE,
            Indicator::Warning,
            summary,
            format!(
                "The host could not use the answer of plugin `{}`: {}\n\nThe other modules' guidance still stands. \
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
    handle: PluginHandle,
    path: Option<PathBuf>,
    sha256: Option<String>,
    settings: Settings,
    enabled: bool,
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
        format!("{}.{}", praxis_sdk::abi::ABI_MAJOR, self.handle.abi_minor())
    }

    /// The SDK version it was built with.
    pub fn sdk_version(&self) -> String {
        self.handle.sdk_version()
    }

    /// Guidance for one client, validated and stamped with this plugin's id and
    /// version. The client's history is trimmed to what the manifest asks for.
    pub fn evaluate(&self, as_of: Date, client: &ClientSnapshot) -> Result<Guidance, PluginFailure> {
        let span = tracing::debug_span!("plugin.evaluate", plugin = %self.manifest.id, client = %client.id);
        let _enter = span.enter();
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
        let mut guidance = self.handle.evaluate_encoded(&request).map_err(|e| fail(e.to_string()))?;
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

    /// A schedule proposal (decoded, not yet checked: the calendar checks it).
    pub fn schedule(&self, request: &ScheduleRequest) -> Result<ScheduleProposal, PluginFailure> {
        let span = tracing::info_span!("plugin.schedule", plugin = %self.manifest.id, plans = request.plans.len());
        let _enter = span.enter();
        let mut request = request.clone();
        request.settings = self.settings.clone();
        self.handle
            .schedule(&request)
            .map_err(|e| PluginFailure { plugin: self.manifest.id.clone(), message: e.to_string() })
    }
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
}

/// The loaded plugins, and what was refused.
#[derive(Debug, Default, Clone)]
pub struct PluginRegistry {
    plugins: Vec<LoadedPlugin>,
    reports: Vec<PluginReport>,
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
}

/// Overlays the practice's settings on a manifest's defaults, refusing unknown
/// keys and values of the wrong JSON type.
pub fn merge_settings(manifest: &Manifest, given: &Settings) -> Result<Settings, String> {
    let mut merged = manifest.default_settings();
    for (key, value) in given {
        let Some(spec) = manifest.settings.iter().find(|s| &s.key == key) else {
            let known: Vec<&str> = manifest.settings.iter().map(|s| s.key.as_str()).collect();
            return Err(format!(
                "unknown setting `{key}`; plugin `{}` accepts: {}",
                manifest.id,
                if known.is_empty() { "no settings".to_owned() } else { known.join(", ") }
            ));
        };
        if json_kind(&spec.default) != json_kind(value) {
            return Err(format!(
                "setting `{key}` must be {} (default {}), not {value}",
                json_kind(&spec.default),
                spec.default
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
    // before reading anything else.
    unsafe { PluginHandle::from_raw(table) }.map_err(Refusal::Table)
}

impl PluginRegistry {
    /// Loads every plugin the search finds. Nothing here fails as a whole: a
    /// refused file is recorded in [`reports`](Self::reports) and skipped.
    pub fn discover(search: &PluginSearch, policy: &dyn PluginPolicy) -> PluginRegistry {
        let mut registry = PluginRegistry::default();
        for candidate in search.candidates() {
            registry.load_file(&candidate, &search.trusted, policy);
        }
        registry
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
        // The file is hashed, then opened by path: plugin folders must be
        // writable by the practice's administrator only (see ARCHITECTURE.md).
        let sha = sha256_file(path).map_err(|e| Refusal::Unreadable(e.to_string()))?;
        report.sha256 = Some(sha.clone());
        if candidate.origin != Origin::ExecutableFolder && !trusted.contains(&sha) {
            return Err(Refusal::Untrusted { sha256: sha });
        }
        let handle = open_table(path)?;
        report.abi = Some(format!("{}.{}", praxis_sdk::abi::ABI_MAJOR, handle.abi_minor()));
        report.sdk_version = Some(handle.sdk_version());
        let manifest = handle.manifest().map_err(|e| Refusal::Manifest(e.to_string()))?;
        report.id = Some(manifest.id.clone());
        report.name = Some(manifest.name.clone());
        report.version = Some(manifest.version.clone());
        report.kinds = manifest.kinds.iter().map(|k| k.as_str().to_owned()).collect();
        report.conditions = manifest.conditions.iter().map(|c| c.code.clone()).collect();
        if let Some(other) = self.plugins.iter().find(|p| p.manifest.id == manifest.id) {
            return Err(Refusal::DuplicateId {
                id: manifest.id.clone(),
                loaded_from: other.path.as_ref().map_or("the host".to_owned(), |p| p.display().to_string()),
            });
        }
        handle.install_logger(&manifest.id, max_log_level());
        let enabled = policy.enabled(&manifest.id);
        let settings = merge_settings(&manifest, &policy.settings(&manifest.id)).map_err(Refusal::Manifest)?;
        report.status = if enabled { "loaded" } else { "disabled" }.to_owned();
        tracing::info!(plugin = %manifest.id, version = %manifest.version, path = %path.display(), enabled, "plugin loaded");
        self.plugins.push(LoadedPlugin {
            manifest,
            handle,
            path: Some(path.clone()),
            sha256: Some(sha),
            settings,
            enabled,
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
            if registry.get(&manifest.id).is_some() {
                return Err(refused(Refusal::DuplicateId { id: manifest.id, loaded_from: "the host".to_owned() }));
            }
            let settings = manifest.default_settings();
            registry.plugins.push(LoadedPlugin { manifest, handle, path: None, sha256: None, settings, enabled: true });
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
