//! The client as a plugin sees it: plain data, no storage handles.

use serde::{Deserialize, Serialize};

use crate::time::Date;

/// SNOMED CT codes of the conditions Praxis knows by name.
pub mod snomed {
    /// The SNOMED CT code system URI, as FHIR writes it.
    pub const SYSTEM: &str = "http://snomed.info/sct";
    /// Fibromyalgia.
    pub const FIBROMYALGIA: &str = "203082005";
    /// Rheumatoid arthritis (inflammatory).
    pub const RHEUMATOID_ARTHRITIS: &str = "69896004";
    /// Osteoarthritis.
    pub const OSTEOARTHRITIS: &str = "396275006";
    /// Low back pain.
    pub const LOW_BACK_PAIN: &str = "279039007";
    /// Neck pain.
    pub const NECK_PAIN: &str = "81680005";
}

/// LOINC code of the 0-10 numeric pain rating that every pain score in Praxis is.
pub const PAIN_SCORE_LOINC: &str = "72514-3";

/// Massage pressure, lightest to heaviest. The order is meaningful: `a < b`
/// means `a` is lighter.
///
/// The scale is closed: it is the clinical vocabulary of the guidance rules,
/// and adding a level would be a major (new ABI symbol) change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Pressure {
    /// Light touch.
    LightTouch,
    /// Light.
    Light,
    /// Moderate.
    Moderate,
    /// Firm.
    Firm,
    /// Deep.
    Deep,
}

impl Pressure {
    /// Every level, lightest first.
    pub const ALL: [Pressure; 5] =
        [Pressure::LightTouch, Pressure::Light, Pressure::Moderate, Pressure::Firm, Pressure::Deep];

    /// One step lighter (light touch stays light touch).
    pub fn lighter(self) -> Pressure {
        Pressure::ALL[(self as usize).saturating_sub(1)]
    }

    /// The wire name, such as `light_touch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Pressure::LightTouch => "light_touch",
            Pressure::Light => "light",
            Pressure::Moderate => "moderate",
            Pressure::Firm => "firm",
            Pressure::Deep => "deep",
        }
    }

    /// A label for people, such as `light touch`.
    pub fn label(self) -> &'static str {
        match self {
            Pressure::LightTouch => "light touch",
            other => other.as_str(),
        }
    }
}

impl std::fmt::Display for Pressure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl std::str::FromStr for Pressure {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Pressure::ALL
            .into_iter()
            .find(|p| p.as_str() == norm)
            .ok_or_else(|| format!("unknown pressure `{s}`: expected one of light_touch, light, moderate, firm, deep"))
    }
}

/// A therapy discipline. Unknown names from a newer host arrive as `Other`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Discipline {
    /// Massage therapy.
    Massage,
    /// Yoga.
    Yoga,
    /// Tai chi.
    TaiChi,
    /// Acupuncture.
    Acupuncture,
    /// Physical therapy.
    PhysicalTherapy,
    /// Mindfulness meditation.
    Mindfulness,
    /// Anything else, by name.
    Other(String),
}

impl Discipline {
    /// The disciplines Praxis knows by name.
    pub const KNOWN: [Discipline; 6] = [
        Discipline::Massage,
        Discipline::Yoga,
        Discipline::TaiChi,
        Discipline::Acupuncture,
        Discipline::PhysicalTherapy,
        Discipline::Mindfulness,
    ];

    /// The wire name, such as `tai_chi`.
    pub fn as_str(&self) -> &str {
        match self {
            Discipline::Massage => "massage",
            Discipline::Yoga => "yoga",
            Discipline::TaiChi => "tai_chi",
            Discipline::Acupuncture => "acupuncture",
            Discipline::PhysicalTherapy => "physical_therapy",
            Discipline::Mindfulness => "mindfulness",
            Discipline::Other(name) => name,
        }
    }

    /// Parses a wire name; anything unknown becomes `Other` (lowercased, `_` for spaces).
    pub fn parse(s: &str) -> Discipline {
        // The wire names themselves, without allocating (the common case).
        if let Some(d) = Discipline::KNOWN.into_iter().find(|d| d.as_str() == s) {
            return d;
        }
        let norm = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Discipline::KNOWN.into_iter().find(|d| d.as_str() == norm).unwrap_or(Discipline::Other(norm))
    }

    /// Whether this is one of the named disciplines.
    pub fn is_known(&self) -> bool {
        !matches!(self, Discipline::Other(_))
    }
}

impl std::fmt::Display for Discipline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Discipline {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Discipline {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s.trim().is_empty() {
            return Err(serde::de::Error::custom("discipline must not be empty"));
        }
        Ok(Discipline::parse(&s))
    }
}

/// Where a condition stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConditionStatus {
    /// Active.
    Active,
    /// In flare.
    Flare,
    /// In remission.
    Remission,
    /// A status this SDK does not know (sent by a newer host).
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Unknown,
}

/// A diagnosed condition, as recorded by the practice (Praxis never diagnoses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Condition {
    /// SNOMED CT code, such as [`snomed::FIBROMYALGIA`].
    pub code: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Current status.
    pub status: ConditionStatus,
    /// Since when the client has had it, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Date>,
}

/// The kind of a red flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RedFlagKind {
    /// A recent injury.
    RecentInjury,
    /// Nerve compression.
    NerveCompression,
    /// An inflammatory condition in flare.
    InflammatoryFlare,
    /// Anything else the practitioner recorded.
    Other,
    /// A kind this SDK does not know (sent by a newer host).
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Unknown,
}

/// A red flag recorded for a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RedFlag {
    /// What it is.
    pub kind: RedFlagKind,
    /// Body region concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// When it happened or was noticed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// When a practitioner recorded it as resolved; `None` while it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Date>,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What the client reported at intake (rule S3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IntakeSummary {
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

/// An adverse event during or after a session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AdverseEvent {
    /// Nothing adverse.
    #[default]
    None,
    /// Ordinary soreness.
    Soreness,
    /// A pain flare.
    Flare,
    /// The session was stopped early (rule S2).
    StoppedEarly {
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// An event kind this SDK does not know (sent by a newer host).
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Unknown,
}

impl AdverseEvent {
    /// Whether nothing adverse happened.
    pub fn is_none(&self) -> bool {
        matches!(self, AdverseEvent::None)
    }
}

/// Heat or cold applied as part of a visit (rules R4, C2).
///
/// A **closed** enum, like [`Pressure`] and `Indicator`: its values are part
/// of ABI 1 and a new one (such as `heat_after`) needs a new ABI major. A
/// host never sends a value outside this list to a v1 plugin, and the store
/// refuses one on import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Adjunct {
    /// Heat before the massage.
    HeatBefore,
    /// Cold after the massage.
    ColdAfter,
}

/// One past session, as the plugin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionRecord {
    /// The session's id in the practice's store.
    #[serde(default)]
    pub id: String,
    /// The day it took place.
    pub date: Date,
    /// The discipline.
    pub discipline: Discipline,
    /// Length in minutes.
    pub minutes: u16,
    /// Pressure used, for massage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure: Option<Pressure>,
    /// Techniques used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    /// Regions worked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Pain before, 0-10 (LOINC 72514-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pain_before: Option<u8>,
    /// Pain after, 0-10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pain_after: Option<u8>,
    /// Pain at the 24-48 hour follow-up, 0-10, recorded later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_pain: Option<u8>,
    /// Adverse event, if any (absent on the wire when none).
    #[serde(default, skip_serializing_if = "AdverseEvent::is_none")]
    pub adverse_event: AdverseEvent,
    /// Heat and cold applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjuncts: Vec<Adjunct>,
}

impl SessionRecord {
    /// A flare after treatment, as the rules define it: pain after above pain
    /// before, follow-up pain above pain before, or an adverse event recorded
    /// as a flare or as stopped early.
    pub fn is_flare(&self) -> bool {
        let rose = |later: Option<u8>| matches!((self.pain_before, later), (Some(b), Some(a)) if a > b);
        rose(self.pain_after)
            || rose(self.follow_up_pain)
            || matches!(self.adverse_event, AdverseEvent::Flare | AdverseEvent::StoppedEarly { .. })
    }

    /// Whether this was a massage session.
    pub fn is_massage(&self) -> bool {
        self.discipline == Discipline::Massage
    }
}

/// What the client's insurance plan says, reduced to what guidance needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InsuranceSummary {
    /// The payer.
    #[serde(default)]
    pub payer: String,
    /// Whether the plan needs a referral or prescription.
    #[serde(default)]
    pub referral_required: bool,
    /// Whether one is on file.
    #[serde(default)]
    pub referral_on_file: bool,
    /// SNOMED CT codes the plan covers; empty means any condition.
    #[serde(default)]
    pub covered_conditions: Vec<String>,
    /// Sessions covered per period, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_limit: Option<u32>,
    /// Sessions used so far in the period.
    #[serde(default)]
    pub sessions_used: u32,
}

/// Everything a protocol plugin is told about one client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientSnapshot {
    /// The client's id in the practice's store.
    pub id: String,
    /// Conditions on record.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Red flags on record.
    #[serde(default)]
    pub red_flags: Vec<RedFlag>,
    /// Sensitivities (such as oils, touch on the scalp).
    #[serde(default)]
    pub sensitivities: Vec<String>,
    /// Tender points (regions).
    #[serde(default)]
    pub tender_points: Vec<String>,
    /// The client's preferred pressure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_pressure: Option<Pressure>,
    /// Intake, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake: Option<IntakeSummary>,
    /// Past sessions, oldest first, limited to the history the plugin asked for.
    #[serde(default)]
    pub sessions: Vec<SessionRecord>,
    /// Insurance, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance: Option<InsuranceSummary>,
}

impl ClientSnapshot {
    /// The client's condition with this SNOMED CT code, if recorded.
    pub fn condition(&self, code: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.code == code)
    }

    /// Massage sessions, oldest first.
    pub fn massages(&self) -> impl DoubleEndedIterator<Item = &SessionRecord> {
        self.sessions.iter().filter(|s| s.is_massage())
    }
}
