//! A client's insurance: setting the plan and the per-client data from a
//! [`ClientChanges`], and the plan's state on a day ([`InsuranceStatus`]).
//!
//! A client on a plan keeps the plan's name; the terms come from
//! `[insurance.<plan>]` and the sessions used are counted from the session
//! records (see `world::resolve_insurance`). What the practice enters by hand
//! is only what is the client's own: whether the referral is on file, the
//! member id, and sessions used elsewhere. Every change is a client record
//! change, audited like any other.

use praxis_sdk::Date;
use serde::{Deserialize, Serialize};

use super::{ClientChanges, PracticeService, Result, bad, excerpt};
use crate::config::PracticeConfig;
use crate::service::{Actor, Operation};
use crate::store::{Client, Insurance, UsedElsewhere};
use crate::world::resolve_insurance;

/// Applies the insurance part of `changes` to `client`.
///
/// - `plan`: the client is put on that plan of the config (an unknown name
///   is refused, listing the known ones). The same plan again keeps what is
///   on file; another plan starts afresh.
/// - `referral_on_file`, `member_id`, `sessions_used_elsewhere` (0 clears it;
///   it counts in the period of the day it is entered): need insurance.
/// - `sessions_used`: the hand-kept count of custom terms only; a client on a
///   plan is told to use `sessions_used_elsewhere` instead.
pub(super) fn apply(config: &PracticeConfig, client: &mut Client, changes: &ClientChanges, today: Date) -> Result<()> {
    if let Some(name) = &changes.plan {
        let name = name.trim();
        if !config.plans.contains_key(name) {
            let known: Vec<&str> = config.plans.keys().map(String::as_str).collect();
            return bad(format!(
                "no insurance plan `{}` in {}: known plans are {}",
                excerpt(name),
                config.path.display(),
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            ));
        }
        let same = client.insurance.as_ref().is_some_and(|i| i.plan.as_deref() == Some(name));
        if !same {
            client.insurance = Some(Insurance::on_plan(name));
        }
    }
    let wants = changes.referral_on_file
        || changes.member_id.is_some()
        || changes.sessions_used_elsewhere.is_some()
        || changes.sessions_used.is_some();
    let Some(ins) = client.insurance.as_mut() else {
        if wants {
            return bad(
                "--referral-on-file, --member-id and --sessions-used-elsewhere need an insurance plan: add --plan NAME",
            );
        }
        return Ok(());
    };
    if changes.referral_on_file {
        ins.authorization_on_file = true;
    }
    if let Some(member) = &changes.member_id {
        let member = member.trim();
        ins.member_id = (!member.is_empty()).then(|| member.to_owned());
    }
    match (&ins.plan, changes.sessions_used, changes.sessions_used_elsewhere) {
        (Some(plan), Some(_), _) => {
            return bad(format!(
                "the client is on plan `{plan}`, whose sessions are counted from the session records: \
                 --sessions-used is for custom terms only; give sessions used at another practice with \
                 --sessions-used-elsewhere N"
            ));
        }
        (None, _, Some(_)) => {
            return bad("the client has custom insurance terms with a hand-kept count (no plan name): set it with \
                 --sessions-used N, or put the client on a plan of praxis.toml with --plan NAME");
        }
        (Some(_), None, Some(n)) => {
            ins.used_elsewhere = (n > 0).then_some(UsedElsewhere { sessions: n, recorded: today });
        }
        (None, Some(n), None) => ins.sessions_used = n,
        (_, None, None) => {}
    }
    Ok(())
}

/// A client's insurance on a day, as the front desk and the therapist see
/// it: the plan's terms from the config, the sessions used (counted from the
/// session records, plus those used elsewhere) and those remaining. No
/// clinical field: the plan's covered conditions are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InsuranceStatus {
    /// The day it is computed for.
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    /// The plan's name in the config; `None` for custom terms (a hand-kept count).
    pub plan: Option<String>,
    /// Whether the config lists the plan (`false`: its terms are unknown; the `HOST-PLAN` warning).
    pub plan_in_config: bool,
    /// The payer (empty when the plan is not in the config).
    pub payer: String,
    /// The member (policy) id, if on file.
    pub member_id: Option<String>,
    /// Whether the plan needs a referral or prescription (rule I1).
    pub referral_required: bool,
    /// Whether one is on file.
    pub referral_on_file: bool,
    /// Sessions covered per period, if limited (rule I2).
    pub session_limit: Option<u32>,
    /// The period, such as "calendar year" (plans with a limit).
    pub period: Option<String>,
    /// The period's first day.
    #[schema(value_type = Option<String>, format = Date)]
    pub period_start: Option<Date>,
    /// The period's last day.
    #[schema(value_type = Option<String>, format = Date)]
    pub period_end: Option<Date>,
    /// Sessions used in the period: recorded here, plus those used elsewhere.
    pub sessions_used: u32,
    /// Of those, the sessions used elsewhere that count in this period.
    pub sessions_used_elsewhere: u32,
    /// Sessions still covered in the period.
    pub sessions_remaining: Option<u32>,
}

impl PracticeService {
    /// The client's insurance on `as_of` (default today), `None` when none is
    /// on file. Allowed to every role that reads the client list (the front
    /// desk too); it shows no clinical field.
    pub fn insurance_status(&self, key: &str, as_of: Option<Date>, actor: &Actor) -> Result<Option<InsuranceStatus>> {
        actor.require(Operation::ReadClients)?;
        let client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        self.insurance_status_of(&client, as_of.unwrap_or_else(|| self.today()))
    }

    /// [`PracticeService::insurance_status`] for a client already read (no role check).
    pub(crate) fn insurance_status_of(&self, client: &Client, as_of: Date) -> Result<Option<InsuranceStatus>> {
        let Some(record) = &client.insurance else { return Ok(None) };
        let config = self.config();
        // One range scan of the client's sessions.
        let snapshot = self.store.snapshot_of(client.clone())?;
        let view = crate::world::as_of_view(&snapshot, as_of);
        let resolved = resolve_insurance(Some(record), &config.plans, &view, as_of);
        let terms = record.plan.as_ref().and_then(|p| config.plans.get(p));
        let elsewhere = match terms {
            Some(t) => {
                let (first, _) = t.period.bounds(as_of);
                record.used_elsewhere.filter(|e| e.recorded >= first && e.recorded <= as_of).map_or(0, |e| e.sessions)
            }
            None => 0,
        };
        let summary = resolved.summary.clone().unwrap_or_default();
        Ok(Some(InsuranceStatus {
            as_of,
            plan: record.plan.clone(),
            plan_in_config: resolved.missing_plan.is_none(),
            payer: summary.payer,
            member_id: record.member_id.clone(),
            referral_required: summary.referral_required,
            referral_on_file: record.authorization_on_file,
            session_limit: summary.session_limit,
            period: terms.filter(|t| t.session_limit.is_some()).map(|t| t.period.to_string()),
            period_start: resolved.period.map(|(first, _)| first),
            period_end: resolved.period.map(|(_, last)| last),
            sessions_used: summary.sessions_used,
            sessions_used_elsewhere: elsewhere,
            sessions_remaining: summary.session_limit.map(|l| l.saturating_sub(summary.sessions_used)),
        }))
    }
}

impl InsuranceStatus {
    /// One line for a person: payer and plan, sessions used and remaining, the referral.
    pub fn line(&self) -> String {
        let mut s = match (&self.plan, self.plan_in_config) {
            (Some(plan), true) => format!("{} (plan {plan})", self.payer),
            (Some(plan), false) => format!("plan `{plan}` is not in praxis.toml: coverage unknown"),
            (None, _) => format!("{} (custom terms)", self.payer),
        };
        if let Some(member) = &self.member_id {
            s.push_str(&format!(", member {member}"));
        }
        if let (Some(limit), Some(left)) = (self.session_limit, self.sessions_remaining) {
            s.push_str(&format!(", {}/{limit} sessions used, {left} remaining", self.sessions_used));
            if let (Some(first), Some(last)) = (self.period_start, self.period_end) {
                s.push_str(&format!(" ({first} to {last})"));
            }
            if self.sessions_used_elsewhere > 0 {
                s.push_str(&format!(", {} of them elsewhere", self.sessions_used_elsewhere));
            }
        }
        match (self.referral_required, self.referral_on_file) {
            (true, true) => s.push_str(", referral on file"),
            (true, false) => s.push_str(", referral REQUIRED and not on file"),
            _ => {}
        }
        s
    }
}
