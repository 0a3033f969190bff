//! The insurance checks, rules I1 to I3 of `GUIDANCE-RULES.md` (host).

use praxis_sdk::{ClientSnapshot, Guidance, Indicator};

use super::rules::{HostRules, condition_label};
use super::safety::host_card;

/// The source label of insurance cards.
pub const INSURANCE_LABEL: &str = "Praxis insurance checks";

/// Override reason code offered on the I2 card at the session limit.
pub const SELF_PAY_AGREED: &str = "self-pay-agreed";

const SOURCE: &str = "Source: [B] FAQ \"Does Health Insurance cover...\"";

/// Runs I1, I2 and I3 for one client; no cards when no insurance is on file.
///
/// - **I1**: the plan needs a referral or prescription and none is on file: `warning`.
/// - **I2**: the plan limits sessions: `warning` while `rules.sessions_remaining_warning`
///   or fewer remain (and at least one does), `critical` (not covered, self-pay) at the limit.
/// - **I3**: the plan covers listed conditions only: `info` naming each of the
///   client's conditions it does not cover, sessions for which are self-pay.
pub fn insurance_checks(client: &ClientSnapshot, rules: &HostRules) -> Guidance {
    let mut guidance = Guidance::default();
    let Some(plan) = &client.insurance else {
        return guidance;
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
                        "{payer} covers {limit} sessions in the period and {used} have been used. Book only when the \
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
                    "{payer} covers {limit} sessions in the period. The warning shows when {} or fewer remain \
                     (practice setting `rules.sessions_remaining_warning`).\n\n{SOURCE} (rule I2, docs/GUIDANCE-RULES.md).",
                    rules.sessions_remaining_warning
                ),
            ));
        }
    }
    if !plan.covered_conditions.is_empty() {
        let uncovered: Vec<String> = client
            .conditions
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
