//! Staff accounts and logins, as operations of the practice service.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::auth::{self, NewSession};
use super::{Actor, Operation, PracticeService, ServiceError, excerpt};
use crate::store::{AuditAction, Role, User};

type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// A new account, as `praxis user add` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The login.
    pub login: String,
    /// The person's full name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// The practitioner id of the practice config this person is, if any.
    pub practitioner: Option<String>,
    /// The password (hashed with Argon2id before it is stored).
    pub password: String,
}

/// An account as shown: never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// The login.
    pub login: String,
    /// The full name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// The practitioner it is, if any.
    pub practitioner: Option<String>,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Whether it is locked after failed logins, until when.
    pub locked_until: Option<String>,
    /// When it was made.
    pub created: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            login: u.login.clone(),
            name: u.name.clone(),
            role: u.role,
            practitioner: u.practitioner.clone(),
            disabled: u.disabled,
            locked_until: u.locked_until.clone(),
            created: u.created.clone(),
        }
    }
}

/// A refused login: the message, and how long to make the caller wait
/// before answering (growing with each failure).
#[derive(Debug)]
pub struct LoginRefused {
    /// What to tell the person (never which of login and password was wrong).
    pub error: ServiceError,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl PracticeService {
    /// One account (for owners).
    pub fn user(&self, login: &str, actor: &Actor) -> Result<User> {
        actor.require(Operation::ManageUsers)?;
        self.store
            .get_user(login)?
            .ok_or_else(|| ServiceError::NotFound(format!("no user `{}`: see `praxis user list`", excerpt(login))))
    }

    /// Every account, without hashes.
    pub fn users(&self, actor: &Actor) -> Result<Vec<UserView>> {
        actor.require(Operation::ManageUsers)?;
        Ok(self.store.users()?.iter().map(UserView::from).collect())
    }

    /// Whether the practice has an enabled owner (a server needs one).
    pub fn has_owner(&self) -> Result<bool> {
        Ok(self.store.users()?.iter().any(|u| u.role == Role::Owner && !u.disabled))
    }

    /// Makes an account.
    pub fn add_user(&self, new: &NewUser, actor: &Actor) -> Result<UserView> {
        actor.require(Operation::ManageUsers)?;
        crate::store::valid_login(&new.login)?;
        if self.store.get_user(&new.login)?.is_some() {
            return Err(ServiceError::Conflict(format!(
                "user `{}` already exists: choose another login, or change it with `praxis user passwd`",
                new.login
            )));
        }
        if let Some(p) = &new.practitioner
            && !self.config().practitioners.iter().any(|x| &x.id == p)
        {
            return Err(ServiceError::BadInput(format!(
                "no practitioner `{}` in {}: give the id of a [[practitioners]] entry",
                excerpt(p),
                self.config().path.display()
            )));
        }
        let user = User {
            login: new.login.clone(),
            name: new.name.trim().to_owned(),
            role: new.role,
            practitioner: new.practitioner.clone(),
            password_hash: auth::hash_password(&new.password)?,
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            created: jiff::Timestamp::now().to_string(),
        };
        self.store.put_user(&user, "created", actor.name())?;
        Ok(UserView::from(&user))
    }

    /// Disables an account: its tokens and sessions stop working at once.
    pub fn disable_user(&self, login: &str, actor: &Actor) -> Result<UserView> {
        let mut user = self.user(login, actor)?;
        user.disabled = true;
        self.store.put_user(&user, "disabled", actor.name())?;
        self.sessions.end_all(&user.login);
        Ok(UserView::from(&user))
    }

    /// Sets a new password (and lifts a lockout); ends the account's sessions.
    pub fn set_password(&self, login: &str, password: &str, actor: &Actor) -> Result<UserView> {
        let mut user = self.user(login, actor)?;
        user.password_hash = auth::hash_password(password)?;
        user.failed_logins = 0;
        user.locked_until = None;
        self.store.put_user(&user, "new password", actor.name())?;
        self.sessions.end_all(&user.login);
        Ok(UserView::from(&user))
    }

    /// Checks a login and password, with growing delays after failures and
    /// a temporary lockout after `[security] lockout_after` of them. Every
    /// login, failure and lockout is audited (durably).
    pub fn login(&self, login: &str, password: &str) -> Result<(Actor, NewSession), LoginRefused> {
        let settings = self.config().file.security.clone();
        let refused =
            |delay: Duration, why: &str| LoginRefused { error: ServiceError::Unauthenticated(why.to_owned()), delay };
        let store_failed = |e: crate::store::StoreError| LoginRefused { error: e.into(), delay: Duration::ZERO };
        let wrong = "wrong login or password";
        let who = excerpt(login);
        let Some(mut user) = self.store.get_user(login).map_err(store_failed)? else {
            // Hash anyway, so that an unknown login takes as long as a known one.
            let _ = auth::verify_password(
                password,
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0000000000000000000000000000000000000000000",
            );
            self.audit_access(&who, "login refused: unknown login");
            return Err(refused(Duration::from_millis(500), wrong));
        };
        let now = jiff::Timestamp::now();
        if let Some(until) = user.locked_until.as_deref().and_then(|t| t.parse::<jiff::Timestamp>().ok())
            && until > now
        {
            self.audit_access(&user.login, "login refused: locked");
            return Err(refused(
                Duration::from_millis(500),
                &format!("this account is locked after repeated failed logins until {until}: wait, or ask the owner"),
            ));
        }
        if user.disabled {
            self.audit_access(&user.login, "login refused: disabled");
            return Err(refused(Duration::from_millis(500), "this account is disabled: ask the practice's owner"));
        }
        if !auth::verify_password(password, &user.password_hash) {
            user.failed_logins += 1;
            let n = user.failed_logins;
            // 250 ms, 500 ms, 1 s, 2 s, ... at most 8 s.
            let delay = Duration::from_millis(250u64 << (n - 1).min(5));
            let what = if n >= settings.lockout_after {
                let until = now + jiff::SignedDuration::from_mins(i64::from(settings.lockout_minutes));
                user.locked_until = Some(until.to_string());
                user.failed_logins = 0;
                format!("login failed ({n} in a row): account locked until {until}")
            } else {
                format!("login failed ({n} in a row)")
            };
            self.store.put_user_state(&user).map_err(store_failed)?;
            self.audit_access(&user.login, &what);
            return Err(refused(delay, wrong));
        }
        user.failed_logins = 0;
        user.locked_until = None;
        self.store.put_user_state(&user).map_err(store_failed)?;
        self.audit_access(&user.login, "login");
        let session = self.sessions.start(&user.login).map_err(|e| LoginRefused { error: e, delay: Duration::ZERO })?;
        Ok((Actor::user(&user), session))
    }

    /// The person of a web session, and its CSRF token; `None` when the
    /// session is unknown, idle for longer than `[security]
    /// idle_logout_minutes`, or its account is disabled.
    pub fn web_session(&self, secret: &str) -> Result<Option<(Actor, String)>> {
        let idle = Duration::from_secs(u64::from(self.config().file.security.idle_logout_minutes) * 60);
        self.web_session_with_idle(secret, idle)
    }

    /// As [`PracticeService::web_session`] with a given idle limit (tests).
    pub fn web_session_with_idle(&self, secret: &str, idle: Duration) -> Result<Option<(Actor, String)>> {
        let Some((login, csrf)) = self.sessions.touch(secret, idle) else { return Ok(None) };
        match self.store.get_user(&login)? {
            Some(user) if !user.disabled => Ok(Some((Actor::user(&user), csrf))),
            _ => {
                self.sessions.end_all(&login);
                Ok(None)
            }
        }
    }

    /// Ends a web session (logout), audited.
    pub fn logout(&self, secret: &str) {
        if let Some(login) = self.sessions.end(secret) {
            self.audit_access(&login, "logout");
        }
    }

    fn audit_access(&self, login: &str, what: &str) {
        let detail = serde_json::json!({ "event": what });
        if let Err(e) = self.store.audit_event(AuditAction::Access, login, "user", login, detail, true) {
            tracing::error!(error = %e, login, what, "could not audit an access event");
        }
    }
}
