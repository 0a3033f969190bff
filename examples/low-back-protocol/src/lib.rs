//! # lowback-protocol
//!
//! An example of a third-party Praxis protocol plugin, written the way an
//! outside author writes one: it depends on `praxis-sdk` alone, builds as a
//! shared library (`cdylib`) for the host and as an `rlib` for its own tests,
//! and exports itself with one line, [`praxis_sdk::export_plugin!`].
//!
//! It advises on low back pain (SNOMED CT 279039007) from the low-back
//! paragraph of the source text on chronic pain, **[B]**
//! `relaxing-massage-for-chronic-pain.txt`. Its rules, with this plugin's own
//! ids:
//!
//! - **LB1** (`info`): focus on releasing tension in the lumbar region and the
//!   hip flexors ([B]: "If you're seeking a massage for long-term pain in your
//!   lower back, techniques focusing on releasing tension in the lumbar region
//!   and hip flexors typically provide the most relief.").
//! - **LB2** (`info`): when more days have passed since the last massage than
//!   the practice's `regular_within_days` setting (project default 7), a
//!   reminder that chronic pain needs regular sessions ([B] FAQ: "chronic pain
//!   conditions often require regular sessions to maintain lasting relief, as
//!   single treatments generally provide temporary benefits that may last
//!   several days to a week.").
//!
//! ```
//! use lowback_protocol::LowBack;
//! use praxis_sdk::prelude::*;
//! use praxis_sdk::testing::{massage, run_static, rules};
//!
//! let client = ClientBuilder::new("c1")
//!     .condition(snomed::LOW_BACK_PAIN, ConditionStatus::Active)
//!     .session(massage("2026-11-01").pain(6, 3))
//!     .build();
//! let guidance = run_static(&LowBack, &client, "2026-11-21", &Default::default());
//! assert_eq!(rules(&guidance), ["LB1", "LB2"]);
//! let rec = guidance.recommendation.unwrap();
//! assert_eq!(rec.focus_regions, ["lumbar region", "hip flexors"]);
//! ```

use praxis_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// The plugin's id: the practice configures it under `[plugins.low-back]`.
pub const PLUGIN_ID: &str = "low-back";
/// The plugin's name, shown as each card's source.
pub const PLUGIN_NAME: &str = "Low back protocol";
/// The source text the rules quote.
pub const SOURCE: &str = "[B] relaxing-massage-for-chronic-pain.txt";
/// The regions LB1 focuses on.
pub const FOCUS_REGIONS: [&str; 2] = ["lumbar region", "hip flexors"];

/// The low back pain protocol plugin (rules LB1, LB2).
#[derive(Debug, Clone, Copy, Default)]
pub struct LowBack;

/// The practice's settings for this plugin: `[plugins.low-back.settings]`.
///
/// `#[serde(default)]` lets a practice leave keys out; `deny_unknown_fields`
/// turns a misspelt key into an error instead of a silently ignored one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LowBackSettings {
    /// LB2, project default: days after the last massage beyond which the
    /// therapist is reminded that sessions work when they are regular (7).
    pub regular_within_days: u32,
}

impl Default for LowBackSettings {
    fn default() -> Self {
        LowBackSettings { regular_within_days: 7 }
    }
}

impl LowBackSettings {
    /// Decodes and checks the settings the host passed in.
    pub fn from_input(input: &ProtocolInput) -> Result<LowBackSettings, PluginError> {
        let where_ = format!("fix [plugins.{PLUGIN_ID}.settings] in the practice config");
        let settings: LowBackSettings = input.settings().map_err(|e| match e {
            PluginError::BadSettings(m) => PluginError::BadSettings(format!("{m}: {where_}")),
            other => other,
        })?;
        if !(1..=366).contains(&settings.regular_within_days) {
            return Err(PluginError::BadSettings(format!(
                "regular_within_days {} is outside 1-366: give a number of days, such as 7; {where_}",
                settings.regular_within_days
            )));
        }
        Ok(settings)
    }
}

impl Plugin for LowBack {
    fn manifest(&self) -> Manifest {
        let defaults = LowBackSettings::default();
        // LB2 needs only the last massage. A client with no massage in the
        // last year is treated as starting afresh, so a year is enough.
        Manifest::new(PLUGIN_ID, PLUGIN_NAME, env!("CARGO_PKG_VERSION"))
            .with_description(
                "Low back pain massage guidance: focus on the lumbar region and hip flexors, keep sessions regular.",
            )
            .with_kind(PluginKind::Protocol)
            .with_condition(snomed::LOW_BACK_PAIN, "Low back pain")
            .with_setting(SettingSpec::new(
                "regular_within_days",
                defaults.regular_within_days,
                "LB2, project default (after [B]: single treatments give benefits that \"may last several days to a \
                 week\"): days after the last massage beyond which the therapist is reminded to keep sessions regular.",
            ))
            .with_history_days(365)
    }
}

impl Protocol for LowBack {
    fn evaluate(&self, input: &ProtocolInput) -> Result<Guidance, PluginError> {
        let settings = LowBackSettings::from_input(input)?;
        let client = &input.client;
        if client.condition(snomed::LOW_BACK_PAIN).is_none() {
            tracing::debug!(client = %client.id, "no low back pain on record: nothing to advise");
            return Ok(Guidance::default());
        }

        let mut guidance = Guidance {
            recommendation: Some(Recommendation {
                focus_regions: FOCUS_REGIONS.iter().map(|r| (*r).to_owned()).collect(),
                prefer: vec!["releasing tension in the lumbar region and hip flexors".to_owned()],
                ..Recommendation::default()
            }),
            ..Guidance::default()
        };

        guidance.cards.push(
            Card::new(
                "LB1",
                Indicator::Info,
                "Focus on releasing tension in the lumbar region and hip flexors",
                format!(
                    "> If you're seeking a massage for long-term pain in your lower back, techniques focusing on \
                     releasing tension in the lumbar region and hip flexors typically provide the most relief.\n>\n\
                     > — {SOURCE}"
                ),
            )
            .with_source(PLUGIN_NAME),
        );

        // Only massages on or before the day evaluated count.
        let last = client.massages().filter(|m| m.date <= input.as_of).map(|m| m.date).max();
        if let Some(last) = last {
            let days = input.as_of.days_since(last);
            tracing::debug!(client = %client.id, days, "days since the last massage");
            if days > settings.regular_within_days as i32 {
                guidance.cards.push(
                    Card::new(
                        "LB2",
                        Indicator::Info,
                        format!("{days} days since the last massage: regular sessions keep the relief going"),
                        format!(
                            "The last massage was on {last}, {days} days ago (this practice reminds after {} days, \
                             a project default).\n\n> However, chronic pain conditions often require regular \
                             sessions to maintain lasting relief, as single treatments generally provide temporary \
                             benefits that may last several days to a week.\n>\n> — {SOURCE}",
                            settings.regular_within_days
                        ),
                    )
                    .with_source(PLUGIN_NAME),
                );
            }
        }
        Ok(guidance)
    }
}

praxis_sdk::export_plugin!(protocol = LowBack);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_declares_the_defaults_the_code_uses() {
        let manifest = LowBack.manifest();
        manifest.validate().unwrap();
        let declared = serde_json::Value::Object(manifest.default_settings());
        assert_eq!(declared, serde_json::to_value(LowBackSettings::default()).unwrap());
    }
}
