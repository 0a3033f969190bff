//! iCalendar (RFC 5545) feeds: a practitioner's appointments, a client's
//! confirmation, and the secret tokens that guard the feed URLs.
//!
//! - Times are local to the practice (`DTSTART;TZID=...`), with a `VTIMEZONE`
//!   generated from the zone's transitions over the feed's span (RFC 5545
//!   3.6.5), so a calendar app does not need to know the zone.
//! - Each event has a stable `UID`: the appointment id, or the visit id for a
//!   visit (heat, massage and cold booked together are one event).
//! - `SEQUENCE` counts the changes of the event's appointments in the audit
//!   log (every booking and status change is audited), so it rises with every
//!   change; no counter is stored.
//! - A cancelled appointment stays in the feed with `STATUS:CANCELLED`, so
//!   calendar apps remove it.
//! - A practitioner's feed shows no clinical details: the discipline, the
//!   room, and the client's initials (or full name when the practice's
//!   `[calendar] client_names = "full"`).
//! - Lines are folded at 75 octets (never inside a UTF-8 character) and text
//!   is escaped (RFC 5545 3.1, 3.3.11).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use praxis_sdk::{Adjunct, DateTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{InteropError, zoned};
use crate::config::ClientNames;
use crate::store::{Appointment, AppointmentStatus, AuditEntry, Client, Room};

/// The `PRODID` of every calendar Praxis writes.
pub const PRODID: &str = concat!("-//Praxis//Praxis ", env!("CARGO_PKG_VERSION"), "//EN");

/// Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma, newline.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line (RFC 5545 3.1): at most 75 octets a line, continued
/// with CRLF and a space, never splitting a UTF-8 character. Ends with CRLF.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
    out
}

/// How a calendar writes the client (a `[calendar]` setting).
fn client_label(client: Option<&Client>, names: ClientNames) -> String {
    let Some(c) = client else { return "client".to_owned() };
    match names {
        ClientNames::Full => c.name.clone(),
        ClientNames::Initials => {
            let initials: String = c
                .name
                .split_whitespace()
                .filter_map(|w| w.chars().next())
                .flat_map(|c| c.to_uppercase())
                .map(|c| format!("{c}."))
                .collect();
            if initials.is_empty() { "client".to_owned() } else { initials }
        }
    }
}

fn discipline_label(a: &Appointment) -> String {
    match a.adjunct {
        Some(Adjunct::HeatBefore) => "heat".to_owned(),
        Some(Adjunct::ColdAfter) => "cold".to_owned(),
        None => a.discipline.as_str().replace('_', " "),
    }
}

/// What a feed is made from.
#[derive(Debug)]
pub struct FeedInput<'a> {
    /// The calendar's name (`X-WR-CALNAME`).
    pub name: String,
    /// The practice's time zone.
    pub tz: jiff::tz::TimeZone,
    /// The appointments, in any order; visits are grouped here.
    pub appointments: &'a [Appointment],
    /// The clients they are for.
    pub clients: &'a [Client],
    /// The rooms.
    pub rooms: &'a [Room],
    /// The audit log (for `SEQUENCE`); empty gives 0 everywhere.
    pub audit: &'a [AuditEntry],
    /// How client names appear.
    pub client_names: ClientNames,
}

/// Changes per appointment id, from the audit log: its creation and every change.
fn change_counts(audit: &[AuditEntry]) -> HashMap<&str, u32> {
    let mut counts = HashMap::new();
    for e in audit.iter().filter(|e| e.entity == "appointment") {
        *counts.entry(e.key.as_str()).or_insert(0) += 1;
    }
    counts
}

/// One event: one appointment, or all the appointments of a visit.
struct Event<'a> {
    uid: String,
    parts: Vec<&'a Appointment>,
}

impl Event<'_> {
    fn start(&self) -> DateTime {
        self.parts.iter().map(|a| a.start).min().unwrap_or(self.parts[0].start)
    }
    fn end(&self) -> DateTime {
        self.parts.iter().map(|a| a.start.add_minutes(i64::from(a.minutes))).max().unwrap_or(self.parts[0].start)
    }
    fn cancelled(&self) -> bool {
        self.parts.iter().all(|a| a.status == AppointmentStatus::Cancelled)
    }
}

fn events(appointments: &[Appointment]) -> Vec<Event<'_>> {
    let mut by_uid: BTreeMap<String, Vec<&Appointment>> = BTreeMap::new();
    for a in appointments {
        let uid = a.visit.clone().unwrap_or_else(|| a.id.clone());
        by_uid.entry(uid).or_default().push(a);
    }
    let mut out: Vec<Event<'_>> = by_uid
        .into_iter()
        .map(|(uid, mut parts)| {
            parts.sort_by_key(|a| a.start);
            Event { uid, parts }
        })
        .collect();
    out.sort_by_key(|e| (e.start(), e.uid.clone()));
    out
}

fn local_stamp(at: DateTime) -> String {
    let (y, m, d) = at.date.ymd();
    let t = at.time.minutes();
    format!("{y:04}{m:02}{d:02}T{:02}{:02}00", t / 60, t % 60)
}

fn utc_stamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn offset_text(o: jiff::tz::Offset) -> String {
    let s = o.seconds();
    let sign = if s < 0 { '-' } else { '+' };
    let s = s.abs();
    if s % 60 == 0 {
        format!("{sign}{:02}{:02}", s / 3600, s / 60 % 60)
    } else {
        format!("{sign}{:02}{:02}{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// The zone's `TZID`: its IANA name, else `UTC` or the fixed offset.
fn tzid(tz: &jiff::tz::TimeZone) -> String {
    tz.iana_name().map(str::to_owned).unwrap_or_else(|| {
        let o = tz.to_offset(jiff::Timestamp::UNIX_EPOCH);
        if o.seconds() == 0 { "UTC".to_owned() } else { format!("UTC{}", offset_text(o)) }
    })
}

/// A `VTIMEZONE` for `tz` covering `from..=to`: the observance in force at
/// `from`, and one per transition up to `to`, each with its offsets before
/// and after and its abbreviation (RFC 5545 3.6.5).
pub fn vtimezone(tz: &jiff::tz::TimeZone, from: jiff::Timestamp, to: jiff::Timestamp) -> Vec<String> {
    let mut lines = vec!["BEGIN:VTIMEZONE".to_owned(), format!("TZID:{}", tzid(tz))];
    let push = |lines: &mut Vec<String>,
                at: jiff::Timestamp,
                before: jiff::tz::Offset,
                after: jiff::tz::Offset,
                name: &str,
                dst: bool| {
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        // DTSTART is the local time of the change, in the offset before it.
        let local = before.to_datetime(at);
        lines.push(format!("BEGIN:{kind}"));
        lines.push(format!("DTSTART:{}", local.strftime("%Y%m%dT%H%M%S")));
        lines.push(format!("TZOFFSETFROM:{}", offset_text(before)));
        lines.push(format!("TZOFFSETTO:{}", offset_text(after)));
        if !name.is_empty() {
            lines.push(format!("TZNAME:{}", escape_text(name)));
        }
        lines.push(format!("END:{kind}"));
    };
    let in_force = tz.preceding(from.checked_add(jiff::SignedDuration::from_secs(1)).unwrap_or(from)).next();
    match in_force {
        Some(t) => {
            let before =
                tz.to_offset(t.timestamp().checked_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(t.timestamp()));
            push(&mut lines, t.timestamp(), before, t.offset(), t.abbreviation(), t.dst().is_dst());
        }
        None => {
            let info = tz.to_offset_info(from);
            let o = info.offset();
            push(&mut lines, jiff::Timestamp::UNIX_EPOCH, o, o, info.abbreviation(), info.dst().is_dst());
        }
    }
    for t in tz.following(from).take_while(|t| t.timestamp() <= to) {
        let before =
            tz.to_offset(t.timestamp().checked_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(t.timestamp()));
        push(&mut lines, t.timestamp(), before, t.offset(), t.abbreviation(), t.dst().is_dst());
    }
    lines.push("END:VTIMEZONE".to_owned());
    lines
}

fn calendar(name: &str, tz: &jiff::tz::TimeZone, span: Option<(DateTime, DateTime)>, body: Vec<String>) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        format!("PRODID:{PRODID}"),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        format!("X-WR-CALNAME:{}", escape_text(name)),
        format!("X-WR-TIMEZONE:{}", tzid(tz)),
    ];
    let (from, to) = span.unwrap_or_else(|| {
        let now = jiff::Timestamp::now().to_zoned(tz.clone()).datetime();
        let d =
            praxis_sdk::Date::from_ymd(i32::from(now.year()), now.month() as u32, now.day() as u32).unwrap_or_default();
        (DateTime::new(d, praxis_sdk::TimeOfDay::MIDNIGHT), DateTime::new(d, praxis_sdk::TimeOfDay::MIDNIGHT))
    });
    lines.extend(vtimezone(tz, zoned(from, tz).timestamp(), zoned(to, tz).timestamp()));
    lines.extend(body);
    lines.push("END:VCALENDAR".to_owned());
    lines.iter().map(|l| fold_line(l)).collect()
}

fn event_lines(
    e: &Event<'_>,
    tz: &jiff::tz::TimeZone,
    sequence: u32,
    summary: &str,
    location: &str,
    stamp: &str,
) -> Vec<String> {
    let id = tzid(tz);
    let mut lines = vec![
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@praxis", escape_text(&e.uid)),
        format!("DTSTAMP:{stamp}"),
        format!("DTSTART;TZID={id}:{}", local_stamp(e.start())),
        format!("DTEND;TZID={id}:{}", local_stamp(e.end())),
        format!("SEQUENCE:{sequence}"),
        format!("STATUS:{}", if e.cancelled() { "CANCELLED" } else { "CONFIRMED" }),
        format!("SUMMARY:{}", escape_text(summary)),
    ];
    if !location.is_empty() {
        lines.push(format!("LOCATION:{}", escape_text(location)));
    }
    lines.push("TRANSP:OPAQUE".to_owned());
    lines.push("END:VEVENT".to_owned());
    lines
}

fn what_of(e: &Event<'_>) -> String {
    let labels: Vec<String> = e.parts.iter().map(|a| discipline_label(a)).collect();
    let mut uniq: Vec<String> = Vec::new();
    for l in labels {
        if !uniq.contains(&l) {
            uniq.push(l);
        }
    }
    let joined = uniq.join(", ");
    let mut c = joined.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn rooms_of(e: &Event<'_>, rooms: &[Room]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for a in &e.parts {
        let name = rooms.iter().find(|r| r.id == a.room).map_or(a.room.as_str(), |r| r.name.as_str());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(", ")
}

/// A feed of appointments (a practitioner's, or any selection): one
/// `VEVENT` per appointment or visit, with no clinical details.
pub fn feed(input: &FeedInput<'_>) -> String {
    let counts = change_counts(input.audit);
    let evs = events(input.appointments);
    let span = evs.first().map(|first| (first.start(), evs.iter().map(Event::end).max().unwrap_or(first.end())));
    let stamp = utc_stamp(jiff::Timestamp::now());
    let mut body = Vec::new();
    for e in &evs {
        let sequence = e.parts.iter().map(|a| counts.get(a.id.as_str()).copied().unwrap_or(1).saturating_sub(1)).sum();
        let client = input.clients.iter().find(|c| c.id == e.parts[0].client);
        let summary = format!("{} - {}", what_of(e), client_label(client, input.client_names));
        body.extend(event_lines(e, &input.tz, sequence, &summary, &rooms_of(e, input.rooms), &stamp));
    }
    calendar(&input.name, &input.tz, span, body)
}

/// A client's confirmation of one appointment, or of the whole visit it
/// belongs to: one event, named by the practice, with no clinical details.
pub fn confirmation(appointment_id: &str, practice_name: &str, input: &FeedInput<'_>) -> Result<String, InteropError> {
    let Some(a) = input.appointments.iter().find(|a| a.id == appointment_id) else {
        return Err(InteropError::NotFound { kind: "appointment", id: appointment_id.to_owned() });
    };
    let parts: Vec<Appointment> = match &a.visit {
        Some(v) => input.appointments.iter().filter(|x| x.visit.as_ref() == Some(v)).cloned().collect(),
        None => vec![a.clone()],
    };
    let counts = change_counts(input.audit);
    let evs = events(&parts);
    let e = &evs[0];
    let sequence = e.parts.iter().map(|a| counts.get(a.id.as_str()).copied().unwrap_or(1).saturating_sub(1)).sum();
    let summary = format!("{} at {practice_name}", what_of(e));
    let body =
        event_lines(e, &input.tz, sequence, &summary, &rooms_of(e, input.rooms), &utc_stamp(jiff::Timestamp::now()));
    Ok(calendar(&input.name, &input.tz, Some((e.start(), e.end())), body))
}

// ----- feed tokens -----

/// The file, in the practice's data folder, that keeps the feed tokens' digests.
pub const FEED_TOKENS_FILE: &str = "calendar-tokens.json";

/// One practitioner's feed token, as kept: only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedToken {
    /// The practitioner whose feed it opens.
    pub practitioner: String,
    /// SHA-256 of the token, hex.
    pub sha256: String,
    /// When it was made (UTC, RFC 3339).
    pub created: String,
}

/// The secret per-practitioner tokens of the calendar feed URLs
/// (`/calendar/practitioner/{id}.ics?token=...`). Only their SHA-256 is kept,
/// in [`FEED_TOKENS_FILE`] (mode 0600, written atomically); a practitioner has
/// at most one token, and making a new one revokes the old.
#[derive(Debug)]
pub struct FeedTokens {
    path: PathBuf,
    tokens: Vec<FeedToken>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    tokens: Vec<FeedToken>,
}

fn digest_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl FeedTokens {
    /// Loads the tokens of the practice whose data folder is `data_dir`
    /// (none yet is an empty list).
    pub fn load(data_dir: &Path) -> Result<FeedTokens, InteropError> {
        let path = data_dir.join(FEED_TOKENS_FILE);
        let tokens = match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str::<TokensFile>(&text)
                    .map_err(|e| {
                        InteropError::invalid(path.display().to_string(), format!("not a feed token file: {e}"))
                    })?
                    .tokens
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(InteropError::Io { path, error }),
        };
        Ok(FeedTokens { path, tokens })
    }

    /// The tokens kept (digests only).
    pub fn list(&self) -> &[FeedToken] {
        &self.tokens
    }

    /// Makes a new token for a practitioner (revoking any older one), saves
    /// the digest, and returns the token: it is shown once and never kept.
    pub fn create(&mut self, practitioner: &str) -> Result<String, InteropError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| InteropError::Io {
            path: self.path.clone(),
            error: std::io::Error::other(format!("no randomness from the operating system: {e}")),
        })?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.tokens.retain(|t| t.practitioner != practitioner);
        self.tokens.push(FeedToken {
            practitioner: practitioner.to_owned(),
            sha256: digest_hex(&token),
            created: jiff::Timestamp::now().to_string(),
        });
        self.save()?;
        Ok(token)
    }

    /// Revokes a practitioner's token; whether there was one.
    pub fn revoke(&mut self, practitioner: &str) -> Result<bool, InteropError> {
        let before = self.tokens.len();
        self.tokens.retain(|t| t.practitioner != practitioner);
        let removed = self.tokens.len() != before;
        if removed {
            self.save()?;
        }
        Ok(removed)
    }

    /// Whether `token` opens `practitioner`'s feed (compared in constant time).
    pub fn check(&self, practitioner: &str, token: &str) -> bool {
        let given = digest_hex(token);
        self.tokens.iter().filter(|t| t.practitioner == practitioner).any(|t| {
            t.sha256.len() == given.len()
                && t.sha256.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
    }

    fn save(&self) -> Result<(), InteropError> {
        let io = |error| InteropError::Io { path: self.path.clone(), error };
        let text = serde_json::to_string_pretty(&TokensFile { tokens: self.tokens.clone() })
            .map_err(|e| io(std::io::Error::other(e)))?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{FEED_TOKENS_FILE}.tmp"));
        {
            use std::io::Write as _;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let mut f = options.open(&tmp).map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Writes a summary line of a feed for logs: how many events and cancellations.
pub fn describe(feed: &str) -> String {
    let events = feed.matches("BEGIN:VEVENT").count();
    let cancelled = feed.matches("STATUS:CANCELLED").count();
    let mut s = String::new();
    let _ = write!(s, "{events} events, {cancelled} cancelled");
    s
}

/// `GET /calendar/practitioner/{id}.ics?token=...`: the practitioner's feed
/// from `from` for `days` days, or `Unauthorized` when the token does not
/// open it (an unknown practitioner is refused the same way, so that the
/// answer says nothing about who works there).
pub fn practitioner_feed(
    store: &crate::store::Store,
    config: &crate::config::PracticeConfig,
    tokens: &FeedTokens,
    practitioner: &str,
    token: &str,
    from: praxis_sdk::Date,
    days: u32,
) -> Result<String, InteropError> {
    let Some(p) = config.practitioners.iter().find(|p| p.id == practitioner) else {
        return Err(InteropError::Unauthorized("no feed for this practitioner and token".into()));
    };
    if !tokens.check(practitioner, token) {
        return Err(InteropError::Unauthorized("no feed for this practitioner and token".into()));
    }
    let a = DateTime::new(from, praxis_sdk::TimeOfDay::MIDNIGHT);
    let b = DateTime::new(from.add_days(days as i32), praxis_sdk::TimeOfDay::MIDNIGHT);
    let appointments = store.appointments_for_practitioner(practitioner, a, b)?;
    let clients = store.clients()?;
    let audit = store.audit()?;
    Ok(feed(&FeedInput {
        name: format!("{} - {}", config.file.practice.name, p.name),
        tz: config.time_zone(),
        appointments: &appointments,
        clients: &clients,
        rooms: &config.rooms,
        audit: &audit,
        client_names: config.file.calendar.client_names,
    }))
}
