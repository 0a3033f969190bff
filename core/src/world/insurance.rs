//! The insurance checks, rules I1 to I3 of `GUIDANCE-RULES.md` (host), and
//! the client's plan resolved against the practice config.
//!
//! A client on a plan keeps only the plan's name (`[insurance.<plan>]`) and
//! what is truly theirs: the member id, whether the referral is on file, the
//! sessions used elsewhere. The terms (payer, referral, covered conditions,
//! session limit and its period) come from the config when guidance is made
//! ([`resolve_insurance`]), and the sessions used are counted from the
//! client's session records in the plan's current period: nothing to keep up
//! by hand, right after an import, and back to zero when a new period starts.
//! A client whose plan the config no longer lists gets a `HOST-PLAN` warning.

use std::collections::BTreeMap;
use std::fmt;

use praxis_sdk::{ClientSnapshot, Condition, Date, Guidance, Indicator, InsuranceSummary, SessionRecord};

use crate::store::Insurance;

use super::rules::{HostRules, condition_label};
use super::safety::host_card;

/// The source label of insurance cards.
pub const INSURANCE_LABEL: &str = "Praxis insurance checks";

/// Override reason code offered on the I2 card at the session limit.
pub const SELF_PAY_AGREED: &str = "self-pay-agreed";

const SOURCE: &str = "Source: [B] FAQ \"Does Health Insurance cover...\"";

/// The rule id of the card for a client whose plan the practice config does not list.
pub const MISSING_PLAN_RULE: &str = "HOST-PLAN";

/// The period a plan's session limit counts over (`period` in `[insurance.<plan>]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PlanPeriod {
    /// 1 January to 31 December (`"calendar-year"`, the default).
    #[default]
    CalendarYear,
    /// A year from a fixed day (`"plan-year"` with `period_start = "MM-DD"`).
    PlanYear {
        /// Month the plan year starts, 1-12.
        month: u8,
        /// Day of that month, 1-31 (never 29 February).
        day: u8,
    },
    /// The twelve months up to and including the day (`"rolling-12-months"`).
    Rolling12Months,
}

impl PlanPeriod {
    /// Parses `period` and `period_start` as the config writes them. The
    /// error names the key at fault (`period` or `period_start`) and what to write.
    pub fn parse(period: Option<&str>, start: Option<&str>) -> Result<PlanPeriod, (&'static str, String)> {
        let kind = period.map(str::trim);
        match (kind, start) {
            (None | Some("calendar-year"), None) => Ok(PlanPeriod::CalendarYear),
            (Some("rolling-12-months"), None) => Ok(PlanPeriod::Rolling12Months),
            (Some("plan-year"), Some(start)) => {
                let (month, day) = parse_month_day(start).ok_or_else(|| {
                    ("period_start", format!("`{start}` is not a day of the year: write \"MM-DD\", such as \"04-01\""))
                })?;
                Ok(PlanPeriod::PlanYear { month, day })
            }
            (Some("plan-year"), None) => {
                Err(("period_start", "`plan-year` needs the day it starts: add period_start = \"MM-DD\"".into()))
            }
            (None | Some("calendar-year" | "rolling-12-months"), Some(_)) => Err((
                "period_start",
                "only a `plan-year` period has a start day: write period = \"plan-year\", or remove period_start"
                    .into(),
            )),
            (Some(other), _) => Err((
                "period",
                format!("unknown period `{other}`: use \"calendar-year\", \"plan-year\" or \"rolling-12-months\""),
            )),
        }
    }

    /// The first and the last day of the period that `day` falls in (both
    /// included). A rolling period ends on `day` itself.
    pub fn bounds(self, day: Date) -> (Date, Date) {
        let (year, month, dom) = day.ymd();
        let ymd = |y: i32, m: u32, d: u32| Date::from_ymd(y, m, d).unwrap_or(day);
        match self {
            PlanPeriod::CalendarYear => (ymd(year, 1, 1), ymd(year, 12, 31)),
            PlanPeriod::PlanYear { month: m, day: d } => {
                let (m, d) = (u32::from(m), u32::from(d));
                let start_year = if (month, dom) >= (m, d) { year } else { year - 1 };
                let first = ymd(start_year, m, d);
                (first, ymd(start_year + 1, m, d).add_days(-1))
            }
            PlanPeriod::Rolling12Months => {
                // The day a year before (28 February for 29 February), plus one.
                let year_before = Date::from_ymd(year - 1, month, dom).unwrap_or_else(|| ymd(year - 1, month, 28));
                (year_before.add_days(1), day)
            }
        }
    }
}

impl fmt::Display for PlanPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanPeriod::CalendarYear => f.write_str("calendar year"),
            PlanPeriod::PlanYear { month, day } => write!(f, "plan year from {month:02}-{day:02}"),
            PlanPeriod::Rolling12Months => f.write_str("rolling 12 months"),
        }
    }
}

/// `MM-DD`, a day that every year has (29 February is refused).
fn parse_month_day(text: &str) -> Option<(u8, u8)> {
    let (m, d) = text.trim().split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (month, day): (u8, u8) = (m.parse().ok()?, d.parse().ok()?);
    // 2025 is not a leap year: 02-29 is not a day of every year.
    Date::from_ymd(2025, u32::from(month), u32::from(day)).map(|_| (month, day))
}

/// A plan's terms, from `[insurance.<plan>]` in the practice config.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanTerms {
    /// The payer.
    pub payer: String,
    /// Needs a referral or prescription (rule I1).
    pub referral_required: bool,
    /// Covered conditions (SNOMED CT codes); empty: any (rule I3).
    pub covered_conditions: Vec<String>,
    /// Sessions covered per period (rule I2).
    pub session_limit: Option<u32>,
    /// The period the limit counts over.
    pub period: PlanPeriod,
}

impl PlanTerms {
    /// Whether the client's sessions count toward the limit: the plan covers
    /// any condition, or at least one of the client's. Sessions for a client
    /// with only uncovered conditions are self-pay (rule I3) and do not count.
    /// A session record does not name its condition, so for a client with
    /// covered and uncovered conditions every session counts (the warning
    /// comes early, never late).
    pub fn counts_sessions_of(&self, conditions: &[Condition]) -> bool {
        self.covered_conditions.is_empty()
            || conditions.iter().any(|c| self.covered_conditions.iter().any(|code| code.trim() == c.code))
    }

    /// The sessions used on `as_of`: the client's recorded sessions in the
    /// current period up to `as_of` (when they count toward the limit, see
    /// [`PlanTerms::counts_sessions_of`]), plus the sessions used elsewhere
    /// if they were recorded in this period.
    pub fn sessions_used(&self, insurance: &Insurance, client: &ClientSnapshot, as_of: Date) -> u32 {
        let (first, _) = self.period.bounds(as_of);
        let in_period = |d: Date| d >= first && d <= as_of;
        let here = if self.counts_sessions_of(&client.conditions) {
            sessions_between(&client.sessions, first, as_of)
        } else {
            0
        };
        let elsewhere = insurance.used_elsewhere.filter(|e| in_period(e.recorded)).map_or(0, |e| e.sessions);
        here.saturating_add(elsewhere)
    }
}

/// Sessions dated `first..=last`: one pass over the client's own sessions
/// (the snapshot holds only this client's, read by one range scan of its key).
fn sessions_between(sessions: &[SessionRecord], first: Date, last: Date) -> u32 {
    let n = sessions.iter().filter(|s| s.date >= first && s.date <= last).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The practice's plans by name (`[insurance.<plan>]`), as guidance reads them.
pub type Plans = BTreeMap<String, PlanTerms>;

/// A client's insurance as guidance sees it on a day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolvedInsurance {
    /// The plan and its use, for the I1-I3 checks (`None`: no insurance, or a plan the config does not list).
    pub summary: Option<InsuranceSummary>,
    /// The plan's name when the config does not list it.
    pub missing_plan: Option<String>,
    /// The period the sessions are counted in, first and last day (plans with a limit).
    pub period: Option<(Date, Date)>,
}

/// The client's insurance on `as_of`, from the record the store keeps:
///
/// - no record: the snapshot's `insurance` as given (a snapshot made by hand);
/// - a record without a plan name (custom terms, older stores): its own terms
///   and its hand-kept `sessions_used`, as before;
/// - a plan the config lists: the config's terms, with the sessions used
///   counted from the snapshot's sessions ([`PlanTerms::sessions_used`]);
/// - a plan the config does not list: no terms, and `missing_plan` set (the
///   `HOST-PLAN` warning card).
pub fn resolve_insurance(
    insurance: Option<&Insurance>,
    plans: &Plans,
    client: &ClientSnapshot,
    as_of: Date,
) -> ResolvedInsurance {
    let Some(record) = insurance else {
        return ResolvedInsurance { summary: client.insurance.clone(), ..ResolvedInsurance::default() };
    };
    let Some(name) = &record.plan else {
        return ResolvedInsurance { summary: Some(record.summary()), ..ResolvedInsurance::default() };
    };
    let Some(terms) = plans.get(name) else {
        return ResolvedInsurance { summary: None, missing_plan: Some(name.clone()), period: None };
    };
    let summary = InsuranceSummary {
        payer: terms.payer.clone(),
        referral_required: terms.referral_required,
        referral_on_file: record.authorization_on_file,
        covered_conditions: terms.covered_conditions.clone(),
        session_limit: terms.session_limit,
        sessions_used: terms.sessions_used(record, client, as_of),
    };
    let period = terms.session_limit.map(|_| terms.period.bounds(as_of));
    ResolvedInsurance { summary: Some(summary), missing_plan: None, period }
}

/// The insurance checks on `as_of` for a client whose insurance record (from
/// the store) is `insurance`: resolved against `plans` ([`resolve_insurance`]),
/// or, with no record, the snapshot's insurance as given (borrowed, not copied).
pub fn checks_for_record(
    insurance: Option<&Insurance>,
    plans: &Plans,
    client: &ClientSnapshot,
    as_of: Date,
    rules: &HostRules,
) -> Guidance {
    match insurance {
        None => insurance_checks(client, rules),
        Some(_) => resolved_insurance_checks(client, &resolve_insurance(insurance, plans, client, as_of), rules),
    }
}

/// The insurance checks for the client's resolved insurance: I1-I3 on the
/// summary, and the `HOST-PLAN` warning for a plan the config does not list.
pub fn resolved_insurance_checks(client: &ClientSnapshot, resolved: &ResolvedInsurance, rules: &HostRules) -> Guidance {
    let mut guidance = plan_checks(resolved.summary.as_ref(), resolved.period, &client.conditions, rules);
    if let Some(name) = &resolved.missing_plan {
        guidance.cards.push(host_card(
            MISSING_PLAN_RULE,
            Indicator::Warning,
            INSURANCE_LABEL,
            &format!("Insurance plan `{name}` is not in the practice config: coverage is unknown"),
            format!(
                "The client is on plan `{name}`, which `[insurance.{name}]` in praxis.toml no longer describes, so \
                 the referral, covered conditions and session limit cannot be checked (rules I1-I3). Add the plan \
                 back to praxis.toml, or give the client a listed plan with `praxis client update ID --plan NAME`."
            ),
        ));
    }
    guidance
}

/// Runs I1, I2 and I3 for one client; no cards when no insurance is on file.
///
/// - **I1**: the plan needs a referral or prescription and none is on file: `warning`.
/// - **I2**: the plan limits sessions: `warning` while `rules.sessions_remaining_warning`
///   or fewer remain (and at least one does), `critical` (not covered, self-pay) at the limit.
/// - **I3**: the plan covers listed conditions only: `info` naming each of the
///   client's conditions it does not cover, sessions for which are self-pay.
pub fn insurance_checks(client: &ClientSnapshot, rules: &HostRules) -> Guidance {
    plan_checks(client.insurance.as_ref(), None, &client.conditions, rules)
}

fn plan_checks(
    plan: Option<&InsuranceSummary>,
    period: Option<(Date, Date)>,
    conditions: &[Condition],
    rules: &HostRules,
) -> Guidance {
    let mut guidance = Guidance::default();
    let Some(plan) = plan else {
        return guidance;
    };
    let in_period = match period {
        Some((first, last)) => format!("in the period {first} to {last}"),
        None => "in the period".to_owned(),
    };
    let payer = if plan.payer.trim().is_empty() { "The plan".to_owned() } else { plan.payer.trim().to_owned() };
    if plan.referral_required && !plan.referral_on_file {
        guidance.cards.push(host_card(
            "I1",
            Indicator::Warning,
            INSURANCE_LABEL,
            &format!("{payer} requires a referral or prescription; none is on file: obtain one before booking"),
            format!(
                "Without a referral or prescription on file the session may not be covered.\n\n{SOURCE} (rule I1, docs/GUIDANCE-RULES.md)."
            ),
        ));
    }
    if let Some(limit) = plan.session_limit {
        let remaining = limit.saturating_sub(plan.sessions_used);
        let used = plan.sessions_used;
        if remaining == 0 {
            guidance.cards.push(
                host_card(
                    "I2",
                    Indicator::Critical,
                    INSURANCE_LABEL,
                    &format!("Session limit reached ({used} of {limit} used): not covered, the session is self-pay"),
                    format!(
                        "{payer} covers {limit} sessions {in_period} and {used} have been used. Book only when the \
                         client agrees to pay, recorded as an override reason.\n\n{SOURCE} (rule I2, docs/GUIDANCE-RULES.md)."
                    ),
                )
                .with_override(SELF_PAY_AGREED, "Client agrees to pay for the session"),
            );
        } else if remaining <= rules.sessions_remaining_warning {
            let plural = if remaining == 1 { "session remains" } else { "sessions remain" };
            guidance.cards.push(host_card(
                "I2",
                Indicator::Warning,
                INSURANCE_LABEL,
                &format!("{remaining} covered {plural} in the plan ({used} of {limit} used)"),
                format!(
                    "{payer} covers {limit} sessions {in_period}. The warning shows when {} or fewer remain \
                     (practice setting `rules.sessions_remaining_warning`).\n\n{SOURCE} (rule I2, docs/GUIDANCE-RULES.md).",
                    rules.sessions_remaining_warning
                ),
            ));
        }
    }
    if !plan.covered_conditions.is_empty() {
        let uncovered: Vec<String> = conditions
            .iter()
            .filter(|c| !plan.covered_conditions.iter().any(|code| code.trim() == c.code))
            .map(|c| condition_label(&c.code, &c.name))
            .collect();
        if !uncovered.is_empty() {
            let list = uncovered.join(", ");
            guidance.cards.push(host_card(
                "I3",
                Indicator::Info,
                INSURANCE_LABEL,
                &format!("Not covered by the plan: {list}; sessions for it are self-pay"),
                format!(
                    "{payer} covers listed conditions only ({}). A session for {list} is self-pay.\n\n{SOURCE} \
                     (rule I3, docs/GUIDANCE-RULES.md).",
                    plan.covered_conditions.join(", ")
                ),
            ));
        }
    }
    guidance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[track_caller]
    fn check(period: PlanPeriod, day: &str, first: &str, last: &str) {
        assert_eq!(period.bounds(d(day)), (d(first), d(last)), "{period} on {day}");
    }

    #[test]
    fn period_bounds() {
        use PlanPeriod::{CalendarYear, PlanYear, Rolling12Months};
        check(CalendarYear, "2026-11-21", "2026-01-01", "2026-12-31");
        check(CalendarYear, "2026-01-01", "2026-01-01", "2026-12-31");
        check(CalendarYear, "2026-12-31", "2026-01-01", "2026-12-31");
        let april = PlanYear { month: 4, day: 1 };
        check(april, "2026-11-21", "2026-04-01", "2027-03-31");
        check(april, "2026-04-01", "2026-04-01", "2027-03-31");
        check(april, "2026-03-31", "2025-04-01", "2026-03-31");
        let new_years_eve = PlanYear { month: 12, day: 31 };
        check(new_years_eve, "2026-12-30", "2025-12-31", "2026-12-30");
        check(new_years_eve, "2026-12-31", "2026-12-31", "2027-12-30");
        check(PlanYear { month: 3, day: 1 }, "2028-02-29", "2027-03-01", "2028-02-29");
        check(Rolling12Months, "2026-11-21", "2025-11-22", "2026-11-21");
        check(Rolling12Months, "2028-02-29", "2027-03-01", "2028-02-29");
        check(Rolling12Months, "2027-03-01", "2026-03-02", "2027-03-01");
    }

    #[test]
    fn period_parsing() {
        let ok = |p: Option<&str>, s: Option<&str>| PlanPeriod::parse(p, s).unwrap();
        assert_eq!(ok(None, None), PlanPeriod::CalendarYear);
        assert_eq!(ok(Some("calendar-year"), None), PlanPeriod::CalendarYear);
        assert_eq!(ok(Some("rolling-12-months"), None), PlanPeriod::Rolling12Months);
        assert_eq!(ok(Some("plan-year"), Some("07-15")), PlanPeriod::PlanYear { month: 7, day: 15 });
        for (p, s, key) in [
            (Some("annual"), None, "period"),
            (Some(""), None, "period"),
            (Some("plan-year"), None, "period_start"),
            (Some("plan-year"), Some("02-29"), "period_start"),
            (Some("plan-year"), Some("7-15"), "period_start"),
            (Some("plan-year"), Some("07-15-2026"), "period_start"),
            (None, Some("07-15"), "period_start"),
        ] {
            assert_eq!(PlanPeriod::parse(p, s).map_err(|(k, _)| k), Err(key), "{p:?} {s:?}");
        }
    }
}
