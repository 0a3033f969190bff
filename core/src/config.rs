//! The practice's configuration: one TOML file.
//!
//! It says who the practice is (name, time zone, opening hours), who works
//! there (practitioners, rooms, group classes), which insurance plans it
//! deals with, where its data lives, which plugin folders and plugin files it
//! trusts, which plugins are on, and each plugin's settings. Unknown keys and
//! bad values are refused with the file, line and key. See
//! `examples/practices/` for two documented examples.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use praxis_sdk::{
    Date, DateRange, Discipline, GroupClass, Practitioner, Room, RoomKind, Settings, TimeOfDay, Weekday, WeeklyWindow,
};
use serde::{Deserialize, Serialize};

use crate::plugin_host::PluginPolicy;

/// The file name of a practice's configuration inside its data folder.
pub const CONFIG_FILE_NAME: &str = "praxis.toml";

/// A configuration error, naming the file.
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The TOML is malformed or does not fit the schema (the message has line, column and key).
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The values are individually fine but do not fit together.
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line of the key at fault (1-based), when it can be found.
        line: Option<usize>,
        /// The key at fault, such as `practitioners[1].disciplines`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, error } => write!(f, "cannot read config {}: {error}", path.display()),
            ConfigError::Parse { path, message } => write!(f, "config {}: {}", path.display(), message.trim_end()),
            ConfigError::Invalid { path, line: Some(line), key, message } => {
                write!(f, "config {}, line {line}: `{key}`: {message}", path.display())
            }
            ConfigError::Invalid { path, line: None, key, message } => {
                write!(f, "config {}: `{key}`: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// `[practice]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeSection {
    /// The practice's name.
    pub name: String,
    /// IANA time zone, such as `Europe/London`: what "today" means.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// The data folder, relative to this file (default: this file's folder).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
}

fn default_time_zone() -> String {
    "UTC".to_owned()
}

/// One or several `"HH:MM-HH:MM"` spans.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Spans {
    /// One span.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// A week as `{ monday = "09:00-17:00", wednesday = ["09:00-12:00", "14:00-18:00"] }`.
pub type WeekSpec = BTreeMap<String, Spans>;

/// Parses a [`WeekSpec`] into weekly windows; `key` names it in errors.
pub fn parse_week(spec: &WeekSpec, key: &str) -> Result<Vec<WeeklyWindow>, (String, String)> {
    let mut out = Vec::new();
    for (day, spans) in spec {
        let day_key = format!("{key}.{day}");
        let weekday: Weekday = day.parse().map_err(|e| (day_key.clone(), format!("{e}")))?;
        let list = match spans {
            Spans::One(s) => vec![s.clone()],
            Spans::Many(v) => v.clone(),
        };
        for span in list {
            let (start, end) = parse_span(&span).map_err(|m| (day_key.clone(), m))?;
            out.push(WeeklyWindow { day: weekday, start, end });
        }
    }
    out.sort_by_key(|w| (w.day, w.start));
    Ok(out)
}

fn parse_span(span: &str) -> Result<(TimeOfDay, TimeOfDay), String> {
    let bad = || format!("`{span}` is not a time span: write it as \"09:00-17:30\"");
    let (a, b) = span.split_once('-').ok_or_else(bad)?;
    let start: TimeOfDay = a.trim().parse().map_err(|_| bad())?;
    let end: TimeOfDay = b.trim().parse().map_err(|_| bad())?;
    if start >= end {
        return Err(format!("`{span}` ends before it starts"));
    }
    Ok((start, end))
}

/// `[[practitioners]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PractitionerConfig {
    /// Stable id (used on the command line and in records).
    pub id: String,
    /// Full name.
    pub name: String,
    /// Disciplines the practitioner is qualified in.
    pub disciplines: Vec<String>,
    /// Working hours by weekday.
    #[serde(default)]
    pub availability: WeekSpec,
    /// Leave, as `{ from = "2026-12-24", to = "2027-01-01" }`.
    #[serde(default)]
    pub time_off: Vec<DateRange>,
}

/// `[[rooms]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomConfig {
    /// Stable id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `treatment_room`, `acupuncture_room` or `studio`.
    pub kind: RoomKind,
    /// How many clients at once.
    #[serde(default = "one")]
    pub capacity: u16,
}

fn one() -> u16 {
    1
}

/// `[[classes]]`: a recurring group class.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassConfig {
    /// Stable id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Discipline (yoga, tai_chi, mindfulness...).
    pub discipline: String,
    /// Day of the week.
    pub day: Weekday,
    /// Start, `"HH:MM"`.
    pub start: TimeOfDay,
    /// Length in minutes.
    pub minutes: u16,
    /// Practitioner id.
    pub practitioner: String,
    /// Room id.
    pub room: String,
    /// Places.
    pub capacity: u16,
}

/// `[insurance.<plan>]`: a plan the practice deals with. A client given the
/// plan keeps its name; these terms apply to every client on it when
/// guidance is made, so a change here reaches them all.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsurancePlanConfig {
    /// The payer.
    pub payer: String,
    /// Needs a referral or prescription (rule I1).
    #[serde(default)]
    pub referral_required: bool,
    /// Covered conditions (SNOMED CT codes); empty: any (rule I3).
    #[serde(default)]
    pub covered_conditions: Vec<String>,
    /// Sessions covered per period (rule I2).
    #[serde(default)]
    pub session_limit: Option<u32>,
    /// The period the limit counts over: `"calendar-year"` (the default),
    /// `"plan-year"` (with `period_start`) or `"rolling-12-months"`.
    #[serde(default)]
    pub period: Option<String>,
    /// The day a `"plan-year"` starts, `"MM-DD"` (not `"02-29"`).
    #[serde(default)]
    pub period_start: Option<String>,
}

/// `[plugins.<id>]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// Whether the plugin is on (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Its settings; the plugin's manifest lists the keys and defaults.
    #[serde(default)]
    pub settings: toml::Table,
    /// `process` or `in-process` (default: `process` for plugin folders,
    /// `in-process` for first-party plugins beside the executable).
    #[serde(default)]
    pub isolation: Option<crate::plugin_host::Isolation>,
}

fn yes() -> bool {
    true
}

/// `[plugins]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PluginsSection {
    /// Extra folders to load plugins from, relative to this file.
    #[serde(default)]
    pub folders: Vec<PathBuf>,
    /// SHA-256 digests of plugin files the practice trusts (files next to the
    /// `praxis` executable are trusted without one).
    #[serde(default)]
    pub trusted: Vec<String>,
    /// The largest answer, in bytes, the host accepts from one plugin call
    /// (default 4 MiB, `plugin_host::DEFAULT_MAX_ANSWER_BYTES`); a longer
    /// answer becomes a warning card.
    #[serde(default)]
    pub max_answer_bytes: Option<usize>,
    /// The time limit of one call to an isolated plugin, in milliseconds
    /// (default 2000); past it the plugin's process is stopped.
    #[serde(default)]
    pub call_timeout_ms: Option<u64>,
    /// The memory limit of an isolated plugin's process, in MiB (default 1024).
    #[serde(default)]
    pub memory_limit_mib: Option<u64>,
    /// One table per plugin id.
    #[serde(flatten)]
    pub modules: BTreeMap<String, PluginConfig>,
}

/// `[schedule]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    /// Planning horizon in weeks (default 8).
    #[serde(default = "eight")]
    pub horizon_weeks: u32,
    /// Massage length when the protocols' guidance gives none (arthritis
    /// rules, for example, set no length). Project default 30-60 minutes,
    /// not from the sources.
    #[serde(default = "massage_minutes")]
    pub massage_minutes: praxis_sdk::Range,
}

fn massage_minutes() -> praxis_sdk::Range {
    praxis_sdk::Range::new(30, 60)
}

fn eight() -> u32 {
    8
}

impl Default for ScheduleSection {
    fn default() -> Self {
        ScheduleSection { horizon_weeks: 8, massage_minutes: massage_minutes() }
    }
}

/// How calendar feeds name the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientNames {
    /// Initials only, such as `M.S.` (the default: a feed shows no clinical details).
    #[default]
    Initials,
    /// The full name, where the practice allows it.
    Full,
}

/// `[calendar]`: the iCalendar feeds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSection {
    /// How a practitioner's feed names the client: `initials` (default) or `full`.
    #[serde(default)]
    pub client_names: ClientNames,
}

/// `[[cds_hooks.ehr]]`: an EHR whose CDS Hooks calls the practice trusts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdsEhrConfig {
    /// The JWT `iss` the EHR signs with.
    pub issuer: String,
    /// The EHR's public keys: a JWKS file, relative to the config file.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Or the URL of its JWKS, fetched by the server (`https://`, or
    /// `http://` to this machine only; see `interop::jwt`).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The identifier system of the EHR's patient ids (`patientId`); `Patient` ids of the EHR when absent.
    #[serde(default)]
    pub patient_id_system: Option<String>,
}

/// `[cds_hooks]`: the CDS Hooks service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdsHooksSection {
    /// The CDS Hooks base URL as EHRs call it, such as
    /// `https://praxis.example.org/cds-services`; a JWT's `aud` is this, `/`
    /// and the service id.
    #[serde(default)]
    pub service_url: Option<String>,
    /// The trusted EHRs.
    #[serde(default)]
    pub ehr: Vec<CdsEhrConfig>,
}

/// `[store]`: how the store is opened. Project defaults, not clinical facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// How long a command waits for a store another Praxis process holds
    /// before it gives up, naming that process (project default 1.5 s; 0 to 600).
    #[serde(default = "default_lock_wait")]
    pub lock_wait_seconds: f64,
    /// The largest export `praxis import` (and `POST /api/v1/import`) reads,
    /// in MiB (project default 1024, enough for a 50,000-client practice;
    /// 1 to 16384). Larger input is refused before it fills memory.
    #[serde(default = "default_max_import_mib")]
    pub max_import_mib: u64,
    /// A PostgreSQL database for the store (`postgres://...`), for a clinic
    /// group whose servers share one; without it, the sled store in the
    /// data folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

fn default_max_import_mib() -> u64 {
    crate::store::DEFAULT_MAX_IMPORT_BYTES / (1024 * 1024)
}

fn default_lock_wait() -> f64 {
    crate::store::DEFAULT_LOCK_WAIT.as_secs_f64()
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection { lock_wait_seconds: default_lock_wait(), max_import_mib: default_max_import_mib(), url: None }
    }
}

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[practice]`.
    pub practice: PracticeSection,
    /// `[hours]`: opening hours by weekday.
    #[serde(default)]
    pub hours: WeekSpec,
    /// `[[practitioners]]`.
    #[serde(default)]
    pub practitioners: Vec<PractitionerConfig>,
    /// `[[rooms]]`.
    #[serde(default)]
    pub rooms: Vec<RoomConfig>,
    /// `[[classes]]`.
    #[serde(default)]
    pub classes: Vec<ClassConfig>,
    /// `[insurance.<plan>]`.
    #[serde(default)]
    pub insurance: BTreeMap<String, InsurancePlanConfig>,
    /// `[plugins]`.
    #[serde(default)]
    pub plugins: PluginsSection,
    /// `[schedule]`.
    #[serde(default)]
    pub schedule: ScheduleSection,
    /// `[store]`: how the store is opened.
    #[serde(default)]
    pub store: StoreSection,
    /// `[rules]`: the host's own rule settings (safety screen, insurance).
    #[serde(default)]
    pub rules: crate::world::HostRules,
    /// `[security]`: who sees what, idle logout, login lockout.
    #[serde(default)]
    pub security: crate::service::SecuritySettings,
    /// `[calendar]`: the iCalendar feeds.
    #[serde(default)]
    pub calendar: CalendarSection,
    /// `[cds_hooks]`: the CDS Hooks service and the EHRs it trusts.
    #[serde(default)]
    pub cds_hooks: CdsHooksSection,
}

/// A loaded, checked practice configuration.
#[derive(Debug, Clone)]
pub struct PracticeConfig {
    /// Where it was read from.
    pub path: PathBuf,
    /// The file as written.
    pub file: ConfigFile,
    /// The data folder, resolved.
    pub data_dir: PathBuf,
    /// Opening hours.
    pub opening_hours: Vec<WeeklyWindow>,
    /// Practitioners, as the calendar and scheduler see them.
    pub practitioners: Vec<Practitioner>,
    /// Rooms.
    pub rooms: Vec<Room>,
    /// Group classes.
    pub classes: Vec<GroupClass>,
    /// The insurance plans with their periods parsed, as guidance reads them.
    pub plans: crate::world::Plans,
}

impl PracticeConfig {
    /// Reads and checks a config file. `data_override` (from `--data` or
    /// `PRAXIS_DATA`) wins over the file's `data_dir`.
    ///
    /// The data folder must exist: a missing one is refused rather than
    /// silently becoming a new, empty practice (`praxis init` creates it).
    pub fn load(path: &Path, data_override: Option<&Path>) -> Result<PracticeConfig, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.to_path_buf(), error })?;
        let config = PracticeConfig::parse(&text, path, data_override)?;
        if !config.data_dir.is_dir() {
            let key = if data_override.is_some() { "--data" } else { "practice.data_dir" };
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: if data_override.is_some() { None } else { line_of(&text, "practice.data_dir") },
                key: key.into(),
                message: format!(
                    "the data folder {} does not exist: correct the path, or create a new practice there with \
                     `praxis init --data {}`",
                    config.data_dir.display(),
                    config.data_dir.display()
                ),
            });
        }
        Ok(config)
    }

    /// The largest import read, in bytes (`[store] max_import_mib`).
    pub fn max_import_bytes(&self) -> u64 {
        self.file.store.max_import_mib * 1024 * 1024
    }

    /// How the store is opened (`[store]`).
    pub fn store_options(&self) -> crate::store::StoreOptions {
        crate::store::StoreOptions {
            lock_wait: std::time::Duration::from_secs_f64(self.file.store.lock_wait_seconds),
            ..crate::store::StoreOptions::default()
        }
    }

    /// Parses and checks config text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path, data_override: Option<&Path>) -> Result<PracticeConfig, ConfigError> {
        let file: ConfigFile = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })?;
        let invalid = |key: String, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of(text, &key),
            key,
            message,
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let data_dir = match (data_override, &file.practice.data_dir) {
            (Some(d), _) => d.to_path_buf(),
            (None, Some(d)) => base.join(d),
            (None, None) => base.clone(),
        };
        if file.practice.name.trim().is_empty() {
            return Err(invalid("practice.name".into(), "must not be empty".into()));
        }
        if jiff::tz::TimeZone::get(&file.practice.time_zone).is_err() {
            return Err(invalid(
                "practice.time_zone".into(),
                format!("unknown time zone `{}`: use an IANA name such as \"Europe/London\"", file.practice.time_zone),
            ));
        }
        let wait = file.store.lock_wait_seconds;
        if !(0.0..=600.0).contains(&wait) {
            return Err(invalid("store.lock_wait_seconds".into(), format!("{wait} is outside 0-600: give seconds")));
        }
        let mib = file.store.max_import_mib;
        if !(1..=16_384).contains(&mib) {
            return Err(invalid("store.max_import_mib".into(), format!("{mib} is outside 1-16384: give MiB")));
        }
        if let Some(url) = &file.store.url
            && !crate::store::is_postgres_url(url)
        {
            return Err(invalid(
                "store.url".into(),
                format!(
                    "`{}` is not a PostgreSQL URL: give postgres://user@host/database (or remove the key for the \
                     store in the data folder)",
                    crate::service::excerpt(url)
                ),
            ));
        }
        let opening_hours = parse_week(&file.hours, "hours").map_err(|(k, m)| invalid(k, m))?;

        let mut ids = BTreeSet::new();
        let mut practitioners = Vec::new();
        for (i, p) in file.practitioners.iter().enumerate() {
            let key = format!("practitioners[{i}]");
            check_id(&p.id).map_err(|m| invalid(format!("{key}.id"), m))?;
            if !ids.insert(p.id.clone()) {
                return Err(invalid(format!("{key}.id"), format!("practitioner id `{}` is used twice", p.id)));
            }
            let disciplines = p
                .disciplines
                .iter()
                .map(|d| known_discipline(d).map_err(|m| invalid(format!("{key}.disciplines"), m)))
                .collect::<Result<Vec<_>, _>>()?;
            if disciplines.is_empty() {
                return Err(invalid(format!("{key}.disciplines"), "name at least one discipline".into()));
            }
            for (j, off) in p.time_off.iter().enumerate() {
                if off.from > off.to {
                    return Err(invalid(format!("{key}.time_off[{j}]"), "`from` is after `to`".into()));
                }
            }
            let availability =
                parse_week(&p.availability, &format!("{key}.availability")).map_err(|(k, m)| invalid(k, m))?;
            practitioners.push(Practitioner {
                id: p.id.clone(),
                name: p.name.clone(),
                disciplines,
                availability,
                time_off: p.time_off.clone(),
            });
        }

        let mut room_ids = BTreeSet::new();
        let mut rooms = Vec::new();
        for (i, r) in file.rooms.iter().enumerate() {
            let key = format!("rooms[{i}]");
            check_id(&r.id).map_err(|m| invalid(format!("{key}.id"), m))?;
            if !room_ids.insert(r.id.clone()) {
                return Err(invalid(format!("{key}.id"), format!("room id `{}` is used twice", r.id)));
            }
            if r.kind == RoomKind::Unknown {
                return Err(invalid(
                    format!("{key}.kind"),
                    "unknown room kind: use treatment_room, acupuncture_room or studio".into(),
                ));
            }
            if r.capacity == 0 {
                return Err(invalid(format!("{key}.capacity"), "must be at least 1".into()));
            }
            rooms.push(Room { id: r.id.clone(), name: r.name.clone(), kind: r.kind, capacity: r.capacity });
        }

        let mut class_ids = BTreeSet::new();
        let mut classes = Vec::new();
        for (i, c) in file.classes.iter().enumerate() {
            let key = format!("classes[{i}]");
            check_id(&c.id).map_err(|m| invalid(format!("{key}.id"), m))?;
            if !class_ids.insert(c.id.clone()) {
                return Err(invalid(format!("{key}.id"), format!("class id `{}` is used twice", c.id)));
            }
            let discipline = known_discipline(&c.discipline).map_err(|m| invalid(format!("{key}.discipline"), m))?;
            if !ids.contains(&c.practitioner) {
                return Err(invalid(format!("{key}.practitioner"), format!("no practitioner `{}`", c.practitioner)));
            }
            let Some(room) = rooms.iter().find(|r| r.id == c.room) else {
                return Err(invalid(format!("{key}.room"), format!("no room `{}`", c.room)));
            };
            if c.capacity == 0 || c.capacity > room.capacity {
                return Err(invalid(
                    format!("{key}.capacity"),
                    format!("{} places do not fit room `{}` (capacity {})", c.capacity, room.id, room.capacity),
                ));
            }
            if c.minutes == 0 || u32::from(c.start.minutes()) + u32::from(c.minutes) > 24 * 60 {
                return Err(invalid(
                    format!("{key}.minutes"),
                    format!("{} minutes from {} leaves the day", c.minutes, c.start),
                ));
            }
            classes.push(GroupClass {
                id: c.id.clone(),
                name: c.name.clone(),
                discipline,
                day: c.day,
                start: c.start,
                minutes: c.minutes,
                practitioner: c.practitioner.clone(),
                room: c.room.clone(),
                capacity: c.capacity,
            });
        }

        for (i, ehr) in file.cds_hooks.ehr.iter().enumerate() {
            let key = format!("cds_hooks.ehr[{i}]");
            if ehr.issuer.trim().is_empty() {
                return Err(invalid(
                    format!("{key}.issuer"),
                    "must not be empty: the JWT `iss` the EHR signs with".into(),
                ));
            }
            match (&ehr.jwks_file, &ehr.jwks_url) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(invalid(
                        key,
                        "give exactly one of jwks_file (a file beside praxis.toml) and jwks_url (fetched by the server)"
                            .into(),
                    ));
                }
                (None, Some(url)) => {
                    crate::interop::jwt::check_jwks_url(url).map_err(|m| invalid(format!("{key}.jwks_url"), m))?;
                }
                (Some(_), None) => {}
            }
        }

        let mut plans = crate::world::Plans::new();
        for (name, plan) in &file.insurance {
            if plan.payer.trim().is_empty() {
                return Err(invalid(format!("insurance.{name}.payer"), "must not be empty".into()));
            }
            if plan.session_limit == Some(0) {
                return Err(invalid(
                    format!("insurance.{name}.session_limit"),
                    "must be at least 1, or left out".into(),
                ));
            }
            let period = crate::world::PlanPeriod::parse(plan.period.as_deref(), plan.period_start.as_deref())
                .map_err(|(key, m)| invalid(format!("insurance.{name}.{key}"), m))?;
            if plan.session_limit.is_none() && (plan.period.is_some() || plan.period_start.is_some()) {
                let key = if plan.period.is_some() { "period" } else { "period_start" };
                return Err(invalid(
                    format!("insurance.{name}.{key}"),
                    "a period only matters with a session_limit: add session_limit = N, or remove it".into(),
                ));
            }
            for (i, code) in plan.covered_conditions.iter().enumerate() {
                let code = code.trim();
                if !(6..=18).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(
                        format!("insurance.{name}.covered_conditions"),
                        format!(
                            "entry {} `{code}` is not a SNOMED CT concept id (6 to 18 digits, such as 203082005)",
                            i + 1
                        ),
                    ));
                }
            }
            plans.insert(
                name.clone(),
                crate::world::PlanTerms {
                    payer: plan.payer.trim().to_owned(),
                    referral_required: plan.referral_required,
                    covered_conditions: plan.covered_conditions.iter().map(|c| c.trim().to_owned()).collect(),
                    session_limit: plan.session_limit,
                    period,
                },
            );
        }
        if file.plugins.max_answer_bytes.is_some_and(|n| n < 1024) {
            return Err(invalid(
                "plugins.max_answer_bytes".into(),
                "must be at least 1024 bytes (the default is 4194304, 4 MiB)".into(),
            ));
        }
        if file.plugins.call_timeout_ms.is_some_and(|n| n < 10) {
            return Err(invalid(
                "plugins.call_timeout_ms".into(),
                "must be at least 10 milliseconds (the default is 2000)".into(),
            ));
        }
        if file.plugins.memory_limit_mib.is_some_and(|n| n < 64) {
            return Err(invalid(
                "plugins.memory_limit_mib".into(),
                "must be at least 64 MiB (the default is 1024)".into(),
            ));
        }
        for (i, sha) in file.plugins.trusted.iter().enumerate() {
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                return Err(invalid(
                    format!("plugins.trusted[{i}]"),
                    format!(
                        "`{sha}` is not a SHA-256 digest (64 lowercase hex characters); use `praxis plugins trust FILE`"
                    ),
                ));
            }
        }
        file.rules.validate().map_err(|e| invalid("rules".into(), e.to_string()))?;
        file.security.check().map_err(|(k, m)| invalid(k, m))?;
        if file.schedule.horizon_weeks == 0 || file.schedule.horizon_weeks > 52 {
            return Err(invalid("schedule.horizon_weeks".into(), "must be 1 to 52".into()));
        }
        let m = file.schedule.massage_minutes;
        if m.min < 5 || m.min > m.max || m.max > 240 {
            return Err(invalid(
                "schedule.massage_minutes".into(),
                format!("{m} is not a range within 5-240 minutes: write {{ min = 30, max = 60 }}"),
            ));
        }
        Ok(PracticeConfig {
            path: path.to_path_buf(),
            data_dir,
            opening_hours,
            practitioners,
            rooms,
            classes,
            plans,
            file,
        })
    }

    /// The practice's time zone.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.file.practice.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// Today in the practice's time zone.
    pub fn today(&self) -> Date {
        let now = jiff::Timestamp::now().to_zoned(self.time_zone()).date();
        Date::from_ymd(i32::from(now.year()), now.month() as u32, now.day() as u32)
            .unwrap_or_else(|| Date::from_days(0))
    }

    /// The plugin folders, resolved against the config file's folder.
    pub fn plugin_folders(&self) -> Vec<PathBuf> {
        let base = self.path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.file.plugins.folders.iter().map(|f| base.join(f)).collect()
    }

    /// The trust list.
    pub fn trusted(&self) -> BTreeSet<String> {
        self.file.plugins.trusted.iter().cloned().collect()
    }

    /// Where the store is: `[store] url`, or the folder in the data folder.
    pub fn store_location(&self) -> crate::store::StoreLocation {
        match &self.file.store.url {
            Some(url) => crate::store::StoreLocation::Postgres(url.clone()),
            None => crate::store::StoreLocation::Folder(self.store_dir()),
        }
    }

    /// The store's folder inside the data folder.
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir.join("store")
    }
}

/// The 1-based line of a key path such as `practitioners[1].disciplines` or
/// `hours.monday` in TOML text: the deepest part of the path that is found.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let doc = toml_edit::Document::parse(text.to_owned()).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut offset = None;
    for segment in key.split('.') {
        let (name, index) = match segment.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let Some((k, item)) = table.get_key_value(name) else { break };
        offset = k.span().or_else(|| item.span()).map(|r| r.start).or(offset);
        match (index, item) {
            (Some(i), toml_edit::Item::ArrayOfTables(list)) => {
                let Some(t) = list.get(i) else { break };
                offset = t.span().map(|r| r.start).or(offset);
                table = t;
            }
            (None, item) => match item.as_table_like() {
                Some(t) => table = t,
                None => break,
            },
            _ => break,
        }
    }
    offset.map(|o| text[..o.min(text.len())].matches('\n').count() + 1)
}

fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok { Ok(()) } else { Err(format!("`{id}` is not a valid id: use 1-64 letters, digits, `-`, `_` or `.`")) }
}

fn known_discipline(name: &str) -> Result<Discipline, String> {
    let d = Discipline::parse(name);
    if d.is_known() {
        Ok(d)
    } else {
        Err(format!(
            "unknown discipline `{name}`: use massage, yoga, tai_chi, acupuncture, physical_therapy or mindfulness"
        ))
    }
}

fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect())
        }
    }
}

impl PluginPolicy for PracticeConfig {
    fn enabled(&self, id: &str) -> bool {
        self.file.plugins.modules.get(id).is_none_or(|m| m.enabled)
    }

    fn settings(&self, id: &str) -> Settings {
        self.file
            .plugins
            .modules
            .get(id)
            .map(|m| m.settings.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect())
            .unwrap_or_default()
    }

    fn setting_location(&self, id: &str, key: &str) -> String {
        let key_path = format!("plugins.{id}.settings.{key}");
        let line = std::fs::read_to_string(&self.path).ok().and_then(|text| line_of(&text, &key_path));
        match line {
            Some(line) => format!("{}, line {line}: `{key_path}`", self.path.display()),
            None => format!("{}: `{key_path}`", self.path.display()),
        }
    }

    fn configured(&self) -> Vec<String> {
        self.file.plugins.modules.keys().cloned().collect()
    }

    fn max_answer_bytes(&self) -> usize {
        self.file.plugins.max_answer_bytes.unwrap_or(crate::plugin_host::DEFAULT_MAX_ANSWER_BYTES)
    }

    fn isolation(&self, id: &str, origin: crate::plugin_host::Origin) -> crate::plugin_host::Isolation {
        self.file
            .plugins
            .modules
            .get(id)
            .and_then(|m| m.isolation)
            .unwrap_or_else(|| crate::plugin_host::Isolation::default_for(origin))
    }

    fn limits(&self) -> crate::plugin_host::sandbox::Limits {
        let defaults = crate::plugin_host::sandbox::Limits::default();
        let p = &self.file.plugins;
        crate::plugin_host::sandbox::Limits {
            call_timeout: p.call_timeout_ms.map_or(defaults.call_timeout, std::time::Duration::from_millis),
            memory_bytes: p.memory_limit_mib.map_or(defaults.memory_bytes, |m| m.saturating_mul(1 << 20)),
            max_answer_bytes: self.max_answer_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[practice]\nname = \"Test\"\n";

    fn check(extra: &str, expected_error: Option<&str>) {
        let text = format!("{MINIMAL}{extra}");
        let got = PracticeConfig::parse(&text, Path::new("/p/praxis.toml"), None);
        match (got, expected_error) {
            (Ok(_), None) => {}
            (Err(e), Some(want)) => {
                let msg = e.to_string();
                assert!(msg.contains(want), "error `{msg}` does not contain `{want}`");
                assert!(msg.contains("/p/praxis.toml"), "error `{msg}` does not name the file");
            }
            (Ok(_), Some(want)) => panic!("accepted, expected an error containing `{want}`:\n{text}"),
            (Err(e), None) => panic!("refused: {e}\n{text}"),
        }
    }

    #[test]
    fn good_and_bad_configs() {
        check("", None);
        check("[hours]\nmonday = \"08:00-18:00\"\nsaturday = [\"09:00-12:00\", \"13:00-15:00\"]\n", None);
        check(
            "[hours]\nmonday = \"18:00-08:00\"\n",
            Some("line 4: `hours.monday`: `18:00-08:00` ends before it starts"),
        );
        check("[hours]\nmoonday = \"08:00-18:00\"\n", Some("`hours.moonday`"));
        check("[store]\nlock_wait_seconds = 5\n", None);
        check("[store]\nlock_wait_seconds = -1\n", Some("`store.lock_wait_seconds`: -1 is outside 0-600"));
        check("[store]\nlock_wait = 5\n", Some("unknown field `lock_wait`"));
        check("[store]\nmax_import_mib = 4096\n", None);
        check("[store]\nmax_import_mib = 0\n", Some("`store.max_import_mib`: 0 is outside 1-16384: give MiB"));
        check("[store]\nmax_import_mib = \"1G\"\n", Some("max_import_mib"));
        check("[store]\nurl = \"postgres://praxis@db/clinic\"\n", None);
        check(
            "[store]\nurl = \"mysql://db/clinic\"\n",
            Some("`store.url`: `mysql://db/clinic` is not a PostgreSQL URL"),
        );
        check("[store]\nurl = 5\n", Some("invalid type"));
        check("[hours]\nmonday = \"8-6\"\n", Some("is not a time span"));
        check("colour = \"blue\"\n", Some("unknown field `colour`"));
        check("[practice2]\n", Some("unknown field `practice2`"));
        check("[[rooms]]\nid = \"r1\"\nkind = \"sauna\"\n", Some("unknown room kind"));
        check(
            "[[rooms]]\nid = \"r1\"\nkind = \"studio\"\ncapacity = 0\n",
            Some("`rooms[0].capacity`: must be at least 1"),
        );
        check("[[rooms]]\nid = \"r1\"\nkind = \"studio\"\nsize = 3\n", Some("unknown field `size`"));
        check(
            "[[practitioners]]\nid = \"a\"\nname = \"A\"\ndisciplines = [\"reiki\"]\n",
            Some("`practitioners[0].disciplines`: unknown discipline `reiki`"),
        );
        check(
            "[[practitioners]]\nid = \"a\"\nname = \"A\"\ndisciplines = [\"massage\"]\n[[practitioners]]\nid = \"a\"\nname = \"B\"\ndisciplines = [\"yoga\"]\n",
            Some("line 8: `practitioners[1].id`: practitioner id `a` is used twice"),
        );
        check(
            "[[practitioners]]\nid = \"a b\"\nname = \"A\"\ndisciplines = [\"massage\"]\n",
            Some("`a b` is not a valid id"),
        );
        check(
            "[[practitioners]]\nid = \"a\"\nname = \"A\"\ndisciplines = [\"massage\"]\navailability = { monday = \"09:00-17:00\" }\ntime_off = [{ from = \"2026-12-31\", to = \"2026-12-24\" }]\n",
            Some("line 8: `practitioners[0].time_off[0]`: `from` is after `to`"),
        );
        check(
            "[[practitioners]]\nid = \"a\"\nname = \"A\"\ndisciplines = [\"yoga\"]\n[[rooms]]\nid = \"s\"\nkind = \"studio\"\ncapacity = 8\n[[classes]]\nid = \"y\"\ndiscipline = \"yoga\"\nday = \"tuesday\"\nstart = \"18:00\"\nminutes = 60\npractitioner = \"a\"\nroom = \"s\"\ncapacity = 10\n",
            Some("10 places do not fit room `s` (capacity 8)"),
        );
        check(
            "[[classes]]\nid = \"y\"\ndiscipline = \"yoga\"\nday = \"tuesday\"\nstart = \"18:00\"\nminutes = 60\npractitioner = \"nobody\"\nroom = \"s\"\ncapacity = 10\n",
            Some("no practitioner `nobody`"),
        );
        check("[plugins]\ntrusted = [\"abc\"]\n", Some("is not a SHA-256 digest"));
        check("[plugins]\nmax_answer_bytes = 10\n", Some("`plugins.max_answer_bytes`: must be at least 1024 bytes"));
        check("[plugins]\nmax_answer_bytes = 1048576\n", None);
        check("[plugins]\ncall_timeout_ms = 0\n", Some("`plugins.call_timeout_ms`: must be at least 10"));
        check("[plugins]\nmemory_limit_mib = 1\n", Some("`plugins.memory_limit_mib`: must be at least 64 MiB"));
        check("[plugins.x]\nisolation = \"in-process\"\n", None);
        check("[plugins.x]\nisolation = \"thread\"\n", Some("unknown variant `thread`"));
        check("[plugins.fibromyalgia]\nenabled = false\n[plugins.fibromyalgia.settings]\nweekly = 3\n", None);
        check("[plugins.fibromyalgia]\nenable = false\n", Some("unknown field `enable`"));
        check("[insurance.acme]\npayer = \"Acme\"\nsession_limit = 0\n", Some("session_limit"));
        let ehr = |body: &str| format!("[[cds_hooks.ehr]]\nissuer = \"https://ehr.test\"\n{body}");
        check(&ehr("jwks_file = \"ehr.jwks\"\n"), None);
        check(&ehr("jwks_url = \"https://ehr.test/jwks.json\"\n"), None);
        check(&ehr("jwks_url = \"http://127.0.0.1:9/jwks.json\"\n"), None);
        check(&ehr(""), Some("give exactly one of jwks_file"));
        check(&ehr("jwks_file = \"a\"\njwks_url = \"https://ehr.test/k\"\n"), Some("give exactly one of jwks_file"));
        check(&ehr("jwks_url = \"http://ehr.test/jwks.json\"\n"), Some("cds_hooks.ehr[0].jwks_url"));
        check(&ehr("jwks_url = \"ehr.test/jwks.json\"\n"), Some("not an https:// URL"));
        check("[[cds_hooks.ehr]]\nissuer = \" \"\njwks_file = \"k\"\n", Some("cds_hooks.ehr[0].issuer"));
        let plan = |extra: &str| format!("[insurance.acme]\npayer = \"Acme\"\nsession_limit = 10\n{extra}");
        check(&plan(""), None);
        check(&plan("period = \"calendar-year\"\n"), None);
        check(&plan("period = \"rolling-12-months\"\n"), None);
        check(&plan("period = \"plan-year\"\nperiod_start = \"04-01\"\n"), None);
        check(&plan("period = \"plan-year\"\nperiod_start = \"12-31\"\n"), None);
        check(&plan("period = \"yearly\"\n"), Some("line 6: `insurance.acme.period`: unknown period `yearly`"));
        check(&plan("period = \"Calendar-Year\"\n"), Some("`insurance.acme.period`: unknown period"));
        check(&plan("period = 12\n"), Some("invalid type"));
        check(&plan("period = \"plan-year\"\n"), Some("`insurance.acme.period_start`: `plan-year` needs the day"));
        for bad in ["02-29", "13-01", "00-10", "04-31", "4-1", "04/01", "", "april"] {
            check(
                &plan(&format!("period = \"plan-year\"\nperiod_start = \"{bad}\"\n")),
                Some(&format!("line 7: `insurance.acme.period_start`: `{bad}` is not a day of the year")),
            );
        }
        check(&plan("period_start = \"04-01\"\n"), Some("`insurance.acme.period_start`: only a `plan-year`"));
        check(
            &plan("period = \"rolling-12-months\"\nperiod_start = \"04-01\"\n"),
            Some("`insurance.acme.period_start`: only a `plan-year`"),
        );
        check(
            "[insurance.acme]\npayer = \"Acme\"\nperiod = \"calendar-year\"\n",
            Some("`insurance.acme.period`: a period only matters with a session_limit"),
        );
        check(&plan("covered_conditions = [\"203082005\"]\n"), None);
        check(&plan("covered_conditions = [\"fibromyalgia\"]\n"), Some("`insurance.acme.covered_conditions`"));
        check(
            "[insurance.acme]\npayer = \"Acme\"\nreferal_required = true\n",
            Some("unknown field `referal_required`"),
        );
        check("[schedule]\nhorizon_weeks = 0\n", Some("must be 1 to 52"));
        check("[schedule]\nmassage_minutes = { min = 45, max = 30 }\n", Some("`schedule.massage_minutes`"));
        check("[schedule]\nmassage_minutes = { min = 30, max = 45 }\n", None);
        check("[schedule]\nmassage_minutes = 30\n", Some("line 4, column 19"));
        check("[rules]\nrecent_injury_days = 21\n", None);
        check("[rules]\nrecent_injury_days = 0\n", Some("recent_injury_days 0 is outside"));
        check("[rules]\nrecent_injury_dayz = 21\n", Some("unknown field `recent_injury_dayz`"));
        check("[rules]\ninflammatory_conditions = [\"gout\"]\n", Some("`gout` is not a SNOMED CT code"));
        check("[practice]\nname = \"x\"\n", Some("duplicate key"));
    }

    #[test]
    fn parse_errors_carry_the_line() {
        let text = "[practice]\nname = \"Test\"\n\n[[rooms]]\nid = \"r\"\nkind = \"studio\"\nvolume = 2\n";
        let msg = PracticeConfig::parse(text, Path::new("c.toml"), None).unwrap_err().to_string();
        assert!(msg.contains("line 7"), "{msg}");
    }

    #[test]
    fn a_data_dir_that_does_not_exist_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("praxis.toml");
        std::fs::write(&path, "[practice]\nname = \"P\"\ndata_dir = \"missing\"\n").unwrap();
        let err = PracticeConfig::load(&path, None).unwrap_err().to_string();
        assert!(err.contains("line 3: `practice.data_dir`") && err.contains("does not exist"), "{err}");
        assert!(!dir.path().join("missing").exists());
        let err = PracticeConfig::load(&path, Some(&dir.path().join("nope"))).unwrap_err().to_string();
        assert!(err.contains("`--data`") && err.contains("praxis init --data"), "{err}");
        std::fs::create_dir(dir.path().join("missing")).unwrap();
        PracticeConfig::load(&path, None).unwrap();
    }

    #[test]
    fn bad_time_zone() {
        let text = "[practice]\nname = \"T\"\ntime_zone = \"Mars/Olympus\"\n";
        let msg = PracticeConfig::parse(text, Path::new("c.toml"), None).unwrap_err().to_string();
        assert!(msg.contains("unknown time zone `Mars/Olympus`"), "{msg}");
    }
}
