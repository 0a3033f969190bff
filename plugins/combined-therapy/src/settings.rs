//! The plugin's settings. Every value here is a project default, not a
//! clinical fact, except where a rule id is named; the practice can change
//! each one in its configuration.

use praxis_sdk::{PluginError, SettingSpec};
use serde::Deserialize;

/// Default length of the heat step before a massage, in minutes (project default; the rules give no figure).
pub const DEFAULT_HEAT_MINUTES: u16 = 10;
/// Default length of the cold step after a massage, in minutes (project default; the rules give no figure).
pub const DEFAULT_COLD_MINUTES: u16 = 10;
/// Default weekly cap of therapy appointments for a client with fibromyalgia (rule C5, a project default).
pub const DEFAULT_WEEKLY_CAP: u32 = 3;
/// Default run of consecutive days over which the C5 cap counts (rule C5 says "a week"; project default).
pub const DEFAULT_CAP_WINDOW_DAYS: u32 = 7;
/// Default granularity of start times, in minutes after midnight (project default).
pub const DEFAULT_SLOT_MINUTES: u16 = 15;
/// Default slack around the due day of a non-massage session, in days (project default).
pub const DEFAULT_TOLERANCE_DAYS: u32 = 3;
/// Default time budget of the improvement phase after the greedy construction, in milliseconds (project default;
/// 0 turns the phase off).
pub const DEFAULT_IMPROVE_MS: u32 = 300;
/// Default seed of the improvement phase's random choices (project default).
pub const DEFAULT_IMPROVE_SEED: u64 = 1;
/// Default number of passes of the improvement phase over the demand it tries to place (project default).
pub const DEFAULT_IMPROVE_ROUNDS: u32 = 3;

/// The combined-therapy scheduler's settings, decoded from the practice config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Minutes of heat before a massage (rule C2 orders it; the length is a project default).
    pub heat_minutes: u16,
    /// Minutes of cold after a massage (rule C2 orders it; the length is a project default).
    pub cold_minutes: u16,
    /// Therapy visits a client with fibromyalgia may have in any `cap_window_days` consecutive days (rule C5).
    pub weekly_cap: u32,
    /// The run of consecutive days the C5 cap counts over (7: any 7 days, not calendar weeks).
    pub cap_window_days: u32,
    /// Whether a client with fibromyalgia may have two visits on one day (rule C5 says no: `true`).
    pub same_day_bundled_only: bool,
    /// Start times are multiples of this many minutes after midnight.
    pub slot_minutes: u16,
    /// A non-massage session due on day D may be placed from D - t to D + t, where t is the smaller of this
    /// and half the discipline's interval.
    pub tolerance_days: u32,
    /// Whether yoga, tai chi and mindfulness go to a group class before an individual session is tried.
    pub prefer_classes: bool,
    /// The improvement phase's time budget in milliseconds; 0 turns it off.
    pub improve_ms: u32,
    /// The seed of the improvement phase's random choices: the same seed gives the same plan.
    pub improve_seed: u64,
    /// Passes of the improvement phase over the unmet and late demand (it stops early after a pass that places
    /// nothing, or when the time budget runs out).
    pub improve_rounds: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            heat_minutes: DEFAULT_HEAT_MINUTES,
            cold_minutes: DEFAULT_COLD_MINUTES,
            weekly_cap: DEFAULT_WEEKLY_CAP,
            cap_window_days: DEFAULT_CAP_WINDOW_DAYS,
            same_day_bundled_only: true,
            slot_minutes: DEFAULT_SLOT_MINUTES,
            tolerance_days: DEFAULT_TOLERANCE_DAYS,
            prefer_classes: true,
            improve_ms: DEFAULT_IMPROVE_MS,
            improve_seed: DEFAULT_IMPROVE_SEED,
            improve_rounds: DEFAULT_IMPROVE_ROUNDS,
        }
    }
}

impl Settings {
    /// Decodes and checks the settings a practice gave.
    pub fn from_map(map: &praxis_sdk::Settings) -> Result<Settings, PluginError> {
        let s: Settings = praxis_sdk::decode_settings(map)?;
        s.validate()?;
        Ok(s)
    }

    /// Checks every value's range; the first problem, saying what to give instead.
    pub fn validate(&self) -> Result<(), PluginError> {
        let bad = |m: String| Err(PluginError::BadSettings(m));
        if !(1..=60).contains(&self.heat_minutes) {
            return bad(format!(
                "heat_minutes {} is outside 1-60: give the heat step's length in minutes",
                self.heat_minutes
            ));
        }
        if !(1..=60).contains(&self.cold_minutes) {
            return bad(format!(
                "cold_minutes {} is outside 1-60: give the cold step's length in minutes",
                self.cold_minutes
            ));
        }
        if !(1..=21).contains(&self.weekly_cap) {
            return bad(format!(
                "weekly_cap {} is outside 1-21: give a whole number of appointments per week",
                self.weekly_cap
            ));
        }
        if !(1..=28).contains(&self.cap_window_days) {
            return bad(format!(
                "cap_window_days {} is outside 1-28: give the run of days the C5 cap counts over, such as 7",
                self.cap_window_days
            ));
        }
        if !(1..=120).contains(&self.slot_minutes) || 1440 % self.slot_minutes != 0 {
            return bad(format!(
                "slot_minutes {} must divide a day and be 1-120: give 5, 10, 15, 20, 30 or 60",
                self.slot_minutes
            ));
        }
        if self.tolerance_days > 14 {
            return bad(format!("tolerance_days {} is above 14: give 0 to 14 days", self.tolerance_days));
        }
        if self.improve_ms > 60_000 {
            return bad(format!(
                "improve_ms {} is above 60000: give the improvement phase's budget in milliseconds (0 turns it off)",
                self.improve_ms
            ));
        }
        if self.improve_rounds > 100 {
            return bad(format!("improve_rounds {} is above 100: give 0 to 100 passes", self.improve_rounds));
        }
        Ok(())
    }

    /// The settings as the manifest declares them, with their defaults and meaning.
    pub fn specs() -> Vec<SettingSpec> {
        vec![
            SettingSpec::new(
                "heat_minutes",
                DEFAULT_HEAT_MINUTES,
                "Minutes of heat before a massage, as its own appointment in the same visit (rule C2 sets the \
                 order; the length is a project default, not from the sources).",
            ),
            SettingSpec::new(
                "cold_minutes",
                DEFAULT_COLD_MINUTES,
                "Minutes of cold after a massage, as its own appointment in the same visit (rule C2 sets the \
                 order; the length is a project default, not from the sources).",
            ),
            SettingSpec::new(
                "weekly_cap",
                DEFAULT_WEEKLY_CAP,
                "Rule C5 (default): at most this many therapy visits in any `cap_window_days` consecutive days \
                 for a client with fibromyalgia, all disciplines together; a heat-massage-cold visit counts once.",
            ),
            SettingSpec::new(
                "cap_window_days",
                DEFAULT_CAP_WINDOW_DAYS,
                "Rule C5 (default): the run of consecutive days the cap counts over; 7 means any 7 days in a \
                 row, not Monday-Sunday weeks.",
            ),
            SettingSpec::new(
                "same_day_bundled_only",
                true,
                "Rule C5 (default): a client with fibromyalgia has no two visits on the same day.",
            ),
            SettingSpec::new(
                "slot_minutes",
                DEFAULT_SLOT_MINUTES,
                "Appointments start at multiples of this many minutes after midnight (project default).",
            ),
            SettingSpec::new(
                "tolerance_days",
                DEFAULT_TOLERANCE_DAYS,
                "A yoga, tai chi, mindfulness, acupuncture or physical therapy session due on day D may be \
                 placed up to this many days either side of D, at most half its interval (project default).",
            ),
            SettingSpec::new(
                "improve_ms",
                DEFAULT_IMPROVE_MS,
                "Time budget in milliseconds of the improvement phase, a large-neighbourhood search after the \
                 greedy plan that moves other sessions to place unmet or late demand (project default; 0 turns \
                 it off).",
            ),
            SettingSpec::new(
                "improve_seed",
                DEFAULT_IMPROVE_SEED,
                "Seed of the improvement phase's random choices; the same seed gives the same plan when the \
                 phase finishes its passes within its budget (project default).",
            ),
            SettingSpec::new(
                "improve_rounds",
                DEFAULT_IMPROVE_ROUNDS,
                "Passes of the improvement phase over the unmet and late demand; it stops after a pass that \
                 places nothing (project default).",
            ),
            SettingSpec::new(
                "prefer_classes",
                true,
                "Yoga, tai chi and mindfulness go to a group class when one fits before an individual session \
                 is tried (project default).",
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, expected: Result<(), &str>) {
        let map: praxis_sdk::Settings = serde_json::from_str(json).unwrap();
        let got = Settings::from_map(&map).map(|_| ()).map_err(|e| e.to_string());
        match expected {
            Ok(()) => assert!(got.is_ok(), "{json}: {got:?}"),
            Err(part) => {
                let msg = got.expect_err(json);
                assert!(msg.contains(part), "{json}: `{msg}` lacks `{part}`");
            }
        }
    }

    #[test]
    fn settings_are_checked() {
        check("{}", Ok(()));
        check(r#"{"weekly_cap": 2, "heat_minutes": 15}"#, Ok(()));
        check(r#"{"weekly_cap": 0}"#, Err("weekly_cap 0 is outside 1-21"));
        check(r#"{"weekly_cap": -1}"#, Err("bad settings"));
        check(r#"{"heat_minutes": 0}"#, Err("heat_minutes 0"));
        check(r#"{"cold_minutes": 90}"#, Err("cold_minutes 90"));
        check(r#"{"cap_window_days": 0}"#, Err("cap_window_days 0 is outside 1-28"));
        check(r#"{"cap_window_days": 29}"#, Err("cap_window_days 29"));
        check(r#"{"cap_window_days": 14}"#, Ok(()));
        check(r#"{"slot_minutes": 7}"#, Err("slot_minutes 7 must divide a day"));
        check(r#"{"tolerance_days": 30}"#, Err("tolerance_days 30"));
        check(r#"{"weekly_caps": 3}"#, Err("unknown field `weekly_caps`"));
        check(r#"{"prefer_classes": "yes"}"#, Err("bad settings"));
        check(r#"{"improve_ms": 0, "improve_seed": 7, "improve_rounds": 1}"#, Ok(()));
        check(r#"{"improve_ms": 600000}"#, Err("improve_ms 600000 is above 60000"));
        check(r#"{"improve_rounds": 1000}"#, Err("improve_rounds 1000"));
        check(r#"{"improve_seed": -1}"#, Err("bad settings"));
    }

    #[test]
    fn specs_match_defaults() {
        let map: praxis_sdk::Settings = Settings::specs().into_iter().map(|s| (s.key, s.default)).collect();
        assert_eq!(Settings::from_map(&map), Ok(Settings::default()));
    }
}
