//! The trees of the store and the keys inside them.
//!
//! Keys are chosen for the clinic's queries, so that each is one range scan:
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `schema_version`, `audit_next`, `audit_head`, `import_pending` | u32 big-endian, u64 big-endian, hex hash of the last audit entry, import id |
//! | `clients` | client id | [`Client`](super::Client) |
//! | `intakes` | client id | [`Intake`](super::Intake) |
//! | `sessions` | client id, 0, start, session id | [`Session`](super::Session) |
//! | `session_ids` | session id | its key in `sessions` |
//! | `appointments` | start, appointment id | [`Appointment`](super::Appointment) |
//! | `appointment_ids` | appointment id | its key in `appointments` |
//! | `appointments_by_practitioner` | practitioner id, 0, start, appointment id | the appointment |
//! | `appointments_by_room` | room id, 0, start, appointment id | the appointment |
//! | `appointments_by_client` | client id, 0, start, appointment id | the appointment |
//! | `practitioners` | practitioner id | [`Practitioner`](super::Practitioner) |
//! | `rooms` | room id | [`Room`](super::Room) |
//! | `overrides` | client id, 0, at, override id | [`Override`](super::Override) |
//! | `override_ids` | override id | its key in `overrides` |
//! | `audit` | sequence number, u64 big-endian | [`AuditEntry`](super::AuditEntry) |
//! | `import_journal` | tree name, 0, key | empty: keys written by an import in progress |
//! | `sessions_by_start` | start, session id | its key in `sessions` (version 4) |
//!
//! A start time is 8 bytes: minutes since 1970-01-01T00:00 as a big-endian
//! `u64` with the sign bit flipped, so byte order is time order. Ids never
//! contain a 0 byte (see `is_valid_id`), so `owner, 0` is an exact prefix.
//! The appointment indexes hold a copy of the appointment, so that a day's,
//! a practitioner's or a room's calendar is read without further lookups.
//! `sessions_by_start` is the practice's sessions in time order (the
//! follow-ups due are one range scan of it); it is written in the same
//! transaction as the session.

use praxis_sdk::DateTime;

/// The trees of the store. The discriminant is a tree's index among the
/// open sled trees and its number in PostgreSQL's `kv.tree`, so a new tree
/// goes at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum T {
    Meta,
    Clients,
    Intakes,
    Sessions,
    SessionIds,
    Appointments,
    AppointmentIds,
    ByPractitioner,
    ByRoom,
    ByClient,
    Practitioners,
    Rooms,
    Overrides,
    OverrideIds,
    Audit,
    Journal,
    /// Staff accounts (not in a transaction over `ALL`, nor in an export).
    Users,
    /// API tokens, hashed (likewise).
    Tokens,
    /// Sessions by start time (schema version 4).
    SessionsByStart,
}

impl T {
    /// The trees of records and their indexes (every tree but the credentials).
    pub(crate) const ALL: [T; 17] = [
        T::Meta,
        T::Clients,
        T::Intakes,
        T::Sessions,
        T::SessionIds,
        T::Appointments,
        T::AppointmentIds,
        T::ByPractitioner,
        T::ByRoom,
        T::ByClient,
        T::Practitioners,
        T::Rooms,
        T::Overrides,
        T::OverrideIds,
        T::Audit,
        T::Journal,
        T::SessionsByStart,
    ];

    /// Every tree in discriminant order: the order the sled trees are opened
    /// in ([`T::ALL`] and [`T::CREDENTIALS`], each at its discriminant).
    pub(crate) const OPEN: [T; 19] = {
        let mut open = [T::Meta; 19];
        let mut i = 0;
        while i < T::ALL.len() {
            open[T::ALL[i] as usize] = T::ALL[i];
            i += 1;
        }
        let mut i = 0;
        while i < T::CREDENTIALS.len() {
            open[T::CREDENTIALS[i] as usize] = T::CREDENTIALS[i];
            i += 1;
        }
        open
    };

    /// The trees of credentials, written outside the record transactions.
    pub(crate) const CREDENTIALS: [T; 2] = [T::Users, T::Tokens];

    pub(crate) fn name(self) -> &'static str {
        match self {
            T::Meta => "meta",
            T::Clients => "clients",
            T::Intakes => "intakes",
            T::Sessions => "sessions",
            T::SessionIds => "session_ids",
            T::Appointments => "appointments",
            T::AppointmentIds => "appointment_ids",
            T::ByPractitioner => "appointments_by_practitioner",
            T::ByRoom => "appointments_by_room",
            T::ByClient => "appointments_by_client",
            T::Practitioners => "practitioners",
            T::Rooms => "rooms",
            T::Overrides => "overrides",
            T::OverrideIds => "override_ids",
            T::Audit => "audit",
            T::Journal => "import_journal",
            T::Users => "users",
            T::Tokens => "api_tokens",
            T::SessionsByStart => "sessions_by_start",
        }
    }

    pub(crate) fn from_name(name: &[u8]) -> Option<T> {
        T::ALL.into_iter().find(|t| t.name().as_bytes() == name)
    }
}

/// `meta` key of the schema version.
pub(crate) const SCHEMA_VERSION: &[u8] = b"schema_version";
/// `meta` key of the next audit sequence number (u64 big-endian).
pub(crate) const AUDIT_NEXT: &[u8] = b"audit_next";
/// `meta` key of the hash of the last audit entry (hex), the head of the chain.
pub(crate) const AUDIT_HEAD: &[u8] = b"audit_head";
/// `meta` key present while an import is being written.
pub(crate) const IMPORT_PENDING: &[u8] = b"import_pending";

/// A start time as 8 bytes that sort in time order.
pub(crate) fn minute(at: DateTime) -> [u8; 8] {
    ((at.epoch_minutes() as u64) ^ (1 << 63)).to_be_bytes()
}

/// `owner, 0`: the prefix of everything an owner has.
pub(crate) fn scope(owner: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(owner.len() + 1);
    key.extend_from_slice(owner.as_bytes());
    key.push(0);
    key
}

/// `owner, 0, at`: the first key at or after `at` in the owner's scope.
pub(crate) fn scope_at(owner: &str, at: DateTime) -> Vec<u8> {
    let mut key = scope(owner);
    key.extend_from_slice(&minute(at));
    key
}

/// `owner, 0, at, id`.
pub(crate) fn scoped(owner: &str, at: DateTime, id: &str) -> Vec<u8> {
    let mut key = scope_at(owner, at);
    key.extend_from_slice(id.as_bytes());
    key
}

/// `at, id`.
pub(crate) fn timed(at: DateTime, id: &str) -> Vec<u8> {
    let mut key = minute(at).to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

/// An audit sequence number as a key.
pub(crate) fn seq(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// A journal key: the tree's name, 0, the key.
pub(crate) fn journal(tree: T, key: &[u8]) -> Vec<u8> {
    let mut out = scope(tree.name());
    out.extend_from_slice(key);
    out
}

/// Splits a journal key into its tree and key.
pub(crate) fn parse_journal(entry: &[u8]) -> Option<(T, &[u8])> {
    let zero = entry.iter().position(|&b| b == 0)?;
    Some((T::from_name(&entry[..zero])?, &entry[zero + 1..]))
}

/// A key for people: printable ASCII as is, other bytes as `\xNN`.
pub(crate) fn show(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len());
    for &b in key {
        if b.is_ascii_graphic() || b == b' ' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_keys_sort_in_time_order() {
        fn check(a: &str, b: &str) {
            let (a, b): (DateTime, DateTime) = (a.parse().unwrap(), b.parse().unwrap());
            assert!(minute(a) < minute(b), "{a} {b}");
            assert!(scoped("c", a, "zzz") < scoped("c", b, "aaa"), "{a} {b}");
        }
        check("1969-12-31T23:59", "1970-01-01T00:00");
        check("1900-01-01T00:00", "2026-11-21T09:30");
        check("2026-11-21T09:30", "2026-11-21T09:31");
        check("2026-12-31T23:59", "2027-01-01T00:00");
    }

    #[test]
    fn every_tree_is_opened_at_its_discriminant() {
        for (i, t) in T::OPEN.into_iter().enumerate() {
            assert_eq!(t as usize, i, "{}", t.name());
        }
        for t in T::ALL.into_iter().chain(T::CREDENTIALS) {
            assert!(T::OPEN.contains(&t), "{}", t.name());
        }
        assert_eq!(T::OPEN.len(), T::ALL.len() + T::CREDENTIALS.len());
        assert_eq!(T::Users as i16, 16, "PostgreSQL stores users as tree 16");
    }

    #[test]
    fn journal_keys_round_trip() {
        fn check(tree: T, key: &[u8]) {
            assert_eq!(parse_journal(&journal(tree, key)), Some((tree, key)));
        }
        check(T::Sessions, b"c1\0\x80\0\0\0\0\0\0\0s1");
        check(T::Audit, &[0, 0, 0, 0, 0, 0, 0, 7]);
        check(T::Clients, b"");
        assert_eq!(parse_journal(b"nope\0k"), None);
        assert_eq!(parse_journal(b"clients"), None);
        assert_eq!(show(b"c1\0\xff"), "c1\\x00\\xff");
    }
}
