//! The 24-48 hour follow-up: when it was taken, and whether that is inside
//! the window the rules name ("relief continues to improve over 24-48 hours",
//! [B] FAQ; `docs/GUIDANCE-RULES.md`, shared vocabulary).

use praxis_sdk::{Date, DateTime};
use serde::{Deserialize, Serialize};

use super::error::{Problem, RecordKind, RecordRef, StoreError, ValidationError};
use super::keys::T;
use super::records::Session;
use super::{Store, abort, validate};

/// The window, in hours after the session's end, in which the rules place the follow-up.
pub const FOLLOW_UP_WINDOW_HOURS: (i64, i64) = (24, 48);

/// When a follow-up was taken, against the 24-48 hour window after the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "timing", rename_all = "snake_case")]
pub enum FollowUpTiming {
    /// 24 to 48 hours after the session ended.
    Within {
        /// Whole hours after the session ended.
        hours_after: i64,
    },
    /// Less than 24 hours after the session ended.
    Early {
        /// Whole hours after the session ended.
        hours_after: i64,
    },
    /// More than 48 hours after the session ended.
    Late {
        /// Whole hours after the session ended.
        hours_after: i64,
    },
}

impl FollowUpTiming {
    /// The timing of a follow-up taken at `at` for a session that ended at `end`.
    pub fn of(end: DateTime, at: DateTime) -> FollowUpTiming {
        let minutes = at.epoch_minutes() - end.epoch_minutes();
        let hours_after = minutes.div_euclid(60);
        let (low, high) = FOLLOW_UP_WINDOW_HOURS;
        if minutes < low * 60 {
            FollowUpTiming::Early { hours_after }
        } else if minutes > high * 60 {
            FollowUpTiming::Late { hours_after }
        } else {
            FollowUpTiming::Within { hours_after }
        }
    }

    /// Whether it is inside the window.
    pub fn is_within(self) -> bool {
        matches!(self, FollowUpTiming::Within { .. })
    }

    /// A note for people when it is outside the window; `None` inside it.
    pub fn note(self) -> Option<String> {
        let (low, high) = FOLLOW_UP_WINDOW_HOURS;
        match self {
            FollowUpTiming::Within { .. } => None,
            FollowUpTiming::Early { hours_after } => Some(format!(
                "taken {hours_after} hours after the session ended, before the {low}-{high} hour window the rules name"
            )),
            FollowUpTiming::Late { hours_after } => Some(format!(
                "taken {hours_after} hours after the session ended, after the {low}-{high} hour window the rules name"
            )),
        }
    }
}

impl Session {
    /// When the session ended: its start plus its length.
    pub fn end(&self) -> DateTime {
        DateTime::from_epoch_minutes(self.start.epoch_minutes() + i64::from(self.minutes))
    }

    /// The follow-up's timing, when its time is recorded.
    pub fn follow_up_timing(&self) -> Option<FollowUpTiming> {
        self.follow_up_at.map(|at| FollowUpTiming::of(self.end(), at))
    }
}

impl Store {
    /// Records the 24-48 hour follow-up pain report of a session, with when it
    /// was taken (`at`, practice local time), in one audited transaction.
    ///
    /// Refused: pain outside 0-10, a time before the session ended, a day
    /// after `today`, an unknown session. A follow-up outside the window is
    /// recorded and its timing returned, so that the caller can flag it.
    pub fn record_follow_up(
        &self,
        session_id: &str,
        pain: u8,
        at: DateTime,
        today: Date,
        actor: &str,
    ) -> Result<FollowUpTiming, StoreError> {
        validate::actor(actor)?;
        validate::follow_up(session_id, pain, &self.options.limits)?;
        let rec = || RecordRef::new(RecordKind::Session, session_id);
        if at.date > today {
            return Err(ValidationError::new(rec(), "follow_up_at", at, Problem::InFuture { today }).into());
        }
        self.write(|tx| {
            let Some(key) = tx.raw(T::SessionIds, session_id.as_bytes())? else {
                return abort(StoreError::NotFound { kind: RecordKind::Session, id: session_id.to_owned() });
            };
            let Some(before) = tx.get::<Session>(T::Sessions, &key)? else {
                return abort(StoreError::NotFound { kind: RecordKind::Session, id: session_id.to_owned() });
            };
            if at < before.end() {
                let problem = Problem::BeforeOther { other: "the end of the session" };
                return abort(ValidationError::new(rec(), "follow_up_at", at, problem));
            }
            let mut after = before.clone();
            after.follow_up_pain = Some(pain);
            after.follow_up_at = Some(at);
            tx.put(T::Sessions, &key, &after)?;
            tx.audit_change(actor, RecordKind::Session, session_id, Some(&before), &after)?;
            Ok(FollowUpTiming::of(before.end(), at))
        })
    }
}
