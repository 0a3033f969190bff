//! What the host learns from the machine it runs on: who is running it (the
//! actor named in the audit log) and whether its log lines may use colour.
//!
//! ```
//! use praxis_core::local::{ActorError, log_colour, resolve_actor};
//!
//! let os = || Some("ana".to_owned());
//! assert_eq!(resolve_actor(Some("front-desk"), Some("root"), os), Ok("front-desk".to_owned()));
//! assert_eq!(resolve_actor(None, None, os), Ok("ana".to_owned()));
//! assert_eq!(resolve_actor(Some(" "), None, os), Err(ActorError::Blank));
//! assert!(!log_colour(false, None)); // a log file gets no colour codes
//! ```

use std::ffi::OsStr;
use std::fmt;

/// Whether log lines on stderr may carry ANSI colour codes: only when stderr
/// is a terminal, and `NO_COLOR` is unset or empty (<https://no-color.org>).
pub fn log_colour(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Why no actor could be named for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorError {
    /// A name was given (`--as`, `PRAXIS_USER`) but it is blank.
    Blank,
}

impl fmt::Display for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorError::Blank => f.write_str(
                "--as (or PRAXIS_USER) is empty: name who makes the change, for the audit log, such as --as ana; \
                 leave it out to use your account name",
            ),
        }
    }
}

impl std::error::Error for ActorError {}

/// Who makes a change, for the audit log:
///
/// 1. the name given (`--as NAME` or `PRAXIS_USER`), trimmed; a name given
///    but blank is refused, so that nothing is recorded under no one;
/// 2. else `$USER`, when it is set and not blank;
/// 3. else the operating system's name for the account running the process
///    (`os_account`, normally [`os_account_name`]).
pub fn resolve_actor(
    given: Option<&str>,
    env_user: Option<&str>,
    os_account: impl FnOnce() -> Option<String>,
) -> Result<String, ActorError> {
    if let Some(name) = given {
        let name = name.trim();
        return if name.is_empty() { Err(ActorError::Blank) } else { Ok(name.to_owned()) };
    }
    if let Some(user) = env_user.map(str::trim).filter(|u| !u.is_empty()) {
        return Ok(user.to_owned());
    }
    Ok(os_account().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).unwrap_or_else(current_uid_label))
}

/// The account name of the user running this process, from the system's
/// account database (the real user id, looked up as `getpwuid` does: the
/// password file, or LDAP and the like through NSS). `None` when the id has
/// no entry or its name is not UTF-8.
pub fn os_account_name() -> Option<String> {
    let name = uzers::get_user_by_uid(uzers::get_current_uid())?.name().to_str()?.to_owned();
    Some(name)
}

/// `uid 1234`: the account when it has no name.
fn current_uid_label() -> String {
    format!("uid {}", uzers::get_current_uid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor() {
        let check = |given: Option<&str>, user: Option<&str>, os: Option<&str>, expect: Result<&str, ActorError>| {
            let got = resolve_actor(given, user, || os.map(str::to_owned));
            assert_eq!(got, expect.map(str::to_owned), "{given:?} {user:?} {os:?}");
        };
        check(Some("ana"), Some("root"), Some("sam"), Ok("ana"));
        check(Some("  Ana Lopez "), None, None, Ok("Ana Lopez"));
        check(Some(""), Some("root"), Some("sam"), Err(ActorError::Blank));
        check(Some("  "), None, Some("sam"), Err(ActorError::Blank));
        check(None, Some("root"), Some("sam"), Ok("root"));
        check(None, Some(" "), Some("sam"), Ok("sam"));
        check(None, None, Some("sam"), Ok("sam"));
        check(None, None, Some(" "), Ok(&current_uid_label()));
        check(None, None, None, Ok(&current_uid_label()));
        assert!(current_uid_label().starts_with("uid "));
        assert!(ActorError::Blank.to_string().contains("--as"));
    }

    #[test]
    fn this_process_has_an_account() {
        // Any machine that runs the tests runs them as some account; in a
        // container without a password entry the uid label stands in.
        let name = resolve_actor(None, None, os_account_name).unwrap();
        assert!(!name.trim().is_empty());
        assert_ne!(name, "unknown");
    }

    #[test]
    fn colour() {
        let check = |tty: bool, no_color: Option<&str>, expect: bool| {
            assert_eq!(log_colour(tty, no_color.map(OsStr::new)), expect, "{tty} {no_color:?}");
        };
        check(true, None, true);
        check(true, Some(""), true);
        check(true, Some("1"), false);
        check(true, Some("0"), false); // any value, as no-color.org says
        check(false, None, false);
        check(false, Some("1"), false);
    }
}
