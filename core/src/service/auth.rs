//! Who may do what: staff accounts, roles, login sessions and the role table.
//!
//! Every operation of the [`PracticeService`](super::PracticeService) names
//! the [`Operation`] it is and asks [`allowed`] whether the actor's role may
//! do it. Nothing else in Praxis decides it: the HTTP handlers and the pages
//! only carry the actor in. The table is in one place, [`allowed`], and
//! SECURITY.md prints it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use serde::{Deserialize, Serialize};

use super::{ServiceError, excerpt};
use crate::store::{Role, User, token_hash};

/// `[security]` in praxis.toml. Every value is a **project default**.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// Whether therapists see every client (`all`) or only those they have
    /// treated or are booked with (`own`). Default `all`.
    pub therapists_see: TherapistsSee,
    /// A web session ends after this many idle minutes (1 to 10080, a
    /// week; default 15).
    pub idle_logout_minutes: u32,
    /// Consecutive failed logins after which the account is locked (default 5).
    pub lockout_after: u32,
    /// How long a locked account stays locked, in minutes (default 15).
    pub lockout_minutes: u32,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            therapists_see: TherapistsSee::All,
            idle_logout_minutes: 15,
            lockout_after: 5,
            lockout_minutes: 15,
        }
    }
}

impl SecuritySettings {
    /// The key at fault and why, if a value is out of range.
    pub fn check(&self) -> Result<(), (String, String)> {
        if !(1..=10080).contains(&self.idle_logout_minutes) {
            return Err(("security.idle_logout_minutes".into(), "must be 1 to 10080 (a week)".into()));
        }
        if !(1..=100).contains(&self.lockout_after) {
            return Err(("security.lockout_after".into(), "must be 1 to 100".into()));
        }
        if !(1..=1440).contains(&self.lockout_minutes) {
            return Err(("security.lockout_minutes".into(), "must be 1 to 1440 (a day)".into()));
        }
        Ok(())
    }
}

/// Which clients a therapist sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TherapistsSee {
    /// Every client of the practice.
    All,
    /// Only clients they have treated or are booked with.
    Own,
}

/// One kind of thing a person can ask the practice service to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Operation {
    /// List clients and read their non-clinical record (contact, consent,
    /// insurance, availability, care plan).
    ReadClients,
    /// Register a client or change non-clinical fields.
    EditClientAdmin,
    /// Change clinical fields of a client (conditions, red flags,
    /// sensitivities, tender points, pressure).
    EditClientClinical,
    /// Read a chart: clinical fields, intake, sessions.
    ReadChart,
    /// Record intake, sessions and follow-ups.
    RecordClinical,
    /// Read the full guidance (cards, recommendation).
    ReadGuidance,
    /// Read whether a client may be booked, and why not (no clinical detail).
    ReadBookingVerdict,
    /// Override a critical card.
    Override,
    /// Outcomes reports.
    ReadReports,
    /// Read the schedule.
    ReadSchedule,
    /// Plan, book, cancel, move, no-show.
    EditSchedule,
    /// Export the whole practice.
    Export,
    /// Import a practice.
    Import,
    /// Plugins and configuration.
    Administer,
    /// Users and tokens.
    ManageUsers,
    /// Read and verify the audit log.
    ReadAudit,
}

impl Operation {
    /// Every operation, in the order of the role table.
    pub const ALL: [Operation; 16] = [
        Operation::ReadClients,
        Operation::EditClientAdmin,
        Operation::EditClientClinical,
        Operation::ReadChart,
        Operation::RecordClinical,
        Operation::ReadGuidance,
        Operation::ReadBookingVerdict,
        Operation::Override,
        Operation::ReadReports,
        Operation::ReadSchedule,
        Operation::EditSchedule,
        Operation::Export,
        Operation::Import,
        Operation::Administer,
        Operation::ManageUsers,
        Operation::ReadAudit,
    ];
}

/// The role table: whether `role` may do `op`.
pub fn allowed(role: Role, op: Operation) -> bool {
    use Operation::*;
    match role {
        Role::Owner => true,
        Role::Therapist => matches!(
            op,
            ReadClients
                | EditClientClinical
                | ReadChart
                | RecordClinical
                | ReadGuidance
                | ReadBookingVerdict
                | Override
                | ReadReports
                | ReadSchedule
        ),
        Role::FrontDesk => {
            matches!(op, ReadClients | EditClientAdmin | ReadBookingVerdict | ReadSchedule | EditSchedule)
        }
        Role::Auditor => matches!(op, ReadReports | ReadAudit),
    }
}

/// Who makes a change or reads a chart: the name the audit log records, and
/// the role that decides what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    name: String,
    role: Role,
    #[serde(default)]
    practitioner: Option<String>,
    #[serde(default)]
    account: bool,
}

impl Actor {
    /// The local account that owns the data folder (the command line,
    /// directly or through the server's socket): an owner, named `name` in
    /// the audit log. 1 to 200 characters, no control characters.
    pub fn new(name: &str) -> Result<Actor, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(ServiceError::BadInput(format!(
                "`{}` cannot name who makes a change: give 1 to 200 printable characters (--as NAME)",
                excerpt(name)
            )));
        }
        Ok(Actor { name: name.to_owned(), role: Role::Owner, practitioner: None, account: false })
    }

    /// A staff account, as authenticated by a password or a token.
    pub fn user(user: &User) -> Actor {
        Actor { name: user.login.clone(), role: user.role, practitioner: user.practitioner.clone(), account: true }
    }

    /// The name, as the audit log records it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The practitioner this person is, if any.
    pub fn practitioner(&self) -> Option<&str> {
        self.practitioner.as_deref()
    }

    /// Whether this is a staff account (not the local OS account).
    pub fn is_account(&self) -> bool {
        self.account
    }

    /// Refuses, with a 403-class error, what the role may not do.
    pub fn require(&self, op: Operation) -> Result<(), ServiceError> {
        if allowed(self.role, op) {
            return Ok(());
        }
        Err(ServiceError::Forbidden(format!(
            "{} ({}) may not {}: ask the practice's owner",
            self.name,
            self.role,
            describe(op)
        )))
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

fn describe(op: Operation) -> &'static str {
    match op {
        Operation::ReadClients => "list or read clients",
        Operation::EditClientAdmin => "register clients or change their contact, consent, insurance or care plan",
        Operation::EditClientClinical => "change a client's clinical record",
        Operation::ReadChart => "read a client's chart",
        Operation::RecordClinical => "record intake, sessions or follow-ups",
        Operation::ReadGuidance => "read clinical guidance",
        Operation::ReadBookingVerdict => "see whether a client may be booked",
        Operation::Override => "override a critical card",
        Operation::ReadReports => "read reports",
        Operation::ReadSchedule => "read the schedule",
        Operation::EditSchedule => "plan or book appointments",
        Operation::Export => "export the practice",
        Operation::Import => "import a practice",
        Operation::Administer => "change plugins or the configuration",
        Operation::ManageUsers => "manage users or tokens",
        Operation::ReadAudit => "read the audit log",
    }
}

/// Hashes a password with Argon2id (the crate's defaults: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    check_password(password)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ServiceError::Failed(format!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServiceError::Failed(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Failed(format!("hashing the password: {e}")))
}

/// Whether `password` matches the stored Argon2id `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A password must be 10 to 1024 characters.
pub fn check_password(password: &str) -> Result<(), ServiceError> {
    let n = password.chars().count();
    if !(10..=1024).contains(&n) {
        return Err(ServiceError::BadInput(format!(
            "a password needs 10 to 1024 characters (this one has {n}): choose a longer one"
        )));
    }
    Ok(())
}

/// A web session's secret and its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The cookie value. Only its hash is kept.
    pub secret: String,
    /// The token every state-changing form must carry.
    pub csrf: String,
}

#[derive(Debug, Clone)]
struct LiveSession {
    login: String,
    csrf: String,
    last_seen: Instant,
}

/// The web sessions of a server: in memory (a restart logs everyone out),
/// keyed by the hash of the cookie's secret.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, LiveSession>>,
}

impl Sessions {
    /// Starts a session for `login`.
    pub fn start(&self, login: &str) -> Result<NewSession, ServiceError> {
        let secret = random_hex(32)?;
        let csrf = random_hex(32)?;
        let session = LiveSession { login: login.to_owned(), csrf: csrf.clone(), last_seen: Instant::now() };
        self.live.lock().unwrap_or_else(|e| e.into_inner()).insert(token_hash(&secret), session);
        Ok(NewSession { secret, csrf })
    }

    /// The login and CSRF token of a live session, refreshing its idle
    /// clock; `None` when unknown or idle for longer than `idle`.
    pub fn touch(&self, secret: &str, idle: Duration) -> Option<(String, String)> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let key = token_hash(secret);
        let session = live.get_mut(&key)?;
        if session.last_seen.elapsed() > idle {
            live.remove(&key);
            return None;
        }
        session.last_seen = Instant::now();
        Some((session.login.clone(), session.csrf.clone()))
    }

    /// Ends a session.
    pub fn end(&self, secret: &str) -> Option<String> {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).remove(&token_hash(secret)).map(|s| s.login)
    }

    /// Ends every session of `login` (disabled, or a new password).
    pub fn end_all(&self, login: &str) {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, s| s.login != login);
    }
}

fn random_hex(bytes: usize) -> Result<String, ServiceError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ServiceError::Failed(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("anything", "not a hash"));
        assert!(hash_password("short").unwrap_err().to_string().contains("10 to 1024"));
    }

    #[test]
    fn sessions_end_when_idle_or_ended() {
        let sessions = Sessions::default();
        let s = sessions.start("ana").unwrap();
        assert_eq!(sessions.touch(&s.secret, Duration::from_secs(60)).map(|x| x.0), Some("ana".into()));
        assert_eq!(sessions.touch(&s.secret, Duration::ZERO), None, "idle for longer than zero");
        assert_eq!(sessions.touch(&s.secret, Duration::from_secs(60)), None, "an idle session is gone");
        let t = sessions.start("ana").unwrap();
        sessions.end_all("ana");
        assert_eq!(sessions.touch(&t.secret, Duration::from_secs(60)), None);
        assert_eq!(sessions.touch("made-up", Duration::from_secs(60)), None);
    }
}
