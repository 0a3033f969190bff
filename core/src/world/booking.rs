//! The booking verdict: whether a client may be booked, and if not, every
//! rule that stops it.
//!
//! A hold (S2, R2) or a `critical` card (S1, I2, ...) blocks booking: the
//! rules file says "`critical` means: do not book or treat without a recorded
//! override reason", and "any hold blocks booking". The [`Verdict`] is
//! computed once, by the merge, into every [`ClientGuidance`]
//! (`booking` in its JSON), and the booking check ([`check_booking`]), the
//! scheduler, the API and CDS Hooks all read it rather than each looking at
//! `hold` and the cards on their own.
//!
//! ```
//! use praxis_core::world::{BlockKind, OverrideGrant, Verdict};
//! use praxis_sdk::{Card, Indicator};
//!
//! let injury = Card::new("S1", Indicator::Critical, "Recent injury", "See rule S1.");
//! let verdict = Verdict::of(&[], &[injury], &[]);
//! assert!(!verdict.is_bookable());
//! assert_eq!(verdict.blockers()[0].kind, BlockKind::Critical);
//! let cleared = verdict.with_overrides(&[OverrideGrant::new("S1", "provider cleared")]);
//! assert!(cleared.is_bookable());
//! assert_eq!(cleared.blockers()[0].override_reason.as_deref(), Some("provider cleared"));
//! ```

use std::fmt;

use praxis_sdk::{Card, Coding, Indicator};
use serde::{Deserialize, Serialize};

use super::merge::{ClientGuidance, HoldInfo};

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

    fn covers(&self, rule: &str) -> bool {
        self.rule.trim().eq_ignore_ascii_case(rule.trim())
    }
}

/// How a blocker stops a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// A module holds booking under the rule (S2, R2): not until the hold lifts, or with an override.
    Hold,
    /// A `critical` card (S1, I2, ...): not without a recorded override reason.
    Critical,
}

/// One rule that stops a booking: a hold, or a `critical` card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    /// The rule id, such as `S1`.
    pub rule: String,
    /// A hold (with or without its critical card) or a critical card alone.
    pub kind: BlockKind,
    /// The card's summary, or the hold's reason.
    pub summary: String,
    /// The module it comes from (a plugin id or `host`).
    pub source: String,
    /// The override reasons the card offers (free text is accepted too).
    #[serde(default)]
    pub override_reasons: Vec<Coding>,
    /// The reason of the recorded override that lets one booking through this
    /// rule; `null` while none is recorded.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// Set when an override for this rule was given without a reason (it does not count).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blank_override: bool,
}

impl Blocker {
    /// Whether a recorded override lets one booking through this blocker.
    pub fn is_overridden(&self) -> bool {
        self.override_reason.is_some()
    }
}

/// Whether a client may be booked: the one answer that the booking check, the
/// scheduler, the API and CDS Hooks use.
///
/// Either **bookable** (nothing blocks, or every blocker has an override), or
/// **blocked**, with every blocking rule, each saying whether an override is
/// recorded for it. A `Blocked` verdict always names at least one blocker
/// without an override; a `Bookable` one lists only overridden blockers. The
/// constructors keep this, and so does decoding: JSON that breaks it is
/// refused.
///
/// In JSON (`booking` in the guidance):
///
/// ```json
/// {"status": "bookable"}
/// {"status": "bookable", "overridden": [{"rule": "S1", "kind": "critical", "summary": "...",
///   "source": "host", "override_reasons": [...], "override_reason": "provider cleared"}]}
/// {"status": "blocked", "blockers": [{"rule": "S1", "kind": "critical", "summary": "...", "source": "host",
///   "override_reasons": [...], "override_reason": null},
///   {"rule": "R2", "kind": "hold", "summary": "...", "source": "arthritis", "override_reasons": [...],
///   "override_reason": null}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", try_from = "VerdictWire")]
pub enum Verdict {
    /// The client may be booked.
    Bookable {
        /// Blockers that an override lets through (each has `override_reason`); empty when nothing blocks.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        overridden: Vec<Blocker>,
    },
    /// The client may not be booked until each blocker without an override lifts or gets one.
    Blocked {
        /// Every blocker, in the guidance's order (holds first), overridden or not.
        blockers: Vec<Blocker>,
    },
}

/// The wire form of [`Verdict`], checked on the way in.
#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum VerdictWire {
    Bookable {
        #[serde(default)]
        overridden: Vec<Blocker>,
    },
    Blocked {
        blockers: Vec<Blocker>,
    },
}

impl TryFrom<VerdictWire> for Verdict {
    type Error = String;

    fn try_from(wire: VerdictWire) -> Result<Verdict, String> {
        match wire {
            VerdictWire::Bookable { overridden } => {
                if let Some(b) = overridden.iter().find(|b| !b.is_overridden()) {
                    return Err(format!(
                        "a bookable verdict lists rule {} as overridden without an override_reason",
                        b.rule
                    ));
                }
                Ok(Verdict::Bookable { overridden })
            }
            VerdictWire::Blocked { blockers } => {
                if blockers.iter().all(Blocker::is_overridden) {
                    return Err("a blocked verdict must name at least one blocker without an override".to_owned());
                }
                Ok(Verdict::Blocked { blockers })
            }
        }
    }
}

impl Default for Verdict {
    /// Nothing blocks.
    fn default() -> Verdict {
        Verdict::Bookable { overridden: Vec::new() }
    }
}

impl Verdict {
    /// The verdict for these holds and cards, with these overrides: every hold
    /// (the critical card of the same rule and module is the same blocker),
    /// then every `critical` card, each covered by an override of its rule
    /// that has a reason.
    pub fn of(holds: &[HoldInfo], cards: &[Card], overrides: &[OverrideGrant]) -> Verdict {
        let mut blockers: Vec<Blocker> = Vec::new();
        let card_source = |c: &Card| c.source.plugin.clone().unwrap_or_else(|| c.source.label.clone());
        for hold in holds {
            if blockers.iter().any(|b| b.rule == hold.rule && b.source == hold.source) {
                continue;
            }
            let card = cards
                .iter()
                .find(|c| c.indicator == Indicator::Critical && c.rule == hold.rule && card_source(c) == hold.source);
            blockers.push(Blocker {
                rule: hold.rule.clone(),
                kind: BlockKind::Hold,
                summary: card.map_or_else(|| hold.reason.clone(), |c| c.summary.clone()),
                source: hold.source.clone(),
                override_reasons: card.map(|c| c.override_reasons.clone()).unwrap_or_default(),
                override_reason: None,
                blank_override: false,
            });
        }
        for card in cards.iter().filter(|c| c.indicator == Indicator::Critical) {
            let source = card_source(card);
            let same = |b: &Blocker| {
                b.rule == card.rule && b.source == source && (b.kind == BlockKind::Hold || b.summary == card.summary)
            };
            if blockers.iter().any(same) {
                continue;
            }
            blockers.push(Blocker {
                rule: card.rule.clone(),
                kind: BlockKind::Critical,
                summary: card.summary.clone(),
                source,
                override_reasons: card.override_reasons.clone(),
                override_reason: None,
                blank_override: false,
            });
        }
        Verdict::from_blockers(blockers).with_overrides(overrides)
    }

    /// Bookable when every blocker has an override (or there is none), blocked otherwise.
    fn from_blockers(blockers: Vec<Blocker>) -> Verdict {
        if blockers.iter().all(Blocker::is_overridden) {
            Verdict::Bookable { overridden: blockers }
        } else {
            Verdict::Blocked { blockers }
        }
    }

    /// The same blockers with these overrides instead of any applied before:
    /// a blocker is overridden by the first override of its rule (rule ids
    /// compared ignoring case) whose reason is not blank.
    pub fn with_overrides(&self, overrides: &[OverrideGrant]) -> Verdict {
        let blockers = self
            .blockers()
            .iter()
            .map(|b| {
                let mut grants = overrides.iter().filter(|o| o.covers(&b.rule)).peekable();
                let given = grants.peek().is_some();
                let reason = grants.map(|o| o.reason.trim()).find(|r| !r.is_empty()).map(str::to_owned);
                Blocker { blank_override: given && reason.is_none(), override_reason: reason, ..b.clone() }
            })
            .collect();
        Verdict::from_blockers(blockers)
    }

    /// Whether the client may be booked.
    pub fn is_bookable(&self) -> bool {
        matches!(self, Verdict::Bookable { .. })
    }

    /// Every blocker, overridden or not, in order.
    pub fn blockers(&self) -> &[Blocker] {
        match self {
            Verdict::Bookable { overridden } => overridden,
            Verdict::Blocked { blockers } => blockers,
        }
    }

    /// The blockers that still stop a booking (no override recorded).
    pub fn unresolved(&self) -> impl Iterator<Item = &Blocker> {
        self.blockers().iter().filter(|b| !b.is_overridden())
    }

    /// The rule ids of the blockers without an override, each once, in order.
    pub fn blocking_rules(&self) -> Vec<&str> {
        let mut rules: Vec<&str> = Vec::new();
        for b in self.unresolved() {
            if !rules.contains(&b.rule.as_str()) {
                rules.push(&b.rule);
            }
        }
        rules
    }
}

/// A booking refused: the holds and `critical` cards without an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRefused {
    /// The client.
    pub client: String,
    /// What blocks, in the guidance's order (holds first).
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

/// The booking check: the guidance's [`Verdict`] with these overrides (and
/// only these: overrides applied to the guidance before are not counted).
/// `Ok` with the verdict when the client may be booked.
pub fn check_booking(guidance: &ClientGuidance, overrides: &[OverrideGrant]) -> Result<Verdict, BookingRefused> {
    let verdict = guidance.booking.with_overrides(overrides);
    if verdict.is_bookable() {
        return Ok(verdict);
    }
    let blockers: Vec<Blocker> = verdict.unresolved().cloned().collect();
    tracing::info!(client = %guidance.client, blockers = blockers.len(), "booking refused");
    Err(BookingRefused { client: guidance.client.clone(), blockers })
}

/// The overrides still waiting to be used, from all of one client's override
/// records: for each rule, the latest override (records sorted by id, which
/// is time-ordered), unless it is already tied to a booked appointment (each
/// override lets exactly one booking through; booking records a second
/// override tied to the appointment).
pub fn pending_overrides(mut all: Vec<crate::store::Override>) -> Vec<crate::store::Override> {
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let mut latest: Vec<crate::store::Override> = Vec::new();
    for ov in all {
        latest.retain(|o| !o.rule.eq_ignore_ascii_case(&ov.rule));
        latest.push(ov);
    }
    latest.retain(|o| o.appointment.is_none());
    latest.sort_by(|a, b| a.rule.cmp(&b.rule));
    latest
}

impl From<&crate::store::Override> for OverrideGrant {
    fn from(o: &crate::store::Override) -> OverrideGrant {
        OverrideGrant::new(&o.rule, &o.reason)
    }
}
