//! # praxis-sdk
//!
//! The one crate a Praxis plugin author depends on. A plugin is a shared
//! library that a Praxis host loads at run time; it sees only the plain data of
//! this crate (serde types), never the host's storage or world.
//!
//! There are two kinds of plugin:
//!
//! - a **protocol** ([`Protocol`]): a client snapshot in, [`Guidance`] out
//!   (HL7 CDS Hooks cards, a session recommendation, perhaps a hold);
//! - a **scheduler** ([`Scheduler`]): care plans and the practice calendar in,
//!   proposed appointments out.
//!
//! A whole protocol plugin:
//!
//! ```
//! use praxis_sdk::prelude::*;
//!
//! #[derive(Default)]
//! struct NeckCare;
//!
//! impl Plugin for NeckCare {
//!     fn manifest(&self) -> Manifest {
//!         Manifest::new("neck-care", "Neck care", "0.1.0")
//!             .with_description("Reminds the therapist to record intake pain patterns.")
//!             .with_kind(PluginKind::Protocol)
//!             .with_condition(snomed::NECK_PAIN, "Neck pain")
//!             .with_history_days(90)
//!     }
//! }
//!
//! impl Protocol for NeckCare {
//!     fn evaluate(&self, input: &ProtocolInput) -> Result<Guidance, PluginError> {
//!         let mut guidance = Guidance::default();
//!         guidance.cards.push(
//!             Card::new("S3", Indicator::Info, "Ask about neck pain patterns", "Intake helps tailor the session.")
//!                 .with_source("Neck care"),
//!         );
//!         // A struct literal ends with `..Default::default()`: see "Growing structs".
//!         guidance.recommendation = Some(Recommendation { minutes: Some(Range::new(30, 45)), ..Default::default() });
//!         Ok(guidance)
//!     }
//! }
//!
//! // In a real plugin crate (crate-type = ["cdylib", "rlib"]):
//! // praxis_sdk::export_plugin!(protocol = NeckCare);
//!
//! // Test it with the harness (feature `testing`, in your dev-dependencies):
//! # #[cfg(feature = "testing")] {
//! let client = ClientBuilder::new("c1").condition(snomed::NECK_PAIN, ConditionStatus::Active).build();
//! let guidance = praxis_sdk::testing::run_static(&NeckCare, &client, "2026-11-21", &Default::default());
//! assert!(guidance.has_rule("S3"));
//! # }
//! ```
//!
//! ## The boundary (ABI v1)
//!
//! [`export_plugin!`] writes all the `unsafe` glue: it exports one C symbol,
//! `praxis_plugin_v1`, returning a `#[repr(C)]` [`abi::PluginTableV1`]:
//! magic, ABI major and minor, the SDK version, and `extern "C"` functions that
//! exchange byte buffers of UTF-8 JSON. Every entry point catches panics and
//! returns an error code with the message; buffers a plugin writes are freed by
//! the plugin's own `free_buffer`. Log records from `tracing` macros inside a
//! plugin reach the host's subscriber through a callback. The same ABI is
//! declared for C in `include/praxis_plugin.h`.
//!
//! ## Compatibility rules
//!
//! | SDK version | ABI | what changed |
//! |---|---|---|
//! | 0.1.0 | 1.0 | the first ABI: `praxis_plugin_v1`, the table, JSON messages |
//! | 0.2.0 | 1.1 | same layout and messages; required table entries checked; host side and harness behind features; JSON Schemas; constructors |
//!
//! - **Minor version** (same symbol `praxis_plugin_v1`, `abi_minor` + 1) may:
//!   add an optional field to any data type (`#[serde(default)]` on read,
//!   so older plugins ignore it and newer plugins tolerate its absence); add a
//!   variant to an enum that has an `Unknown`/`Other` arm ([`ConditionStatus`],
//!   [`RedFlagKind`], [`AdverseEvent`], [`PluginKind`], [`RoomKind`],
//!   [`Discipline`]); append a function pointer to the end of the table. A host
//!   loads plugins of its own minor or older, and refuses a plugin built for a
//!   newer minor than it knows.
//! - **Major version** (a new symbol `praxis_plugin_v2`, the host keeping v1
//!   working): renaming or removing a field, changing a field's type or
//!   meaning, adding a level to a closed enum ([`Pressure`], [`Indicator`], [`Adjunct`], [`Weekday`]),
//!   reordering or removing table fields.
//! - **Growing structs.** A minor version may add an optional field to any
//!   data struct, so write code that does not name every field:
//!   build with the constructors ([`Manifest::new`] and its `with_` methods,
//!   [`Card::new`], [`Hold::new`], [`Range::new`], [`Coding::new`],
//!   [`Suggestion::new`], [`schedule::Appointment::new`],
//!   [`schedule::Unmet::new`], the harness's `ClientBuilder`), and end every
//!   struct literal of a type that implements `Default` with
//!   `..Default::default()`; read with field access, not exhaustive
//!   patterns (`let Hold { reason, .. } = hold;`). The other structs
//!   (`Card`, `Condition`, `SessionRecord`, `Appointment`...) have a field
//!   with no sensible default; use their constructors. Enums with an
//!   `Unknown`/`Other` arm need a `_` arm in a `match`.
//! - **Unknown data** is tolerated, never fatal: unknown JSON fields are
//!   ignored on both sides; an unknown enum value becomes the `Unknown`/`Other`
//!   arm. The host, for its part, never trusts what a plugin returns: it
//!   validates every card, range and proposal before use.

#![deny(missing_docs)]

pub mod abi;
pub mod guidance;
pub mod manifest;
pub mod model;
pub mod schedule;
#[cfg(feature = "schema")]
pub mod schema;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use guidance::{Card, Coding, Guidance, Hold, Indicator, Range, Recommendation, Source, Suggestion};
pub use manifest::{ConditionSpec, Manifest, PluginKind, SettingSpec};
pub use model::{
    Adjunct, AdverseEvent, ClientSnapshot, Condition, ConditionStatus, Discipline, InsuranceSummary, IntakeSummary,
    Pressure, RedFlag, RedFlagKind, SessionRecord, snomed,
};
pub use schedule::{
    Appointment, CarePlan, DisciplineDemand, GroupClass, MassageDemand, Practitioner, Room, RoomKind, ScheduleProposal,
    ScheduleRequest, Unmet,
};
pub use time::{Date, DateRange, DateTime, TimeOfDay, Weekday, WeeklyWindow};

/// Everything a plugin needs in one `use`.
pub mod prelude {
    #[cfg(feature = "testing")]
    pub use crate::testing::ClientBuilder;
    pub use crate::{
        Adjunct, AdverseEvent, Card, ClientSnapshot, Condition, ConditionSpec, ConditionStatus, Date, Discipline,
        Guidance, Hold, Indicator, Manifest, Plugin, PluginError, PluginKind, Pressure, Protocol, ProtocolInput, Range,
        Recommendation, RedFlag, RedFlagKind, ScheduleProposal, ScheduleRequest, Scheduler, SessionRecord, SettingSpec,
        Settings, snomed,
    };
}

/// The settings a practice gave a plugin in its configuration, as JSON.
pub type Settings = serde_json::Map<String, serde_json::Value>;

/// Why a plugin could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// A setting has the wrong type or value.
    BadSettings(String),
    /// The request lacks something the plugin needs.
    BadInput(String),
    /// Anything else.
    Failed(String),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::BadSettings(m) => write!(f, "bad settings: {m}"),
            PluginError::BadInput(m) => write!(f, "bad input: {m}"),
            PluginError::Failed(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for PluginError {}

/// What a protocol plugin is asked: one client, the evaluation date and the
/// practice's settings for this plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProtocolInput {
    /// The day guidance is for.
    pub as_of: Date,
    /// The client.
    pub client: ClientSnapshot,
    /// The plugin's settings from the practice config (defaults filled in by the host).
    #[serde(default)]
    pub settings: Settings,
}

impl ProtocolInput {
    /// Decodes the settings into the plugin's own settings type. Use
    /// `#[serde(default)]` on that type so absent keys take their defaults.
    pub fn settings<S: DeserializeOwned>(&self) -> Result<S, PluginError> {
        decode_settings(&self.settings)
    }
}

/// Decodes a settings map into a typed settings struct. When it fails, the
/// error names the key at fault (serde's own message does not): `setting
/// `key` = value: what is wrong`.
pub fn decode_settings<S: DeserializeOwned>(settings: &Settings) -> Result<S, PluginError> {
    let decode = |map: &Settings| serde_json::from_value::<S>(serde_json::Value::Object(map.clone()));
    decode(settings).map_err(|whole| {
        let culprit = settings.iter().find_map(|(key, value)| {
            let alone: Settings = std::iter::once((key.clone(), value.clone())).collect();
            decode(&alone).err().map(|e| format!("setting `{key}` = {value}: {e}"))
        });
        PluginError::BadSettings(culprit.unwrap_or_else(|| whole.to_string()))
    })
}

/// What every plugin has: a manifest. Lifecycle hooks may be added here later
/// with default bodies (a minor change).
pub trait Plugin: Send + Sync + 'static {
    /// The plugin's manifest.
    fn manifest(&self) -> Manifest;
}

/// A protocol plugin: a client snapshot in, guidance out.
pub trait Protocol: Plugin {
    /// Guidance for one client. Must not block on I/O; may log with `tracing`.
    fn evaluate(&self, input: &ProtocolInput) -> Result<Guidance, PluginError>;
}

/// A scheduler plugin: the calendar and care plans in, proposed appointments out.
pub trait Scheduler: Plugin {
    /// Proposes appointments over the request's horizon.
    fn schedule(&self, request: &ScheduleRequest) -> Result<ScheduleProposal, PluginError>;
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ClientSnapshot>();
    assert_send_sync::<Guidance>();
    assert_send_sync::<ScheduleRequest>();
    assert_send_sync::<ScheduleProposal>();
    #[cfg(feature = "host")]
    assert_send_sync::<abi::PluginHandle>();
};
