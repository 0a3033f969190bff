//! Operations the web workspace needs beyond the command line's: the
//! follow-ups due, and the practice's current local time. Each one checks its
//! role like every other operation of the service.

use praxis_sdk::{Date, DateTime, TimeOfDay};
use serde::{Deserialize, Serialize};

use super::{Operation, PracticeService, Result};
use crate::service::Actor;
use crate::store::Session;

/// A session that took place 24 to 48 hours ago and has no follow-up pain yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpDue {
    /// The client's id.
    pub client: String,
    /// The client's name.
    pub client_name: String,
    /// The session.
    pub session: Session,
}

/// Whether a client may be booked, as the front desk may see it: the rule
/// ids and kinds of what blocks, and whether an override is recorded for each,
/// without the cards' clinical summaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingStatus {
    /// The client may be booked now.
    pub bookable: bool,
    /// Every blocking rule (overridden or not), holds first.
    pub blockers: Vec<BlockingRule>,
}

/// One rule that stops a booking, without its clinical detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockingRule {
    /// The rule id (S1, R2, I2...).
    pub rule: String,
    /// `hold` or `critical`.
    pub kind: String,
    /// An override is recorded for it.
    pub overridden: bool,
}

impl PracticeService {
    /// The booking verdict of one client today, without clinical detail
    /// (for the front desk, and anyone who may read it).
    pub fn booking_status(&self, key: &str, actor: &Actor) -> Result<BookingStatus> {
        actor.require(Operation::ReadBookingVerdict)?;
        let client = self.find_client(key)?;
        self.check_visible(&client, actor)?;
        let g = self.guidance_of(&client, None)?;
        Ok(BookingStatus {
            bookable: g.booking.is_bookable(),
            blockers: g
                .booking
                .blockers()
                .iter()
                .map(|b| BlockingRule {
                    rule: b.rule.clone(),
                    kind: match b.kind {
                        crate::world::BlockKind::Hold => "hold".to_owned(),
                        crate::world::BlockKind::Critical => "critical".to_owned(),
                    },
                    overridden: b.override_reason.is_some(),
                })
                .collect(),
        })
    }

    /// Now, in the practice's time zone, to the minute.
    pub fn local_now(&self) -> DateTime {
        let now = jiff::Timestamp::now().to_zoned(self.config().time_zone()).datetime();
        local_datetime(now)
    }

    /// Sessions that started 24 to 48 hours before `now` (default: the
    /// practice's current local time) and have no follow-up pain report yet,
    /// oldest first. For those who record follow-ups (rule F4 reads them).
    pub fn follow_ups_due(&self, now: Option<DateTime>, actor: &Actor) -> Result<Vec<FollowUpDue>> {
        actor.require(Operation::RecordClinical)?;
        let now = now.unwrap_or_else(|| self.local_now());
        let from = now.add_minutes(-48 * 60);
        let to = now.add_minutes(-24 * 60);
        let mine = if self.sees_own_only(actor) { Some(self.own_clients(actor)?) } else { None };
        let mut due = Vec::new();
        for client in self.store.clients()? {
            if mine.as_ref().is_some_and(|m| !m.contains(&client.id)) {
                continue;
            }
            for session in self.store.sessions_for(&client.id)? {
                if session.follow_up_pain.is_none() && session.start >= from && session.start <= to {
                    due.push(FollowUpDue { client: client.id.clone(), client_name: client.name.clone(), session });
                }
            }
        }
        due.sort_by_key(|d| d.session.start);
        Ok(due)
    }
}

/// A civil date and time as the SDK's [`DateTime`].
pub fn local_datetime(dt: jiff::civil::DateTime) -> DateTime {
    let date = Date::from_ymd(i32::from(dt.year()), dt.month() as u32, dt.day() as u32).unwrap_or(Date::from_days(0));
    let time = TimeOfDay::from_hm(dt.hour() as u32, dt.minute() as u32).unwrap_or(TimeOfDay::MIDNIGHT);
    DateTime::new(date, time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PracticeConfig;
    use crate::service::SessionInput;

    fn service() -> (tempfile::TempDir, PracticeService) {
        let dir = tempfile::tempdir().unwrap();
        let toml = "[practice]\nname = \"Follow-up Clinic\"\n[[practitioners]]\nid = \"ana\"\nname = \"Ana\"\ndisciplines = [\"massage\"]\n";
        let config = PracticeConfig::parse(toml, &dir.path().join("praxis.toml"), None).unwrap();
        (dir, PracticeService::open(config).unwrap())
    }

    #[test]
    fn follow_ups_due_are_the_sessions_24_to_48_hours_ago_without_one() {
        let (_dir, service) = service();
        let owner = Actor::new("owner").unwrap();
        let client = service
            .add_client(&crate::service::ClientChanges { name: Some("Ada Due".into()), ..Default::default() }, &owner)
            .unwrap();
        let now = DateTime::new(Date::from_ymd(2026, 11, 20).unwrap(), TimeOfDay::from_hm(12, 0).unwrap());
        let at = |days: i32, h: u32| SessionInput {
            practitioner: "ana".into(),
            minutes: 30,
            date: Some(now.date.add_days(days)),
            time: TimeOfDay::from_hm(h, 0),
            ..Default::default()
        };
        let check = |expected: &[&str]| {
            let due = service.follow_ups_due(Some(now), &owner).unwrap();
            let got: Vec<String> = due.iter().map(|d| d.session.start.to_string()).collect();
            assert_eq!(got, expected);
        };
        let yesterday_morning = service.record_session(&client.id, &at(-1, 9), &owner).unwrap();
        service.record_session(&client.id, &at(-1, 13), &owner).unwrap(); // 23 h ago: not yet
        service.record_session(&client.id, &at(-2, 11), &owner).unwrap(); // 49 h ago: too late
        service.record_session(&client.id, &at(-2, 12), &owner).unwrap(); // exactly 48 h
        check(&["2026-11-18T12:00", "2026-11-19T09:00"]);
        service.follow_up(&yesterday_morning.id, 3, &owner).unwrap();
        check(&["2026-11-18T12:00"]);
    }

    #[test]
    fn the_booking_status_names_the_rule_without_its_summary() {
        let (_dir, service) = service();
        let owner = Actor::new("owner").unwrap();
        let injured = format!("recent-injury:left knee:{}", service.today().add_days(-3));
        let changes = crate::service::ClientChanges {
            name: Some("Ada Hurt".into()),
            red_flags: vec![injured],
            ..Default::default()
        };
        let client = service.add_client(&changes, &owner).unwrap();
        let status = service.booking_status(&client.id, &owner).unwrap();
        assert!(!status.bookable);
        assert_eq!(status.blockers[0].rule, "S1");
        assert!(!status.blockers[0].overridden);
        assert!(!serde_json::to_string(&status).unwrap().contains("knee"));
    }

    #[test]
    fn the_front_desk_may_not_list_follow_ups() {
        let (_dir, service) = service();
        let user = crate::store::User {
            login: "fran".into(),
            name: "Fran".into(),
            role: crate::store::Role::FrontDesk,
            practitioner: None,
            password_hash: String::new(),
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            created: "2026-11-20".into(),
        };
        let err = service.follow_ups_due(None, &Actor::user(&user)).unwrap_err();
        assert_eq!(err.kind(), crate::service::ErrorKind::Forbidden);
    }
}
