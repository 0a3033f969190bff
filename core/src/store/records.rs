//! The records the practice keeps, as typed values.
//!
//! Every record has a stable string id; new ids are UUID v7 ([`new_id`]), so
//! that they sort by creation time. Practitioners and rooms are the SDK's own
//! [`Practitioner`] and [`Room`] types, so the scheduler plugins see exactly
//! what the store keeps.

use std::fmt;

use praxis_sdk::{
    Adjunct, AdverseEvent, Condition, Date, DateTime, Discipline, InsuranceSummary, IntakeSummary, Pressure, RedFlag,
    SessionRecord, WeeklyWindow,
};
pub use praxis_sdk::{Practitioner, Room};
use serde::{Deserialize, Serialize};

/// A new record id: a UUID v7 (time-ordered) as lowercase hyphenated text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// How to reach a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Telephone number, as the client gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// What the client consented to, and when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Consent to treatment.
    #[serde(default)]
    pub treatment: bool,
    /// Consent to keeping and processing the client's health data.
    #[serde(default)]
    pub data_processing: bool,
    /// The day consent was given or last changed; required once any consent is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Date>,
}

/// What an insurance plan requires before it pays (rule I1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authorization {
    /// A referral.
    Referral,
    /// A prescription.
    Prescription,
}

/// The period a session limit counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitPeriod {
    /// The calendar year.
    CalendarYear,
    /// The plan year.
    PlanYear,
    /// One referral or prescription.
    Referral,
}

/// A plan's session limit (rule I2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionLimit {
    /// Sessions covered per period (at least 1).
    pub sessions: u32,
    /// The period.
    pub period: LimitPeriod,
}

/// Sessions a client on a plan used elsewhere (another practice), entered
/// by hand: they count toward the plan's limit while the day they were
/// recorded is in the plan's current period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsedElsewhere {
    /// How many (at least 1).
    pub sessions: u32,
    /// The day they were recorded: the period they count in.
    pub recorded: Date,
}

/// A client's insurance.
///
/// A client on one of the practice's plans keeps the plan's name (`plan`,
/// the `[insurance.<plan>]` key) and what is theirs alone: the member id,
/// whether the referral is on file, sessions used elsewhere. The terms come
/// from the config at evaluation time and the sessions used are counted from
/// the session records (`world::resolve_insurance`); the term fields stay
/// empty. A record without a plan name (custom terms, or a store from
/// before plans were referenced) keeps its own terms and its hand-kept
/// `sessions_used`, as before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Insurance {
    /// The plan's name in the practice config (`[insurance.<plan>]`), whose terms apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// The member (policy) id with the payer, if the practice keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// The payer (custom terms only; empty on a plan).
    #[serde(default)]
    pub payer: String,
    /// What the plan requires before it pays, if anything (rule I1; custom terms only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<Authorization>,
    /// Whether the required referral or prescription is on file.
    #[serde(default)]
    pub authorization_on_file: bool,
    /// SNOMED CT codes the plan covers; empty means any condition (rule I3; custom terms only).
    #[serde(default)]
    pub covered_conditions: Vec<String>,
    /// The session limit, if any (rule I2; custom terms only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_limit: Option<SessionLimit>,
    /// Custom terms only: sessions used in the current period, kept by
    /// hand; recording a new session increments it when there is a limit.
    /// Always 0 on a plan, whose sessions are counted from the records.
    #[serde(default)]
    pub sessions_used: u32,
    /// On a plan: sessions used elsewhere, which count toward the limit in
    /// the period they were recorded in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_elsewhere: Option<UsedElsewhere>,
}

impl Insurance {
    /// A client on the practice's plan `plan`, with nothing else on file yet.
    pub fn on_plan(plan: impl Into<String>) -> Insurance {
        Insurance {
            plan: Some(plan.into()),
            member_id: None,
            payer: String::new(),
            requires: None,
            authorization_on_file: false,
            covered_conditions: Vec::new(),
            session_limit: None,
            sessions_used: 0,
            used_elsewhere: None,
        }
    }

    /// The record as guidance sees it without the practice config: the
    /// custom terms and the hand-kept count. For a client on a plan this
    /// names the plan as payer and carries no terms: guidance resolves the
    /// plan against the config instead (`world::resolve_insurance`).
    pub fn summary(&self) -> InsuranceSummary {
        InsuranceSummary {
            payer: match &self.plan {
                Some(plan) if self.payer.is_empty() => plan.clone(),
                _ => self.payer.clone(),
            },
            referral_required: self.requires.is_some(),
            referral_on_file: self.authorization_on_file,
            covered_conditions: self.covered_conditions.clone(),
            session_limit: self.session_limit.map(|l| l.sessions),
            sessions_used: self.sessions_used.saturating_add(self.used_elsewhere.map_or(0, |e| e.sessions)),
        }
    }
}

/// A discipline other than massage in the client's care plan (rule C1), as
/// the practitioner set it: how often and how long. The combined-therapy
/// scheduler turns these into appointments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Therapy {
    /// The discipline.
    pub discipline: Discipline,
    /// Days between sessions (7 for weekly; 1 to 365).
    pub every_days: u32,
    /// Minutes per session (group classes keep their own length).
    pub minutes: u16,
}

/// A client of the practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Stable id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Date>,
    /// How to reach the client.
    #[serde(default)]
    pub contact: Contact,
    /// Diagnosed conditions, as recorded by the practice.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Red flags (rule S1).
    #[serde(default)]
    pub red_flags: Vec<RedFlag>,
    /// Sensitivities, such as oils or touch on the scalp.
    #[serde(default)]
    pub sensitivities: Vec<String>,
    /// Tender points (regions).
    #[serde(default)]
    pub tender_points: Vec<String>,
    /// Preferred massage pressure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_pressure: Option<Pressure>,
    /// When the client can come, week by week.
    #[serde(default)]
    pub availability: Vec<WeeklyWindow>,
    /// The other disciplines of the client's care plan.
    #[serde(default)]
    pub therapies: Vec<Therapy>,
    /// Insurance plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance: Option<Insurance>,
    /// Consent.
    #[serde(default)]
    pub consent: Consent,
    /// The client's ids in other systems, such as an EHR's medical record
    /// number: CDS Hooks' `patientId` and FHIR imports map to the client through these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<ExternalId>,
}

/// A client's id in another system (an EHR's medical record number, a FHIR
/// server's `Patient` id): the system's URI and the value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalId {
    /// The identifier system's URI, such as an EHR's FHIR base URL or its MRN namespace.
    pub system: String,
    /// The id in that system.
    pub value: String,
}

impl Client {
    /// A client with a name and nothing else recorded yet.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Client {
        Client {
            id: id.into(),
            name: name.into(),
            date_of_birth: None,
            contact: Contact::default(),
            conditions: Vec::new(),
            red_flags: Vec::new(),
            sensitivities: Vec::new(),
            tender_points: Vec::new(),
            preferred_pressure: None,
            availability: Vec::new(),
            therapies: Vec::new(),
            insurance: None,
            consent: Consent::default(),
            identifiers: Vec::new(),
        }
    }
}

/// A client's intake (rule S3): one per client, replaced when taken again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    /// Stable id.
    pub id: String,
    /// The client.
    pub client: String,
    /// When intake was recorded.
    pub recorded: Date,
    /// Pain patterns in the client's words.
    #[serde(default)]
    pub pain_patterns: Vec<String>,
    /// Sensitivities.
    #[serde(default)]
    pub sensitivities: Vec<String>,
    /// Treatments tried before.
    #[serde(default)]
    pub previous_treatments: Vec<String>,
    /// Medications.
    #[serde(default)]
    pub medications: Vec<String>,
}

impl Intake {
    /// The intake as guidance sees it.
    pub fn summary(&self) -> IntakeSummary {
        IntakeSummary {
            recorded: self.recorded,
            pain_patterns: self.pain_patterns.clone(),
            sensitivities: self.sensitivities.clone(),
            previous_treatments: self.previous_treatments.clone(),
            medications: self.medications.clone(),
        }
    }
}

/// The client's own report of pain-medication use since the previous session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MedicationUse {
    /// Took no pain medication.
    None,
    /// Took less than usual.
    LessThanUsual,
    /// Took as much as usual.
    AsUsual,
    /// Took more than usual.
    MoreThanUsual,
}

/// A treatment session that took place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Stable id.
    pub id: String,
    /// The client.
    pub client: String,
    /// The practitioner.
    pub practitioner: String,
    /// The discipline.
    pub discipline: Discipline,
    /// When it started (practice local time).
    pub start: DateTime,
    /// Length in minutes.
    pub minutes: u16,
    /// Pressure used, for massage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure: Option<Pressure>,
    /// Techniques used.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Regions worked.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Pain before, 0-10 (LOINC 72514-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pain_before: Option<u8>,
    /// Pain after, 0-10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pain_after: Option<u8>,
    /// Pain at the 24-48 hour follow-up, 0-10, added later with `Store::set_follow_up`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_pain: Option<u8>,
    /// When the follow-up was taken (practice local time); see [`Session::follow_up_timing`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_at: Option<DateTime>,
    /// Adverse event.
    #[serde(default)]
    pub adverse_event: AdverseEvent,
    /// Heat before and cold after.
    #[serde(default)]
    pub adjuncts: Vec<Adjunct>,
    /// Free notes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Self-reported pain-medication use since the previous session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pain_medication: Option<MedicationUse>,
}

impl Session {
    /// The session as a plugin sees it.
    pub fn record(&self) -> SessionRecord {
        SessionRecord {
            id: self.id.clone(),
            date: self.start.date,
            discipline: self.discipline.clone(),
            minutes: self.minutes,
            pressure: self.pressure,
            techniques: self.techniques.clone(),
            regions: self.regions.clone(),
            pain_before: self.pain_before,
            pain_after: self.pain_after,
            follow_up_pain: self.follow_up_pain,
            adverse_event: self.adverse_event.clone(),
            adjuncts: self.adjuncts.clone(),
        }
    }
}

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Booked.
    Booked,
    /// Took place.
    Completed,
    /// Cancelled.
    Cancelled,
    /// The client did not come.
    NoShow,
}

impl fmt::Display for AppointmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::NoShow => "no_show",
        })
    }
}

/// An appointment in the practice calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appointment {
    /// Stable id.
    pub id: String,
    /// The client.
    pub client: String,
    /// The practitioner.
    pub practitioner: String,
    /// The room.
    pub room: String,
    /// The discipline.
    pub discipline: Discipline,
    /// Start (practice local time).
    pub start: DateTime,
    /// Length in minutes.
    pub minutes: u16,
    /// Status.
    pub status: AppointmentStatus,
    /// The visit it belongs to: appointments booked together (heat, massage
    /// and cold, rule R4) share one visit id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
    /// Set when this appointment is the heat or cold step of a massage visit (rules R4, C2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjunct: Option<Adjunct>,
    /// The group class it is a place in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Why its status changed, when someone said (such as a cancellation's reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
}

impl Appointment {
    /// A booked appointment from a scheduler's (or the front desk's) plain one, with a new id.
    pub fn booked(a: &praxis_sdk::Appointment, visit: Option<String>) -> Appointment {
        Appointment {
            id: new_id(),
            client: a.client.clone(),
            practitioner: a.practitioner.clone(),
            room: a.room.clone(),
            discipline: a.discipline.clone(),
            start: a.start,
            minutes: a.minutes,
            status: AppointmentStatus::Booked,
            visit,
            adjunct: a.adjunct,
            class: a.class.clone(),
            status_reason: None,
        }
    }

    /// The appointment as the calendar, the world and the scheduler plugins see it.
    pub fn plain(&self) -> praxis_sdk::Appointment {
        praxis_sdk::Appointment {
            client: self.client.clone(),
            practitioner: self.practitioner.clone(),
            room: self.room.clone(),
            discipline: self.discipline.clone(),
            start: self.start,
            minutes: self.minutes,
            visit: self.visit.clone(),
            adjunct: self.adjunct,
            class: self.class.clone(),
        }
    }
}

/// A practitioner's override of a critical card, with the reason (rule
/// vocabulary: `critical` means "do not book or treat without a recorded
/// override reason"). Overrides are never changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Stable id.
    pub id: String,
    /// The client.
    pub client: String,
    /// The rule id of the card overridden, such as `S1`.
    pub rule: String,
    /// The card's summary, as shown.
    pub card_summary: String,
    /// Why the practitioner went ahead.
    pub reason: String,
    /// When.
    pub at: DateTime,
    /// The appointment it was for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<String>,
}

/// What an audited change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A record was created.
    Create,
    /// A record was changed.
    Update,
    /// A critical card was overridden.
    Override,
    /// A practice export was imported.
    Import,
    /// An import interrupted by a crash was undone on open.
    ImportRolledBack,
    /// The store's schema was migrated.
    Migrate,
    /// A client's chart was read (HIPAA 164.312(b): audit controls).
    Read,
    /// A login, logout, failed login or lockout.
    Access,
    /// The store was recovered on open (a snapshot left unfinished by a
    /// crash was set aside) or repaired by `praxis store repair`.
    Recover,
}

/// One entry of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Position in the log (increasing, not necessarily contiguous).
    pub seq: u64,
    /// The hash of the previous entry of the log ([`AuditEntry::hash`]), or
    /// [`AUDIT_GENESIS`] for the first: the entries form a chain, so that a
    /// changed, inserted or deleted entry breaks it.
    #[serde(default)]
    pub prev: String,
    /// When the change was made (UTC).
    #[serde(with = "timestamp_text")]
    pub at: jiff::Timestamp,
    /// Who made it.
    pub actor: String,
    /// What it did.
    pub action: AuditAction,
    /// The kind of record changed, such as `session` (or `practice`, `store`).
    pub entity: String,
    /// The id of the record changed.
    pub key: String,
    /// The record before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// The record after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    /// For an entry about one record: SHA-256 (hex) of the record as stored
    /// after the change, so that a record changed behind the log's back is found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// For an entry about many records (an import, a migration, a rollback):
    /// `kind/id` to the SHA-256 (hex) of each record as stored, or `""` for
    /// one that was removed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub states: std::collections::BTreeMap<String, String>,
}

/// The `prev` of the first entry of an audit log: 64 zeros.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditEntry {
    /// The entry's hash: SHA-256 (hex) of its JSON, `seq` and `prev` included.
    pub fn hash(&self) -> String {
        use sha2::Digest as _;
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(&bytes))
    }

    /// Numbers `entries` from `first_seq` and links each to the one before
    /// (the first to [`AUDIT_GENESIS`]): a log as a store writes it.
    pub fn chain(entries: &mut [AuditEntry], first_seq: u64) {
        let mut prev = AUDIT_GENESIS.to_owned();
        for (i, e) in entries.iter_mut().enumerate() {
            e.seq = first_seq + i as u64;
            e.prev = prev;
            prev = e.hash();
        }
    }
}

/// SHA-256 (hex) of a record's stored bytes, as in [`AuditEntry::state`].
pub fn state_hash(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

mod timestamp_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<jiff::Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
