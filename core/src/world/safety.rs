//! The safety screen, rules S1 to S3 of `GUIDANCE-RULES.md`: part of the host,
//! always on, not a plugin and not switchable by configuration.

use std::borrow::Cow;

use praxis_sdk::{
    AdverseEvent, Card, ClientSnapshot, ConditionStatus, Date, Guidance, Hold, Indicator, Recommendation, RedFlagKind,
    SessionRecord,
};

use super::rules::{HostRules, condition_label};

/// The `source.plugin` of every card and hold the host makes.
pub const HOST: &str = "host";

/// The source label of safety-screen cards.
pub const SAFETY_LABEL: &str = "Praxis safety screen";

/// Override reason code offered on S1 cards.
pub const PROVIDER_CLEARED: &str = "provider-cleared";

/// Override reason code offered on the S2 card while its hold stands.
pub const SUBSIDED_REPORTED: &str = "pain-subsided-reported";

const S1_SOURCE: &str = "Source: [B] FAQ \"Can massage worsen...\" (rule S1, docs/GUIDANCE-RULES.md).";
const S2_SOURCE: &str =
    "Source: [B] FAQ \"What should I do if massage causes increased pain?\" (rule S2, docs/GUIDANCE-RULES.md).";
const S3_SOURCE: &str = "Source: [B] \"communicate openly with your therapist...\" (rule S3, docs/GUIDANCE-RULES.md).";

/// A card made by the host: its source is `host`, with this crate's version.
pub(crate) fn host_card(rule: &str, indicator: Indicator, label: &str, summary: &str, detail: String) -> Card {
    let mut card = Card::new(rule, indicator, clip(summary), detail).with_source(label);
    card.source.plugin = Some(HOST.to_owned());
    card.source.version = Some(env!("CARGO_PKG_VERSION").to_owned());
    card
}

/// Cuts a summary to fewer than 140 characters (CDS Hooks), on a character boundary.
pub(crate) fn clip(summary: &str) -> String {
    const MAX: usize = praxis_sdk::guidance::SUMMARY_MAX_CHARS - 1;
    if summary.chars().count() <= MAX {
        return summary.to_owned();
    }
    let mut cut: String = summary.chars().take(MAX - 1).collect();
    cut.push('…');
    cut
}

/// The client as known on `as_of`: sessions and red flags dated later are
/// dropped, a red flag resolved after `as_of` still stands, and an intake
/// recorded after `as_of` is not there yet. Borrowed when nothing is later.
pub fn as_of_view(client: &ClientSnapshot, as_of: Date) -> Cow<'_, ClientSnapshot> {
    let later_session = client.sessions.iter().any(|s| s.date > as_of);
    let later_flag = client.red_flags.iter().any(|f| f.date.is_some_and(|d| d > as_of) || f.resolved > Some(as_of));
    let later_intake = client.intake.as_ref().is_some_and(|i| i.recorded > as_of);
    if !(later_session || later_flag || later_intake) {
        return Cow::Borrowed(client);
    }
    let mut view = client.clone();
    view.sessions.retain(|s| s.date <= as_of);
    view.red_flags.retain(|f| f.date.is_none_or(|d| d <= as_of));
    for flag in &mut view.red_flags {
        if flag.resolved > Some(as_of) {
            flag.resolved = None;
        }
    }
    if later_intake {
        view.intake = None;
    }
    Cow::Owned(view)
}

/// The last massage on or before `as_of`, if any.
pub fn last_massage(client: &ClientSnapshot, as_of: Date) -> Option<&SessionRecord> {
    client.massages().filter(|s| s.date <= as_of).max_by_key(|s| s.date)
}

/// Runs S1, S2 and S3 for one client (give it the [`as_of_view`]).
///
/// - **S1**: a `critical` card for each unresolved recent injury (dated within
///   `rules.recent_injury_days` of `as_of`, or undated), each unresolved nerve
///   compression, each unresolved inflammatory-flare red flag, and each
///   condition that [`HostRules::is_inflammatory`] and whose status is `flare`.
/// - **S2**: when the last massage was stopped early, the next session's
///   pressure is capped one step below the pressure used, and the client is on
///   hold until a later pain report shows the pain has subsided (see
///   [`pain_subsided`]); a `critical` card while the hold stands, a `warning`
///   about the pressure once it has lifted.
/// - **S3**: a `warning` while no intake is recorded.
pub fn safety_screen(client: &ClientSnapshot, as_of: Date, rules: &HostRules) -> Guidance {
    let mut guidance = Guidance::default();
    screen_red_flags(client, as_of, rules, &mut guidance.cards);
    screen_conditions(client, rules, &mut guidance.cards);
    screen_stopped_early(client, as_of, &mut guidance);
    if client.intake.is_none() {
        guidance.cards.push(host_card(
            "S3",
            Indicator::Warning,
            SAFETY_LABEL,
            "No intake recorded: record pain patterns, sensitivities and previous treatments first",
            format!(
                "Before a first session the practitioner records the client's pain patterns, sensitivities and \
                 previous treatments, so that the session can be tailored to them.\n\n{S3_SOURCE}"
            ),
        ));
    }
    guidance
}

fn s1_card(summary: &str, why: &str) -> Card {
    host_card(
        "S1",
        Indicator::Critical,
        SAFETY_LABEL,
        summary,
        format!(
            "{why} Massage may intensify the pain. Advise the client to consult their healthcare provider before \
             treating; do not book or treat without a recorded override reason.\n\n{S1_SOURCE}"
        ),
    )
    .with_override(PROVIDER_CLEARED, "Client's healthcare provider consulted and cleared treatment")
}

fn where_and_when(region: Option<&str>, date: Option<Date>) -> String {
    match (region.map(str::trim).filter(|r| !r.is_empty()), date) {
        (Some(r), Some(d)) => format!(" ({r}, {d})"),
        (Some(r), None) => format!(" ({r})"),
        (None, Some(d)) => format!(" ({d})"),
        (None, None) => String::new(),
    }
}

fn screen_red_flags(client: &ClientSnapshot, as_of: Date, rules: &HostRules, cards: &mut Vec<Card>) {
    for flag in client.red_flags.iter().filter(|f| f.resolved.is_none_or(|r| r > as_of)) {
        let at = where_and_when(flag.region.as_deref(), flag.date);
        match flag.kind {
            RedFlagKind::RecentInjury => {
                let recent = flag.date.is_none_or(|d| {
                    let age = as_of.days_since(d);
                    age <= i32::try_from(rules.recent_injury_days).unwrap_or(i32::MAX)
                });
                if recent {
                    cards.push(s1_card(
                        &format!("Recent injury{at}: consult the client's healthcare provider before treating"),
                        &format!(
                            "An unresolved injury is on record{at}; it counts as recent for {} days after its date \
                             (practice setting `rules.recent_injury_days`, a project default).",
                            rules.recent_injury_days
                        ),
                    ));
                }
            }
            RedFlagKind::NerveCompression => cards.push(s1_card(
                &format!("Nerve compression{at}: consult the client's healthcare provider before treating"),
                &format!("An unresolved nerve compression is on record{at}."),
            )),
            RedFlagKind::InflammatoryFlare => cards.push(s1_card(
                &format!("Inflammatory flare{at}: consult the client's healthcare provider before treating"),
                &format!("An inflammatory condition in flare is on record{at}."),
            )),
            RedFlagKind::Other | RedFlagKind::Unknown => {}
        }
    }
}

fn screen_conditions(client: &ClientSnapshot, rules: &HostRules, cards: &mut Vec<Card>) {
    for condition in client.conditions.iter().filter(|c| c.status == ConditionStatus::Flare) {
        if !rules.is_inflammatory(&condition.code) {
            continue;
        }
        let name = condition_label(&condition.code, &condition.name);
        cards.push(s1_card(
            &format!("{} in flare: consult the client's healthcare provider before treating", capitalized(&name)),
            &format!(
                "The client's {name} (SNOMED CT {}), an inflammatory condition, is recorded in flare.",
                condition.code
            ),
        ));
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// S2: whether a pain report after a session that was stopped early shows the
/// pain has subsided.
///
/// The reports considered are the session's own 24-48 hour follow-up pain and
/// the pain-before of every later session of any discipline (on or before
/// `as_of`); the latest of them decides. The pain has subsided when that report
/// is at or below the session's pain-before (back to where the client started);
/// when pain-before was not recorded, when it is below the session's pain-after.
/// With neither recorded there is nothing to compare with, and the hold stands
/// until a practitioner overrides it. This reading is the project's, the rules
/// file says only "until the client reports the pain has subsided".
pub fn pain_subsided(client: &ClientSnapshot, stopped: &SessionRecord, as_of: Date) -> bool {
    let later = client
        .sessions
        .iter()
        .filter(|s| s.date > stopped.date && s.date <= as_of)
        .filter_map(|s| s.pain_before.map(|p| (s.date, p)))
        .max_by_key(|(d, _)| *d)
        .map(|(_, p)| p);
    let Some(report) = later.or(stopped.follow_up_pain) else {
        return false;
    };
    match (stopped.pain_before, stopped.pain_after) {
        (Some(before), _) => report <= before,
        (None, Some(after)) => report < after,
        (None, None) => false,
    }
}

fn screen_stopped_early(client: &ClientSnapshot, as_of: Date, guidance: &mut Guidance) {
    let Some(last) = last_massage(client, as_of) else {
        return;
    };
    let AdverseEvent::StoppedEarly { reason } = &last.adverse_event else {
        return;
    };
    let why = if reason.trim().is_empty() { String::new() } else { format!(" ({})", reason.trim()) };
    let pressure = last.pressure.map(|p| p.lighter());
    let pressure_line = match (last.pressure, pressure) {
        (Some(used), Some(next)) => format!("Next session: at most {next} pressure ({used} was used)."),
        _ => "Next session: lighter pressure than last time (the pressure used was not recorded).".to_owned(),
    };
    if pressure.is_some() {
        guidance.recommendation = Some(Recommendation { pressure_max: pressure, ..Recommendation::default() });
    }
    if pain_subsided(client, last, as_of) {
        guidance.cards.push(host_card(
            "S2",
            Indicator::Warning,
            SAFETY_LABEL,
            &format!("Last massage ({}) was stopped early: use lighter pressure", last.date),
            format!(
                "The massage of {} was stopped early{why} because pain rose; the client has since reported that the \
                 pain subsided. {pressure_line}\n\n{S2_SOURCE}",
                last.date
            ),
        ));
        return;
    }
    let reason_text = format!(
        "Last massage ({}) was stopped early: not booked until the client reports the pain has subsided",
        last.date
    );
    guidance.hold = Some(Hold { reason: reason_text.clone(), rule: "S2".to_owned() });
    guidance.cards.push(
        host_card(
            "S2",
            Indicator::Critical,
            SAFETY_LABEL,
            &reason_text,
            format!(
                "The massage of {} was stopped early{why} because pain rose. Record the client's pain report \
                 (follow-up pain, or pain before a later session); the hold lifts once it is at or below the pain \
                 before that massage. {pressure_line}\n\n{S2_SOURCE}",
                last.date
            ),
        )
        .with_override(SUBSIDED_REPORTED, "Client reports the pain has subsided"),
    );
}
