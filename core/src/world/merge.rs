//! The merge of several modules' advice for one client, exactly as the rules
//! file's "Host merging when several modules advise one client" says, and the
//! [`ClientGuidance`] it produces: the JSON contract of `praxis guidance`.

use std::collections::HashSet;

use praxis_sdk::{Adjunct, Card, Date, Guidance, Hold, Indicator, Pressure, Range};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plugin_host::PluginFailure;

use super::booking::{OverrideGrant, Verdict};
use super::safety::{HOST, clip};

/// What one module (the host's safety screen, a protocol plugin, the
/// insurance checks) said about one client, before the merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    /// The module's id: a plugin id, or `host`.
    pub source: String,
    /// The module's name for people (the label of cards the host adds for it).
    pub label: String,
    /// Its guidance, or why there is none.
    pub outcome: Result<Guidance, PluginFailure>,
}

impl Advice {
    /// Advice from the host itself.
    pub fn host(label: &str, guidance: Guidance) -> Advice {
        Advice { source: HOST.to_owned(), label: label.to_owned(), outcome: Ok(guidance) }
    }
}

/// A hold on booking in the merged guidance: why, by which rule, from which module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldInfo {
    /// Why, for people.
    pub reason: String,
    /// The rule id, such as `R2`.
    pub rule: String,
    /// The module: a plugin id, or `host`.
    pub source: String,
}

/// The merged session recommendation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedRecommendation {
    /// Session length in minutes: the modules' ranges intersected; where they
    /// do not overlap, the one with the shortest maximum.
    pub minutes: Option<Range>,
    /// The lowest maximum pressure of all modules.
    pub pressure_max: Option<Pressure>,
    /// Techniques to prefer, united without duplicates.
    pub prefer: Vec<String>,
    /// Techniques and regions to avoid, united without duplicates.
    pub avoid: Vec<String>,
    /// Regions to focus on, united, minus any region a module says to avoid.
    pub focus_regions: Vec<String>,
    /// Adjuncts before the massage, united.
    pub before: Vec<Adjunct>,
    /// Adjuncts after the massage, united.
    pub after: Vec<Adjunct>,
    /// Days from the last massage to the next: the modules' ranges
    /// intersected; where they do not overlap, the one that rests longer.
    pub interval_days: Option<Range>,
    /// The last massage's date plus the interval's minimum; none under a hold,
    /// without an interval, or before a first massage.
    pub next_due: Option<Date>,
}

/// What the therapist reads before a session: the merged guidance for one
/// client on one day. Its JSON is the contract that integrations build on:
///
/// ```json
/// {"client": "ID", "as_of": "2026-11-21", "hold": null, "booking": {"status": "bookable"},
///  "recommendation": {"minutes": {"min": 20, "max": 30}, "pressure_max": "light", "prefer": ["slow strokes"],
///    "avoid": ["deep pressure on tender points"], "focus_regions": ["neck"], "before": [], "after": [],
///    "interval_days": {"min": 7, "max": 14}, "next_due": "2026-11-28"},
///  "cards": [{"uuid": "...", "summary": "...", "detail": "...", "indicator": "warning", "rule": "F4",
///    "source": {"label": "Fibromyalgia protocol", "plugin": "fibromyalgia", "version": "1.0.0"},
///    "overrideReasons": []}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientGuidance {
    /// The client's id.
    pub client: String,
    /// The day the guidance is for.
    pub as_of: Date,
    /// The first hold (the host's before the plugins'), if any; every hold also has a `critical` card.
    /// Kept for older integrations: [`booking`](ClientGuidance::booking) has every hold and every
    /// `critical` card, and is what decides whether the client may be booked.
    pub hold: Option<HoldInfo>,
    /// Whether the client may be booked: bookable, or blocked with every blocking rule (holds and
    /// `critical` cards) and whether an override is recorded for it. See [`Verdict`].
    pub booking: Verdict,
    /// The merged recommendation.
    pub recommendation: MergedRecommendation,
    /// Every card of every module, ordered critical, warning, info (stable within).
    pub cards: Vec<Card>,
}

impl ClientGuidance {
    /// The cards of a rule.
    pub fn cards_for<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Card> + 'a {
        self.cards.iter().filter(move |c| c.rule == rule)
    }

    /// The rule ids of the cards, in order.
    pub fn rules(&self) -> Vec<&str> {
        self.cards.iter().map(|c| c.rule.as_str()).collect()
    }

    /// Whether booking needs an override: a hold, or a `critical` card (overridden or not).
    pub fn blocks_booking(&self) -> bool {
        !self.booking.blockers().is_empty()
    }
}

/// Checks a module's guidance before the host uses it: the SDK's
/// [`Guidance::validate`] (empty or over-long summaries, cards without a rule,
/// ranges with min above max, holds without a reason), which the plugin host
/// runs as well; advice built in-process passes through here too.
pub fn validate_advice(source: &str, guidance: &Guidance) -> Result<(), PluginFailure> {
    guidance
        .validate()
        .map_err(|e| PluginFailure { plugin: source.to_owned(), message: format!("invalid guidance: {e}") })
}

/// Merges the advice of every module for one client.
///
/// Advice that fails [`validate_advice`], and failed plugin calls, become the
/// failure's `warning` card ([`PluginFailure::to_card`]); that module's
/// recommendation and hold are dropped, the others stand. Then:
///
/// - the lowest maximum pressure wins; the shortest maximum duration wins
///   (minute ranges intersected; where they do not overlap, the range with the
///   shortest maximum);
/// - interval ranges are intersected, and where they do not overlap, the one
///   that rests longer (the higher range) wins;
/// - avoid lists are united (techniques and regions), prefer, focus, before
///   and after lists united without duplicates (compared ignoring case), and a
///   region to avoid is removed from the focus regions;
/// - any hold blocks booking: the first (in advice order: put the host's first)
///   is the guidance's `hold`, and every hold has a `critical` card (the host
///   adds one when the module gave none for the hold's rule);
/// - all cards are kept, ordered critical, warning, info (stable within), each
///   naming its module in `source.plugin`; cards without a `uuid` get one
///   derived from the client, the day, the module, the rule and the position,
///   so that the same guidance always has the same ids.
///
/// Then the booking [`Verdict`] is made from every hold and every `critical`
/// card, and no card is left advising what it forbids (see
/// [`defer_booking_prompts`]).
///
/// `last_massage` is the date `next_due` counts from. No override is applied:
/// see [`merge_with_overrides`].
pub fn merge(client: &str, as_of: Date, last_massage: Option<Date>, advice: Vec<Advice>) -> ClientGuidance {
    merge_with_overrides(client, as_of, last_massage, advice, &[])
}

/// [`merge`], with the client's recorded overrides that have not been used
/// yet: a blocker they cover is listed as overridden in the verdict, and the
/// verdict is bookable once every blocker is covered.
pub fn merge_with_overrides(
    client: &str,
    as_of: Date,
    last_massage: Option<Date>,
    advice: Vec<Advice>,
    overrides: &[OverrideGrant],
) -> ClientGuidance {
    let mut cards: Vec<Card> = Vec::new();
    let mut holds: Vec<HoldInfo> = Vec::new();
    let mut rec = MergedRecommendation::default();
    let mut avoid_regions: Vec<String> = Vec::new();
    let mut minutes: Option<Range> = None;
    let mut interval: Option<Range> = None;
    for Advice { source, label, outcome } in advice {
        let guidance = match outcome.and_then(|g| validate_advice(&source, &g).map(|()| g)) {
            Ok(g) => g,
            Err(failure) => {
                tracing::warn!(plugin = %failure.plugin, client, "module advice dropped: {}", failure.message);
                cards.push(failure.to_card());
                continue;
            }
        };
        let Guidance { cards: module_cards, recommendation, hold } = guidance;
        let first_of_module = cards.len();
        for mut card in module_cards {
            if card.source.plugin.as_deref().is_none_or(str::is_empty) {
                card.source.plugin = Some(source.clone());
            }
            cards.push(card);
        }
        if let Some(Hold { reason, rule }) = hold {
            let has_critical =
                cards[first_of_module..].iter().any(|c| c.rule == rule && c.indicator == Indicator::Critical);
            if !has_critical {
                let mut card = Card::new(
                    &rule,
                    Indicator::Critical,
                    clip(&format!("On hold: {reason}")),
                    format!("Module `{source}` holds booking under rule {rule}: {reason}"),
                )
                .with_source(&label);
                card.source.plugin = Some(source.clone());
                card.source.version = cards[first_of_module..].iter().find_map(|c| c.source.version.clone());
                cards.push(card);
            }
            holds.push(HoldInfo { reason, rule, source: source.clone() });
        }
        let Some(r) = recommendation else { continue };
        minutes = match (minutes, r.minutes) {
            (Some(a), Some(b)) => Some(a.intersect(&b).unwrap_or(if b.max < a.max { b } else { a })),
            (a, b) => a.or(b),
        };
        interval = match (interval, r.interval_days) {
            (Some(a), Some(b)) => Some(a.intersect(&b).unwrap_or(if b.min > a.min { b } else { a })),
            (a, b) => a.or(b),
        };
        rec.pressure_max = match (rec.pressure_max, r.pressure_max) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        unite(&mut rec.prefer, r.prefer);
        unite(&mut rec.avoid, r.avoid);
        unite(&mut rec.avoid, r.avoid_regions.iter().cloned());
        unite(&mut avoid_regions, r.avoid_regions);
        unite(&mut rec.focus_regions, r.focus_regions);
        unite_exact(&mut rec.before, r.before);
        unite_exact(&mut rec.after, r.after);
    }
    let avoided: HashSet<String> = avoid_regions.iter().map(|r| norm(r)).collect();
    rec.focus_regions.retain(|r| !avoided.contains(&norm(r)));
    rec.minutes = minutes;
    rec.interval_days = interval;
    let booking = Verdict::of(&holds, &cards, overrides);
    defer_booking_prompts(&mut cards, &booking);
    let hold = holds.into_iter().next();
    rec.next_due = match (&hold, interval, last_massage) {
        (None, Some(i), Some(last)) => Some(last.add_days(i32::try_from(i.min).unwrap_or(i32::MAX))),
        _ => None,
    };
    cards.sort_by_key(|c| c.indicator);
    for (i, card) in cards.iter_mut().enumerate() {
        if card.uuid.as_deref().is_none_or(str::is_empty) {
            card.uuid = Some(card_uuid(client, as_of, card, i));
        }
    }
    ClientGuidance { client: client.to_owned(), as_of, hold, booking, recommendation: rec, cards }
}

/// The rules whose cards ask for a massage to be booked (sooner): F5, "when
/// the days since the last massage exceed the top of the interval, `warning`:
/// single or infrequent sessions do not work like regular ones".
pub const BOOKING_PROMPT_RULES: &[&str] = &["F5"];

/// No card may advise what a hold or a `critical` card of the same guidance
/// forbids. While the verdict is blocked, a card of a
/// [`BOOKING_PROMPT_RULES`] rule (F5: "keep them regular") would ask for the
/// booking that the blockers forbid: it is kept (the rules file: "all cards
/// are kept"), lowered to `info`, its summary starts "Once booking is
/// allowed:", and its detail names the blocking rules. Once every blocker
/// lifts or has an override, the card stands as the module gave it.
pub fn defer_booking_prompts(cards: &mut [Card], booking: &Verdict) {
    if booking.is_bookable() {
        return;
    }
    let rules = booking.blocking_rules().join(", ");
    for card in cards.iter_mut().filter(|c| BOOKING_PROMPT_RULES.contains(&c.rule.as_str())) {
        if card.indicator == Indicator::Critical {
            continue;
        }
        card.indicator = Indicator::Info;
        card.summary = clip(&format!("Once booking is allowed: {}", card.summary));
        card.detail.push_str(&format!(
            "\n\nBooking is blocked now (rule {rules}; see the booking verdict): this card asks for no booking \
             until each blocker lifts or has a recorded override. The host defers it so that no card advises what \
             a hold or a critical card forbids."
        ));
    }
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Appends the items not already present (ignoring case and surrounding
/// space), dropping blank ones, keeping first-seen order.
fn unite(into: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        let key = norm(&item);
        if !key.is_empty() && !into.iter().any(|x| norm(x) == key) {
            into.push(item.trim().to_owned());
        }
    }
}

fn unite_exact<T: PartialEq>(into: &mut Vec<T>, items: Vec<T>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// A stable card id: a UUID (version 8, custom) from the SHA-256 of what
/// identifies the card.
fn card_uuid(client: &str, as_of: Date, card: &Card, position: usize) -> String {
    let mut hash = Sha256::new();
    for part in [client, &as_of.to_string(), card.source.plugin.as_deref().unwrap_or(""), &card.rule, &card.summary] {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    hash.update(position.to_le_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}
