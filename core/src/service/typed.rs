//! Values a person types, as types that parse themselves (`FromStr`), so that
//! the command line (clap takes them as value parsers), the HTTP API and the
//! web forms accept the same spellings. Each accepts the canonical spelling,
//! the one the JSON uses (`stopped_early`, `less_than_usual`), and the ones a
//! person writes at a prompt (`stopped-early`, `less`); each says the
//! canonical one when it refuses a value.
//!
//! ```
//! use praxis_core::service::typed::{AdverseKind, MedicationReport};
//!
//! assert_eq!("stopped-early".parse::<AdverseKind>(), Ok(AdverseKind::StoppedEarly));
//! assert_eq!("stopped_early".parse::<AdverseKind>().unwrap().as_str(), "stopped_early");
//! assert_eq!("less".parse::<MedicationReport>().unwrap().as_str(), "less_than_usual");
//! ```

use std::fmt;
use std::str::FromStr;

use crate::store::MedicationUse;

use super::input::excerpt;

/// What went wrong in a session, as recorded (rule S2 for `stopped_early`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdverseKind {
    /// Nothing adverse.
    None,
    /// Ordinary soreness.
    Soreness,
    /// A pain flare.
    Flare,
    /// Pain rose significantly and the session was stopped (rule S2); needs a reason.
    StoppedEarly,
}

impl AdverseKind {
    /// Every kind, in the order help lists them.
    pub const ALL: [AdverseKind; 4] =
        [AdverseKind::None, AdverseKind::Soreness, AdverseKind::Flare, AdverseKind::StoppedEarly];

    /// The canonical spelling, the JSON's.
    pub fn as_str(self) -> &'static str {
        match self {
            AdverseKind::None => "none",
            AdverseKind::Soreness => "soreness",
            AdverseKind::Flare => "flare",
            AdverseKind::StoppedEarly => "stopped_early",
        }
    }
}

/// Lower case, with `-` and spaces read as `_`.
fn canonical_form(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace(['-', ' '], "_")
}

impl FromStr for AdverseKind {
    type Err = String;

    fn from_str(s: &str) -> Result<AdverseKind, String> {
        let norm = canonical_form(s);
        AdverseKind::ALL.into_iter().find(|k| k.as_str() == norm).ok_or_else(|| {
            format!(
                "unknown adverse event `{}`: use none, soreness, flare or stopped_early (also written stopped-early)",
                excerpt(s)
            )
        })
    }
}

impl fmt::Display for AdverseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The client's own report of pain-medication use since the last session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MedicationReport(pub MedicationUse);

impl MedicationReport {
    /// The canonical spelling, the JSON's.
    pub fn as_str(self) -> &'static str {
        match self.0 {
            MedicationUse::None => "none",
            MedicationUse::LessThanUsual => "less_than_usual",
            MedicationUse::AsUsual => "as_usual",
            MedicationUse::MoreThanUsual => "more_than_usual",
        }
    }
}

impl FromStr for MedicationReport {
    type Err = String;

    fn from_str(s: &str) -> Result<MedicationReport, String> {
        let use_ = match canonical_form(s).as_str() {
            "none" => MedicationUse::None,
            "less_than_usual" | "less" => MedicationUse::LessThanUsual,
            "as_usual" | "usual" => MedicationUse::AsUsual,
            "more_than_usual" | "more" => MedicationUse::MoreThanUsual,
            _ => {
                return Err(format!(
                    "unknown medication use `{}`: use none, less_than_usual, as_usual or more_than_usual (also \
                     written less, as-usual, more)",
                    excerpt(s)
                ));
            }
        };
        Ok(MedicationReport(use_))
    }
}

impl fmt::Display for MedicationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adverse_spellings() {
        let check = |text: &str, expect: Result<AdverseKind, &str>| match (text.parse::<AdverseKind>(), expect) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
            (got, want) => panic!("{text}: got {got:?}, expected {want:?}"),
        };
        check("stopped_early", Ok(AdverseKind::StoppedEarly));
        check("stopped-early", Ok(AdverseKind::StoppedEarly));
        check(" Stopped Early ", Ok(AdverseKind::StoppedEarly));
        check("none", Ok(AdverseKind::None));
        check("FLARE", Ok(AdverseKind::Flare));
        check("soreness", Ok(AdverseKind::Soreness));
        check("stopped", Err("unknown adverse event `stopped`: use none, soreness, flare or stopped_early"));
        check("", Err("unknown adverse event"));
        for kind in AdverseKind::ALL {
            assert_eq!(kind.as_str().parse::<AdverseKind>(), Ok(kind), "the canonical spelling parses");
            // The canonical spelling is the one the store's JSON uses for the same event.
            let serde_name = match kind {
                AdverseKind::StoppedEarly => "stopped_early",
                other => other.as_str(),
            };
            assert_eq!(kind.to_string(), serde_name);
        }
    }

    #[test]
    fn medication_spellings() {
        let check = |text: &str, expect: Option<MedicationUse>| {
            assert_eq!(text.parse::<MedicationReport>().ok().map(|m| m.0), expect, "{text}");
        };
        check("less", Some(MedicationUse::LessThanUsual));
        check("less_than_usual", Some(MedicationUse::LessThanUsual));
        check("less-than-usual", Some(MedicationUse::LessThanUsual));
        check("as-usual", Some(MedicationUse::AsUsual));
        check("usual", Some(MedicationUse::AsUsual));
        check("more", Some(MedicationUse::MoreThanUsual));
        check("none", Some(MedicationUse::None));
        check("lots", None);
        assert!("lots".parse::<MedicationReport>().unwrap_err().contains("less_than_usual"));
        for m in
            [MedicationUse::None, MedicationUse::LessThanUsual, MedicationUse::AsUsual, MedicationUse::MoreThanUsual]
        {
            let canonical = MedicationReport(m).as_str();
            assert_eq!(serde_json::to_value(m).unwrap(), canonical, "the canonical spelling is the JSON's");
            assert_eq!(canonical.parse::<MedicationReport>().unwrap().0, m);
        }
    }
}
