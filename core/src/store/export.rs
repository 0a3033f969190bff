//! A whole practice as JSON: export, and all-or-nothing import.
//!
//! An import is checked completely before anything is written: every record
//! on its own, every reference (to a record in the export or already in the
//! store), and every id (new to the store and unique in the export). Then it
//! is written in batches, one transaction and one flush per batch, each
//! written key also noted in the `import_journal` tree. If writing fails, or
//! the process dies before the import's final commit, the journal is used to
//! remove what was written (on the spot, or when the store is next opened),
//! so the store is left as it was.

use std::collections::{HashMap, HashSet};

use praxis_sdk::{Date, Discipline};
use serde::{Deserialize, Serialize};

use super::backend::Scan;
use super::chain::RECORD_TREES;
use super::error::{Problem, RecordKind, RecordRef, StoreError, ValidationError};
use super::keys::{self, T};
use super::migrate::SYSTEM_ACTOR;
use super::records::state_hash;
use super::records::{Appointment, AuditAction, AuditEntry, Client, Intake, Override, Practitioner, Room, Session};
use super::{Store, appointment_keys, encode, validate};

/// The `id` field of a record's stored JSON.
fn record_id(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.get("id")?.as_str().map(str::to_owned)
}

/// The export format version this build reads and writes.
pub const EXPORT_FORMAT_VERSION: u32 = 1;

/// The JSON Schema (draft 2020-12) of the export format, as published in
/// `docs/schema/practice-export.schema.json`.
pub const EXPORT_SCHEMA: &str = include_str!("../../../docs/schema/practice-export.schema.json");

/// What every export says about itself: it holds health data.
pub const HEALTH_DATA_NOTICE: &str = "This file holds health data (names, conditions, pain scores, medications, \
notes) of the practice's clients. Keep it where only the practice can read it (Praxis writes it with mode 0600), \
and delete copies you no longer need.";

/// A whole practice: every record of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeExport {
    /// Always [`EXPORT_FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// [`HEALTH_DATA_NOTICE`] when written by this build; ignored on import.
    #[serde(default)]
    pub notice: String,
    /// The hash of the last audit entry when the export was taken (keep it
    /// elsewhere to detect a log rewritten as a whole); ignored on import.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audit_head: String,
    /// Practitioners.
    #[serde(default)]
    pub practitioners: Vec<Practitioner>,
    /// Rooms.
    #[serde(default)]
    pub rooms: Vec<Room>,
    /// Clients.
    #[serde(default)]
    pub clients: Vec<Client>,
    /// Intakes (one per client at most).
    #[serde(default)]
    pub intakes: Vec<Intake>,
    /// Sessions, by client and start.
    #[serde(default)]
    pub sessions: Vec<Session>,
    /// Appointments, by start.
    #[serde(default)]
    pub appointments: Vec<Appointment>,
    /// Overrides of critical cards, by client and time.
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// The audit log, oldest first. On import the entries are appended to the
    /// store's log in this order, under new sequence numbers.
    #[serde(default)]
    pub audit: Vec<AuditEntry>,
}

impl Default for PracticeExport {
    fn default() -> Self {
        PracticeExport {
            format_version: EXPORT_FORMAT_VERSION,
            notice: HEALTH_DATA_NOTICE.to_owned(),
            audit_head: String::new(),
            practitioners: Vec::new(),
            rooms: Vec::new(),
            clients: Vec::new(),
            intakes: Vec::new(),
            sessions: Vec::new(),
            appointments: Vec::new(),
            overrides: Vec::new(),
            audit: Vec::new(),
        }
    }
}

/// The top level, with records left undecoded so that an error can name its record.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExport {
    format_version: u32,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    audit_head: String,
    #[serde(default)]
    practitioners: Vec<serde_json::Value>,
    #[serde(default)]
    rooms: Vec<serde_json::Value>,
    #[serde(default)]
    clients: Vec<serde_json::Value>,
    #[serde(default)]
    intakes: Vec<serde_json::Value>,
    #[serde(default)]
    sessions: Vec<serde_json::Value>,
    #[serde(default)]
    appointments: Vec<serde_json::Value>,
    #[serde(default)]
    overrides: Vec<serde_json::Value>,
    #[serde(default)]
    audit: Vec<serde_json::Value>,
}

fn decode_list<V: serde::de::DeserializeOwned>(
    list: &str,
    items: Vec<serde_json::Value>,
) -> Result<Vec<V>, StoreError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let id = item.get("id").or_else(|| item.get("seq")).map(|v| v.to_string()).unwrap_or_default();
            serde_json::from_value(item).map_err(|e| StoreError::Format {
                record: if id.is_empty() { format!("{list}[{i}]") } else { format!("{list}[{i}] (id {id})") },
                error: e.to_string(),
            })
        })
        .collect()
}

impl PracticeExport {
    /// Reads an export from JSON. Errors name the record (`sessions[3] (id
    /// "...")`) and what is wrong with it: bad JSON, an unknown field, an
    /// unknown pressure or status, a malformed date.
    pub fn from_json(text: &str) -> Result<PracticeExport, StoreError> {
        let top = |error: String| StoreError::Format { record: "export".into(), error };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| top(e.to_string()))?;
        super::jsoncheck::no_duplicate_keys(text).map_err(top)?;
        let Some(version) = value.get("format_version") else {
            return Err(top("missing field `format_version`".into()));
        };
        let Some(found) = version.as_u64() else {
            return Err(top(format!("format_version {version} is not a whole number")));
        };
        if found != u64::from(EXPORT_FORMAT_VERSION) {
            let found = u32::try_from(found).unwrap_or(u32::MAX);
            return Err(StoreError::UnsupportedFormat { found, supported: EXPORT_FORMAT_VERSION });
        }
        let raw: RawExport = serde_json::from_value(value).map_err(|e| top(e.to_string()))?;
        Ok(PracticeExport {
            format_version: raw.format_version,
            notice: raw.notice,
            audit_head: raw.audit_head,
            practitioners: decode_list("practitioners", raw.practitioners)?,
            rooms: decode_list("rooms", raw.rooms)?,
            clients: decode_list("clients", raw.clients)?,
            intakes: decode_list("intakes", raw.intakes)?,
            sessions: decode_list("sessions", raw.sessions)?,
            appointments: decode_list("appointments", raw.appointments)?,
            overrides: decode_list("overrides", raw.overrides)?,
            audit: decode_list("audit", raw.audit)?,
        })
    }

    /// Reads an export from `reader`, at most `max_bytes` of it (project
    /// default [`DEFAULT_MAX_IMPORT_BYTES`](super::DEFAULT_MAX_IMPORT_BYTES)):
    /// a larger input (or an endless one such as `/dev/zero`) is refused
    /// once the limit is read, so memory stays bounded.
    pub fn from_reader(reader: impl std::io::Read, max_bytes: u64) -> Result<PracticeExport, StoreError> {
        use std::io::Read as _;
        let top = |error: String| StoreError::Format { record: "export".into(), error };
        let mut bytes = Vec::new();
        reader
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| top(format!("cannot be read: {e}")))?;
        if bytes.len() as u64 > max_bytes {
            return Err(top(format!(
                "it is larger than the import limit of {} MiB: is it a Praxis export? (split it, or raise `[store] max_import_mib` in praxis.toml)",
                max_bytes / (1024 * 1024)
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| top(format!("it is not UTF-8 text: {e}")))?;
        PracticeExport::from_json(&text)
    }

    /// The export as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| StoreError::Format { record: "export".into(), error: e.to_string() })
    }

    /// How many records of all kinds the export holds.
    pub fn len(&self) -> usize {
        self.practitioners.len()
            + self.rooms.len()
            + self.clients.len()
            + self.intakes.len()
            + self.sessions.len()
            + self.appointments.len()
            + self.overrides.len()
            + self.audit.len()
    }

    /// Whether the export holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Practitioners added.
    pub practitioners: usize,
    /// Rooms added.
    pub rooms: usize,
    /// Clients added.
    pub clients: usize,
    /// Intakes added.
    pub intakes: usize,
    /// Sessions added.
    pub sessions: usize,
    /// Appointments added.
    pub appointments: usize,
    /// Overrides added.
    pub overrides: usize,
    /// Audit entries appended from the export.
    pub audit_entries: usize,
    /// Batches written (one transaction and one flush each).
    pub batches: usize,
}

/// The practice's calendar checker, for [`Store::import_checked`]: the index
/// of an appointment it refuses, and why.
pub type CalendarCheck<'a> = dyn Fn(&[Appointment]) -> Result<(), (usize, String)> + 'a;

/// One write of an import.
enum Op {
    Put(T, Vec<u8>, Vec<u8>),
}

/// Ids already taken, in the store or earlier in the export.
struct Taken<'a> {
    store: &'a Store,
    seen: HashSet<(T, Vec<u8>)>,
}

impl Taken<'_> {
    /// Claims `key` of `t` for a new record; an error if the store or the export already has it.
    fn claim(&mut self, t: T, key: &[u8], rec: &RecordRef, field: &str, value: &str) -> Result<(), StoreError> {
        if self.store.contains(t, key)? || !self.seen.insert((t, key.to_vec())) {
            return Err(ValidationError::new(rec.clone(), field, value, Problem::AlreadyExists).into());
        }
        Ok(())
    }
}

fn put<V: Serialize>(t: T, key: Vec<u8>, value: &V) -> Result<Op, StoreError> {
    let bytes = encode(t, &key, value)?;
    Ok(Op::Put(t, key, bytes))
}

impl Store {
    /// The whole practice. Records are read tree by tree; take an export
    /// while no one else is writing to get a consistent picture.
    pub fn export(&self) -> Result<PracticeExport, StoreError> {
        let head = self.get_raw(T::Meta, keys::AUDIT_HEAD)?;
        Ok(PracticeExport {
            format_version: EXPORT_FORMAT_VERSION,
            notice: HEALTH_DATA_NOTICE.to_owned(),
            audit_head: head.map(|h| String::from_utf8_lossy(&h).into_owned()).unwrap_or_default(),
            practitioners: self.all(T::Practitioners)?,
            rooms: self.all(T::Rooms)?,
            clients: self.all(T::Clients)?,
            intakes: self.all(T::Intakes)?,
            sessions: self.all(T::Sessions)?,
            appointments: self.all(T::Appointments)?,
            overrides: self.all(T::Overrides)?,
            audit: self.all(T::Audit)?,
        })
    }

    /// Imports a whole practice, all or nothing: every record is checked
    /// first (dates against `today`), and a bad record leaves the store as it
    /// was, with an error naming the record. Records must be new to the
    /// store. Written in batches of [`StoreOptions::import_batch`](super::StoreOptions)
    /// records, one flush per batch. If writing fails, what was written is
    /// removed again (including changes made meanwhile to the imported
    /// records by other writers), before the error is returned or, after a
    /// crash, when the store is next opened.
    pub fn import(&self, export: &PracticeExport, today: Date, actor: &str) -> Result<ImportReport, StoreError> {
        self.import_checked(export, today, actor, &|_| Ok(()))
    }

    /// [`Store::import`], with the export's appointments also passed to
    /// `calendar` (the practice's calendar checker, as for planned ones):
    /// it returns the index of an appointment it refuses and why.
    pub fn import_checked(
        &self,
        export: &PracticeExport,
        today: Date,
        actor: &str,
        calendar: &CalendarCheck<'_>,
    ) -> Result<ImportReport, StoreError> {
        validate::actor(actor)?;
        if export.format_version != EXPORT_FORMAT_VERSION {
            return Err(StoreError::UnsupportedFormat {
                found: export.format_version,
                supported: EXPORT_FORMAT_VERSION,
            });
        }
        let _guard = self.import_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let unchanged_practitioners = export
            .practitioners
            .iter()
            .filter(|p| self.get_practitioner(&p.id).ok().flatten().as_ref() == Some(*p))
            .count();
        let unchanged_rooms =
            export.rooms.iter().filter(|r| self.get_room(&r.id).ok().flatten().as_ref() == Some(*r)).count();
        let plan = self.plan_import(export, today)?;
        if let Err((i, why)) = calendar(&export.appointments) {
            let a = export.appointments.get(i);
            let id = a.map(|a| a.id.as_str()).unwrap_or_default();
            let rec = RecordRef { kind: RecordKind::Appointment, id: id.to_owned(), index: Some(i) };
            let start = a.map(|a| a.start.to_string()).unwrap_or_default();
            return Err(ValidationError::new(rec, "start", start, Problem::Calendar { why }).into());
        }
        if let Err(problem) = super::chain::verify_chain(&export.audit, jiff::Timestamp::now()) {
            let index = export.audit.iter().position(|e| Some(e.seq) == problem.seq).unwrap_or(0);
            return Err(StoreError::Format {
                record: format!("audit[{index}] (seq {})", problem.seq.unwrap_or(0)),
                error: format!(
                    "the export's audit log does not verify: this entry {}; an audit log cannot be edited by hand",
                    problem.message
                ),
            });
        }
        let mut states = std::collections::BTreeMap::new();
        for Op::Put(t, _, bytes) in plan.iter().flatten() {
            if let Some((_, entity)) = RECORD_TREES.iter().find(|(rt, _)| rt == t)
                && let Some(id) = record_id(bytes)
            {
                states.insert(format!("{entity}/{id}"), state_hash(bytes));
            }
        }
        let mut report = ImportReport {
            practitioners: export.practitioners.len() - unchanged_practitioners.min(export.practitioners.len()),
            rooms: export.rooms.len() - unchanged_rooms.min(export.rooms.len()),
            clients: export.clients.len(),
            intakes: export.intakes.len(),
            sessions: export.sessions.len(),
            appointments: export.appointments.len(),
            overrides: export.overrides.len(),
            audit_entries: export.audit.len(),
            batches: 0,
        };
        let import_id = super::new_id();
        if self.is_postgres() {
            // One transaction: all or nothing without a journal, and another
            // server opening the database meanwhile never mistakes it for an
            // interrupted import.
            report.batches = 1;
            let summary = serde_json::to_value(&report).ok();
            self.write(|tx| {
                for Op::Put(t, key, bytes) in plan.iter().flatten() {
                    tx.put_raw(*t, key, bytes.as_slice())?;
                }
                for entry in &export.audit {
                    tx.append_audit(entry.clone())?;
                }
                let mut entry =
                    super::new_entry(actor, AuditAction::Import, "practice", &import_id, None, summary.clone());
                entry.states = states.clone();
                tx.append_audit(entry).map(|_| ())
            })?;
            tracing::info!(records = export.len(), actor, "practice imported");
            return Ok(report);
        }
        self.clear_journal()?;
        self.insert_raw(T::Meta, keys::IMPORT_PENDING, import_id.as_bytes())?;
        self.flush()?;
        let written = self.write_plan(&plan, &export.audit, states, &mut report, &import_id, actor);
        if let Err(e) = written {
            tracing::error!(error = %e, "import failed while writing; undoing it");
            if let Err(undo) = self.rollback_import(actor) {
                tracing::error!(error = %undo, "undoing the import failed; it will be undone when the store is next opened");
            }
            return Err(e);
        }
        if let Err(e) = self.clear_journal() {
            tracing::warn!(error = %e, "clearing the import journal failed; it is cleared when the store is next opened");
        }
        tracing::info!(records = export.len(), batches = report.batches, actor, "practice imported");
        Ok(report)
    }

    fn write_plan(
        &self,
        plan: &[Vec<Op>],
        audit: &[AuditEntry],
        states: std::collections::BTreeMap<String, String>,
        report: &mut ImportReport,
        import_id: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        for chunk in plan.chunks(self.options.import_batch.max(1)) {
            self.write(|tx| {
                for record in chunk {
                    for Op::Put(t, key, bytes) in record {
                        tx.put_raw(*t, key, bytes.as_slice())?;
                        tx.put_raw(T::Journal, &keys::journal(*t, key), &[])?;
                    }
                }
                Ok(())
            })?;
            report.batches += 1;
        }
        // The export's audit entries go in with the import's own entry, in the
        // transaction that ends the import: an undone import leaves the log
        // as it was.
        let summary = serde_json::to_value(&*report).ok();
        self.write(|tx| {
            for entry in audit {
                tx.append_audit(entry.clone())?;
            }
            tx.del(T::Meta, keys::IMPORT_PENDING)?;
            let mut entry = super::new_entry(actor, AuditAction::Import, "practice", import_id, None, summary.clone());
            entry.states = states.clone();
            tx.append_audit(entry).map(|_| ())
        })
    }

    /// Checks everything and turns the export into writes, one list per record.
    fn plan_import(&self, export: &PracticeExport, today: Date) -> Result<Vec<Vec<Op>>, StoreError> {
        let limits = &self.options.limits;
        let mut taken = Taken { store: self, seen: HashSet::new() };
        let mut plan = Vec::with_capacity(export.len());
        let rec = |kind, id: &str, i| RecordRef { kind, id: id.to_owned(), index: Some(i) };
        let unknown = |r: &RecordRef, field: &str, value: &str, kind| {
            StoreError::from(ValidationError::new(r.clone(), field, value, Problem::UnknownReference { kind }))
        };

        let mut practitioners: HashMap<&str, &[Discipline]> = HashMap::new();
        for (i, p) in export.practitioners.iter().enumerate() {
            validate::practitioner(p, limits, Some(i))?;
            // The same practitioner as the store's (from praxis.toml, or an earlier import): nothing to do.
            if self.get_practitioner(&p.id)?.as_ref() == Some(p)
                && taken.seen.insert((T::Practitioners, p.id.as_bytes().to_vec()))
            {
                practitioners.insert(&p.id, &p.disciplines);
                continue;
            }
            taken.claim(T::Practitioners, p.id.as_bytes(), &rec(RecordKind::Practitioner, &p.id, i), "id", &p.id)?;
            practitioners.insert(&p.id, &p.disciplines);
            plan.push(vec![put(T::Practitioners, p.id.as_bytes().to_vec(), p)?]);
        }
        let mut rooms = HashSet::new();
        for (i, r) in export.rooms.iter().enumerate() {
            validate::room(r, limits, Some(i))?;
            if self.get_room(&r.id)?.as_ref() == Some(r) && taken.seen.insert((T::Rooms, r.id.as_bytes().to_vec())) {
                rooms.insert(r.id.as_str());
                continue;
            }
            taken.claim(T::Rooms, r.id.as_bytes(), &rec(RecordKind::Room, &r.id, i), "id", &r.id)?;
            rooms.insert(r.id.as_str());
            plan.push(vec![put(T::Rooms, r.id.as_bytes().to_vec(), r)?]);
        }
        let mut clients = HashSet::new();
        for (i, c) in export.clients.iter().enumerate() {
            validate::client(c, today, limits, Some(i))?;
            taken.claim(T::Clients, c.id.as_bytes(), &rec(RecordKind::Client, &c.id, i), "id", &c.id)?;
            clients.insert(c.id.as_str());
            plan.push(vec![put(T::Clients, c.id.as_bytes().to_vec(), c)?]);
        }
        let client_known = |id: &str| -> Result<bool, StoreError> {
            Ok(clients.contains(id) || self.contains(T::Clients, id.as_bytes())?)
        };
        let qualified = |r: &RecordRef, id: &str, discipline: &Discipline| -> Result<(), StoreError> {
            let stored;
            let disciplines = match practitioners.get(id) {
                Some(d) => *d,
                None => match self.get_practitioner(id)? {
                    Some(p) => {
                        stored = p.disciplines;
                        &stored[..]
                    }
                    None => return Err(unknown(r, "practitioner", id, RecordKind::Practitioner)),
                },
            };
            if !disciplines.contains(discipline) {
                let problem = Problem::NotQualified { practitioner: id.to_owned() };
                return Err(ValidationError::new(r.clone(), "discipline", discipline, problem).into());
            }
            Ok(())
        };

        let mut intake_ids = HashSet::new();
        for (i, intake) in export.intakes.iter().enumerate() {
            let r = rec(RecordKind::Intake, &intake.id, i);
            validate::intake(intake, today, limits, Some(i))?;
            if !intake_ids.insert(intake.id.as_str()) {
                return Err(ValidationError::new(r, "id", &intake.id, Problem::AlreadyExists).into());
            }
            if !client_known(&intake.client)? {
                return Err(unknown(&r, "client", &intake.client, RecordKind::Client));
            }
            taken.claim(T::Intakes, intake.client.as_bytes(), &r, "client", &intake.client)?;
            plan.push(vec![put(T::Intakes, intake.client.as_bytes().to_vec(), intake)?]);
        }
        for (i, s) in export.sessions.iter().enumerate() {
            let r = rec(RecordKind::Session, &s.id, i);
            validate::session(s, today, limits, Some(i))?;
            taken.claim(T::SessionIds, s.id.as_bytes(), &r, "id", &s.id)?;
            if !client_known(&s.client)? {
                return Err(unknown(&r, "client", &s.client, RecordKind::Client));
            }
            qualified(&r, &s.practitioner, &s.discipline)?;
            let key = keys::scoped(&s.client, s.start, &s.id);
            plan.push(vec![
                put(T::Sessions, key.clone(), s)?,
                Op::Put(T::SessionIds, s.id.as_bytes().to_vec(), key.clone()),
                Op::Put(T::SessionsByStart, keys::timed(s.start, &s.id), key),
            ]);
        }
        let mut appointments = HashSet::new();
        for (i, a) in export.appointments.iter().enumerate() {
            let r = rec(RecordKind::Appointment, &a.id, i);
            validate::appointment(a, limits, Some(i))?;
            taken.claim(T::AppointmentIds, a.id.as_bytes(), &r, "id", &a.id)?;
            if !client_known(&a.client)? {
                return Err(unknown(&r, "client", &a.client, RecordKind::Client));
            }
            if !rooms.contains(a.room.as_str()) && !self.contains(T::Rooms, a.room.as_bytes())? {
                return Err(unknown(&r, "room", &a.room, RecordKind::Room));
            }
            qualified(&r, &a.practitioner, &a.discipline)?;
            appointments.insert(a.id.as_str());
            let keys = appointment_keys(a);
            let bytes = encode(T::Appointments, &keys[0].1, a)?;
            let mut ops = vec![Op::Put(T::AppointmentIds, a.id.as_bytes().to_vec(), keys[0].1.clone())];
            ops.extend(keys.into_iter().map(|(t, key)| Op::Put(t, key, bytes.clone())));
            plan.push(ops);
        }
        // A heat or cold step belongs to a visit with its massage: the visit
        // it names must have a massage appointment of the same client.
        for (i, a) in export.appointments.iter().enumerate() {
            let r = rec(RecordKind::Appointment, &a.id, i);
            if a.adjunct.is_none() {
                continue;
            }
            let Some(visit) = &a.visit else {
                let problem = Problem::Missing { needed: "a heat or cold step names the visit of its massage" };
                return Err(ValidationError::new(r, "visit", "", problem).into());
            };
            let in_export = export.appointments.iter().any(|b| {
                b.adjunct.is_none() && b.visit.as_ref() == Some(visit) && b.client == a.client && b.id != a.id
            });
            let in_store = || -> Result<bool, StoreError> {
                Ok(self
                    .appointments_for_client(&a.client)?
                    .iter()
                    .any(|b| b.adjunct.is_none() && b.visit.as_ref() == Some(visit)))
            };
            if !in_export && !in_store()? {
                return Err(ValidationError::new(
                    r,
                    "visit",
                    visit,
                    Problem::UnknownReference { kind: RecordKind::Visit },
                )
                .into());
            }
        }
        for (i, o) in export.overrides.iter().enumerate() {
            let r = rec(RecordKind::Override, &o.id, i);
            validate::override_(o, limits, Some(i))?;
            taken.claim(T::OverrideIds, o.id.as_bytes(), &r, "id", &o.id)?;
            if !client_known(&o.client)? {
                return Err(unknown(&r, "client", &o.client, RecordKind::Client));
            }
            if let Some(appointment) = &o.appointment
                && !appointments.contains(appointment.as_str())
                && !self.contains(T::AppointmentIds, appointment.as_bytes())?
            {
                return Err(unknown(&r, "appointment", appointment, RecordKind::Appointment));
            }
            let key = keys::scoped(&o.client, o.at, &o.id);
            plan.push(vec![put(T::Overrides, key.clone(), o)?, Op::Put(T::OverrideIds, o.id.as_bytes().to_vec(), key)]);
        }
        for (i, entry) in export.audit.iter().enumerate() {
            validate::audit_entry(entry, limits, i)?;
        }
        Ok(plan)
    }

    /// Removes every key an unfinished import wrote, then its marker.
    fn rollback_import(&self, actor: &str) -> Result<usize, StoreError> {
        let marker = self.get_raw(T::Meta, keys::IMPORT_PENDING)?;
        let import_id = marker.map(|m| String::from_utf8_lossy(&m).into_owned()).unwrap_or_default();
        let mut removed = 0usize;
        let mut states = std::collections::BTreeMap::new();
        for entry in self.scan(T::Journal, Scan::All)? {
            let (entry, _) = entry?;
            match keys::parse_journal(&entry) {
                Some((t, key)) => {
                    let old = self.remove_raw(t, key)?;
                    if let Some((_, entity)) = RECORD_TREES.iter().find(|(rt, _)| *rt == t)
                        && let Some(id) = old.as_deref().and_then(record_id)
                    {
                        states.insert(format!("{entity}/{id}"), String::new());
                    }
                    removed += 1;
                }
                None => tracing::error!(entry = %keys::show(&entry), "unreadable import journal entry skipped"),
            }
        }
        self.flush()?;
        let after = Some(serde_json::json!({ "records_removed": removed }));
        self.write(|tx| {
            tx.del(T::Meta, keys::IMPORT_PENDING)?;
            let mut entry =
                super::new_entry(actor, AuditAction::ImportRolledBack, "practice", &import_id, None, after.clone());
            entry.states = states.clone();
            tx.append_audit(entry).map(|_| ())
        })?;
        self.clear_journal()?;
        tracing::warn!(import = %import_id, removed, "unfinished import undone");
        Ok(removed)
    }

    fn clear_journal(&self) -> Result<(), StoreError> {
        if self.tree_is_empty(T::Journal)? {
            return Ok(());
        }
        self.clear_tree(T::Journal)?;
        self.flush()
    }

    /// On open: undoes an import that did not finish; drops a finished import's leftover journal.
    pub(crate) fn recover_import(&self) -> Result<(), StoreError> {
        if self.contains(T::Meta, keys::IMPORT_PENDING)? {
            self.rollback_import(SYSTEM_ACTOR)?;
        } else {
            self.clear_journal()?;
        }
        Ok(())
    }
}
