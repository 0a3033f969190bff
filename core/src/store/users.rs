//! Staff accounts: one per person, with a role, an Argon2id password hash and
//! the state of its failed logins. Accounts are credentials, not practice
//! records: they are never in an export.

use serde::{Deserialize, Serialize};

use super::{AuditAction, Problem, RecordKind, RecordRef, Store, StoreError, ValidationError};

/// The tree that holds the accounts, keyed by login.
const USERS: &str = "users";

/// What a person may do in the practice (HIPAA 164.312(a): access control).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, including users, configuration, plugins and the audit log.
    Owner,
    /// Clinical records: intake, sessions, guidance, overrides, outcomes; the schedule.
    Therapist,
    /// Contact details, consent, insurance, availability, care plans; schedule, plan and book.
    FrontDesk,
    /// Read-only: the audit log and reports.
    Auditor,
}

impl Role {
    /// Every role, in the order the table in SECURITY.md lists them.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Therapist, Role::FrontDesk, Role::Auditor];

    /// The name as typed and shown: `owner`, `therapist`, `front-desk`, `auditor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Therapist => "therapist",
            Role::FrontDesk => "front-desk",
            Role::Auditor => "auditor",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Ok(match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "owner" => Role::Owner,
            "therapist" => Role::Therapist,
            "front-desk" | "frontdesk" => Role::FrontDesk,
            "auditor" => Role::Auditor,
            _ => {
                return Err(format!(
                    "unknown role `{}`: use owner, therapist, front-desk or auditor",
                    crate::service::excerpt(s)
                ));
            }
        })
    }
}

/// A staff account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The login, unique: lower-case letters, digits, `.`, `_`, `-`.
    pub login: String,
    /// The person's full name, as the audit log shows it.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// The practitioner of the practice config this person is, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner: Option<String>,
    /// The Argon2id hash of the password (PHC string format).
    pub password_hash: String,
    /// A disabled account can do nothing; its tokens and sessions stop at once.
    #[serde(default)]
    pub disabled: bool,
    /// Failed logins since the last success.
    #[serde(default)]
    pub failed_logins: u32,
    /// Until when logins are refused after repeated failures (UTC, RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
    /// When the account was made (UTC, RFC 3339).
    pub created: String,
}

/// Checks a login's spelling.
pub fn valid_login(login: &str) -> Result<(), StoreError> {
    let ok = (1..=64).contains(&login.len())
        && login.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        return Ok(());
    }
    let problem = Problem::BadValue { expected: "1 to 64 lower-case letters, digits, `.`, `_` or `-`" };
    Err(ValidationError::new(RecordRef::new(RecordKind::User, login), "login", crate::service::excerpt(login), problem)
        .into())
}

impl Store {
    /// One account.
    pub fn get_user(&self, login: &str) -> Result<Option<User>, StoreError> {
        let Some(bytes) = self.get_raw(super::keys::T::Users, login.as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| StoreError::Corrupt {
            tree: USERS.into(),
            key: login.to_owned(),
            error: e.to_string(),
        })
    }

    /// Every account, by login.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.scan(super::keys::T::Users, super::backend::Scan::All)?
            .map(|kv| {
                let (k, v) = kv?;
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                    tree: USERS.into(),
                    key: String::from_utf8_lossy(&k).into_owned(),
                    error: e.to_string(),
                })
            })
            .collect()
    }

    /// Saves an account (new or changed) with an audit entry describing the
    /// change (`what`, never the hash), flushed before it returns.
    pub fn put_user(&self, user: &User, what: &str, actor: &str) -> Result<(), StoreError> {
        super::validate::actor(actor)?;
        valid_login(&user.login)?;
        let name = user.name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            let problem = Problem::BadValue { expected: "1 to 200 printable characters" };
            return Err(ValidationError::new(
                RecordRef::new(RecordKind::User, &user.login),
                "name",
                crate::service::excerpt(name),
                problem,
            )
            .into());
        }
        let existed = self.get_user(&user.login)?.is_some();
        let bytes = serde_json::to_vec(user).expect("an account encodes");
        self.insert_raw(super::keys::T::Users, user.login.as_bytes(), &bytes)?;
        let action = if existed { AuditAction::Update } else { AuditAction::Create };
        let after = serde_json::json!({ "change": what, "role": user.role, "disabled": user.disabled });
        // The audit transaction flushes the whole database, the account with it.
        self.write(|tx| tx.audit(actor, action, "user", &user.login, None, Some(after.clone())))?;
        Ok(())
    }

    /// Records a login attempt's outcome on the account without an audit
    /// entry of its own (the caller audits the attempt with
    /// [`Store::audit_event`]).
    pub fn put_user_state(&self, user: &User) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(user).expect("an account encodes");
        self.insert_raw(super::keys::T::Users, user.login.as_bytes(), &bytes)?;
        Ok(())
    }

    /// Appends an audit entry for an event that changes no practice record
    /// (a login, a failed login, a lockout, a read of a chart).
    ///
    /// With `durable`, the entry is flushed before this returns; without, it
    /// rides on the next flush (sled's own, within half a second, or the
    /// next write's), which keeps reads fast.
    pub fn audit_event(
        &self,
        action: AuditAction,
        actor: &str,
        entity: &str,
        key: &str,
        detail: serde_json::Value,
        durable: bool,
    ) -> Result<(), StoreError> {
        let write = |tx: &super::Tx<'_>| tx.audit(actor, action, entity, key, None, Some(detail.clone()));
        self.write_with(durable, write)?;
        Ok(())
    }
}
