//! The booking check: a client under a hold or a `critical` card is not booked
//! without an override reason for that rule.

use std::fmt;

use praxis_sdk::Indicator;

use super::merge::ClientGuidance;

/// Lets one booking through the hold and the `critical` cards of one rule.
/// The reason is one of the card's `overrideReasons` or free text, and is
/// recorded in the audit log by whoever books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideGrant {
    /// The rule id overridden, such as `S1`.
    pub rule: String,
    /// Why: a card's override reason (its display or code) or free text. Must not be blank.
    pub reason: String,
}

impl OverrideGrant {
    /// An override of a rule with a reason.
    pub fn new(rule: &str, reason: &str) -> OverrideGrant {
        OverrideGrant { rule: rule.to_owned(), reason: reason.to_owned() }
    }
}

/// One thing that stops a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// The rule id.
    pub rule: String,
    /// The card's summary, or the hold's reason.
    pub summary: String,
    /// The module it comes from (a plugin id or `host`).
    pub source: String,
    /// Set when an override for this rule was given without a reason.
    pub blank_override: bool,
}

/// A booking refused: the holds and `critical` cards without an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRefused {
    /// The client.
    pub client: String,
    /// What blocks, in the guidance's order (the hold first).
    pub blockers: Vec<Blocker>,
}

impl fmt::Display for BookingRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "booking refused for client `{}`:", self.client)?;
        for b in &self.blockers {
            write!(f, "\n  [{}] {} (from {})", b.rule, b.summary, b.source)?;
            if b.blank_override {
                write!(f, " - the override given for {} has no reason", b.rule)?;
            }
        }
        let mut rules: Vec<&str> = Vec::new();
        for b in &self.blockers {
            if !rules.contains(&b.rule.as_str()) {
                rules.push(&b.rule);
            }
        }
        write!(
            f,
            "\nto book anyway, give an override reason for rule {} (one of the card's override reasons, or free \
             text); it is recorded in the audit log",
            rules.join(", ")
        )
    }
}

impl std::error::Error for BookingRefused {}

/// Whether the client may be booked: `Ok` when nothing blocks or every hold and
/// `critical` card is covered by an override of its rule with a reason.
pub fn check_booking(guidance: &ClientGuidance, overrides: &[OverrideGrant]) -> Result<(), BookingRefused> {
    fn grants<'a>(overrides: &'a [OverrideGrant], rule: &'a str) -> impl Iterator<Item = &'a OverrideGrant> + 'a {
        overrides.iter().filter(move |o| o.rule.trim().eq_ignore_ascii_case(rule.trim()))
    }
    let mut blockers = Vec::new();
    let mut consider = |rule: &str, summary: &str, source: &str| {
        let mut grants = grants(overrides, rule).peekable();
        let given = grants.peek().is_some();
        if grants.any(|o| !o.reason.trim().is_empty()) {
            return;
        }
        if blockers.iter().any(|b: &Blocker| b.rule == rule && b.summary == summary) {
            return;
        }
        blockers.push(Blocker {
            rule: rule.to_owned(),
            summary: summary.to_owned(),
            source: source.to_owned(),
            blank_override: given,
        });
    };
    let critical = |rule: &str, source: &str| {
        guidance
            .cards
            .iter()
            .any(|c| c.indicator == Indicator::Critical && c.rule == rule && c.source.plugin.as_deref() == Some(source))
    };
    if let Some(hold) = guidance.hold.as_ref().filter(|h| !critical(&h.rule, &h.source)) {
        consider(&hold.rule, &hold.reason, &hold.source);
    }
    for card in guidance.cards.iter().filter(|c| c.indicator == Indicator::Critical) {
        consider(&card.rule, &card.summary, card.source.plugin.as_deref().unwrap_or(&card.source.label));
    }
    if blockers.is_empty() {
        return Ok(());
    }
    tracing::info!(client = %guidance.client, blockers = blockers.len(), "booking refused");
    Err(BookingRefused { client: guidance.client.clone(), blockers })
}
