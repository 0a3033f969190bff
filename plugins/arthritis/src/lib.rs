//! # praxis-arthritis
//!
//! The Praxis protocol plugin for arthritis: rheumatoid arthritis (SNOMED CT
//! 69896004, inflammatory) and osteoarthritis (SNOMED CT 396275006). It
//! applies rules R1 to R4 of the project's `GUIDANCE-RULES.md`, from source
//! **[B]** `relaxing-massage-for-chronic-pain.txt`:
//!
//! - R1: light touch around affected joints, moderate work on the surrounding
//!   muscles, no direct pressure on an inflamed joint;
//! - R2: rheumatoid arthritis in flare: a `critical` card and a hold on
//!   booking, lifted as soon as the condition's status is no longer `flare`
//!   (osteoarthritis never gets this hold); while it stands, R3 says only how
//!   often to work once the flare has subsided;
//! - R3: once or twice weekly at first, for six weeks at least, then every two
//!   weeks, then monthly, stepping down only while the condition improves;
//! - R4: heat before the massage, cold after.
//!
//! Every value the rules leave open is a setting ([`ArthritisSettings`]). The
//! host runs the safety screen (S1-S3), the insurance checks and the merge with
//! other plugins' advice; this plugin does only its own rules.
//!
//! ```
//! use praxis_arthritis::Arthritis;
//! use praxis_sdk::prelude::*;
//! use praxis_sdk::testing::run_static;
//!
//! let client = ClientBuilder::new("c1").condition(snomed::RHEUMATOID_ARTHRITIS, ConditionStatus::Flare).build();
//! let guidance = run_static(&Arthritis, &client, "2026-11-21", &Default::default());
//! assert_eq!(guidance.hold.map(|h| h.rule), Some("R2".to_owned()));
//!
//! let client = ClientBuilder::new("c1").condition(snomed::OSTEOARTHRITIS, ConditionStatus::Flare).build();
//! let guidance = run_static(&Arthritis, &client, "2026-11-21", &Default::default());
//! assert!(guidance.hold.is_none() && !guidance.has_rule("R2"));
//! ```

#![deny(missing_docs)]

use std::fmt::Write as _;

use praxis_sdk::prelude::*;
use praxis_sdk::{Coding, Settings, decode_settings};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The plugin's id in manifests and practice configs (`[plugins.arthritis]`).
pub const PLUGIN_ID: &str = "arthritis";
/// The plugin's name, used as every card's `source.label`.
pub const PLUGIN_NAME: &str = "Arthritis protocol";
/// Source [B] of the rules file.
pub const SOURCE_B: &str = "[B] relaxing-massage-for-chronic-pain.txt";

/// The arthritis protocol plugin (rules R1-R4).
#[derive(Debug, Clone, Copy, Default)]
pub struct Arthritis;

/// The practice's settings for this plugin: `[plugins.arthritis.settings]`.
///
/// Absent keys take their defaults; unknown keys are refused. Each field says
/// whether its value comes from the sources or is a project default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArthritisSettings {
    /// R3, from [B] ("once or twice weekly initially"): days between massages at first (3-7).
    pub initial_interval_days: Range,
    /// R3, from [B] ("six to eight weeks"): weeks of the initial frequency before it
    /// may step down (6, the lower bound; a client who is not improving stays longer).
    pub initial_weeks: u32,
    /// R3, from [B] ("then every 2 weeks"): days between massages in the second phase (14-14).
    pub fortnightly_interval_days: Range,
    /// R3, project default: weeks since the first massage after which an improving
    /// client goes from every two weeks to monthly (12).
    pub monthly_after_weeks: u32,
    /// R3, from [B] ("monthly"; reading it as 28-31 days is a project default).
    pub monthly_interval_days: Range,
    /// R3, project default: the last massages over which the condition must be
    /// improving (no flare after any of them, pain-before not rising) (3).
    pub improvement_window_sessions: u32,
}

impl Default for ArthritisSettings {
    fn default() -> Self {
        ArthritisSettings {
            initial_interval_days: Range::new(3, 7),
            initial_weeks: 6,
            fortnightly_interval_days: Range::new(14, 14),
            monthly_after_weeks: 12,
            monthly_interval_days: Range::new(28, 31),
            improvement_window_sessions: 3,
        }
    }
}

fn range_json(r: Range) -> serde_json::Value {
    serde_json::json!({ "min": r.min, "max": r.max })
}

impl ArthritisSettings {
    /// The manifest's list of settings: every key, its default and its meaning.
    pub fn specs() -> Vec<SettingSpec> {
        let d = ArthritisSettings::default();
        vec![
            SettingSpec::new(
                "initial_interval_days",
                range_json(d.initial_interval_days),
                "R3, from source [B] (\"once or twice weekly initially\"): days from one massage to the next in the first weeks, as { min, max }.",
            ),
            SettingSpec::new(
                "initial_weeks",
                d.initial_weeks,
                "R3, from source [B] (\"for six to eight weeks\", the lower bound): weeks since the first massage before the frequency may step down; it steps down only while the condition improves.",
            ),
            SettingSpec::new(
                "fortnightly_interval_days",
                range_json(d.fortnightly_interval_days),
                "R3, from source [B] (\"then every 2 weeks\"): days from one massage to the next after the first weeks, as { min, max }.",
            ),
            SettingSpec::new(
                "monthly_after_weeks",
                d.monthly_after_weeks,
                "R3, project default: weeks since the first massage after which an improving client goes from every two weeks to monthly.",
            ),
            SettingSpec::new(
                "monthly_interval_days",
                range_json(d.monthly_interval_days),
                "R3, from source [B] (\"monthly\"; the 28-31 day reading is a project default): days from one massage to the next once monthly, as { min, max }.",
            ),
            SettingSpec::new(
                "improvement_window_sessions",
                d.improvement_window_sessions,
                "R3, project default: the last massages over which the condition counts as improving (no flare after any of them, pain-before recorded and not rising).",
            ),
        ]
    }

    /// Decodes and checks the settings a practice gave this plugin.
    pub fn from_settings(settings: &Settings) -> Result<ArthritisSettings, PluginError> {
        let decoded: ArthritisSettings = decode_naming_key(settings)?;
        decoded.validate()?;
        Ok(decoded)
    }

    /// Checks that the values make sense together; the first problem found.
    pub fn validate(&self) -> Result<(), PluginError> {
        check_range("initial_interval_days", self.initial_interval_days, "{ min = 3, max = 7 }")?;
        check_range("fortnightly_interval_days", self.fortnightly_interval_days, "{ min = 14, max = 14 }")?;
        check_range("monthly_interval_days", self.monthly_interval_days, "{ min = 28, max = 31 }")?;
        if !(1..=104).contains(&self.initial_weeks) {
            return Err(bad(format!(
                "initial_weeks {} is outside 1-104: give the weeks of the initial frequency, such as 6",
                self.initial_weeks
            )));
        }
        if self.monthly_after_weeks <= self.initial_weeks || self.monthly_after_weeks > 520 {
            return Err(bad(format!(
                "monthly_after_weeks {} must come after initial_weeks {} (and within 520): give a larger number, such as 12",
                self.monthly_after_weeks, self.initial_weeks
            )));
        }
        if !(1..=100).contains(&self.improvement_window_sessions) {
            return Err(bad(format!(
                "improvement_window_sessions {} is outside 1-100: give a whole number of sessions, such as 3",
                self.improvement_window_sessions
            )));
        }
        Ok(())
    }
}

fn bad(message: String) -> PluginError {
    PluginError::BadSettings(format!("{message} (in [plugins.{PLUGIN_ID}.settings] of the practice config)"))
}

fn check_range(key: &str, r: Range, example: &str) -> Result<(), PluginError> {
    if r.min == 0 || r.max > 366 || r.min > r.max {
        return Err(bad(format!(
            "{key} {{ min = {}, max = {} }} is not a range within 1-366 days with min <= max: give, for example, {key} = {example}",
            r.min, r.max
        )));
    }
    Ok(())
}

/// Decodes settings (the SDK names the key at fault) and says where to fix them.
fn decode_naming_key<S: DeserializeOwned>(settings: &Settings) -> Result<S, PluginError> {
    decode_settings::<S>(settings).map_err(|e| match e {
        PluginError::BadSettings(message) => bad(message),
        other => other,
    })
}

/// The frequency phase (R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Once or twice weekly.
    Initial,
    /// Every two weeks.
    Fortnightly,
    /// Monthly.
    Monthly,
}

impl Phase {
    /// The name in a recommendation's `phase`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Initial => "initial",
            Phase::Fortnightly => "fortnightly",
            Phase::Monthly => "monthly",
        }
    }
}

/// What the record says, before any advice is written.
#[derive(Debug)]
struct Assessment<'a> {
    rheumatoid: Option<&'a Condition>,
    osteo: Option<&'a Condition>,
    /// The first massage on or before the evaluation day.
    first: Option<&'a SessionRecord>,
    /// Whole weeks from the first massage to the evaluation day.
    weeks: u32,
    /// `Ok` while the condition improves; otherwise why not.
    improving: Result<(), String>,
    phase: Phase,
    /// Regions of inflammatory flares standing on the evaluation day.
    inflamed: Vec<&'a str>,
}

impl<'a> Assessment<'a> {
    fn new(client: &'a ClientSnapshot, as_of: Date, s: &ArthritisSettings) -> Assessment<'a> {
        let rheumatoid = client.condition(snomed::RHEUMATOID_ARTHRITIS);
        let osteo = client.condition(snomed::OSTEOARTHRITIS);
        let mut massages: Vec<&SessionRecord> = client.massages().filter(|m| m.date <= as_of).collect();
        massages.sort_by_key(|m| m.date);
        let first = massages.first().copied();
        let weeks = first.map_or(0, |f| (as_of.days_since(f.date) / 7).max(0) as u32);
        let in_flare = [rheumatoid, osteo].into_iter().flatten().find(|c| c.status == ConditionStatus::Flare);
        let improving = match in_flare {
            Some(c) => Err(format!("{} is in flare", condition_name(c))),
            None => improvement(&massages, s.improvement_window_sessions as usize),
        };
        let phase = if first.is_none() || weeks < s.initial_weeks || improving.is_err() {
            Phase::Initial
        } else if weeks < s.monthly_after_weeks {
            Phase::Fortnightly
        } else {
            Phase::Monthly
        };
        let mut inflamed: Vec<&str> = Vec::new();
        let standing = client
            .red_flags
            .iter()
            .filter(|f| f.kind == RedFlagKind::InflammatoryFlare)
            .filter(|f| f.date.is_none_or(|d| d <= as_of) && f.resolved.is_none_or(|r| r > as_of))
            .filter_map(|f| f.region.as_deref().map(str::trim).filter(|r| !r.is_empty()));
        for region in standing {
            if !inflamed.contains(&region) {
                inflamed.push(region);
            }
        }
        Assessment { rheumatoid, osteo, first, weeks, improving, phase, inflamed }
    }

    fn rheumatoid_flare(&self) -> bool {
        self.rheumatoid.is_some_and(|c| c.status == ConditionStatus::Flare)
    }
}

/// R3: the condition improves when, over the last `window` massages, none was
/// followed by a flare and pain-before, recorded each time, never rose.
fn improvement(massages: &[&SessionRecord], window: usize) -> Result<(), String> {
    if massages.len() < window {
        return Err(format!("only {} massage(s) so far; improvement is judged over the last {window}", massages.len()));
    }
    let last = &massages[massages.len() - window..];
    if let Some(m) = last.iter().rev().find(|m| m.is_flare()) {
        return Err(format!("the massage of {} was followed by a flare", m.date));
    }
    let mut previous: Option<(&SessionRecord, u8)> = None;
    for m in last {
        let Some(pain) = m.pain_before else {
            return Err(format!("pain before the massage of {} was not recorded", m.date));
        };
        if let Some((p, before)) = previous
            && pain > before
        {
            return Err(format!("pain before rose from {before} ({}) to {pain} ({})", p.date, m.date));
        }
        previous = Some((m, pain));
    }
    Ok(())
}

fn condition_name(c: &Condition) -> &'static str {
    if c.code == snomed::RHEUMATOID_ARTHRITIS { "rheumatoid arthritis" } else { "osteoarthritis" }
}

fn quote(text: &str) -> String {
    format!("> {text}\n>\n> — {SOURCE_B}")
}

fn card(a: &Assessment<'_>, rule: &str, indicator: Indicator, summary: String, detail: String) -> Card {
    let mut card = Card::new(rule, indicator, summary, detail).with_source(PLUGIN_NAME);
    let (code, display) = match a.rheumatoid {
        Some(_) => (snomed::RHEUMATOID_ARTHRITIS, "Rheumatoid arthritis"),
        None => (snomed::OSTEOARTHRITIS, "Osteoarthritis"),
    };
    card.source.topic = Some(Coding::new(snomed::SYSTEM, code, display));
    card
}

impl Plugin for Arthritis {
    fn manifest(&self) -> Manifest {
        // No `with_history_days`: R3 counts weeks from the first massage, so
        // the whole history is needed.
        Manifest::new(PLUGIN_ID, PLUGIN_NAME, env!("CARGO_PKG_VERSION"))
            .with_description(
                "Arthritis massage guidance (rules R1-R4): light touch around affected joints, a hold during \
                 a rheumatoid flare, session frequency by phase, heat before and cold after.",
            )
            .with_kind(PluginKind::Protocol)
            .with_condition(snomed::RHEUMATOID_ARTHRITIS, "Rheumatoid arthritis")
            .with_condition(snomed::OSTEOARTHRITIS, "Osteoarthritis")
            .with_settings(ArthritisSettings::specs())
    }
}

impl Protocol for Arthritis {
    fn evaluate(&self, input: &ProtocolInput) -> Result<Guidance, PluginError> {
        let s = ArthritisSettings::from_settings(&input.settings)?;
        let client = &input.client;
        let a = Assessment::new(client, input.as_of, &s);
        if a.rheumatoid.is_none() && a.osteo.is_none() {
            tracing::debug!(client = %client.id, "no arthritis on record: nothing to advise");
            return Ok(Guidance::default());
        }
        tracing::debug!(
            client = %client.id,
            weeks = a.weeks,
            phase = a.phase.as_str(),
            rheumatoid_flare = a.rheumatoid_flare(),
            "arthritis assessment"
        );
        Ok(advise(&s, &a))
    }
}

fn advise(s: &ArthritisSettings, a: &Assessment<'_>) -> Guidance {
    let mut cards = Vec::new();
    let mut hold = None;

    // R2: a rheumatoid flare holds massage.
    if a.rheumatoid_flare() {
        hold = Some(Hold::new(
            "R2",
            "Rheumatoid arthritis in flare: massage may intensify pain; no massage until the flare subsides",
        ));
        cards.push(r2_card(a));
    }

    // R1: around the joints, not on them.
    let rec = Recommendation {
        pressure_max: Some(Pressure::Moderate),
        prefer: vec![
            "light touch around affected joints".to_owned(),
            "moderate work on surrounding muscles".to_owned(),
        ],
        avoid: vec!["direct pressure on inflamed joints".to_owned()],
        avoid_regions: a.inflamed.iter().map(|r| (*r).to_owned()).collect(),
        before: vec![Adjunct::HeatBefore],
        after: vec![Adjunct::ColdAfter],
        interval_days: Some(match a.phase {
            Phase::Initial => s.initial_interval_days,
            Phase::Fortnightly => s.fortnightly_interval_days,
            Phase::Monthly => s.monthly_interval_days,
        }),
        phase: Some(a.phase.as_str().to_owned()),
        ..Recommendation::default()
    };
    cards.push(r1_card(a));
    cards.push(r3_card(s, a));
    cards.push(r4_card(a));

    Guidance { cards, recommendation: Some(rec), hold }
}

fn r1_card(a: &Assessment<'_>) -> Card {
    let base = "Light touch around affected joints, moderate work on surrounding muscles";
    let summary = match a.inflamed.as_slice() {
        [] => format!("{base}; no direct pressure on inflamed joints"),
        regions => {
            let listed = format!("{base}; no direct pressure on {}", regions.join(", "));
            if listed.chars().count() < 140 {
                listed
            } else {
                format!("{base}; no direct pressure on {} inflamed joints", regions.len())
            }
        }
    };
    let mut detail = String::from(
        "Keep to light touch around the affected joints and moderate pressure at most on the muscles around them. \
         Never press directly on an inflamed joint.",
    );
    if !a.inflamed.is_empty() {
        let _ = write!(detail, " Inflammatory flares on record: **{}**.", a.inflamed.join(", "));
    }
    detail.push_str("\n\n");
    detail.push_str(&quote(
        "... arthritis often benefits from light touch around affected joints combined with moderate work on \
         surrounding muscles.",
    ));
    card(a, "R1", Indicator::Info, summary, detail)
}

fn r2_card(a: &Assessment<'_>) -> Card {
    let mut detail = String::from(
        "Rheumatoid arthritis is an inflammatory condition, and its status is recorded as **flare**. Hold massage \
         until the flare subsides; the hold lifts as soon as the condition's status is recorded as no longer in \
         flare.",
    );
    if let Some(since) = a.rheumatoid.and_then(|c| c.since) {
        let _ = write!(detail, " Rheumatoid arthritis on record since {since}.");
    }
    detail.push_str("\n\n");
    detail.push_str(&quote(
        "If you have inflammatory conditions like rheumatoid arthritis during flare-ups, nerve compression issues, \
         or recent injuries, massage might intensify your pain. ... Always consult your healthcare provider before \
         starting massage therapy",
    ));
    card(
        a,
        "R2",
        Indicator::Critical,
        "Rheumatoid arthritis in flare: hold massage until the flare subsides".to_owned(),
        detail,
    )
    .with_override("provider-cleared", "The client's healthcare provider cleared massage during this flare")
    .with_override("flare-subsided", "The flare has subsided; the condition's status is being updated")
}

fn r3_card(s: &ArthritisSettings, a: &Assessment<'_>) -> Card {
    let summary = match (a.phase, a.first) {
        // R2 holds massage: no week of the course is running, so R3 says only
        // how often to work once the flare has subsided (a flare is not
        // improving, so the frequency starts again at its initial step).
        _ if a.rheumatoid_flare() => format!(
            "Once the flare subsides: once or twice weekly (every {} days) until the condition improves",
            s.initial_interval_days
        ),
        (Phase::Initial, None) => format!(
            "First massage; then once or twice weekly (every {} days) for {} weeks",
            s.initial_interval_days, s.initial_weeks
        ),
        (Phase::Initial, Some(_)) if a.weeks < s.initial_weeks => format!(
            "Week {} of {}: once or twice weekly, every {} days",
            a.weeks + 1,
            s.initial_weeks,
            s.initial_interval_days
        ),
        (Phase::Initial, Some(_)) => format!(
            "Week {}, not yet improving: stay once or twice weekly, every {} days",
            a.weeks + 1,
            s.initial_interval_days
        ),
        (Phase::Fortnightly, _) => {
            format!("Improving after {} weeks: massage every 2 weeks ({} days)", a.weeks, s.fortnightly_interval_days)
        }
        (Phase::Monthly, _) => {
            format!("Improving after {} weeks: massage monthly ({} days)", a.weeks, s.monthly_interval_days)
        }
    };
    let mut detail = String::new();
    if a.rheumatoid_flare() {
        detail.push_str(
            "Rule R2 holds massage while rheumatoid arthritis is in flare, so this card asks for no session now: it \
             says how often to work once the flare has subsided. A flare means the condition is not improving, so \
             the frequency starts again at once or twice weekly. ",
        );
    }
    match a.first {
        None => detail.push_str("No massage on record yet."),
        Some(first) => {
            let _ = write!(detail, "First massage on {}, {} whole week(s) ago. ", first.date, a.weeks);
            match &a.improving {
                Ok(()) => {
                    let _ = write!(
                        detail,
                        "Improving: no flare after the last {n} massages and pain-before not rising over them \
                         (project default).",
                        n = s.improvement_window_sessions
                    );
                }
                Err(why) => {
                    let _ = write!(detail, "Not counted as improving: {why}.");
                }
            }
        }
    }
    let _ = write!(
        detail,
        " The frequency steps down from once or twice weekly (every {} days) to every 2 weeks (every {} days) \
         after {} weeks, and to monthly (every {} days) after {} weeks (project default), each step only while the \
         condition improves.\n\n",
        s.initial_interval_days,
        s.fortnightly_interval_days,
        s.initial_weeks,
        s.monthly_interval_days,
        s.monthly_after_weeks
    );
    detail.push_str(&quote(
        "For maximum benefit, you'll typically need massage sessions once or twice weekly initially, then reduce to \
         bi-weekly or monthly as your condition improves.",
    ));
    detail.push_str("\n\n");
    detail.push_str(&quote(
        "Weekly or bi-weekly sessions for six to eight weeks often create sustainable improvements, with maintenance \
         visits preventing regression.",
    ));
    card(a, "R3", Indicator::Info, summary, detail)
}

fn r4_card(a: &Assessment<'_>) -> Card {
    let detail = format!(
        "Plan heat before the massage and cold after it, as steps of the same visit.\n\n{}",
        quote(
            "Heat therapy (before massage) and cold therapy (after) often enhance tissue response and extend relief duration."
        )
    );
    card(a, "R4", Indicator::Info, "Heat before the massage, cold after".to_owned(), detail)
}

praxis_sdk::export_plugin!(protocol = Arthritis);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_defaults_agree_with_the_settings_default() {
        let manifest = Arthritis.manifest();
        manifest.validate().unwrap();
        let declared = serde_json::Value::Object(manifest.default_settings());
        let actual = serde_json::to_value(ArthritisSettings::default()).unwrap();
        assert_eq!(declared, actual);
        let decoded = ArthritisSettings::from_settings(&manifest.default_settings()).unwrap();
        assert_eq!(decoded, ArthritisSettings::default());
    }

    #[test]
    fn every_setting_says_where_its_value_comes_from() {
        for spec in ArthritisSettings::specs() {
            let d = &spec.description;
            assert!(d.contains("project default") || d.contains("from source"), "{}: {d}", spec.key);
        }
    }
}
