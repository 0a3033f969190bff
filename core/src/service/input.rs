//! What a person types, parsed: conditions, red flags, availability windows,
//! care-plan therapies. The command line, the HTTP API and the web forms take
//! the same spellings and give the same messages.

use praxis_sdk::{
    AdverseEvent, Condition, ConditionStatus, Date, Discipline, RedFlag, RedFlagKind, TimeOfDay, WeeklyWindow, snomed,
};

use crate::store::{MedicationUse, Therapy};

use super::ServiceError;

type Result<T> = std::result::Result<T, ServiceError>;

fn bad<T>(message: impl Into<String>) -> Result<T> {
    Err(ServiceError::BadInput(message.into()))
}

/// Parses a care-plan therapy, `yoga:7` or `acupuncture:14:45`
/// (DISCIPLINE:EVERY_DAYS[:MINUTES], minutes 60 unless given).
pub fn parse_therapy(spec: &str) -> Result<Therapy> {
    let bad_spec = |why: &str| {
        ServiceError::BadInput(format!(
            "`{spec}`: {why}; write DISCIPLINE:EVERY_DAYS[:MINUTES], e.g. yoga:7 or acupuncture:14:45"
        ))
    };
    let mut parts = spec.split(':');
    let discipline = Discipline::parse(parts.next().unwrap_or_default());
    if !discipline.is_known() {
        return Err(bad_spec(
            "unknown discipline (massage, yoga, tai_chi, acupuncture, physical_therapy, mindfulness)",
        ));
    }
    if discipline == Discipline::Massage {
        return Err(bad_spec("massage intervals come from the protocol plugins' guidance, not the care plan"));
    }
    let every_days: u32 =
        parts.next().and_then(|d| d.trim().parse().ok()).ok_or_else(|| bad_spec("missing or bad EVERY_DAYS"))?;
    if !(1..=365).contains(&every_days) {
        return Err(bad_spec("EVERY_DAYS must be 1 to 365"));
    }
    let minutes: u16 = match parts.next() {
        None => 60,
        Some(m) => m
            .trim()
            .parse()
            .ok()
            .filter(|m| (5..=240).contains(m))
            .ok_or_else(|| bad_spec("MINUTES must be 5 to 240"))?,
    };
    if parts.next().is_some() {
        return Err(bad_spec("too many parts"));
    }
    Ok(Therapy { discipline, every_days, minutes })
}

/// Parses a condition, `CODE-OR-NAME[:STATUS[:SINCE]]`, e.g.
/// `fibromyalgia:active:2024-03-01` or `69896004:flare`. A start date after
/// `today` is refused.
pub fn parse_condition(spec: &str, today: Date) -> Result<Condition> {
    let mut parts = spec.splitn(3, ':');
    let code_or_name = parts.next().unwrap_or_default().trim();
    let (code, name) = match code_or_name.to_ascii_lowercase().replace([' ', '_'], "-").as_str() {
        "fibromyalgia" => (snomed::FIBROMYALGIA, "Fibromyalgia"),
        "rheumatoid-arthritis" | "ra" => (snomed::RHEUMATOID_ARTHRITIS, "Rheumatoid arthritis"),
        "osteoarthritis" | "oa" => (snomed::OSTEOARTHRITIS, "Osteoarthritis"),
        "low-back-pain" => (snomed::LOW_BACK_PAIN, "Low back pain"),
        "neck-pain" => (snomed::NECK_PAIN, "Neck pain"),
        other if !other.is_empty() && other.len() <= 18 && other.bytes().all(|b| b.is_ascii_digit()) => {
            (code_or_name, "")
        }
        _ => {
            return bad(format!(
                "`{}`: unknown condition `{}`: give a SNOMED CT code or one of fibromyalgia, rheumatoid-arthritis, osteoarthritis, low-back-pain, neck-pain",
                excerpt(spec),
                excerpt(code_or_name)
            ));
        }
    };
    let name = if name.is_empty() { known_condition_name(code).unwrap_or("") } else { name };
    let status = match parts.next().map(str::trim) {
        None | Some("") | Some("active") => ConditionStatus::Active,
        Some("flare") => ConditionStatus::Flare,
        Some("remission") => ConditionStatus::Remission,
        Some(other) => {
            return bad(format!(
                "`{}`: unknown status `{}`: use active, flare or remission",
                excerpt(spec),
                excerpt(other)
            ));
        }
    };
    let since = match parts.next().map(str::trim) {
        None | Some("") => None,
        Some(d) => {
            let d: Date = d.parse().map_err(|e| ServiceError::BadInput(format!("`{}`: {e}", excerpt(spec))))?;
            if d > today {
                return bad(format!("`{}`: a condition cannot start in the future ({d})", excerpt(spec)));
            }
            Some(d)
        }
    };
    Ok(Condition { code: code.to_owned(), name: name.to_owned(), status, since })
}

/// The display name of a known SNOMED CT code.
pub fn known_condition_name(code: &str) -> Option<&'static str> {
    Some(match code {
        snomed::FIBROMYALGIA => "Fibromyalgia",
        snomed::RHEUMATOID_ARTHRITIS => "Rheumatoid arthritis",
        snomed::OSTEOARTHRITIS => "Osteoarthritis",
        snomed::LOW_BACK_PAIN => "Low back pain",
        snomed::NECK_PAIN => "Neck pain",
        _ => return None,
    })
}

/// Parses a red-flag kind: recent-injury, nerve-compression,
/// inflammatory-flare or other (underscores and spaces accepted).
pub fn parse_red_flag_kind(kind: &str) -> Result<RedFlagKind> {
    Ok(match kind.trim().to_ascii_lowercase().replace(['_', ' '], "-").as_str() {
        "recent-injury" | "injury" => RedFlagKind::RecentInjury,
        "nerve-compression" => RedFlagKind::NerveCompression,
        "inflammatory-flare" => RedFlagKind::InflammatoryFlare,
        "other" => RedFlagKind::Other,
        _ => {
            return bad(format!(
                "unknown red flag kind `{}`: use recent-injury, nerve-compression, inflammatory-flare or other",
                excerpt(kind)
            ));
        }
    })
}

/// Parses a red flag, `KIND[:REGION[:DATE]]`, e.g. `recent-injury:left knee:2026-11-10`.
pub fn parse_red_flag(spec: &str, today: Date) -> Result<RedFlag> {
    let mut parts = spec.splitn(3, ':');
    let kind = parse_red_flag_kind(parts.next().unwrap_or_default())?;
    let region = parts.next().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    let date = match parts.next().map(str::trim) {
        None | Some("") => None,
        Some(d) => {
            let d: Date = d.parse().map_err(|e| ServiceError::BadInput(format!("`{}`: {e}", excerpt(spec))))?;
            if d > today {
                return bad(format!("`{}`: a red flag cannot be dated in the future ({d})", excerpt(spec)));
            }
            Some(d)
        }
    };
    Ok(RedFlag { kind, region, date, resolved: None, note: String::new() })
}

/// Parses an availability window, `monday 09:00-17:00`.
pub fn parse_window(spec: &str) -> Result<WeeklyWindow> {
    let bad_window = || {
        ServiceError::BadInput(format!(
            "`{}` is not an availability window: write it as \"monday 09:00-17:00\"",
            excerpt(spec)
        ))
    };
    let (day, span) = spec.trim().split_once(' ').ok_or_else(bad_window)?;
    let (a, b) = span.trim().split_once('-').ok_or_else(bad_window)?;
    let start: TimeOfDay = a.trim().parse().map_err(|_| bad_window())?;
    let end: TimeOfDay = b.trim().parse().map_err(|_| bad_window())?;
    if start >= end {
        return bad(format!("`{}`: the window ends before it starts", excerpt(spec)));
    }
    Ok(WeeklyWindow { day: day.parse().map_err(|_| bad_window())?, start, end })
}

/// Parses an adverse event: none, soreness, flare, or stopped-early (which
/// needs a reason). Both `stopped-early` and `stopped_early` are accepted.
pub fn parse_adverse(kind: &str, reason: Option<&str>) -> Result<AdverseEvent> {
    let reason = reason.map(str::trim);
    let kind = kind.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    match (kind.as_str(), reason) {
        ("stopped-early", Some(r)) if !r.is_empty() => Ok(AdverseEvent::StoppedEarly { reason: r.to_owned() }),
        ("stopped-early", _) => bad("--adverse stopped-early needs --reason \"what happened\""),
        (_, Some(_)) => bad("--reason goes with --adverse stopped-early"),
        ("none" | "", None) => Ok(AdverseEvent::None),
        ("soreness", None) => Ok(AdverseEvent::Soreness),
        ("flare", None) => Ok(AdverseEvent::Flare),
        (other, None) => {
            bad(format!("unknown adverse event `{}`: use none, soreness, flare or stopped-early", excerpt(other)))
        }
    }
}

/// Parses the client's report of pain-medication use: none, less (or
/// less_than_usual), as-usual, more (or more_than_usual).
pub fn parse_medication(text: &str) -> Result<MedicationUse> {
    Ok(match text.trim().to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
        "none" => MedicationUse::None,
        "less" | "less_than_usual" => MedicationUse::LessThanUsual,
        "as_usual" | "usual" => MedicationUse::AsUsual,
        "more" | "more_than_usual" => MedicationUse::MoreThanUsual,
        other => {
            return bad(format!("unknown medication use `{}`: use none, less, as-usual or more", excerpt(other)));
        }
    })
}

/// At most 60 characters of a value, for quoting it in a message.
pub fn excerpt(value: &str) -> String {
    const MAX: usize = 60;
    let mut out: String = value.chars().take(MAX).map(|c| if c.is_control() { '?' } else { c }).collect();
    if value.chars().count() > MAX {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_ymd(2026, 12, 1).unwrap()
    }

    /// Each case: the spec, and `Ok(debug)` prefix or `Err(message fragment)`.
    fn check(parse: impl Fn(&str) -> Result<String>, cases: &[(&str, std::result::Result<&str, &str>)]) {
        for (spec, want) in cases {
            match (parse(spec), want) {
                (Ok(got), Ok(want)) => assert!(got.contains(want), "{spec:?}: got {got}, want {want}"),
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{spec:?}: got {e}, want {want}"),
                (got, want) => panic!("{spec:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn conditions() {
        check(
            |s| parse_condition(s, today()).map(|c| format!("{} {:?} {:?}", c.code, c.status, c.since)),
            &[
                ("fibromyalgia", Ok("203082005 Active None")),
                ("Rheumatoid arthritis:flare", Ok("69896004 Flare")),
                ("low_back_pain:remission:2025-01-01", Ok("279039007 Remission Some")),
                ("396275006", Ok("396275006 Active")),
                ("gout", Err("unknown condition `gout`")),
                ("fibromyalgia:worse", Err("unknown status `worse`")),
                ("fibromyalgia:active:2027-01-01", Err("cannot start in the future")),
                ("fibromyalgia:active:2026-13-01", Err("fibromyalgia:active:2026-13-01")),
                ("1234567890123456789012", Err("unknown condition")),
            ],
        );
    }

    #[test]
    fn windows_therapies_and_events() {
        check(
            |s| parse_window(s).map(|w| format!("{w:?}")),
            &[
                ("monday 09:00-17:00", Ok("Monday")),
                ("monday 17:00-09:00", Err("ends before it starts")),
                ("someday 09:00-17:00", Err("not an availability window")),
                ("monday", Err("not an availability window")),
            ],
        );
        check(
            |s| parse_therapy(s).map(|t| format!("{} {} {}", t.discipline, t.every_days, t.minutes)),
            &[
                ("yoga:7", Ok("yoga 7 60")),
                ("acupuncture:14:45", Ok("acupuncture 14 45")),
                ("massage:7", Err("protocol plugins")),
                ("yoga:0", Err("EVERY_DAYS must be 1 to 365")),
                ("yoga:7:300", Err("MINUTES must be 5 to 240")),
                ("juggling:7", Err("unknown discipline")),
                ("yoga:7:30:1", Err("too many parts")),
            ],
        );
        check(
            |s| {
                let (kind, reason) = s.split_once('|').map_or((s, None), |(k, r)| (k, Some(r)));
                parse_adverse(kind, reason).map(|a| format!("{a:?}"))
            },
            &[
                ("none", Ok("None")),
                ("stopped_early|pain rose", Ok("StoppedEarly")),
                ("stopped-early", Err("needs --reason")),
                ("flare|why", Err("--reason goes with")),
                ("exploded", Err("unknown adverse event")),
            ],
        );
        check(
            |s| parse_medication(s).map(|m| format!("{m:?}")),
            &[("less", Ok("LessThanUsual")), ("less_than_usual", Ok("LessThanUsual")), ("lots", Err("unknown"))],
        );
    }

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt("a\nb"), "a?b");
        assert_eq!(excerpt(&"x".repeat(10_000)).len(), 63);
    }
}
