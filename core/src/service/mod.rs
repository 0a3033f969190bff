//! The practice service: every use case of Praxis as one typed operation.
//!
//! A [`PracticeService`] owns what a practice is made of: its configuration,
//! its store, its plugins and (in a server) the live clinic world. The
//! command line, the HTTP API and the web pages are thin shells over it: they
//! parse, call one operation, and render its typed answer. What is checked,
//! written, re-evaluated and audited is decided here, once.
//!
//! ```
//! use praxis_core::config::PracticeConfig;
//! use praxis_core::service::{Actor, ClientChanges, PracticeService, SessionInput};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let toml = "[practice]\nname = \"Doc Clinic\"\n[[practitioners]]\nid = \"ana\"\nname = \"Ana\"\ndisciplines = [\"massage\"]\n";
//! let config = PracticeConfig::parse(toml, &dir.path().join("praxis.toml"), None).unwrap();
//! let service = PracticeService::open(config).unwrap();
//! let front_desk = Actor::new("front-desk").unwrap();
//!
//! let changes = ClientChanges { name: Some("Ada Lovelace".into()), ..ClientChanges::default() };
//! let ada = service.add_client(&changes, &front_desk).unwrap();
//! let session = SessionInput { practitioner: "ana".into(), minutes: 30, ..SessionInput::default() };
//! service.record_session(&ada.id, &session, &Actor::new("ana").unwrap()).unwrap();
//! assert_eq!(service.client_record(&ada.id, &front_desk_owner()).unwrap().sessions.len(), 1);
//! // No intake yet: rule S3 warns.
//! assert!(service.guidance(&ada.id, None, &front_desk_owner()).unwrap().rules().contains(&"S3"));
//! # fn front_desk_owner() -> Actor { Actor::new("owner").unwrap() }
//! ```
//!
//! Two ways to run:
//!
//! - [`PracticeService::open`]: one command's worth of work (the command line
//!   without a server). Guidance for one client is computed on demand.
//! - [`PracticeService::open_live`]: a long-running server. The clinic world
//!   is hydrated once; every write through the service marks its client
//!   changed, and only changed clients are re-evaluated when guidance is read
//!   (or everyone, after midnight in the practice's time zone, or for a
//!   client whose plugin's settings changed on [`PracticeService::reload_config`]).

pub mod auth;
mod changes;
pub mod input;
pub mod insurance;
pub mod interop;
pub mod protocol;
pub mod schedule;
pub mod typed;
pub mod users;
pub mod workspace;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use praxis_sdk::{Adjunct, Date, DateTime, Discipline, Indicator, Pressure, TimeOfDay};
use serde::{Deserialize, Serialize};

use crate::config::PracticeConfig;
use crate::outcomes::{self, ClientInput, MedicationUseKind, OutcomesReport};
use crate::plugin_host::{PluginRegistry, PluginSearch};
use crate::store::{
    ApiToken, Appointment, AuditAction, Client, Consent, ImportReport, Intake, MedicationUse, Override, PracticeExport,
    Role, Session, Store, StoreError, new_id,
};
use crate::world::{ClientGuidance, ClinicWorld, Hydration, OverrideGrant, evaluate_client_insured, pending_overrides};

pub use auth::{Actor, Operation, SecuritySettings, Sessions, TherapistsSee, allowed};
pub use changes::follow_other_servers;
pub use input::{excerpt, known_condition_name};

/// What went wrong in an operation, in the words the person should read.
#[derive(Debug)]
pub enum ServiceError {
    /// The input is wrong: what is wrong and what to do (CLI exit 2, HTTP 400/422).
    BadInput(String),
    /// The record asked for does not exist (CLI exit 2, HTTP 404).
    NotFound(String),
    /// The actor's role may not do this (HTTP 403).
    Forbidden(String),
    /// No valid credentials (HTTP 401), or a refused login.
    Unauthenticated(String),
    /// The request conflicts with the current state, such as a booking whose
    /// plan changed or a slot that was taken (CLI exit 1, HTTP 409).
    Conflict(String),
    /// The store refused or failed.
    Store(StoreError),
    /// Something else failed (CLI exit 1, HTTP 500).
    Failed(String),
}

/// The class of a [`ServiceError`], for mapping to exit codes and HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input.
    BadInput,
    /// Unknown id.
    NotFound,
    /// Not allowed for the role.
    Forbidden,
    /// Not logged in, or a refused login.
    Unauthenticated,
    /// Conflict with the current state.
    Conflict,
    /// A failure that is not the caller's.
    Failed,
}

impl ServiceError {
    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::BadInput(_) => ErrorKind::BadInput,
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            ServiceError::Conflict(_) => ErrorKind::Conflict,
            ServiceError::Failed(_) => ErrorKind::Failed,
            ServiceError::Store(e) => match e {
                StoreError::NotFound { .. } => ErrorKind::NotFound,
                StoreError::Conflict(_) => ErrorKind::Conflict,
                StoreError::Invalid(_)
                | StoreError::Format { .. }
                | StoreError::UnsupportedFormat { .. }
                | StoreError::BadActor(_) => ErrorKind::BadInput,
                _ => ErrorKind::Failed,
            },
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::BadInput(m)
            | ServiceError::NotFound(m)
            | ServiceError::Conflict(m)
            | ServiceError::Forbidden(m)
            | ServiceError::Unauthenticated(m) => f.write_str(m),
            ServiceError::Failed(m) => f.write_str(m),
            ServiceError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServiceError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::Store(e)
    }
}

/// The default start of a recorded session, 09:00.
fn nine() -> TimeOfDay {
    TimeOfDay::from_hm(9, 0).unwrap_or(TimeOfDay::MIDNIGHT)
}

type Result<T, E = ServiceError> = std::result::Result<T, E>;

fn bad<T>(message: impl Into<String>) -> Result<T> {
    Err(ServiceError::BadInput(message.into()))
}

/// Changes to a client's record, as a person gives them: every field is
/// optional, list fields add (availability replaces), and the spellings are
/// those of the command line (see [`input`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ClientChanges {
    /// Full name.
    pub name: Option<String>,
    /// Date of birth, YYYY-MM-DD.
    #[schema(value_type = Option<String>, format = Date)]
    pub dob: Option<Date>,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Conditions as `CODE-OR-NAME[:STATUS[:SINCE]]`, e.g. `fibromyalgia:active:2024-03-01`.
    pub conditions: Vec<String>,
    /// Red flags as `KIND[:REGION[:DATE]]`, e.g. `recent-injury:left knee:2026-11-10`.
    pub red_flags: Vec<String>,
    /// Sensitivities (oils, scalp touch...).
    pub sensitivities: Vec<String>,
    /// Tender points (regions).
    pub tender_points: Vec<String>,
    /// Preferred pressure: light_touch, light, moderate, firm, deep.
    #[schema(value_type = Option<String>)]
    pub pressure: Option<Pressure>,
    /// Availability windows as `DAY HH:MM-HH:MM`; when given, they replace the list.
    pub available: Vec<String>,
    /// An insurance plan of the practice config (`[insurance.<name>]`): the
    /// client keeps its name, and its terms apply from the config.
    pub plan: Option<String>,
    /// The plan's required referral or prescription is on file.
    pub referral_on_file: bool,
    /// The member (policy) id with the payer.
    pub member_id: Option<String>,
    /// Sessions of the plan used elsewhere in the current period (another
    /// practice); 0 clears it. Sessions recorded here are counted from the records.
    pub sessions_used_elsewhere: Option<u32>,
    /// Custom insurance terms only (a client without a plan name): the
    /// hand-kept count of sessions used. Refused for a client on a plan.
    pub sessions_used: Option<u32>,
    /// Care-plan therapies as `DISCIPLINE:EVERY_DAYS[:MINUTES]` (a discipline given again replaces it).
    pub therapies: Vec<String>,
    /// The client consents to treatment and to the keeping of their health data (recorded today).
    pub consent: bool,
    /// The day the client gave consent, when not today (implies `consent`; not after today).
    #[schema(value_type = Option<String>, format = Date)]
    pub consent_date: Option<Date>,
    /// Conditions to remove (code or name).
    pub remove_conditions: Vec<String>,
    /// Red-flag kinds to mark resolved today.
    pub resolve_red_flags: Vec<String>,
    /// Care-plan disciplines to remove.
    pub remove_therapies: Vec<String>,
}

/// A client's intake (rule S3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IntakeInput {
    /// Pain patterns in the client's words.
    pub pain_patterns: Vec<String>,
    /// Sensitivities.
    pub sensitivities: Vec<String>,
    /// Previous treatments.
    pub previous_treatments: Vec<String>,
    /// Medications.
    pub medications: Vec<String>,
    /// When intake was taken (default today).
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<Date>,
}

/// A session that took place, as recorded after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SessionInput {
    /// Practitioner id (from the practice config).
    pub practitioner: String,
    /// massage, yoga, tai_chi, acupuncture, physical_therapy, mindfulness, or another name.
    pub discipline: String,
    /// Day of the session (default today).
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<Date>,
    /// Start time, HH:MM. Default: a session given neither day nor time
    /// ended just now; one given only a day started at 09:00.
    #[schema(value_type = Option<String>, example = "09:00")]
    pub time: Option<TimeOfDay>,
    /// Length in minutes.
    pub minutes: u16,
    /// Pressure used: light_touch, light, moderate, firm, deep.
    #[schema(value_type = Option<String>)]
    pub pressure: Option<Pressure>,
    /// Techniques used.
    pub techniques: Vec<String>,
    /// Regions worked.
    pub regions: Vec<String>,
    /// Pain before, 0-10.
    #[schema(maximum = 10)]
    pub pain_before: Option<u8>,
    /// Pain after, 0-10.
    #[schema(maximum = 10)]
    pub pain_after: Option<u8>,
    /// Adverse event: none, soreness, flare or stopped-early (with `reason`, rule S2).
    pub adverse: String,
    /// Why the session was stopped early.
    pub reason: Option<String>,
    /// Heat was applied before the massage.
    pub heat: bool,
    /// Cold was applied after the massage.
    pub cold: bool,
    /// Free notes.
    pub notes: String,
    /// The client's report of pain-medication use since the last session: none, less, as-usual, more.
    pub medication: Option<String>,
}

impl Default for SessionInput {
    fn default() -> Self {
        SessionInput {
            practitioner: String::new(),
            discipline: "massage".into(),
            date: None,
            time: None,
            minutes: 0,
            pressure: None,
            techniques: Vec::new(),
            regions: Vec::new(),
            pain_before: None,
            pain_after: None,
            adverse: "none".into(),
            reason: None,
            heat: false,
            cold: false,
            notes: String::new(),
            medication: None,
        }
    }
}

/// An override of a critical card, with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OverrideInput {
    /// The rule id of the critical card or hold (such as S1 or R2).
    pub rule: String,
    /// One of the card's override reasons (code or text), or free text.
    pub reason: String,
    /// The day the guidance is for (default today).
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

/// One client's chart: record, intake and session history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The record.
    pub client: Client,
    /// The intake, if recorded.
    pub intake: Option<Intake>,
    /// Every session, oldest first.
    pub sessions: Vec<Session>,
    /// The insurance today: the plan's terms and the sessions used and remaining.
    #[serde(default)]
    pub insurance: Option<insurance::InsuranceStatus>,
}

/// A new API token: the stored record and the secret, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    /// The stored token (its hash, never the secret).
    pub token: ApiToken,
    /// The secret, to send as `Authorization: Bearer SECRET`. Not stored.
    pub secret: String,
}

/// What [`PracticeService::reload_config`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    /// Plugins whose settings changed.
    pub plugins: Vec<String>,
    /// Whether the host rules changed (everyone is re-evaluated).
    pub rules: bool,
    /// Clients whose guidance will be re-evaluated.
    pub clients: usize,
}

/// The practice: configuration, store, plugins and, in a server, the live world.
pub struct PracticeService {
    config: RwLock<Arc<PracticeConfig>>,
    store: Arc<Store>,
    plugins: OnceLock<PluginRegistry>,
    live: Option<Mutex<ClinicWorld>>,
    /// Each client's outcomes as last computed, kept while the live world's
    /// guidance stamp of the client is the same (see [`OutcomesCache`]).
    outcomes: Mutex<OutcomesCache>,
    sessions: Sessions,
    cds: interop::CdsState,
}

/// The practice's outcomes report, kept between reads in a server: the
/// last report (every client, in id order) and the world's guidance stamp
/// each client's outcomes were computed at. A read recomputes only the
/// clients whose stamp moved (their record, overrides or guidance changed,
/// or the world was re-hydrated), puts them in the report in place and adds
/// up the conditions again; with nothing changed it hands out the same report.
#[derive(Debug, Default)]
struct OutcomesCache {
    /// The report date and window the report is for.
    key: Option<(Date, u32)>,
    /// Client id to the stamp its outcomes in `report` were computed at.
    stamps: BTreeMap<String, u32>,
    /// The report.
    report: Option<Arc<OutcomesReport>>,
}

/// One page of the client list ([`PracticeService::client_list`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientList {
    /// The clients of the page, by name, as the actor may see them.
    pub clients: Vec<Client>,
    /// How many clients match in all.
    pub total: usize,
}

impl fmt::Debug for PracticeService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PracticeService")
            .field("store", &self.store)
            .field("live", &self.live.is_some())
            .finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PracticeService>();
    assert_send_sync::<ServiceError>();
};

impl PracticeService {
    /// Opens the practice's store for one command's worth of work. The
    /// configuration's practitioners and rooms are brought into the store.
    pub fn open(config: PracticeConfig) -> Result<PracticeService> {
        let store = Store::open_at(&config.store_location(), config.store_options())?;
        let service = PracticeService {
            config: RwLock::new(Arc::new(config)),
            store: Arc::new(store),
            plugins: OnceLock::new(),
            live: None,
            outcomes: Mutex::default(),
            sessions: Sessions::default(),
            cds: interop::CdsState::default(),
        };
        service.sync_calendar()?;
        Ok(service)
    }

    /// Opens the store without bringing the configuration's practitioners
    /// and rooms into it (for `export` and `import`, which must see the
    /// store as it is).
    pub fn open_unsynced(config: PracticeConfig) -> Result<PracticeService> {
        let store = Store::open_at(&config.store_location(), config.store_options())?;
        Ok(PracticeService {
            config: RwLock::new(Arc::new(config)),
            store: Arc::new(store),
            plugins: OnceLock::new(),
            live: None,
            outcomes: Mutex::default(),
            sessions: Sessions::default(),
            cds: interop::CdsState::default(),
        })
    }

    /// Opens the practice for a long-running server: loads the plugins and
    /// hydrates the live world from the store (evaluated on first read).
    pub fn open_live(config: PracticeConfig) -> Result<PracticeService> {
        let mut service = PracticeService::open(config)?;
        let config = service.config();
        let registry = service.plugins().clone();
        let mut world = ClinicWorld::new(registry, config.file.rules.clone(), config.today());
        world.set_plans(config.plans.clone());
        let clients = world.hydrate_from_store(&service.store)?;
        tracing::info!(clients, "clinic world hydrated");
        service.live = Some(Mutex::new(world));
        Ok(service)
    }

    /// The configuration now in force.
    pub fn config(&self) -> Arc<PracticeConfig> {
        self.config.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs the full audit check (every record against its last audited
    /// state) on a thread of its own, logging what it finds; when the log
    /// verifies it leaves the checkpoint that keeps later opens cheap (see
    /// `store/checkpoint.rs`). `praxis serve` starts it once it serves.
    pub fn check_audit_in_background(self: &Arc<Self>) {
        let service = Arc::clone(self);
        let spawned = std::thread::Builder::new().name("praxis-audit-check".into()).spawn(move || {
            let started = std::time::Instant::now();
            // Writes while the check reads can look like a record changed
            // behind the log's back; what a second check confirms is real.
            let check = match service.store.verify_audit_and_checkpoint() {
                Ok(c) if !c.ok() => service.store.verify_audit_and_checkpoint(),
                other => other,
            };
            match check {
                Ok(check) if check.ok() => tracing::info!(
                    entries = check.entries,
                    records = check.records,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "audit log verified"
                ),
                Ok(check) => tracing::warn!(
                    problems = check.problems.len(),
                    first = %check.problems[0],
                    "the audit log does not verify: run `praxis audit verify`"
                ),
                Err(e) => tracing::warn!(error = %e, "the audit check could not run"),
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "the audit check could not start");
        }
    }

    /// What the person should know about the store just opened: a data
    /// folder that others can read, a recovery done on open, an audit chain
    /// that no longer verifies.
    pub fn open_warnings(&self) -> Vec<String> {
        crate::store::open_warnings(&self.config().data_dir, &self.store)
    }

    /// The store, shared.
    pub fn shared_store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// The practice's plugins, loaded on first use.
    pub fn plugins(&self) -> &PluginRegistry {
        self.plugins.get_or_init(|| load_plugins(&self.config()))
    }

    /// Runs `f`, which calls plugins, with the plugins loaded. For one
    /// command (no live world) the store is released meanwhile, so that a
    /// slow or hung plugin never holds the practice's store: another command
    /// can use it, and this one opens it again after (see
    /// [`Store::released`]). A server keeps its store: it is the only
    /// process that opens it.
    pub(crate) fn with_plugins<R>(&self, f: impl FnOnce(&PluginRegistry) -> R) -> Result<R> {
        if self.live.is_some() {
            return Ok(f(self.plugins()));
        }
        Ok(self.store.released(|| f(self.plugins()))?)
    }

    /// Whether this service keeps a live world (a server).
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// Today in the practice's time zone.
    pub fn today(&self) -> Date {
        self.config().today()
    }

    pub(crate) fn world(&self) -> Option<MutexGuard<'_, ClinicWorld>> {
        self.live.as_ref().map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Tells the live world that a client's records changed.
    fn touched(&self, client_id: &str) -> Result<()> {
        if self.live.is_none() {
            return Ok(());
        }
        // Read from the store first, then lock the world: no store read
        // happens under the world's lock, and no plugin runs here at all
        // (the world re-evaluates when guidance is next read).
        let Some(client) = self.store.get_client(client_id)? else {
            return Err(
                StoreError::NotFound { kind: crate::store::RecordKind::Client, id: client_id.to_owned() }.into()
            );
        };
        let insurance = client.insurance.clone();
        let snapshot = self.store.snapshot_of(client.clone())?;
        let grants = self.pending_grants(client_id)?;
        if let Some(mut world) = self.world() {
            world.upsert_client(snapshot);
            world.set_overrides(client_id, grants);
            world.set_insurance(client_id, insurance);
            world.list_client(client);
        }
        Ok(())
    }

    /// The client's overrides not yet used by a booking, which the booking verdict counts.
    fn pending_grants(&self, client_id: &str) -> Result<Vec<OverrideGrant>> {
        Ok(pending_overrides(self.store.overrides_for(client_id)?).iter().map(OverrideGrant::from).collect())
    }

    fn sync_calendar(&self) -> Result<()> {
        let config = self.config();
        let stored = self.store.practitioners()?;
        for p in &config.practitioners {
            if !stored.iter().any(|s| s == p) {
                self.store.put_practitioner(p, "praxis.toml")?;
            }
        }
        let rooms = self.store.rooms()?;
        for r in &config.rooms {
            if !rooms.iter().any(|s| s == r) {
                self.store.put_room(r, "praxis.toml")?;
            }
        }
        Ok(())
    }

    // ----- clients -----

    /// A client by id, unique id prefix (four characters or more), or full
    /// name (case-insensitive).
    pub fn find_client(&self, key: &str) -> Result<Client> {
        let key = key.trim();
        if let Some(c) = self.store.get_client(key)? {
            return Ok(c);
        }
        let clients = self.store.clients()?;
        let by_prefix: Vec<_> = clients.iter().filter(|c| key.len() >= 4 && c.id.starts_with(key)).collect();
        let by_name: Vec<_> = clients.iter().filter(|c| c.name.eq_ignore_ascii_case(key)).collect();
        match (by_prefix.as_slice(), by_name.as_slice()) {
            ([one], _) | ([], [one]) => Ok((*one).clone()),
            ([], []) => Err(ServiceError::NotFound(format!(
                "no client `{}`: give an id (see `praxis client list`) or the full name",
                excerpt(key)
            ))),
            _ => {
                bad(format!("`{}` matches several clients: give the full id (see `praxis client list`)", excerpt(key)))
            }
        }
    }

    /// A client by its exact id (what the HTTP API takes), as the actor may
    /// see it.
    pub fn client_by_id(&self, id: &str, actor: &Actor) -> Result<Client> {
        actor.require(Operation::ReadClients)?;
        let client = self
            .store
            .get_client(id)?
            .ok_or_else(|| ServiceError::NotFound(format!("no client with id `{}`: check the id", excerpt(id))))?;
        self.check_visible(&client, actor)?;
        Ok(redact_for(client, actor))
    }

    /// Every client the actor may see, by id.
    pub fn clients(&self, actor: &Actor) -> Result<Vec<Client>> {
        actor.require(Operation::ReadClients)?;
        let all = self.store.clients()?;
        if self.sees_own_only(actor) {
            let mine = self.own_clients(actor)?;
            return Ok(all.into_iter().filter(|c| mine.contains(&c.id)).collect());
        }
        Ok(all.into_iter().map(|c| redact_for(c, actor)).collect())
    }

    /// One page of the client list: the clients whose name contains
    /// `search` (ignoring case; every client for an empty one), by name
    /// then id, at most `limit`, and how many match in all. In a server the
    /// live world keeps the list in name order, so a page costs one pass
    /// over the names and `limit` copies, not a read and sort of every
    /// record; elsewhere the store is read.
    pub fn client_list(&self, search: &str, limit: usize, actor: &Actor) -> Result<ClientList> {
        actor.require(Operation::ReadClients)?;
        let needle = search.trim().to_lowercase();
        let mine = if self.sees_own_only(actor) { Some(self.own_clients(actor)?) } else { None };
        let matches = |c: &Client| {
            mine.as_ref().is_none_or(|m| m.contains(&c.id))
                && (needle.is_empty() || c.name.to_lowercase().contains(&needle))
        };
        if let Some(world) = self.world() {
            let mut total = 0;
            let mut clients = Vec::new();
            for c in world.clients_by_name().filter(|c| matches(c)) {
                total += 1;
                if clients.len() < limit {
                    clients.push(c.clone());
                }
            }
            drop(world);
            let clients = clients.into_iter().map(|c| redact_for(c, actor)).collect();
            return Ok(ClientList { clients, total });
        }
        let mut all: Vec<Client> = self.store.clients()?.into_iter().filter(|c| matches(c)).collect();
        let total = all.len();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.truncate(limit);
        Ok(ClientList { clients: all.into_iter().map(|c| redact_for(c, actor)).collect(), total })
    }

    /// One client's chart (a read that is audited).
    pub fn client_record(&self, key: &str, actor: &Actor) -> Result<ClientRecord> {
        actor.require(Operation::ReadChart)?;
        let client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        let intake = self.store.intake(&client.id)?;
        let sessions = self.store.sessions_for(&client.id)?;
        let insurance = self.insurance_status_of(&client, self.today())?;
        self.audit_read(actor, &client.id, "chart")?;
        Ok(ClientRecord { client, intake, sessions, insurance })
    }

    /// Whether the actor is a therapist limited to their own clients.
    fn sees_own_only(&self, actor: &Actor) -> bool {
        actor.role() == Role::Therapist && self.config().file.security.therapists_see == TherapistsSee::Own
    }

    /// The clients a practitioner has treated or is booked with.
    fn own_clients(&self, actor: &Actor) -> Result<std::collections::BTreeSet<String>> {
        let Some(me) = actor.practitioner() else { return Ok(Default::default()) };
        let mut mine = std::collections::BTreeSet::new();
        for c in self.store.clients()? {
            let treated = self.store.sessions_for(&c.id)?.iter().any(|s| s.practitioner == me);
            let booked = treated || self.store.appointments_for_client(&c.id)?.iter().any(|a| a.practitioner == me);
            if booked {
                mine.insert(c.id);
            }
        }
        Ok(mine)
    }

    /// Refuses a client the actor may not see (`therapists_see = "own"`).
    fn check_visible(&self, client: &Client, actor: &Actor) -> Result<()> {
        if !self.sees_own_only(actor) {
            return Ok(());
        }
        let me = actor.practitioner().unwrap_or_default();
        let treated = self.store.sessions_for(&client.id)?.iter().any(|s| s.practitioner == me);
        if treated || self.store.appointments_for_client(&client.id)?.iter().any(|a| a.practitioner == me) {
            return Ok(());
        }
        Err(ServiceError::Forbidden(format!(
            "{} is not one of {}'s clients (the practice sets [security] therapists_see = \"own\")",
            client.name,
            actor.name()
        )))
    }

    /// Audits a read of a client's chart. Reads are not acknowledged
    /// writes: the entry is flushed with the next write or within sled's
    /// flush interval, so that reading stays fast.
    fn audit_read(&self, actor: &Actor, client: &str, what: &str) -> Result<()> {
        let detail = serde_json::json!({ "read": what });
        self.store.audit_event(AuditAction::Read, actor.name(), "chart", client, detail, false)?;
        Ok(())
    }

    /// Registers a new client.
    pub fn add_client(&self, changes: &ClientChanges, actor: &Actor) -> Result<Client> {
        self.require_changes(changes, actor)?;
        let Some(name) = changes.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            return bad("a new client needs a name: --name \"First Last\"");
        };
        let mut client = Client::new(new_id(), name);
        let today = self.today();
        self.apply(&mut client, changes, today)?;
        self.store.put_client_as_of(&client, today, actor.name())?;
        self.touched(&client.id)?;
        Ok(redact_for(client, actor))
    }

    /// Changes a client's record.
    pub fn update_client(&self, key: &str, changes: &ClientChanges, actor: &Actor) -> Result<Client> {
        self.require_changes(changes, actor)?;
        let mut client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        let today = self.today();
        self.apply(&mut client, changes, today)?;
        for name in &changes.remove_therapies {
            let d = Discipline::parse(name);
            let before = client.therapies.len();
            client.therapies.retain(|t| t.discipline != d);
            if client.therapies.len() == before {
                return bad(format!("{}'s care plan has no {}", client.name, excerpt(name)));
            }
        }
        for spec in &changes.remove_conditions {
            let code = input::parse_condition(spec, today)?.code;
            let before = client.conditions.len();
            client.conditions.retain(|c| c.code != code);
            if client.conditions.len() == before {
                return bad(format!("{} has no condition `{}`", client.name, excerpt(spec)));
            }
        }
        for kind in &changes.resolve_red_flags {
            let kind = input::parse_red_flag_kind(kind)?;
            let mut found = false;
            for flag in client.red_flags.iter_mut().filter(|f| f.kind == kind && f.resolved.is_none()) {
                flag.resolved = Some(today);
                found = true;
            }
            if !found {
                return bad(format!("{} has no unresolved red flag of that kind", client.name));
            }
        }
        self.store.put_client_as_of(&client, today, actor.name())?;
        self.touched(&client.id)?;
        Ok(redact_for(client, actor))
    }

    /// Refuses changes the actor's role may not make: clinical fields need
    /// [`Operation::EditClientClinical`], the rest [`Operation::EditClientAdmin`].
    fn require_changes(&self, c: &ClientChanges, actor: &Actor) -> Result<()> {
        let clinical = !c.conditions.is_empty()
            || !c.red_flags.is_empty()
            || !c.sensitivities.is_empty()
            || !c.tender_points.is_empty()
            || c.pressure.is_some()
            || !c.remove_conditions.is_empty()
            || !c.resolve_red_flags.is_empty();
        let admin = c.name.is_some()
            || c.dob.is_some()
            || c.phone.is_some()
            || c.email.is_some()
            || !c.available.is_empty()
            || c.plan.is_some()
            || c.referral_on_file
            || c.member_id.is_some()
            || c.sessions_used_elsewhere.is_some()
            || c.sessions_used.is_some()
            || !c.therapies.is_empty()
            || c.consent
            || !c.remove_therapies.is_empty();
        if clinical {
            actor.require(Operation::EditClientClinical)?;
        }
        if admin || !clinical {
            actor.require(Operation::EditClientAdmin)?;
        }
        Ok(())
    }

    fn apply(&self, client: &mut Client, changes: &ClientChanges, today: Date) -> Result<()> {
        if let Some(name) = &changes.name {
            client.name = name.trim().to_owned();
        }
        if let Some(dob) = changes.dob {
            client.date_of_birth = Some(dob);
        }
        if let Some(phone) = &changes.phone {
            client.contact.phone = Some(phone.clone());
        }
        if let Some(email) = &changes.email {
            client.contact.email = Some(email.clone());
        }
        for spec in &changes.conditions {
            let condition = input::parse_condition(spec, today)?;
            match client.conditions.iter_mut().find(|c| c.code == condition.code) {
                Some(existing) => {
                    existing.status = condition.status;
                    if condition.since.is_some() {
                        existing.since = condition.since;
                    }
                }
                None => client.conditions.push(condition),
            }
        }
        for spec in &changes.red_flags {
            client.red_flags.push(input::parse_red_flag(spec, today)?);
        }
        extend_unique(&mut client.sensitivities, &changes.sensitivities);
        extend_unique(&mut client.tender_points, &changes.tender_points);
        if let Some(p) = changes.pressure {
            client.preferred_pressure = Some(p);
        }
        if !changes.available.is_empty() {
            client.availability = changes.available.iter().map(|w| input::parse_window(w)).collect::<Result<_>>()?;
        }
        insurance::apply(&self.config(), client, changes, today)?;
        for spec in &changes.therapies {
            let therapy = input::parse_therapy(spec)?;
            client.therapies.retain(|t| t.discipline != therapy.discipline);
            client.therapies.push(therapy);
        }
        if changes.consent || changes.consent_date.is_some() {
            let recorded = changes.consent_date.unwrap_or(today);
            client.consent = Consent { treatment: true, data_processing: true, recorded: Some(recorded) };
        }
        Ok(())
    }

    // ----- intake and sessions -----

    /// Records a client's intake (replacing an earlier one).
    pub fn record_intake(&self, key: &str, intake: &IntakeInput, actor: &Actor) -> Result<Intake> {
        actor.require(Operation::RecordClinical)?;
        let client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        if intake.pain_patterns.is_empty() && intake.previous_treatments.is_empty() {
            return bad(
                "intake records at least the client's pain patterns (--pain-pattern) or previous treatments (--previous-treatment)",
            );
        }
        let today = self.today();
        let record = Intake {
            id: new_id(),
            client: client.id.clone(),
            recorded: intake.date.unwrap_or(today),
            pain_patterns: intake.pain_patterns.clone(),
            sensitivities: intake.sensitivities.clone(),
            previous_treatments: intake.previous_treatments.clone(),
            medications: intake.medications.clone(),
        };
        self.store.put_intake_as_of(&record, today, actor.name())?;
        self.touched(&client.id)?;
        Ok(record)
    }

    /// Records a session that took place.
    pub fn record_session(&self, key: &str, input: &SessionInput, actor: &Actor) -> Result<Session> {
        actor.require(Operation::RecordClinical)?;
        let client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        let today = self.today();
        let adverse_event = input::parse_adverse(&input.adverse, input.reason.as_deref())?;
        let pain_medication = input.medication.as_deref().map(input::parse_medication).transpose()?;
        let mut adjuncts = Vec::new();
        if input.heat {
            adjuncts.push(Adjunct::HeatBefore);
        }
        if input.cold {
            adjuncts.push(Adjunct::ColdAfter);
        }
        let session = Session {
            id: new_id(),
            client: client.id.clone(),
            practitioner: input.practitioner.clone(),
            discipline: Discipline::parse(&input.discipline),
            start: self.session_start(input),
            minutes: input.minutes,
            pressure: input.pressure,
            techniques: input.techniques.clone(),
            regions: input.regions.clone(),
            pain_before: input.pain_before,
            pain_after: input.pain_after,
            follow_up_pain: None,
            follow_up_at: None,
            adverse_event,
            adjuncts,
            notes: input.notes.clone(),
            pain_medication,
        };
        self.store.record_session(&session, today, actor.name())?;
        self.touched(&client.id)?;
        Ok(session)
    }

    /// Where a recorded session starts: the day and time given; with
    /// neither, it ended just now (so a follow-up taken now comes after it),
    /// or, in the first minutes after midnight, it started at midnight (a
    /// session never spans two days); with only a day, 09:00.
    fn session_start(&self, input: &SessionInput) -> DateTime {
        match (input.date, input.time) {
            (date, Some(time)) => DateTime::new(date.unwrap_or_else(|| self.today()), time),
            (Some(date), None) => DateTime::new(date, nine()),
            (None, None) => {
                let now = self.now();
                let start = now.add_minutes(-i64::from(input.minutes));
                if start.date == now.date { start } else { DateTime::new(now.date, TimeOfDay::MIDNIGHT) }
            }
        }
    }

    /// A client's sessions, oldest first.
    pub fn sessions(&self, key: &str, actor: &Actor) -> Result<Vec<Session>> {
        actor.require(Operation::ReadChart)?;
        let client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        let sessions = self.store.sessions_for(&client.id)?;
        self.audit_read(actor, &client.id, "sessions")?;
        Ok(sessions)
    }

    /// Adds the 24-48 hour follow-up pain report to a session, taken now.
    pub fn follow_up(&self, session_id: &str, pain: u8, actor: &Actor) -> Result<Session> {
        self.follow_up_at(session_id, pain, None, actor)
    }

    /// Now, in the practice's time zone (to the minute).
    pub fn now(&self) -> DateTime {
        let now = jiff::Timestamp::now().to_zoned(self.config().time_zone());
        let date =
            Date::from_ymd(i32::from(now.year()), now.month() as u32, now.day() as u32).unwrap_or_else(|| self.today());
        let minutes = u32::try_from(i32::from(now.hour()) * 60 + i32::from(now.minute())).unwrap_or(0);
        DateTime::new(date, TimeOfDay::from_minutes(minutes).unwrap_or(TimeOfDay::MIDNIGHT))
    }

    /// Adds the 24-48 hour follow-up pain report to a session, with when it
    /// was taken (`at`, default now). A follow-up outside the window is
    /// recorded; [`Session::follow_up_timing`] says so.
    pub fn follow_up_at(&self, session_id: &str, pain: u8, at: Option<DateTime>, actor: &Actor) -> Result<Session> {
        actor.require(Operation::RecordClinical)?;
        if let Some(session) = self.store.get_session(session_id)?
            && let Some(client) = self.store.get_client(&session.client)?
        {
            self.check_visible(&client, actor)?;
        }
        if pain > crate::store::PAIN_MAX {
            return bad(format!("follow-up pain {pain} is out of range: give 0 to 10"));
        }
        let at = at.unwrap_or_else(|| self.now());
        let timing = self.store.record_follow_up(session_id, pain, at, self.today(), actor.name())?;
        if let Some(note) = timing.note() {
            tracing::info!(session = %excerpt(session_id), "follow-up {note}");
        }
        let saved = self
            .store
            .get_session(session_id)?
            .ok_or_else(|| ServiceError::NotFound(format!("no session `{}`", excerpt(session_id))))?;
        self.touched(&saved.client)?;
        Ok(saved)
    }

    // ----- guidance -----

    /// Guidance for one client, for `as_of` (default today).
    pub fn guidance(&self, key: &str, as_of: Option<Date>, actor: &Actor) -> Result<ClientGuidance> {
        actor.require(Operation::ReadGuidance)?;
        let client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        self.audit_read(actor, &client.id, "guidance")?;
        self.guidance_of(&client, as_of)
    }

    fn guidance_of(&self, client: &Client, as_of: Option<Date>) -> Result<ClientGuidance> {
        let today = self.today();
        let as_of = as_of.unwrap_or(today);
        if as_of == today
            && let Some(mut world) = self.live_world_for(today)
        {
            world.evaluate();
            if let Some(g) = world.guidance(&client.id) {
                return Ok(g.clone());
            }
        }
        let snapshot = self.store.snapshot(&client.id)?;
        let grants = self.pending_grants(&client.id)?;
        let config = self.config();
        let insurance = client.insurance.clone();
        self.with_plugins(|plugins| {
            evaluate_client_insured(
                plugins,
                &config.file.rules,
                &config.plans,
                as_of,
                &snapshot,
                insurance.as_ref(),
                &grants,
            )
        })
    }

    /// Guidance for every client, for `as_of` (default today), in client id order.
    pub fn all_guidance(&self, as_of: Option<Date>, actor: &Actor) -> Result<Vec<ClientGuidance>> {
        actor.require(Operation::ReadGuidance)?;
        let all = self.evaluate_all(as_of)?;
        if self.sees_own_only(actor) {
            let mine = self.own_clients(actor)?;
            return Ok(all.into_iter().filter(|g| mine.contains(&g.client)).collect());
        }
        Ok(all)
    }

    /// Everyone's guidance (no role check: for the service's own use).
    pub(crate) fn evaluate_all(&self, as_of: Option<Date>) -> Result<Vec<ClientGuidance>> {
        let today = self.today();
        let as_of = as_of.unwrap_or(today);
        if as_of == today
            && let Some(mut world) = self.live_world_for(today)
        {
            let stats = world.evaluate();
            tracing::debug!(clients = stats.clients, plugin_calls = stats.plugin_calls, "re-evaluated changed clients");
            return Ok(world.all_guidance());
        }
        let from = Hydration::read(&self.store)?;
        let config = self.config();
        self.with_plugins(|plugins| {
            let mut world = ClinicWorld::new(plugins.clone(), config.file.rules.clone(), as_of);
            world.set_plans(config.plans.clone());
            world.hydrate_with(from);
            let stats = world.evaluate();
            tracing::info!(clients = stats.clients, plugin_calls = stats.plugin_calls, "evaluated the clinic");
            world.all_guidance()
        })
    }

    /// The live world, its date moved to `today` (a new day re-evaluates everyone).
    fn live_world_for(&self, today: Date) -> Option<MutexGuard<'_, ClinicWorld>> {
        let mut world = self.world()?;
        if world.as_of() != today {
            tracing::info!(%today, "a new day in the practice's time zone: every client is re-evaluated");
            world.set_as_of(today);
        }
        Some(world)
    }

    /// Overrides a client's critical card for the next booking, with a reason.
    pub fn override_card(&self, key: &str, input: &OverrideInput, actor: &Actor) -> Result<Override> {
        actor.require(Operation::Override)?;
        let client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        let today = self.today();
        let as_of = input.as_of.unwrap_or(today);
        let g = self.guidance_of(&client, Some(as_of))?;
        let rule = input.rule.trim();
        let Some(card) =
            g.cards.iter().find(|c| c.indicator == Indicator::Critical && c.rule.eq_ignore_ascii_case(rule))
        else {
            let critical: Vec<String> =
                g.cards.iter().filter(|c| c.indicator == Indicator::Critical).map(|c| c.rule.clone()).collect();
            return bad(format!(
                "{} has no critical card of rule `{}` on {as_of}; critical cards now: {}",
                client.name,
                excerpt(rule),
                if critical.is_empty() { "none".to_owned() } else { critical.join(", ") }
            ));
        };
        let reason = input.reason.trim();
        if reason.is_empty() {
            return bad("an override needs a reason: --reason \"...\"");
        }
        // A reason given as one of the card's codes is recorded with its display text.
        let reason = card
            .override_reasons
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(reason))
            .map_or_else(|| reason.to_owned(), |r| format!("{} ({})", r.display, r.code));
        let ov = Override {
            id: new_id(),
            client: client.id.clone(),
            rule: card.rule.clone(),
            card_summary: card.summary.clone(),
            reason,
            at: DateTime::new(today, TimeOfDay::MIDNIGHT),
            appointment: None,
        };
        self.store.record_override(&ov, actor.name())?;
        self.touched(&client.id)?;
        Ok(ov)
    }

    // ----- reports -----

    /// Utilisation per practitioner and room over `days` days (1 to 366)
    /// from `from` (default the Monday of this week): available time from the
    /// opening hours and the practitioners' windows and days off, booked time
    /// from the calendar (see [`crate::utilisation`]).
    pub fn utilisation(&self, from: Option<Date>, days: u32, actor: &Actor) -> Result<crate::utilisation::Utilisation> {
        actor.require(Operation::ReadReports)?;
        if !(1..=366).contains(&days) {
            return bad(format!("days must be 1 to 366, not {days}"));
        }
        let from = from.unwrap_or_else(|| self.today().week_start());
        let config = self.config();
        let start = DateTime::new(from, TimeOfDay::MIDNIGHT);
        let end = DateTime::new(from.add_days(i32::try_from(days).unwrap_or(366)), TimeOfDay::MIDNIGHT);
        let appointments = self.store.appointments_between(start, end)?;
        Ok(crate::utilisation::utilisation(
            &config.opening_hours,
            &config.practitioners,
            &config.rooms,
            &appointments,
            from,
            days,
        ))
    }

    /// The outcomes report for one client (`only`) or all, over `weeks` weeks up to `as_of`.
    pub fn outcomes(
        &self,
        only: Option<&str>,
        as_of: Option<Date>,
        weeks: u32,
        actor: &Actor,
    ) -> Result<OutcomesReport> {
        actor.require(Operation::ReadReports)?;
        if only.is_none() {
            return Ok((*self.practice_outcomes(as_of, weeks, actor)?).clone());
        }
        let as_of = as_of.unwrap_or_else(|| self.today());
        let mut clients = match only {
            Some(key) => vec![self.find_client(key)?],
            None => self.store.clients()?,
        };
        if self.sees_own_only(actor) {
            let mine = self.own_clients(actor)?;
            clients.retain(|c| mine.contains(&c.id));
        }
        let mut inputs = Vec::with_capacity(clients.len());
        for client in &clients {
            let g = self.guidance_of(client, Some(as_of))?;
            inputs.push(self.outcome_input(self.store.snapshot(&client.id)?, client.name.clone(), Some(&g))?);
        }
        Ok(outcomes::report(&inputs, as_of, weeks))
    }

    /// The outcomes report of every client the actor may see, over `weeks`
    /// weeks up to `as_of` (default today), shared rather than copied. In a
    /// server, for today, it comes from the [`OutcomesCache`]: only the
    /// clients the live world re-merged since the last read are computed
    /// again, and the report is rebuilt only if one was.
    pub fn practice_outcomes(&self, as_of: Option<Date>, weeks: u32, actor: &Actor) -> Result<Arc<OutcomesReport>> {
        actor.require(Operation::ReadReports)?;
        let today = self.today();
        let as_of = as_of.unwrap_or(today);
        let report = match self.cached_outcomes(as_of, weeks)? {
            Some(report) => report,
            None => {
                let guidance: BTreeMap<String, ClientGuidance> =
                    self.evaluate_all(Some(as_of))?.into_iter().map(|g| (g.client.clone(), g)).collect();
                let mut inputs = Vec::new();
                for client in self.store.clients()? {
                    let g = guidance.get(&client.id);
                    let name = client.name.clone();
                    let snapshot = self.store.snapshot_of(client)?;
                    inputs.push(self.outcome_input(snapshot, name, g)?);
                }
                Arc::new(outcomes::report(&inputs, as_of, weeks))
            }
        };
        if !self.sees_own_only(actor) {
            return Ok(report);
        }
        let mine = self.own_clients(actor)?;
        let own = report.clients.iter().filter(|c| mine.contains(&c.client)).cloned().collect();
        Ok(Arc::new(outcomes::summarise(own, as_of, weeks)))
    }

    /// The report of every client from the live world and the cache; `None`
    /// without a live world or for a day other than today.
    fn cached_outcomes(&self, as_of: Date, weeks: u32) -> Result<Option<Arc<OutcomesReport>>> {
        let today = self.today();
        if as_of != today {
            return Ok(None);
        }
        if !self.is_live() {
            return Ok(None);
        }
        // Lock order: the cache, then the world.
        let mut cache = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mut world) = self.live_world_for(today) else { return Ok(None) };
        world.evaluate();
        if cache.key != Some((as_of, weeks)) {
            *cache = OutcomesCache { key: Some((as_of, weeks)), ..OutcomesCache::default() };
        }
        // What changed, read under the world's lock (no store read there).
        let mut stale = Vec::new();
        let mut present = 0;
        for id in world.client_ids() {
            let (Some(stamp), Some(record)) = (world.guidance_stamp(id), world.record(id)) else { continue };
            present += 1;
            if cache.stamps.get(id).is_none_or(|s| *s != stamp) {
                let name = world.listed_client(id).map(|c| c.name.clone()).unwrap_or_default();
                stale.push((id.to_owned(), stamp, record, name, world.guidance(id).cloned()));
            }
        }
        drop(world);
        let mut fresh = Vec::with_capacity(stale.len());
        for (id, stamp, record, name, guidance) in stale {
            let input = self.outcome_input((*record).clone(), name, guidance.as_ref())?;
            fresh.push((id, stamp, outcomes::client_outcome(&input, as_of, weeks)));
        }
        let gone =
            cache.stamps.len() + fresh.iter().filter(|(id, _, _)| !cache.stamps.contains_key(id)).count() != present;
        if let Some(report) = &cache.report
            && fresh.is_empty()
            && !gone
        {
            return Ok(Some(Arc::clone(report)));
        }
        let OutcomesCache { stamps, report, .. } = &mut *cache;
        let report = report.get_or_insert_with(|| {
            Arc::new(OutcomesReport { as_of, window_weeks: weeks, clients: Vec::new(), conditions: Vec::new() })
        });
        // A report still read elsewhere is copied first; otherwise it is changed in place.
        let r = Arc::make_mut(report);
        for (id, stamp, outcome) in fresh {
            match r.clients.binary_search_by(|c| c.client.as_str().cmp(id.as_str())) {
                Ok(i) => r.clients[i] = outcome,
                Err(i) => r.clients.insert(i, outcome),
            }
            stamps.insert(id, stamp);
        }
        if gone && let Some(world) = self.world() {
            // A client left the world: keep only those still in it.
            let ids: std::collections::BTreeSet<&str> = world.client_ids().collect();
            stamps.retain(|id, _| ids.contains(id.as_str()));
            r.clients.retain(|c| ids.contains(c.client.as_str()));
        }
        r.conditions = outcomes::conditions(&r.clients);
        Ok(Some(Arc::clone(report)))
    }

    /// What the outcomes report needs of one client beyond its snapshot:
    /// medication use from its sessions, the planned massages a week from
    /// its guidance, its massage no-shows.
    fn outcome_input(
        &self,
        snapshot: praxis_sdk::ClientSnapshot,
        name: String,
        guidance: Option<&ClientGuidance>,
    ) -> Result<ClientInput> {
        let sessions = self.store.sessions_for(&snapshot.id)?;
        let medication = sessions
            .iter()
            .filter_map(|s| {
                Some((
                    s.id.clone(),
                    match s.pain_medication? {
                        MedicationUse::None => MedicationUseKind::None,
                        MedicationUse::LessThanUsual => MedicationUseKind::Less,
                        MedicationUse::AsUsual => MedicationUseKind::AsUsual,
                        MedicationUse::MoreThanUsual => MedicationUseKind::More,
                    },
                ))
            })
            .collect();
        let planned_per_week = guidance.and_then(|g| {
            g.recommendation
                .interval_days
                .filter(|_| g.hold.is_none())
                .map(|r| 7.0 / ((f64::from(r.min) + f64::from(r.max)) / 2.0).max(1.0))
        });
        let massage_no_shows = crate::scheduling::massage_no_shows(&self.store, &snapshot.id)
            .map_err(|e| ServiceError::Failed(e.to_string()))?;
        Ok(ClientInput { snapshot, name, medication, planned_per_week, massage_no_shows })
    }

    // ----- appointments -----

    /// Booked appointments from `from` (default today) for `days` days,
    /// optionally of one practitioner, in time order.
    pub fn appointments(
        &self,
        from: Option<Date>,
        days: u32,
        practitioner: Option<&str>,
        actor: &Actor,
    ) -> Result<Vec<Appointment>> {
        actor.require(Operation::ReadSchedule)?;
        if !(1..=366).contains(&days) {
            return bad(format!("days must be 1 to 366, not {days}"));
        }
        let from = from.unwrap_or_else(|| self.today());
        let a = DateTime::new(from, TimeOfDay::MIDNIGHT);
        let b = DateTime::new(from.add_days(days as i32), TimeOfDay::MIDNIGHT);
        Ok(match practitioner {
            Some(p) => {
                let config = self.config();
                if !config.practitioners.iter().any(|x| x.id == p) {
                    return Err(ServiceError::NotFound(format!(
                        "no practitioner `{}` in {}",
                        excerpt(p),
                        config.path.display()
                    )));
                }
                self.store.appointments_for_practitioner(p, a, b)?
            }
            None => self.store.appointments_between(a, b)?,
        })
    }

    // ----- the whole practice -----

    /// The whole practice as an export document.
    pub fn export(&self, actor: &Actor) -> Result<PracticeExport> {
        actor.require(Operation::Export)?;
        let detail = serde_json::json!({ "read": "export" });
        self.store.audit_event(AuditAction::Read, actor.name(), "practice", "export", detail, true)?;
        Ok(self.store.export()?)
    }

    /// Imports a practice export, all or nothing.
    pub fn import(&self, export: &PracticeExport, actor: &Actor) -> Result<ImportReport> {
        actor.require(Operation::Import)?;
        // Imported appointments pass the same calendar checker as planned ones.
        let config = self.config();
        let calendar = crate::calendar::Calendar::new(
            &config.file.practice.time_zone,
            config.opening_hours.clone(),
            config.practitioners.clone(),
            config.rooms.clone(),
            config.classes.clone(),
            crate::calendar::CalendarRules::default(),
        )
        .map_err(|e| ServiceError::BadInput(format!("config {}: {e}", config.path.display())))?;
        let today = self.today();
        let check = |appointments: &[Appointment]| -> std::result::Result<(), (usize, String)> {
            let plain: Vec<_> = appointments.iter().map(|a| a.plain()).collect();
            calendar.check_booking(today, &[], None, &plain).map_err(|v| (v[0].index, v[0].to_string()))
        };
        let report = self.store.import_checked(export, today, actor.name(), &check)?;
        if let Some(mut world) = self.world() {
            // An import can touch every client: rebuild the world from the
            // store, the source of truth.
            world.hydrate_from_store(&self.store)?;
        }
        Ok(report)
    }

    // ----- tokens -----

    /// The audit log, oldest first, filtered: entries about one client (its
    /// records, sessions, intake, overrides and chart reads), by one actor,
    /// or since a day.
    pub fn audit_log(&self, filter: &AuditFilter, actor: &Actor) -> Result<Vec<crate::store::AuditEntry>> {
        actor.require(Operation::ReadAudit)?;
        let keep = self.audit_matcher(filter)?;
        Ok(self.store.audit()?.into_iter().filter(|e| keep(e)).collect())
    }

    /// The newest `limit` entries of the audit log that match the filter,
    /// newest first, and whether older ones match too: the log is read
    /// backwards from its head and the read stops once the page is full, so
    /// the cost follows the page, not the length of the log.
    pub fn audit_newest(&self, filter: &AuditFilter, limit: usize, actor: &Actor) -> Result<AuditTail> {
        actor.require(Operation::ReadAudit)?;
        let keep = self.audit_matcher(filter)?;
        let mut entries = self.store.audit_newest(limit.saturating_add(1), |e| keep(e))?;
        let more = entries.len() > limit;
        entries.truncate(limit);
        Ok(AuditTail { entries, more })
    }

    /// The filter as a test of one entry (the client looked up once).
    fn audit_matcher(&self, filter: &AuditFilter) -> Result<impl Fn(&crate::store::AuditEntry) -> bool + use<>> {
        let client = filter.client.as_deref().map(|c| self.find_client(c)).transpose()?.map(|c| c.id);
        let since = filter.since.map(|d| {
            let tz = self.config().time_zone();
            let (y, m, day) = d.ymd();
            jiff::civil::date(y as i16, m as i8, day as i8)
                .to_zoned(tz)
                .map(|z| z.timestamp())
                .unwrap_or(jiff::Timestamp::MIN)
        });
        let user = filter.user.clone();
        Ok(move |e: &crate::store::AuditEntry| {
            user.as_deref().is_none_or(|u| e.actor == u)
                && since.is_none_or(|t| e.at >= t)
                && client.as_deref().is_none_or(|c| audit_mentions(e, c))
        })
    }

    /// The plugins found, loaded or refused, with reasons.
    pub fn plugin_reports(&self, actor: &Actor) -> Result<Vec<crate::plugin_host::PluginReport>> {
        actor.require(Operation::Administer)?;
        Ok(self.plugins().reports().to_vec())
    }

    /// Makes an API token; its secret is in the answer and nowhere else.
    pub fn create_token(&self, name: &str, user: &str, actor: &Actor) -> Result<NewToken> {
        actor.require(Operation::ManageUsers)?;
        let owner = self.user(user, actor)?;
        if owner.disabled {
            return bad(format!("user `{}` is disabled: enable the account or choose another", owner.login));
        }
        let (token, secret) = self.store.create_token(name, &owner.login, actor.name())?;
        Ok(NewToken { token, secret })
    }

    /// Every API token (hashes only).
    pub fn tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        actor.require(Operation::ManageUsers)?;
        Ok(self.store.tokens()?)
    }

    /// Revokes an API token by id or name.
    pub fn revoke_token(&self, id_or_name: &str, actor: &Actor) -> Result<ApiToken> {
        actor.require(Operation::ManageUsers)?;
        Ok(self.store.revoke_token(id_or_name, actor.name())?)
    }

    /// The person a bearer token acts for: a live token of an enabled user.
    pub fn authenticate(&self, secret: &str) -> Result<Actor> {
        let refused = || ServiceError::Unauthenticated("the token is unknown or revoked".into());
        let token = self.store.token_for_secret(secret)?.ok_or_else(refused)?;
        let user = self.store.get_user(&token.user)?.ok_or_else(refused)?;
        if user.disabled {
            return Err(ServiceError::Unauthenticated(format!("user `{}` is disabled", user.login)));
        }
        Ok(Actor::user(&user))
    }

    // ----- configuration -----

    /// Puts a new configuration in force (already parsed and checked). The
    /// live world re-evaluates only the clients of plugins whose settings
    /// changed, or everyone when the host rules changed. On any error the old
    /// configuration stays.
    pub fn reload_config(&self, new: PracticeConfig) -> Result<ReloadReport> {
        let old = self.config();
        if new.store_location() != old.store_location() {
            return bad(format!(
                "the new configuration moves the store ({} to {}): restart the server for that",
                old.store_location(),
                new.store_location()
            ));
        }
        let mut report = ReloadReport::default();
        if let Some(mut world) = self.world() {
            // Check every change before applying any.
            let mut settings = Vec::new();
            for plugin in world.registry().all() {
                let given = crate::plugin_host::PluginPolicy::settings(&new, plugin.id());
                let merged = crate::plugin_host::merge_settings(plugin.manifest(), &given).map_err(|e| {
                    ServiceError::BadInput(format!(
                        "{}: [plugins.{}.settings]: {e}; the old configuration stays in force",
                        new.path.display(),
                        plugin.id()
                    ))
                })?;
                if &merged != plugin.settings() {
                    settings.push((plugin.id().to_owned(), merged));
                }
            }
            let rules_changed = new.file.rules != old.file.rules;
            if rules_changed {
                world
                    .set_rules(new.file.rules.clone())
                    .map_err(|e| ServiceError::BadInput(format!("{}: [rules]: {e}", new.path.display())))?;
                report.rules = true;
                report.clients = world.len();
            }
            for (id, s) in settings {
                let n = world.set_plugin_settings(&id, s).map_err(|e| ServiceError::Failed(e.to_string()))?;
                if !rules_changed {
                    report.clients += n;
                }
                report.plugins.push(id);
            }
            if new.plans != old.plans {
                // The plans' terms reach every client on them.
                world.set_plans(new.plans.clone());
                report.clients = world.len();
            }
        }
        let calendar_changed = new.practitioners != old.practitioners || new.rooms != old.rooms;
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
        self.sync_calendar()?;
        if calendar_changed && let Some(mut world) = self.world() {
            report.clients = world.hydrate_from_store(&self.store)?;
        }
        Ok(report)
    }
}

/// Which audit entries to show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only entries about this client (id, id prefix or name).
    pub client: Option<String>,
    /// Only entries made by this actor (a login, or the local name).
    pub user: Option<String>,
    /// Only entries on or after this day (YYYY-MM-DD, the practice's time zone).
    #[param(value_type = Option<String>, format = Date)]
    pub since: Option<Date>,
}

/// The newest entries of the audit log that match a filter
/// ([`PracticeService::audit_newest`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditTail {
    /// The entries, newest first.
    pub entries: Vec<crate::store::AuditEntry>,
    /// Older entries match the filter too.
    pub more: bool,
}

/// Whether an audit entry is about the client `id`: the client record
/// itself, or a record whose `client` field names it.
fn audit_mentions(e: &crate::store::AuditEntry, id: &str) -> bool {
    if e.key == id {
        return true;
    }
    let names =
        |v: &Option<serde_json::Value>| v.as_ref().and_then(|v| v.get("client")).and_then(|c| c.as_str()) == Some(id);
    names(&e.before) || names(&e.after)
}

/// A client's record as a role may see it: the front desk sees contact
/// details, consent, insurance, availability and the care plan, never the
/// clinical fields (conditions, red flags, sensitivities, tender points,
/// pressure).
pub fn redact_for(mut client: Client, actor: &Actor) -> Client {
    if allowed(actor.role(), Operation::ReadChart) || allowed(actor.role(), Operation::EditClientClinical) {
        return client;
    }
    client.conditions.clear();
    client.red_flags.clear();
    client.sensitivities.clear();
    client.tender_points.clear();
    client.preferred_pressure = None;
    client
}

fn extend_unique(list: &mut Vec<String>, new: &[String]) {
    for item in new {
        let item = item.trim();
        if !item.is_empty() && !list.iter().any(|x| x.eq_ignore_ascii_case(item)) {
            list.push(item.to_owned());
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
