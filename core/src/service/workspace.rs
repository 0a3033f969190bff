//! Operations the web workspace needs beyond the command line's: the
//! follow-ups due, and the practice's current local time. Each one checks its
//! role like every other operation of the service.

use std::collections::BTreeMap;

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
        let mut names: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut due = Vec::new();
        // One range scan of the sessions by start time: the cost follows the
        // sessions of those 24 hours, not the practice's history.
        for session in self.store.sessions_between(from, to.add_minutes(1))? {
            if session.follow_up_pain.is_some() || mine.as_ref().is_some_and(|m| !m.contains(&session.client)) {
                continue;
            }
            let name = match names.get(&session.client) {
                Some(name) => name.clone(),
                None => {
                    let name = self.store.get_client(&session.client)?.map(|c| c.name);
                    names.insert(session.client.clone(), name.clone());
                    name
                }
            };
            let Some(client_name) = name else { continue };
            due.push(FollowUpDue { client: session.client.clone(), client_name, session });
        }
        // Oldest first; the same start in client order, as the client by client read gave them.
        due.sort_by(|a, b| {
            (a.session.start, &a.client, &a.session.id).cmp(&(b.session.start, &b.client, &b.session.id))
        });
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
    use std::sync::Arc;

    use super::*;
    use crate::config::PracticeConfig;
    use crate::service::SessionInput;

    fn config(dir: &std::path::Path) -> PracticeConfig {
        let toml = "[practice]\nname = \"Follow-up Clinic\"\n[[practitioners]]\nid = \"ana\"\nname = \"Ana\"\ndisciplines = [\"massage\"]\n";
        PracticeConfig::parse(toml, &dir.join("praxis.toml"), None).unwrap()
    }

    fn service() -> (tempfile::TempDir, PracticeService) {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        (dir, PracticeService::open(config).unwrap())
    }

    /// Opens the practice, retrying while the last handle's lock lingers
    /// (sled lets go of it a moment after the handle drops).
    fn reopen(dir: &std::path::Path, live: bool) -> PracticeService {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let opened =
                if live { PracticeService::open_live(config(dir)) } else { PracticeService::open(config(dir)) };
            match opened {
                Ok(s) => return s,
                Err(e) if std::time::Instant::now() < deadline && e.to_string().contains("in use") => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("opening the practice: {e}"),
            }
        }
    }

    /// What `read` gives in a server (the live world, after `fill` wrote
    /// through it) and in one command reading the store afterwards.
    fn live_and_store<T>(fill: impl FnOnce(&PracticeService), read: impl Fn(&PracticeService) -> T) -> (T, T) {
        let dir = tempfile::tempdir().unwrap();
        let live = reopen(dir.path(), true);
        fill(&live);
        let from_world = read(&live);
        drop(live);
        let plain = reopen(dir.path(), false);
        assert!(!plain.is_live());
        (from_world, read(&plain))
    }

    fn add(service: &PracticeService, name: &str) -> String {
        let owner = Actor::new("owner").unwrap();
        let changes = crate::service::ClientChanges { name: Some(name.into()), ..Default::default() };
        service.add_client(&changes, &owner).unwrap().id
    }

    #[test]
    fn a_page_of_the_client_list_is_the_same_from_the_world_and_the_store() {
        let names = ["Mona Berg", "ada Holm", "Ben Costa", "Ada Dahl", "Luis Ito", "Mona Berg", "Carla Eze"];
        let owner = Actor::new("owner").unwrap();
        let (live, plain) = live_and_store(
            |s| {
                for n in names {
                    add(s, n);
                }
                // A rename moves the client in the list.
                let id = s.client_list("luis", 10, &owner).unwrap().clients[0].id.clone();
                let changes = crate::service::ClientChanges { name: Some("Aaron Ito".into()), ..Default::default() };
                s.update_client(&id, &changes, &owner).unwrap();
            },
            |s| {
                let check = |search: &str, limit: usize| {
                    let page = s.client_list(search, limit, &owner).unwrap();
                    (page.clients.into_iter().map(|c| c.name).collect::<Vec<_>>(), page.total)
                };
                vec![check("", 50), check("", 3), check("", 0), check("MONA", 1), check(" ada ", 50), check("zz", 5)]
            },
        );
        assert_eq!(live, plain);
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            live[0],
            (names(&["Aaron Ito", "Ada Dahl", "Ben Costa", "Carla Eze", "Mona Berg", "Mona Berg", "ada Holm"]), 7)
        );
        assert_eq!(live[1], (names(&["Aaron Ito", "Ada Dahl", "Ben Costa"]), 7));
        assert_eq!(live[2], (names(&[]), 7));
        assert_eq!(live[3], (names(&["Mona Berg"]), 2));
        assert_eq!(live[4], (names(&["Ada Dahl", "ada Holm"]), 2));
        assert_eq!(live[5], (names(&[]), 0));
    }

    #[test]
    fn the_kept_outcomes_follow_each_change_and_match_a_fresh_report() {
        let owner = Actor::new("owner").unwrap();
        let at = |today: Date, days: i32, pain: u8| SessionInput {
            practitioner: "ana".into(),
            minutes: 30,
            date: Some(today.add_days(days)),
            time: TimeOfDay::from_hm(9, 0),
            pain_before: Some(pain),
            pain_after: Some(pain.saturating_sub(2)),
            ..Default::default()
        };
        let mut seen = Vec::new();
        let (live, plain) = live_and_store(
            |s| {
                let ada = add(s, "Ada Kept");
                let ben = add(s, "Ben Kept");
                s.record_session(&ada, &at(s.today(), -20, 7), &owner).unwrap();
                seen.push(s.practice_outcomes(None, 12, &owner).unwrap());
                // Read twice without a change: the same report, not a new one.
                let again = s.practice_outcomes(None, 12, &owner).unwrap();
                assert!(Arc::ptr_eq(&seen[0], &again));
                s.record_session(&ben, &at(s.today(), -10, 5), &owner).unwrap();
                s.record_session(&ada, &at(s.today(), -3, 4), &owner).unwrap();
                seen.push(s.practice_outcomes(None, 12, &owner).unwrap());
                let changes = crate::service::ClientChanges { name: Some("Ada Renamed".into()), ..Default::default() };
                s.update_client(&ada, &changes, &owner).unwrap();
            },
            |s| s.outcomes(None, None, 12, &owner).unwrap(),
        );
        assert_eq!(live, plain);
        let sessions = |r: &crate::outcomes::OutcomesReport| {
            r.clients.iter().map(|c| (c.name.clone(), c.sessions)).collect::<Vec<_>>()
        };
        assert_eq!(sessions(&seen[0]), [("Ada Kept".to_owned(), 1), ("Ben Kept".to_owned(), 0)]);
        assert_eq!(sessions(&seen[1]), [("Ada Kept".to_owned(), 2), ("Ben Kept".to_owned(), 1)]);
        assert_eq!(sessions(&live), [("Ada Renamed".to_owned(), 2), ("Ben Kept".to_owned(), 1)]);
    }

    #[test]
    fn follow_ups_due_move_with_a_corrected_start() {
        let (_dir, service) = service();
        let owner = Actor::new("owner").unwrap();
        let client = add(&service, "Ada Moved");
        let now = DateTime::new(Date::from_ymd(2026, 11, 20).unwrap(), TimeOfDay::from_hm(12, 0).unwrap());
        let input = SessionInput {
            practitioner: "ana".into(),
            minutes: 30,
            date: Some(now.date.add_days(-1)),
            time: TimeOfDay::from_hm(9, 0),
            ..Default::default()
        };
        let session = service.record_session(&client, &input, &owner).unwrap();
        let due = |now: DateTime| -> Vec<String> {
            service
                .follow_ups_due(Some(now), &owner)
                .unwrap()
                .into_iter()
                .map(|d| d.session.start.to_string())
                .collect()
        };
        assert_eq!(due(now), ["2026-11-19T09:00"]);
        let mut moved = service.store().get_session(&session.id).unwrap().unwrap();
        moved.start = DateTime::new(now.date.add_days(-3), TimeOfDay::from_hm(9, 0).unwrap());
        service.store().record_session(&moved, now.date, "owner").unwrap();
        assert_eq!(due(now), Vec::<String>::new());
        assert_eq!(due(now.add_minutes(-48 * 60)), ["2026-11-17T09:00"]);
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
