//! # praxis-fibromyalgia
//!
//! The Praxis protocol plugin for fibromyalgia (SNOMED CT 203082005): rules F1
//! to F7 of the project's `GUIDANCE-RULES.md`, from the two source texts
//! **[A]** `massage-for-fibromyalgia-pain.txt` and **[B]**
//! `relaxing-massage-for-chronic-pain.txt`.
//!
//! Given one client's massage history it works out the treatment phase
//! (initial, or maintenance once stable), the session length, the heaviest
//! pressure, the focus regions and the interval to the next massage, reacts to
//! a flare after the last session, warns when massages have become irregular,
//! and reminds the therapist of the home health plan. Every card names its
//! rule and quotes its source. Every value the rules mark as a project
//! **default** is a setting ([`FibromyalgiaSettings`]).
//!
//! The host runs the safety screen (S1-S3), the insurance checks and the
//! merge with other plugins' advice; this plugin does only its own rules.
//!
//! ```
//! use praxis_fibromyalgia::Fibromyalgia;
//! use praxis_sdk::prelude::*;
//! use praxis_sdk::testing::{massage, run_static};
//!
//! let client = ClientBuilder::new("c1")
//!     .condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
//!     .session(massage("2026-11-01").pressure(Pressure::Light).pain(5, 7)) // pain rose: a flare
//!     .build();
//! let guidance = run_static(&Fibromyalgia, &client, "2026-11-08", &Default::default());
//! assert!(guidance.has_rule("F4"));
//! let rec = guidance.recommendation.unwrap();
//! assert_eq!(rec.pressure_max, Some(Pressure::LightTouch)); // one step below the light pressure that flared
//! assert_eq!(rec.interval_days, Some(Range::new(14, 17))); // at least the top of the initial 7-14 days
//! ```

#![deny(missing_docs)]

use std::fmt::Write as _;

use praxis_sdk::prelude::*;
use praxis_sdk::{Coding, Settings, decode_settings};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The plugin's id in manifests and practice configs (`[plugins.fibromyalgia]`).
pub const PLUGIN_ID: &str = "fibromyalgia";
/// The plugin's name, used as every card's `source.label`.
pub const PLUGIN_NAME: &str = "Fibromyalgia protocol";
/// Source [A] of the rules file.
pub const SOURCE_A: &str = "[A] massage-for-fibromyalgia-pain.txt";
/// Source [B] of the rules file.
pub const SOURCE_B: &str = "[B] relaxing-massage-for-chronic-pain.txt";

/// The regions F3 asks the therapist to focus on.
pub const FOCUS_REGIONS: [&str; 3] = ["neck", "shoulders", "back"];

/// The fibromyalgia protocol plugin (rules F1-F7).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fibromyalgia;

/// The practice's settings for this plugin: `[plugins.fibromyalgia.settings]`.
///
/// Absent keys take their defaults; unknown keys are refused. The defaults are
/// the values of `GUIDANCE-RULES.md`; each field says whether its value comes
/// from the sources or is a project default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FibromyalgiaSettings {
    /// F1, from [A]: session length in the initial phase, in minutes (30-30).
    pub initial_minutes: Range,
    /// F1, from [A]: days between massages in the initial phase (7-14).
    pub initial_interval_days: Range,
    /// F6, from [A]: days between massages in the maintenance phase (14-28).
    pub maintenance_interval_days: Range,
    /// F6, project default: session length in minutes in the maintenance phase (30-60;
    /// the sources give none, [A] calls only the initial sessions short).
    pub maintenance_minutes: Range,
    /// F2, project default: heaviest pressure in the initial phase (light).
    pub initial_pressure_max: Pressure,
    /// F2, project default: heaviest pressure in maintenance with no recent flare (moderate).
    pub maintenance_pressure_max: Pressure,
    /// F2, project default: how many of the last massages must be free of flares
    /// before the maintenance pressure is allowed (3).
    pub maintenance_pressure_flare_free_sessions: u32,
    /// F6, project default: massages needed before a client can count as stable (6).
    pub stable_min_sessions: u32,
    /// F6, project default: how many of the last massages must be free of flares
    /// with pain-before not rising, for a client to count as stable (3).
    pub stable_window_sessions: u32,
    /// F4, from the rules: the longest session after a flare, in minutes (30).
    pub flare_max_minutes: u32,
    /// F4, project default: days added to the top of the interval after two
    /// flares in a row (7).
    pub repeat_flare_extra_days: u32,
    /// F4, project default: days of the window after the lengthened minimum
    /// (3): after a flare the interval is "at least the top of the range", so
    /// it is top to top + this, and one unavailable day does not lose the visit.
    pub flare_window_days: u32,
}

impl Default for FibromyalgiaSettings {
    fn default() -> Self {
        FibromyalgiaSettings {
            initial_minutes: Range::new(30, 30),
            initial_interval_days: Range::new(7, 14),
            maintenance_interval_days: Range::new(14, 28),
            maintenance_minutes: Range::new(30, 60),
            initial_pressure_max: Pressure::Light,
            maintenance_pressure_max: Pressure::Moderate,
            maintenance_pressure_flare_free_sessions: 3,
            stable_min_sessions: 6,
            stable_window_sessions: 3,
            flare_max_minutes: 30,
            repeat_flare_extra_days: 7,
            flare_window_days: 3,
        }
    }
}

fn range_json(r: Range) -> serde_json::Value {
    serde_json::json!({ "min": r.min, "max": r.max })
}

impl FibromyalgiaSettings {
    /// The manifest's list of settings: every key, its default and its meaning.
    pub fn specs() -> Vec<SettingSpec> {
        let d = FibromyalgiaSettings::default();
        vec![
            SettingSpec::new(
                "initial_minutes",
                range_json(d.initial_minutes),
                "F1, from source [A] (\"short sessions (30 mins)\"): session length in minutes in the initial phase, as { min, max }.",
            ),
            SettingSpec::new(
                "initial_interval_days",
                range_json(d.initial_interval_days),
                "F1, from source [A] (\"every 1-2 weeks initially\"): days from one massage to the next in the initial phase, as { min, max }.",
            ),
            SettingSpec::new(
                "maintenance_interval_days",
                range_json(d.maintenance_interval_days),
                "F6, from source [A] (\"massage every 2-4 weeks\"): days from one massage to the next in the maintenance phase, as { min, max }.",
            ),
            SettingSpec::new(
                "maintenance_minutes",
                range_json(d.maintenance_minutes),
                "F6, project default (the sources give no length; [A] calls only the initial sessions short): session length in minutes in the maintenance phase, as { min, max }.",
            ),
            SettingSpec::new(
                "initial_pressure_max",
                d.initial_pressure_max.as_str(),
                "F2, project default: heaviest pressure in the initial phase (light_touch, light or moderate; fibromyalgia calls for gentle pressure, source [B]).",
            ),
            SettingSpec::new(
                "maintenance_pressure_max",
                d.maintenance_pressure_max.as_str(),
                "F2, project default: heaviest pressure in the maintenance phase when the last massages had no flare (light_touch, light or moderate).",
            ),
            SettingSpec::new(
                "maintenance_pressure_flare_free_sessions",
                d.maintenance_pressure_flare_free_sessions,
                "F2, project default: how many of the last massages must have had no flare before the maintenance pressure is allowed.",
            ),
            SettingSpec::new(
                "stable_min_sessions",
                d.stable_min_sessions,
                "F6, project default: massages a client needs before counting as stable and moving to maintenance.",
            ),
            SettingSpec::new(
                "stable_window_sessions",
                d.stable_window_sessions,
                "F6, project default: the last massages that must have had no flare and no rise in pain-before for a client to count as stable.",
            ),
            SettingSpec::new(
                "flare_max_minutes",
                d.flare_max_minutes,
                "F4, from the rules: the longest session, in minutes, after a flare following the last massage.",
            ),
            SettingSpec::new(
                "repeat_flare_extra_days",
                d.repeat_flare_extra_days,
                "F4, project default: days added to the top of the interval after two flares in a row.",
            ),
            SettingSpec::new(
                "flare_window_days",
                d.flare_window_days,
                "F4, project default: after a flare the next massage waits at least the lengthened interval, and \
                 may come up to this many days after it (a window, not a single day).",
            ),
        ]
    }

    /// Decodes and checks the settings a practice gave this plugin.
    pub fn from_settings(settings: &Settings) -> Result<FibromyalgiaSettings, PluginError> {
        let decoded: FibromyalgiaSettings = decode_naming_key(settings)?;
        decoded.validate()?;
        Ok(decoded)
    }

    /// Checks that the values make sense together; the first problem found.
    pub fn validate(&self) -> Result<(), PluginError> {
        check_range("initial_minutes", self.initial_minutes, 240, "{ min = 30, max = 30 }")?;
        check_range("initial_interval_days", self.initial_interval_days, 366, "{ min = 7, max = 14 }")?;
        check_range("maintenance_interval_days", self.maintenance_interval_days, 366, "{ min = 14, max = 28 }")?;
        check_range("maintenance_minutes", self.maintenance_minutes, 240, "{ min = 30, max = 60 }")?;
        for (key, pressure) in [
            ("initial_pressure_max", self.initial_pressure_max),
            ("maintenance_pressure_max", self.maintenance_pressure_max),
        ] {
            if pressure > Pressure::Moderate {
                return Err(bad(format!(
                    "{key} `{}` is heavier than rule F2 allows (fibromyalgia calls for gentle pressure, never firm or deep on tender points): give light_touch, light or moderate",
                    pressure.as_str()
                )));
            }
        }
        check_count("maintenance_pressure_flare_free_sessions", self.maintenance_pressure_flare_free_sessions, 3)?;
        check_count("stable_min_sessions", self.stable_min_sessions, 6)?;
        check_count("stable_window_sessions", self.stable_window_sessions, 3)?;
        if self.stable_window_sessions > self.stable_min_sessions {
            return Err(bad(format!(
                "stable_window_sessions {} is larger than stable_min_sessions {}: the window is part of the sessions counted, so give a window no larger than the minimum",
                self.stable_window_sessions, self.stable_min_sessions
            )));
        }
        if !(1..=240).contains(&self.flare_max_minutes) {
            return Err(bad(format!(
                "flare_max_minutes {} is outside 1-240: give the longest session after a flare in minutes, such as 30",
                self.flare_max_minutes
            )));
        }
        if self.flare_window_days > 28 {
            return Err(bad(format!(
                "flare_window_days {} is outside 0-28: give the days of slack after the lengthened interval, such as 3",
                self.flare_window_days
            )));
        }
        let longest = self.initial_interval_days.max.max(self.maintenance_interval_days.max);
        if longest + self.repeat_flare_extra_days > 366 {
            return Err(bad(format!(
                "repeat_flare_extra_days {} would make an interval of {} days, longer than a year: give a smaller number, such as 7",
                self.repeat_flare_extra_days,
                longest + self.repeat_flare_extra_days
            )));
        }
        if longest + self.repeat_flare_extra_days + self.flare_window_days > 366 {
            return Err(bad(format!(
                "flare_window_days {} would make an interval end after {} days, longer than a year: give a smaller number, such as 3",
                self.flare_window_days,
                longest + self.repeat_flare_extra_days + self.flare_window_days
            )));
        }
        Ok(())
    }
}

fn bad(message: String) -> PluginError {
    PluginError::BadSettings(format!("{message} (in [plugins.{PLUGIN_ID}.settings] of the practice config)"))
}

fn check_range(key: &str, r: Range, limit: u32, example: &str) -> Result<(), PluginError> {
    if r.min == 0 || r.max > limit || r.min > r.max {
        return Err(bad(format!(
            "{key} {{ min = {}, max = {} }} is not a range within 1-{limit} with min <= max: give, for example, {key} = {example}",
            r.min, r.max
        )));
    }
    Ok(())
}

fn check_count(key: &str, n: u32, example: u32) -> Result<(), PluginError> {
    if !(1..=100).contains(&n) {
        return Err(bad(format!("{key} {n} is outside 1-100: give a whole number of sessions, such as {example}")));
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

/// The treatment phase (F1, F6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Short sessions every 7-14 days (F1).
    Initial,
    /// Every 14-28 days, once the client has been stable (F6).
    Maintenance,
}

impl Phase {
    /// The name in a recommendation's `phase`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Initial => "initial",
            Phase::Maintenance => "maintenance",
        }
    }
}

/// What the history says, before any advice is written.
#[derive(Debug)]
struct Assessment<'a> {
    /// Massages on or before the evaluation day, oldest first.
    massages: Vec<&'a SessionRecord>,
    phase: Phase,
    /// The massage at which the client first counted as stable.
    stable_since: Option<&'a SessionRecord>,
    /// How many massages in a row, ending with the last, were followed by a flare.
    flare_streak: usize,
    /// Whether a flare followed one of the last `maintenance_pressure_flare_free_sessions` massages.
    recent_flare: bool,
    /// Whether the client is stable on the evaluation day (F6's definition over
    /// the last massages); otherwise why not, short and long.
    stable_now: Result<(), Lapse>,
}

/// Why F6's definition of stable does not hold now.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lapse {
    /// A few words for a summary ("flare", "pain rising", ...).
    short: &'static str,
    /// The whole reason, for a card's detail.
    why: String,
}

impl<'a> Assessment<'a> {
    fn new(client: &'a ClientSnapshot, as_of: Date, s: &FibromyalgiaSettings) -> Assessment<'a> {
        let mut massages: Vec<&SessionRecord> = client.massages().filter(|m| m.date <= as_of).collect();
        massages.sort_by_key(|m| m.date);
        let stable_since =
            (1..=massages.len()).find(|&k| stability(&massages[..k], s).is_ok()).map(|k| massages[k - 1]);
        let stable_now = stability(&massages, s);
        let phase = if stable_since.is_some() { Phase::Maintenance } else { Phase::Initial };
        let flare_streak = massages.iter().rev().take_while(|m| m.is_flare()).count();
        let recent = s.maintenance_pressure_flare_free_sessions as usize;
        let recent_flare = massages.iter().rev().take(recent).any(|m| m.is_flare());
        Assessment { massages, phase, stable_since, flare_streak, recent_flare, stable_now }
    }

    fn last(&self) -> Option<&'a SessionRecord> {
        self.massages.last().copied()
    }
}

/// F6: stable after these massages (oldest first) when there are at least
/// `stable_min_sessions` of them and, over the last `stable_window_sessions`,
/// none was followed by a flare and pain-before, recorded each time, never rose.
fn stability(massages: &[&SessionRecord], s: &FibromyalgiaSettings) -> Result<(), Lapse> {
    let window = s.stable_window_sessions as usize;
    if massages.len() < s.stable_min_sessions as usize || massages.len() < window {
        return Err(Lapse { short: "too few massages", why: format!("only {} so far", sessions(massages.len())) });
    }
    let last = &massages[massages.len() - window..];
    if let Some(m) = last.iter().rev().find(|m| m.is_flare()) {
        return Err(Lapse {
            short: "flare",
            why: format!(
                "the massage of {} was followed by a flare ({}), within the last {}",
                m.date,
                flare_reason(m),
                sessions(window)
            ),
        });
    }
    let mut previous: Option<(&SessionRecord, u8)> = None;
    for m in last {
        let Some(pain) = m.pain_before else {
            return Err(Lapse {
                short: "pain not recorded",
                why: format!("pain before the massage of {} was not recorded", m.date),
            });
        };
        if let Some((p, before)) = previous
            && pain > before
        {
            return Err(Lapse {
                short: "pain rising",
                why: format!("pain before rose from {before} ({}) to {pain} ({})", p.date, m.date),
            });
        }
        previous = Some((m, pain));
    }
    Ok(())
}

/// Why a session counts as a flare after treatment, for people.
fn flare_reason(m: &SessionRecord) -> String {
    let mut why = Vec::new();
    if let (Some(before), Some(after)) = (m.pain_before, m.pain_after)
        && after > before
    {
        why.push(format!("pain after {after} above pain before {before}"));
    }
    if let (Some(before), Some(later)) = (m.pain_before, m.follow_up_pain)
        && later > before
    {
        why.push(format!("follow-up pain {later} above pain before {before}"));
    }
    match &m.adverse_event {
        AdverseEvent::Flare => why.push("a flare recorded as an adverse event".to_owned()),
        AdverseEvent::StoppedEarly { reason } if reason.trim().is_empty() => why.push("stopped early".to_owned()),
        AdverseEvent::StoppedEarly { reason } => why.push(format!("stopped early ({})", reason.trim())),
        _ => {}
    }
    why.join("; ")
}

fn quote(source: &str, text: &str) -> String {
    format!("> {text}\n>\n> — {source}")
}

fn card(rule: &str, indicator: Indicator, summary: String, detail: String) -> Card {
    let mut card = Card::new(rule, indicator, summary, detail).with_source(PLUGIN_NAME);
    card.source.topic = Some(Coding::new(snomed::SYSTEM, snomed::FIBROMYALGIA, "Fibromyalgia"));
    card
}

fn sessions(n: usize) -> String {
    if n == 1 { "1 massage".to_owned() } else { format!("{n} massages") }
}

impl Plugin for Fibromyalgia {
    fn manifest(&self) -> Manifest {
        // No `with_history_days`: the phase (F6) depends on every massage
        // since the first (stability reached once is kept), so the whole
        // history is needed.
        Manifest::new(PLUGIN_ID, PLUGIN_NAME, env!("CARGO_PKG_VERSION"))
            .with_description(
                "Fibromyalgia massage guidance (rules F1-F7): phase, session length, gentle pressure, focus \
                 regions, flare response, regularity and the home health plan.",
            )
            .with_kind(PluginKind::Protocol)
            .with_condition(snomed::FIBROMYALGIA, "Fibromyalgia")
            .with_settings(FibromyalgiaSettings::specs())
    }
}

impl Protocol for Fibromyalgia {
    fn evaluate(&self, input: &ProtocolInput) -> Result<Guidance, PluginError> {
        let s = FibromyalgiaSettings::from_settings(&input.settings)?;
        let client = &input.client;
        if client.condition(snomed::FIBROMYALGIA).is_none() {
            tracing::debug!(client = %client.id, "no fibromyalgia on record: nothing to advise");
            return Ok(Guidance::default());
        }
        let a = Assessment::new(client, input.as_of, &s);
        tracing::debug!(
            client = %client.id,
            massages = a.massages.len(),
            phase = a.phase.as_str(),
            flare_streak = a.flare_streak,
            "fibromyalgia assessment"
        );
        Ok(advise(client, input.as_of, &s, &a))
    }
}

fn advise(client: &ClientSnapshot, as_of: Date, s: &FibromyalgiaSettings, a: &Assessment<'_>) -> Guidance {
    let mut cards = Vec::new();
    let mut rec = Recommendation { phase: Some(a.phase.as_str().to_owned()), ..Recommendation::default() };

    // F1 / F6: the phase, its session length and its interval (the card
    // comes first, written once F4 has had its say).
    let phase_interval = match a.phase {
        Phase::Initial => {
            rec.minutes = Some(s.initial_minutes);
            s.initial_interval_days
        }
        Phase::Maintenance => {
            rec.minutes = Some(s.maintenance_minutes);
            s.maintenance_interval_days
        }
    };
    let phase_minutes = rec.minutes;

    // F2: gentle pressure, slow strokes, never deep on tender points.
    let pressure_max = match a.phase {
        Phase::Maintenance if !a.recent_flare => s.maintenance_pressure_max,
        _ => s.initial_pressure_max,
    };
    // F4 lowers it further after a flare; the F2 card shows the pressure that applies.
    let flare = a.last().filter(|_| a.flare_streak > 0);
    let after_flare = flare.map(|last| lower_after_flare(last.pressure, pressure_max));
    rec.pressure_max = Some(after_flare.unwrap_or(pressure_max));
    rec.prefer = vec!["gentle pressure".to_owned(), "slow strokes".to_owned()];
    rec.avoid = vec!["deep pressure on tender points".to_owned(), "firm pressure on tender points".to_owned()];
    cards.push(f2_card(client, s, a, pressure_max, after_flare));

    // F3: where the tension usually is.
    rec.focus_regions = FOCUS_REGIONS.iter().map(|r| (*r).to_owned()).collect();
    cards.push(f3_card());

    // F4: a flare after the last massage.
    let mut interval = phase_interval;
    let mut f4 = None;
    if let (Some(last), Some(lowered)) = (flare, after_flare) {
        let repeated = a.flare_streak >= 2;
        let top = phase_interval.max + if repeated { s.repeat_flare_extra_days } else { 0 };
        interval = Range::new(top, top + s.flare_window_days);
        let current = rec.minutes.unwrap_or(Range::new(s.flare_max_minutes, s.flare_max_minutes));
        rec.minutes = Some(Range::new(current.min.min(s.flare_max_minutes), current.max.min(s.flare_max_minutes)));
        f4 = Some(F4Applied { days: top, minutes: rec.minutes.unwrap_or(current) });
        cards.push(f4_card(s, a, last, top, lowered, phase_interval));
    }
    rec.interval_days = Some(interval);
    let phase_card = match a.phase {
        Phase::Initial => f1_card(s, a, f4),
        Phase::Maintenance => f6_card(s, a, phase_minutes.unwrap_or(s.maintenance_minutes), f4),
    };
    cards.insert(0, phase_card);

    // F5: regularity.
    if let Some(last) = a.last() {
        let days = as_of.days_since(last.date);
        if days > interval.max as i32 {
            cards.push(f5_card(last, days, interval));
        }
    }

    // F7: the home health plan and the combined-therapy module.
    cards.push(f7_card());

    Guidance { cards, recommendation: Some(rec), hold: None }
}

/// F4: one step below the pressure used in the session that flared (below
/// F2's maximum when none was recorded), never above F2's maximum.
fn lower_after_flare(used: Option<Pressure>, f2_max: Pressure) -> Pressure {
    used.unwrap_or(f2_max).lighter().min(f2_max)
}

/// What F4 set for the next session, for the phase card to say (so that it
/// never advises the shorter interval or longer session that F4 forbids).
#[derive(Debug, Clone, Copy)]
struct F4Applied {
    days: u32,
    minutes: Range,
}

/// The phase card's summary: the phase's usual length and interval, or,
/// after a flare, what F4 sets for the next session and the usual interval after it.
fn phase_summary(phase: &str, minutes: Range, interval: Range, f4: Option<F4Applied>) -> String {
    match f4 {
        None => format!("{phase}: {minutes} min sessions every {interval} days"),
        Some(f) => {
            format!(
                "{phase}: after this flare, next in {} days, {} min or less (F4); then every {interval} days",
                f.days, f.minutes.max
            )
        }
    }
}

fn f1_card(s: &FibromyalgiaSettings, a: &Assessment<'_>, f4: Option<F4Applied>) -> Card {
    let summary = phase_summary("Initial phase", s.initial_minutes, s.initial_interval_days, f4);
    let mut detail = String::new();
    let _ = write!(
        detail,
        "The client has had {} so far and has not yet been stable (rule F6: at least {} massages, none of the last {} \
         followed by a flare, pain-before not rising over them), so the initial phase applies: sessions of {} minutes, \
         {} days apart.\n\n",
        sessions(a.massages.len()),
        s.stable_min_sessions,
        s.stable_window_sessions,
        s.initial_minutes,
        s.initial_interval_days
    );
    detail.push_str(&quote(
        SOURCE_A,
        "I usually recommend to start with short sessions (30 mins) every 1-2 weeks initially.",
    ));
    card("F1", Indicator::Info, summary, detail)
}

fn f6_card(s: &FibromyalgiaSettings, a: &Assessment<'_>, minutes: Range, f4: Option<F4Applied>) -> Card {
    let phase = match &a.stable_now {
        Ok(()) => "Maintenance phase".to_owned(),
        Err(lapse) => format!("Maintenance phase, not stable now ({})", lapse.short),
    };
    let summary = phase_summary(&phase, minutes, s.maintenance_interval_days, f4);
    let mut detail = String::new();
    if let Some(since) = a.stable_since {
        let _ = write!(
            detail,
            "The client counted as stable on {} (rule F6, project default: at least {} massages, none of the last {} \
             followed by a flare, pain-before not rising over them). ",
            since.date, s.stable_min_sessions, s.stable_window_sessions
        );
    }
    match &a.stable_now {
        Ok(()) => detail.push_str("The client is stable now. "),
        Err(lapse) => {
            let _ = write!(
                detail,
                "That no longer holds: {}. The maintenance phase continues (rule F2 speaks of flares within \
                 maintenance, and F4 lengthens the interval to the top of the maintenance range), but until the \
                 client is stable again the pressure stays at the lighter maximum (F2) and a flare after the last \
                 massage sets the next session (F4). ",
                lapse.why
            );
        }
    }
    match f4 {
        None => {
            let _ = write!(
                detail,
                "Sessions of {minutes} minutes (project default `maintenance_minutes`; the sources give no length \
                 for maintenance).\n\n"
            );
        }
        Some(f) => {
            let _ = write!(
                detail,
                "After this flare, F4 keeps the next session at {} minutes or less; the maintenance length ({minutes} \
                 minutes, project default `maintenance_minutes`) applies again after it.\n\n",
                f.minutes.max
            );
        }
    }
    detail.push_str(&quote(
        SOURCE_A,
        "A long term maintenance plan would usually require massage every 2-4 weeks, alongside a health plan which \
         may involve additional measures at home.",
    ));
    card("F6", Indicator::Info, summary, detail)
}

fn f2_card(
    client: &ClientSnapshot,
    s: &FibromyalgiaSettings,
    a: &Assessment<'_>,
    max: Pressure,
    after_flare: Option<Pressure>,
) -> Card {
    let applies = after_flare.unwrap_or(max);
    let summary = format!("Gentle pressure (at most {applies}) and slow strokes; no deep pressure on tender points");
    let mut detail = String::new();
    let why = match a.phase {
        Phase::Initial => "the initial-phase maximum (project default)".to_owned(),
        Phase::Maintenance if a.recent_flare => format!(
            "the lighter maximum, kept in maintenance while a flare followed one of the last {} massages: the \
             maintenance maximum returns once that many pass without one (project default)",
            s.maintenance_pressure_flare_free_sessions
        ),
        Phase::Maintenance => format!(
            "the maintenance maximum: no flare followed the last {} massages (project default)",
            s.maintenance_pressure_flare_free_sessions
        ),
    };
    let _ = write!(detail, "Heaviest pressure under F2: **{max}**, {why}.");
    if let Some(lowered) = after_flare {
        let _ = write!(detail, " After the flare following the last massage, F4 lowers it to **{lowered}**.");
    }
    detail.push_str(" Never firm or deep pressure on tender points.");
    if !client.tender_points.is_empty() {
        let _ = write!(detail, " Tender points on record: {}.", client.tender_points.join(", "));
    }
    detail.push_str("\n\n");
    detail.push_str(&quote(
        SOURCE_B,
        "For fibromyalgia, gentle pressure and slow strokes prevent triggering pain flares.",
    ));
    detail.push_str("\n\n");
    detail.push_str(&quote(SOURCE_B, "Deep pressure on fibromyalgia tender points can also increase discomfort."));
    card("F2", Indicator::Info, summary, detail)
}

fn f3_card() -> Card {
    let detail = quote(
        SOURCE_A,
        "There is usually a high level of muscular tension in people who have fibromyalgia. This frequently shows up \
         in the neck, shoulders and back, but can also be widespread.",
    );
    card("F3", Indicator::Info, "Focus on releasing tension in the neck, shoulders and back".to_owned(), detail)
}

fn f4_card(
    s: &FibromyalgiaSettings,
    a: &Assessment<'_>,
    last: &SessionRecord,
    days: u32,
    pressure: Pressure,
    phase_interval: Range,
) -> Card {
    let minutes = s.flare_max_minutes;
    let summary = if a.flare_streak >= 2 {
        format!(
            "{} flares in a row: wait {days} days, pressure at most {pressure}, {minutes} min or less",
            a.flare_streak
        )
    } else {
        format!("Flare after the last massage: wait {days} days, pressure at most {pressure}, {minutes} min or less")
    };
    let mut detail = String::new();
    let _ = write!(
        detail,
        "The massage of {} was followed by a flare ({}). Time the next interval to the client's clinical symptoms: \
         the next massage waits until the top of the {} range ({} days)",
        last.date,
        flare_reason(last),
        a.phase.as_str(),
        phase_interval
    );
    if a.flare_streak >= 2 {
        let _ = write!(
            detail,
            " plus {} days because the last {} massages were each followed by a flare (project default)",
            s.repeat_flare_extra_days, a.flare_streak
        );
    }
    let used = last.pressure.map_or_else(|| "not recorded".to_owned(), |p| p.label().to_owned());
    if s.flare_window_days > 0 {
        let _ = write!(detail, ", and may come up to {} days after that (project default)", s.flare_window_days);
    }
    let _ = write!(
        detail,
        ", uses pressure one step lighter (at most **{pressure}**; pressure used: {used}) and lasts {minutes} minutes \
         or less.\n\n"
    );
    detail.push_str(&quote(
        SOURCE_A,
        "Pain can sometimes become worse initially due to an impaired ability for detoxification, so it is very \
         important to time the interval between sessions according to clinical symptoms.",
    ));
    card("F4", Indicator::Warning, summary, detail)
}

fn f5_card(last: &SessionRecord, days: i32, interval: Range) -> Card {
    let summary =
        format!("{days} days since the last massage, more than the {interval} days planned: keep them regular");
    let mut detail = String::new();
    let _ = write!(
        detail,
        "The last massage was on {}, {days} days ago; the interval for this client is {interval} days. \
         Single or infrequent sessions do not work like regular ones.\n\n",
        last.date
    );
    detail.push_str(&quote(
        SOURCE_A,
        "Think of it as a type of analgesia; if you were taking a tablet you would not stop taking it and still \
         expect it to work. The same principle applies; single, or infrequent, sessions will not provide the same \
         level of effectiveness as having regular sessions.",
    ));
    card("F5", Indicator::Warning, summary, detail)
}

fn f7_card() -> Card {
    let mut detail = String::from(
        "Massage works alongside a home health plan. Consider gentle movement (tai chi, yoga) and mindfulness \
         meditation, planned through the combined-therapy module.\n\n",
    );
    detail.push_str(&quote(
        SOURCE_A,
        "A long term maintenance plan would usually require massage every 2-4 weeks, alongside a health plan which \
         may involve additional measures at home.",
    ));
    detail.push_str("\n\n");
    detail.push_str(&quote(
        SOURCE_B,
        "Consider complementing your massage for chronic pain with gentle movement practices like tai chi or yoga, \
         which enhance flexibility while reinforcing body awareness gained during massage sessions. Mindfulness \
         meditation can amplify massage benefits by teaching you to manage pain perception between treatments.",
    ));
    card(
        "F7",
        Indicator::Info,
        "Pair massage with a home health plan: tai chi or yoga, and mindfulness".to_owned(),
        detail,
    )
    .with_suggestion("Add tai chi or yoga to the care plan")
    .with_suggestion("Add mindfulness meditation to the care plan")
}

praxis_sdk::export_plugin!(protocol = Fibromyalgia);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_defaults_agree_with_the_settings_default() {
        let manifest = Fibromyalgia.manifest();
        manifest.validate().unwrap();
        let declared = serde_json::Value::Object(manifest.default_settings());
        let actual = serde_json::to_value(FibromyalgiaSettings::default()).unwrap();
        assert_eq!(declared, actual);
        let decoded = FibromyalgiaSettings::from_settings(&manifest.default_settings()).unwrap();
        assert_eq!(decoded, FibromyalgiaSettings::default());
    }

    #[test]
    fn every_setting_says_where_its_value_comes_from() {
        for spec in FibromyalgiaSettings::specs() {
            let d = &spec.description;
            assert!(
                d.contains("project default") || d.contains("from source") || d.contains("from the rules"),
                "{}: {d}",
                spec.key
            );
        }
    }

    #[test]
    fn lowering_after_a_flare() {
        let check = |used, max, expected| assert_eq!(lower_after_flare(used, max), expected, "{used:?} {max:?}");
        check(Some(Pressure::Light), Pressure::Light, Pressure::LightTouch);
        check(Some(Pressure::Moderate), Pressure::Light, Pressure::Light);
        check(Some(Pressure::LightTouch), Pressure::Moderate, Pressure::LightTouch);
        check(Some(Pressure::Deep), Pressure::Moderate, Pressure::Moderate);
        check(None, Pressure::Moderate, Pressure::Light);
        check(None, Pressure::LightTouch, Pressure::LightTouch);
    }
}
