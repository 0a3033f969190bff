//! What a protocol plugin returns: HL7 CDS Hooks 2.0 cards, a session
//! recommendation and an optional hold.

use serde::{Deserialize, Serialize};

use crate::model::{Adjunct, Pressure};

/// How urgent a card is, as in CDS Hooks. `Critical` means: do not book or
/// treat without a recorded override reason. Ordered `Critical` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Indicator {
    /// Do not book or treat without an override reason.
    Critical,
    /// Needs the practitioner's attention.
    Warning,
    /// For information.
    Info,
}

impl Indicator {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::Critical => "critical",
            Indicator::Warning => "warning",
            Indicator::Info => "info",
        }
    }
}

/// A code from a code system, as in FHIR and CDS Hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Coding {
    /// The code.
    pub code: String,
    /// The code system's URI, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// A label for people.
    #[serde(default)]
    pub display: String,
}

impl Coding {
    /// A coding local to Praxis, with no system.
    pub fn local(code: &str, display: &str) -> Coding {
        Coding { code: code.to_owned(), system: None, display: display.to_owned() }
    }

    /// A code from a code system, such as [`snomed::SYSTEM`](crate::snomed::SYSTEM).
    pub fn new(system: &str, code: &str, display: &str) -> Coding {
        Coding { code: code.to_owned(), system: Some(system.to_owned()), display: display.to_owned() }
    }
}

/// Where a card comes from (CDS Hooks `source`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Source {
    /// Short, human-readable label of the source.
    pub label: String,
    /// A link to more about the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The topic this card is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<Coding>,
    /// The id of the plugin (or `host`) that produced the card. Set by the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// The version of that plugin. Set by the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// An action within a suggestion (CDS Hooks `action`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Action {
    /// `create`, `update` or `delete`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the action does, for people.
    pub description: String,
}

/// A suggested change the practitioner can accept (CDS Hooks `suggestion`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// What the suggestion is, for people.
    pub label: String,
    /// Whether this is the recommended choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_recommended: Option<bool>,
    /// What accepting it would do.
    #[serde(default)]
    pub actions: Vec<Action>,
}

impl Suggestion {
    /// A suggestion with a label only.
    pub fn new(label: &str) -> Suggestion {
        Suggestion { label: label.to_owned(), ..Suggestion::default() }
    }
}

/// Maximum length of a card's summary, as CDS Hooks asks.
pub const SUMMARY_MAX_CHARS: usize = 140;

/// A guidance card, shaped as an HL7 CDS Hooks 2.0 card, plus the id of the
/// rule that produced it (see the project's `GUIDANCE-RULES.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Card {
    /// Unique id of this card instance; the host fills it in if empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// One line, under 140 characters.
    pub summary: String,
    /// Why, in Markdown, citing the source.
    #[serde(default)]
    pub detail: String,
    /// How urgent.
    pub indicator: Indicator,
    /// Where it comes from.
    pub source: Source,
    /// Suggested actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<Suggestion>,
    /// Reasons a practitioner may give to override it.
    #[serde(default)]
    pub override_reasons: Vec<Coding>,
    /// The rule id, such as `F4`.
    pub rule: String,
}

impl Card {
    /// A card with the given rule, indicator, summary and detail; the source
    /// label is the plugin's name.
    pub fn new(rule: &str, indicator: Indicator, summary: impl Into<String>, detail: impl Into<String>) -> Card {
        Card {
            uuid: None,
            summary: summary.into(),
            detail: detail.into(),
            indicator,
            source: Source::default(),
            suggestions: Vec::new(),
            override_reasons: Vec::new(),
            rule: rule.to_owned(),
        }
    }

    /// Sets the source label.
    pub fn with_source(mut self, label: &str) -> Card {
        self.source.label = label.to_owned();
        self
    }

    /// Adds an override reason.
    pub fn with_override(mut self, code: &str, display: &str) -> Card {
        self.override_reasons.push(Coding::local(code, display));
        self
    }

    /// Adds a suggestion with a label only.
    pub fn with_suggestion(mut self, label: &str) -> Card {
        self.suggestions.push(Suggestion { label: label.to_owned(), is_recommended: None, actions: Vec::new() });
        self
    }
}

/// An inclusive range, such as minutes 20-30 or an interval of 7-14 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Range {
    /// Lower bound, inclusive.
    pub min: u32,
    /// Upper bound, inclusive.
    pub max: u32,
}

impl Range {
    /// The range `min..=max`.
    pub const fn new(min: u32, max: u32) -> Range {
        Range { min, max }
    }

    /// Whether `min <= max`.
    pub fn is_valid(&self) -> bool {
        self.min <= self.max
    }

    /// Whether `value` lies within.
    pub fn contains(&self, value: u32) -> bool {
        self.min <= value && value <= self.max
    }

    /// The overlap of two ranges, if any.
    pub fn intersect(&self, other: &Range) -> Option<Range> {
        let r = Range { min: self.min.max(other.min), max: self.max.min(other.max) };
        r.is_valid().then_some(r)
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max { write!(f, "{}", self.min) } else { write!(f, "{}-{}", self.min, self.max) }
    }
}

/// What the next session should look like. Every field is optional: a plugin
/// says only what its rules say, and the host merges several plugins' advice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Recommendation {
    /// Session length in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<Range>,
    /// The heaviest pressure to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure_max: Option<Pressure>,
    /// Techniques to prefer.
    #[serde(default)]
    pub prefer: Vec<String>,
    /// Techniques to avoid.
    #[serde(default)]
    pub avoid: Vec<String>,
    /// Regions to focus on.
    #[serde(default)]
    pub focus_regions: Vec<String>,
    /// Regions to avoid.
    #[serde(default)]
    pub avoid_regions: Vec<String>,
    /// Adjuncts before the massage (such as heat).
    #[serde(default)]
    pub before: Vec<Adjunct>,
    /// Adjuncts after the massage (such as cold).
    #[serde(default)]
    pub after: Vec<Adjunct>,
    /// Days from the last massage to the next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_days: Option<Range>,
    /// Treatment phase, such as `initial` or `maintenance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

/// Do not book: why, and by which rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Hold {
    /// Why, for people.
    pub reason: String,
    /// The rule id.
    pub rule: String,
}

/// A protocol plugin's answer for one client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Guidance {
    /// The cards.
    #[serde(default)]
    pub cards: Vec<Card>,
    /// The session recommendation, if the plugin has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    /// A hold on booking, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
}

impl Hold {
    /// A hold by this rule, for this reason.
    pub fn new(rule: &str, reason: impl Into<String>) -> Hold {
        Hold { reason: reason.into(), rule: rule.to_owned() }
    }
}

impl Guidance {
    /// The cards produced by a rule.
    pub fn cards_for<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Card> + 'a {
        self.cards.iter().filter(move |c| c.rule == rule)
    }

    /// Whether some card comes from this rule.
    pub fn has_rule(&self, rule: &str) -> bool {
        self.cards_for(rule).next().is_some()
    }

    /// Checks what the host checks before trusting a plugin's guidance; the
    /// first problem found, or `Ok`.
    pub fn validate(&self) -> Result<(), String> {
        for (i, card) in self.cards.iter().enumerate() {
            if card.summary.trim().is_empty() {
                return Err(format!("card {i} (rule `{}`) has an empty summary", card.rule));
            }
            let n = card.summary.chars().count();
            if n >= SUMMARY_MAX_CHARS {
                return Err(format!(
                    "card {i} (rule `{}`) has a summary of {n} characters; the limit is under {SUMMARY_MAX_CHARS}",
                    card.rule
                ));
            }
            if card.rule.trim().is_empty() {
                return Err(format!("card {i} (`{}`) names no rule", card.summary));
            }
            if card.source.label.trim().is_empty() {
                return Err(format!("card {i} (rule `{}`) has no source label", card.rule));
            }
        }
        if let Some(rec) = &self.recommendation {
            for (name, range) in [("minutes", rec.minutes), ("interval_days", rec.interval_days)] {
                if let Some(r) = range
                    && !r.is_valid()
                {
                    return Err(format!("recommendation.{name} has min {} above max {}", r.min, r.max));
                }
            }
            if let Some(m) = rec.minutes
                && (m.min == 0 || m.max > 240)
            {
                return Err(format!("recommendation.minutes {m} is outside 1-240"));
            }
            if let Some(i) = rec.interval_days
                && i.max > 366
            {
                return Err(format!("recommendation.interval_days {i} is longer than a year"));
            }
        }
        if let Some(hold) = &self.hold
            && (hold.reason.trim().is_empty() || hold.rule.trim().is_empty())
        {
            return Err("hold without a reason or a rule".to_owned());
        }
        Ok(())
    }
}
