//! Checks on a record's own fields. References to other records (client,
//! practitioner, room) are checked by the store against its trees, or by the
//! import against the export and the store.

use praxis_sdk::{AdverseEvent, ConditionStatus, Date, Discipline, RedFlagKind, RoomKind, WeeklyWindow};

use super::error::{Problem, RecordKind, RecordRef, ValidationError};
use super::records::{Appointment, Client, Intake, Override, Practitioner, Room, Session};

/// Limits the store enforces that the guidance rules do not give. Every value
/// here is a **project default**, not a clinical fact: a practice may change
/// them (`StoreOptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Shortest session or appointment, in minutes (project default 5).
    pub min_minutes: u16,
    /// Longest session or appointment, in minutes (project default 240).
    pub max_minutes: u16,
    /// Longest short text (names, regions, techniques), in bytes (project default 200).
    pub max_short_text: usize,
    /// Longest free text (notes, reasons, addresses), in bytes (project default 10 000).
    pub max_long_text: usize,
    /// Most items in one list field (project default 200).
    pub max_list: usize,
    /// The earliest date any record may carry: birth dates, sessions,
    /// appointments, intakes (project default 1900-01-01).
    pub earliest: Date,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_minutes: 5,
            max_minutes: 240,
            max_short_text: 200,
            max_long_text: 10_000,
            max_list: 200,
            earliest: Date::from_ymd(1900, 1, 1).unwrap_or_default(),
        }
    }
}

/// The longest interval of a care-plan therapy, in days (a year).
pub const MAX_EVERY_DAYS: u32 = 365;

/// The highest pain score (LOINC 72514-3 is a 0-10 scale).
pub const PAIN_MAX: u8 = 10;

type R = Result<(), Box<ValidationError>>;

/// One record under check.
pub(crate) struct Check<'a> {
    record: RecordRef,
    limits: &'a Limits,
}

impl<'a> Check<'a> {
    pub(crate) fn new(kind: RecordKind, id: &str, index: Option<usize>, limits: &'a Limits) -> Check<'a> {
        Check { record: RecordRef { kind, id: id.to_owned(), index }, limits }
    }

    pub(crate) fn fail(
        &self,
        field: impl Into<String>,
        value: impl std::fmt::Display,
        problem: Problem,
    ) -> Box<ValidationError> {
        Box::new(ValidationError::new(self.record.clone(), field, value, problem))
    }

    pub(crate) fn id(&self, field: &str, id: &str) -> R {
        if is_valid_id(id) { Ok(()) } else { Err(self.fail(field, id, Problem::BadId)) }
    }

    fn opt_id(&self, field: &str, id: Option<&str>) -> R {
        id.map_or(Ok(()), |id| self.id(field, id))
    }

    fn text(&self, field: &str, text: &str, max: usize, required: bool) -> R {
        if required && text.trim().is_empty() {
            return Err(self.fail(field, text, Problem::Empty));
        }
        if text.len() > max {
            return Err(self.fail(field, text, Problem::TooLong { max }));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err(self.fail(
                field,
                text.escape_debug(),
                Problem::BadValue { expected: "text without control characters" },
            ));
        }
        Ok(())
    }

    fn short(&self, field: &str, text: &str) -> R {
        self.text(field, text, self.limits.max_short_text, true)
    }

    fn long(&self, field: &str, text: &str, required: bool) -> R {
        self.text(field, text, self.limits.max_long_text, required)
    }

    fn list(&self, field: &str, items: &[String]) -> R {
        self.len(field, items.len())?;
        items.iter().enumerate().try_for_each(|(i, item)| self.short(&format!("{field}[{i}]"), item))
    }

    fn len(&self, field: &str, len: usize) -> R {
        let max = self.limits.max_list;
        if len > max {
            return Err(self.fail(field, format!("{len} items"), Problem::OutOfRange { min: 0, max: max as i64 }));
        }
        Ok(())
    }

    fn not_future(&self, field: &str, date: Date, today: Date) -> R {
        self.not_ancient(field, date)?;
        if date > today { Err(self.fail(field, date, Problem::InFuture { today })) } else { Ok(()) }
    }

    /// A date before [`Limits::earliest`] is a typing error (`0000-01-01`, `1800-...`).
    fn not_ancient(&self, field: &str, date: Date) -> R {
        if date < self.limits.earliest {
            let problem = Problem::BadValue { expected: "a date from 1900 on (`Limits::earliest`)" };
            return Err(self.fail(field, date, problem));
        }
        Ok(())
    }

    /// A name or other one-line text: required, short, no line breaks or tabs.
    fn line(&self, field: &str, text: &str, required: bool) -> R {
        self.text(field, text, self.limits.max_short_text, required)?;
        if text.contains(['\n', '\r', '\t']) {
            return Err(self.fail(
                field,
                text.escape_debug(),
                Problem::BadValue { expected: "one line of text, without line breaks or tabs" },
            ));
        }
        Ok(())
    }

    /// A session or appointment ends on the day it starts (at 24:00 at the latest).
    fn same_day(&self, start: praxis_sdk::DateTime, minutes: u16) -> R {
        let end = u32::from(start.time.minutes()) + u32::from(minutes);
        if end > 24 * 60 {
            return Err(self.fail(
                "minutes",
                minutes,
                Problem::BadValue { expected: "a length that ends by midnight of the day it starts" },
            ));
        }
        Ok(())
    }

    fn pain(&self, field: &str, pain: Option<u8>) -> R {
        match pain {
            Some(p) if p > PAIN_MAX => Err(self.fail(field, p, Problem::OutOfRange { min: 0, max: PAIN_MAX.into() })),
            _ => Ok(()),
        }
    }

    fn minutes(&self, field: &str, minutes: u16) -> R {
        let (min, max) = (self.limits.min_minutes, self.limits.max_minutes);
        if (min..=max).contains(&minutes) {
            Ok(())
        } else {
            Err(self.fail(field, minutes, Problem::OutOfRange { min: min.into(), max: max.into() }))
        }
    }

    /// A start time is a minute of the day: 24:00 ends a day, it starts none.
    fn start(&self, field: &str, start: praxis_sdk::DateTime) -> R {
        if start.time.minutes() >= 24 * 60 {
            return Err(self.fail(field, start, Problem::BadValue { expected: "a start time from 00:00 to 23:59" }));
        }
        Ok(())
    }

    pub(crate) fn discipline(&self, field: &str, discipline: &Discipline) -> R {
        match discipline {
            Discipline::Other(name) if !is_slug(name) => Err(self.fail(
                field,
                name,
                Problem::BadValue {
                    expected: "massage, yoga, tai_chi, acupuncture, physical_therapy, mindfulness, or another name \
                               of lowercase letters, digits and `_`",
                },
            )),
            _ => Ok(()),
        }
    }

    fn windows(&self, field: &str, windows: &[WeeklyWindow]) -> R {
        self.len(field, windows.len())?;
        for (i, w) in windows.iter().enumerate() {
            if w.end <= w.start {
                return Err(self.fail(format!("{field}[{i}].end"), w.end, Problem::BeforeOther { other: "start" }));
            }
        }
        Ok(())
    }
}

/// Whether `id` is usable as a key: 1 to 128 bytes, no whitespace, no control characters.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_snomed(code: &str) -> bool {
    (6..=18).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

const SNOMED: &str = "a SNOMED CT concept id of 6 to 18 digits, such as 203082005";

/// Checks a client's own fields.
pub fn client(c: &Client, today: Date, limits: &Limits, index: Option<usize>) -> R {
    let k = Check::new(RecordKind::Client, &c.id, index, limits);
    k.id("id", &c.id)?;
    k.line("name", &c.name, true)?;
    if let Some(dob) = c.date_of_birth {
        k.not_future("date_of_birth", dob, today)?;
    }
    if let Some(phone) = &c.contact.phone {
        k.short("contact.phone", phone)?;
    }
    if let Some(email) = &c.contact.email {
        k.short("contact.email", email)?;
        let ok = email.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
        if !ok || email.contains(char::is_whitespace) {
            return Err(k.fail(
                "contact.email",
                email,
                Problem::BadValue { expected: "an e-mail address like name@example.org" },
            ));
        }
    }
    if let Some(address) = &c.contact.address {
        k.long("contact.address", address, true)?;
    }
    k.len("conditions", c.conditions.len())?;
    for (i, cond) in c.conditions.iter().enumerate() {
        let f = |name: &str| format!("conditions[{i}].{name}");
        if !is_snomed(&cond.code) {
            return Err(k.fail(f("code"), &cond.code, Problem::BadValue { expected: SNOMED }));
        }
        k.text(&f("name"), &cond.name, limits.max_short_text, false)?;
        if cond.status == ConditionStatus::Unknown {
            return Err(k.fail(f("status"), "unknown", Problem::BadValue { expected: "active, flare or remission" }));
        }
        if let Some(since) = cond.since {
            k.not_future(&f("since"), since, today)?;
        }
    }
    k.len("identifiers", c.identifiers.len())?;
    for (i, ext) in c.identifiers.iter().enumerate() {
        k.text(&format!("identifiers[{i}].system"), &ext.system, limits.max_short_text, true)?;
        k.text(&format!("identifiers[{i}].value"), &ext.value, limits.max_short_text, true)?;
    }
    k.len("red_flags", c.red_flags.len())?;
    for (i, flag) in c.red_flags.iter().enumerate() {
        let f = |name: &str| format!("red_flags[{i}].{name}");
        match flag.kind {
            RedFlagKind::Unknown => {
                return Err(k.fail(
                    f("kind"),
                    "unknown",
                    Problem::BadValue { expected: "recent_injury, nerve_compression, inflammatory_flare or other" },
                ));
            }
            RedFlagKind::RecentInjury if flag.region.is_none() || flag.date.is_none() => {
                return Err(k.fail(
                    f("kind"),
                    "recent_injury",
                    Problem::Missing { needed: "a recent injury needs its region and date" },
                ));
            }
            RedFlagKind::NerveCompression if flag.region.is_none() => {
                return Err(k.fail(
                    f("kind"),
                    "nerve_compression",
                    Problem::Missing { needed: "a nerve compression needs its region" },
                ));
            }
            RedFlagKind::Other if flag.note.trim().is_empty() => {
                return Err(k.fail(
                    f("note"),
                    "",
                    Problem::Missing { needed: "a red flag of kind other needs a note saying what it is" },
                ));
            }
            _ => {}
        }
        if let Some(region) = &flag.region {
            k.short(&f("region"), region)?;
        }
        if let Some(date) = flag.date {
            k.not_future(&f("date"), date, today)?;
        }
        if let Some(resolved) = flag.resolved {
            k.not_future(&f("resolved"), resolved, today)?;
            if flag.date.is_some_and(|d| resolved < d) {
                return Err(k.fail(f("resolved"), resolved, Problem::BeforeOther { other: "date" }));
            }
        }
        k.long(&f("note"), &flag.note, false)?;
    }
    k.list("sensitivities", &c.sensitivities)?;
    k.list("tender_points", &c.tender_points)?;
    k.windows("availability", &c.availability)?;
    k.len("therapies", c.therapies.len())?;
    for (i, t) in c.therapies.iter().enumerate() {
        let f = |name: &str| format!("therapies[{i}].{name}");
        k.discipline(&f("discipline"), &t.discipline)?;
        if c.therapies[..i].iter().any(|earlier| earlier.discipline == t.discipline) {
            return Err(k.fail(f("discipline"), &t.discipline, Problem::BadValue { expected: "each discipline once" }));
        }
        if !(1..=MAX_EVERY_DAYS).contains(&t.every_days) {
            let problem = Problem::OutOfRange { min: 1, max: MAX_EVERY_DAYS.into() };
            return Err(k.fail(f("every_days"), t.every_days, problem));
        }
        k.minutes(&f("minutes"), t.minutes)?;
    }
    if let Some(ins) = &c.insurance {
        if let Some(member) = &ins.member_id {
            k.line("insurance.member_id", member, true)?;
        }
        if let Some(plan) = &ins.plan {
            k.line("insurance.plan", plan, true)?;
            // The terms come from the practice config: a copy here would be ignored.
            let terms = [
                ("insurance.payer", !ins.payer.is_empty()),
                ("insurance.requires", ins.requires.is_some()),
                ("insurance.covered_conditions", !ins.covered_conditions.is_empty()),
                ("insurance.session_limit", ins.session_limit.is_some()),
                ("insurance.sessions_used", ins.sessions_used != 0),
            ];
            if let Some((field, _)) = terms.iter().find(|(_, set)| *set) {
                let expected = "nothing on a client on a plan: the plan's terms come from the practice config, and \
                                its sessions are counted from the session records (use used_elsewhere)";
                return Err(k.fail(*field, plan, Problem::BadValue { expected }));
            }
            if let Some(e) = ins.used_elsewhere {
                if e.sessions == 0 {
                    let problem = Problem::OutOfRange { min: 1, max: u32::MAX.into() };
                    return Err(k.fail("insurance.used_elsewhere.sessions", 0, problem));
                }
                k.not_future("insurance.used_elsewhere.recorded", e.recorded, today)?;
            }
        } else {
            k.line("insurance.payer", &ins.payer, true)?;
            if ins.used_elsewhere.is_some() {
                return Err(k.fail(
                    "insurance.used_elsewhere",
                    "",
                    Problem::Missing { needed: "sessions used elsewhere need a plan (insurance.plan)" },
                ));
            }
        }
        k.len("insurance.covered_conditions", ins.covered_conditions.len())?;
        for (i, code) in ins.covered_conditions.iter().enumerate() {
            if !is_snomed(code) {
                return Err(k.fail(
                    format!("insurance.covered_conditions[{i}]"),
                    code,
                    Problem::BadValue { expected: SNOMED },
                ));
            }
        }
        if let Some(limit) = ins.session_limit
            && limit.sessions == 0
        {
            return Err(k.fail(
                "insurance.session_limit.sessions",
                0,
                Problem::OutOfRange { min: 1, max: u32::MAX.into() },
            ));
        }
    }
    if let Some(recorded) = c.consent.recorded {
        k.not_future("consent.recorded", recorded, today)?;
    } else if c.consent.treatment || c.consent.data_processing {
        return Err(k.fail(
            "consent.recorded",
            "",
            Problem::Missing { needed: "consent given needs the day it was given" },
        ));
    }
    Ok(())
}

/// Checks an intake's own fields.
pub fn intake(i: &Intake, today: Date, limits: &Limits, index: Option<usize>) -> R {
    let k = Check::new(RecordKind::Intake, &i.id, index, limits);
    k.id("id", &i.id)?;
    k.id("client", &i.client)?;
    k.not_future("recorded", i.recorded, today)?;
    k.list("pain_patterns", &i.pain_patterns)?;
    k.list("sensitivities", &i.sensitivities)?;
    k.list("previous_treatments", &i.previous_treatments)?;
    k.list("medications", &i.medications)
}

/// Checks a session's own fields.
pub fn session(s: &Session, today: Date, limits: &Limits, index: Option<usize>) -> R {
    let k = Check::new(RecordKind::Session, &s.id, index, limits);
    k.id("id", &s.id)?;
    k.id("client", &s.client)?;
    k.id("practitioner", &s.practitioner)?;
    k.discipline("discipline", &s.discipline)?;
    k.start("start", s.start)?;
    k.not_future("start", s.start.date, today)?;
    k.minutes("minutes", s.minutes)?;
    k.same_day(s.start, s.minutes)?;
    k.list("techniques", &s.techniques)?;
    k.list("regions", &s.regions)?;
    k.pain("pain_before", s.pain_before)?;
    k.pain("pain_after", s.pain_after)?;
    k.pain("follow_up_pain", s.follow_up_pain)?;
    match &s.adverse_event {
        AdverseEvent::Unknown => {
            return Err(k.fail(
                "adverse_event.kind",
                "unknown",
                Problem::BadValue { expected: "none, soreness, flare or stopped_early" },
            ));
        }
        AdverseEvent::StoppedEarly { reason } => k.long("adverse_event.reason", reason, true)?,
        _ => {}
    }
    let mut adjuncts = s.adjuncts.clone();
    adjuncts.sort();
    adjuncts.dedup();
    if adjuncts.len() != s.adjuncts.len() {
        return Err(k.fail(
            "adjuncts",
            format!("{:?}", s.adjuncts),
            Problem::BadValue { expected: "each adjunct at most once" },
        ));
    }
    k.long("notes", &s.notes, false)
}

/// Checks a follow-up pain score for a session.
pub fn follow_up(session_id: &str, pain: u8, limits: &Limits) -> R {
    Check::new(RecordKind::Session, session_id, None, limits).pain("follow_up_pain", Some(pain))
}

/// Checks an appointment's own fields.
pub fn appointment(a: &Appointment, limits: &Limits, index: Option<usize>) -> R {
    let k = Check::new(RecordKind::Appointment, &a.id, index, limits);
    k.id("id", &a.id)?;
    k.id("client", &a.client)?;
    k.id("practitioner", &a.practitioner)?;
    k.id("room", &a.room)?;
    k.discipline("discipline", &a.discipline)?;
    k.minutes("minutes", a.minutes)?;
    k.start("start", a.start)?;
    k.not_ancient("start", a.start.date)?;
    k.same_day(a.start, a.minutes)?;
    k.opt_id("visit", a.visit.as_deref())?;
    if let Some(reason) = &a.status_reason {
        k.text("status_reason", reason, limits.max_short_text, true)?;
    }
    k.opt_id("class", a.class.as_deref())
}

/// Checks a practitioner's own fields.
pub fn practitioner(p: &Practitioner, limits: &Limits, index: Option<usize>) -> R {
    let k = Check::new(RecordKind::Practitioner, &p.id, index, limits);
    k.id("id", &p.id)?;
    k.line("name", &p.name, false)?;
    if p.disciplines.is_empty() {
        return Err(k.fail("disciplines", "[]", Problem::Missing { needed: "at least one discipline" }));
    }
    k.len("disciplines", p.disciplines.len())?;
    for (i, d) in p.disciplines.iter().enumerate() {
        k.discipline(&format!("disciplines[{i}]"), d)?;
    }
    k.windows("availability", &p.availability)?;
    k.len("time_off", p.time_off.len())?;
    for (i, range) in p.time_off.iter().enumerate() {
        if range.to < range.from {
            return Err(k.fail(format!("time_off[{i}].to"), range.to, Problem::BeforeOther { other: "from" }));
        }
    }
    Ok(())
}

/// Checks a room's own fields.
pub fn room(r: &Room, limits: &Limits, index: Option<usize>) -> R {
    let k = Check::new(RecordKind::Room, &r.id, index, limits);
    k.id("id", &r.id)?;
    k.line("name", &r.name, false)?;
    if r.kind == RoomKind::Unknown {
        return Err(k.fail(
            "kind",
            "unknown",
            Problem::BadValue { expected: "treatment_room, acupuncture_room or studio" },
        ));
    }
    if r.capacity == 0 {
        return Err(k.fail("capacity", 0, Problem::OutOfRange { min: 1, max: u16::MAX.into() }));
    }
    Ok(())
}

/// Checks an override's own fields.
pub fn override_(o: &Override, limits: &Limits, index: Option<usize>) -> R {
    let k = Check::new(RecordKind::Override, &o.id, index, limits);
    k.id("id", &o.id)?;
    k.id("client", &o.client)?;
    let rule_ok =
        (1..=16).contains(&o.rule.len()) && o.rule.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !rule_ok {
        return Err(k.fail(
            "rule",
            &o.rule,
            Problem::BadValue { expected: "a rule id from GUIDANCE-RULES.md, such as S1" },
        ));
    }
    k.short("card_summary", &o.card_summary)?;
    k.long("reason", &o.reason, true)?;
    k.opt_id("appointment", o.appointment.as_deref())
}

/// Checks an audit entry of an import.
pub fn audit_entry(e: &super::AuditEntry, limits: &Limits, index: usize) -> R {
    let k = Check::new(RecordKind::AuditEntry, &e.seq.to_string(), Some(index), limits);
    k.short("actor", &e.actor)?;
    k.short("entity", &e.entity)?;
    k.short("key", &e.key)
}

/// Checks the actor named for the audit log.
pub fn actor(actor: &str) -> Result<(), super::StoreError> {
    if actor.trim().is_empty() || actor.len() > 200 || actor.chars().any(char::is_control) {
        Err(super::StoreError::BadActor(actor.to_owned()))
    } else {
        Ok(())
    }
}
