//! The host rules' settings: every value that `GUIDANCE-RULES.md` does not
//! give for the safety screen (S1-S3) and the insurance checks (I1-I3).
//!
//! None of these switches a rule off. The safety screen always runs; a
//! practice may only widen it (more inflammatory conditions) or tune its
//! project defaults.

use std::fmt;

use praxis_sdk::snomed;
use serde::{Deserialize, Serialize};

/// The inflammatory conditions the safety screen (S1) always treats as
/// inflammatory when in flare, whatever the configuration says: rheumatoid
/// arthritis ([B] FAQ "rheumatoid arthritis during flare-ups").
pub const BUILT_IN_INFLAMMATORY: &[&str] = &[snomed::RHEUMATOID_ARTHRITIS];

/// Settings of the host rules: the `[rules]` table of the practice config.
///
/// Every field is a **project default**, not a clinical fact: the rules file
/// names the situation ("recent injury", "when 2 remain") and the practice
/// decides the number.
///
/// ```toml
/// [rules]
/// recent_injury_days = 42
/// inflammatory_conditions = ["69896004", "156370009"]
/// sessions_remaining_warning = 2
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostRules {
    /// S1: how many days after its date an unresolved injury still counts as
    /// recent. An injury recorded without a date always counts.
    /// Project default: 42 days (six weeks); not from the sources.
    pub recent_injury_days: u32,
    /// S1: SNOMED CT codes of conditions that are inflammatory when their
    /// status is `flare`. The configuration may add codes; the built-in ones
    /// ([`BUILT_IN_INFLAMMATORY`]) always apply, listed here or not.
    pub inflammatory_conditions: Vec<String>,
    /// I2: warn when this many covered sessions or fewer remain in the plan's
    /// period. Project default: 2, as the rules file marks it (**default**).
    pub sessions_remaining_warning: u32,
}

impl Default for HostRules {
    fn default() -> Self {
        HostRules {
            recent_injury_days: 42,
            inflammatory_conditions: BUILT_IN_INFLAMMATORY.iter().map(|c| (*c).to_owned()).collect(),
            sessions_remaining_warning: 2,
        }
    }
}

/// The longest `recent_injury_days` accepted: ten years.
pub const MAX_RECENT_INJURY_DAYS: u32 = 3650;

/// A wrong value in the `[rules]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesError {
    /// `recent_injury_days` is 0 or too large.
    RecentInjuryDays(u32),
    /// An inflammatory condition code is not a SNOMED CT identifier.
    BadConditionCode(String),
    /// `sessions_remaining_warning` is unreasonably large.
    SessionsRemainingWarning(u32),
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulesError::RecentInjuryDays(n) => write!(
                f,
                "rules.recent_injury_days {n} is outside 1-{MAX_RECENT_INJURY_DAYS}: give the number of days an \
                 unresolved injury counts as recent (project default 42)"
            ),
            RulesError::BadConditionCode(code) => write!(
                f,
                "rules.inflammatory_conditions: `{code}` is not a SNOMED CT code: give digits only, such as \
                 \"69896004\" (rheumatoid arthritis)"
            ),
            RulesError::SessionsRemainingWarning(n) => write!(
                f,
                "rules.sessions_remaining_warning {n} is above 1000: give how many remaining covered sessions \
                 should trigger a warning (project default 2)"
            ),
        }
    }
}

impl std::error::Error for RulesError {}

impl HostRules {
    /// Checks every value; the first problem found.
    pub fn validate(&self) -> Result<(), RulesError> {
        if self.recent_injury_days == 0 || self.recent_injury_days > MAX_RECENT_INJURY_DAYS {
            return Err(RulesError::RecentInjuryDays(self.recent_injury_days));
        }
        if let Some(bad) = self.inflammatory_conditions.iter().find(|c| !is_snomed_id(c)) {
            return Err(RulesError::BadConditionCode(bad.clone()));
        }
        if self.sessions_remaining_warning > 1000 {
            return Err(RulesError::SessionsRemainingWarning(self.sessions_remaining_warning));
        }
        Ok(())
    }

    /// Whether a condition with this code counts as inflammatory for S1: the
    /// built-in codes and the configured ones.
    pub fn is_inflammatory(&self, code: &str) -> bool {
        BUILT_IN_INFLAMMATORY.contains(&code) || self.inflammatory_conditions.iter().any(|c| c == code)
    }
}

/// A SNOMED CT identifier: 6 to 18 digits, no leading zero.
fn is_snomed_id(code: &str) -> bool {
    (6..=18).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with('0')
}

/// A name for people for the SNOMED CT codes Praxis knows; the code itself otherwise.
pub(crate) fn condition_label(code: &str, recorded_name: &str) -> String {
    if !recorded_name.trim().is_empty() {
        return recorded_name.trim().to_owned();
    }
    match code {
        snomed::FIBROMYALGIA => "fibromyalgia".to_owned(),
        snomed::RHEUMATOID_ARTHRITIS => "rheumatoid arthritis".to_owned(),
        snomed::OSTEOARTHRITIS => "osteoarthritis".to_owned(),
        snomed::LOW_BACK_PAIN => "low back pain".to_owned(),
        snomed::NECK_PAIN => "neck pain".to_owned(),
        other => format!("condition {other}"),
    }
}
