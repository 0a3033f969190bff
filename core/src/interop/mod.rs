//! Praxis in the standard forms other programs read: HL7 FHIR R4 (4.0.1)
//! resources, iCalendar (RFC 5545) feeds, and HL7 CDS Hooks 2.0 services.
//!
//! Everything here is a plain function from the practice's records (a
//! [`PracticeExport`](crate::store::PracticeExport), or the [`Store`](crate::store::Store))
//! to JSON or text, or from outside JSON to checked Praxis records. Nothing here
//! opens a socket: `praxis serve` mounts these functions on its routes, and the
//! command line calls them for `praxis export --format fhir`,
//! `praxis import --format fhir` and `praxis schedule show --ics`.
//!
//! - [`fhir`]: the practice as a FHIR `Bundle` (type `collection`), one patient's
//!   `Patient` and `$everything`, the server's `CapabilityStatement`.
//! - [`fhir_import`]: a Bundle of Patients and Conditions from another system,
//!   checked and turned into one all-or-nothing store import.
//! - [`ics`]: a practitioner's appointments as an iCalendar feed, a client's
//!   confirmation, and the secret per-practitioner feed tokens.
//! - [`cds`]: the CDS Hooks discovery document, request parsing, and the
//!   cards of `praxis guidance` in the specification's card shape.
//! - [`jwt`]: the CDS Hooks JWT check (issuer, audience, expiry, key, `jti` reuse).
//!
//! ```
//! use praxis_core::interop::ics::{escape_text, fold_line};
//! assert_eq!(escape_text("a, b; c"), "a\\, b\\; c");
//! assert!(fold_line(&"x".repeat(100)).contains("\r\n "));
//! ```

use std::fmt;
use std::path::PathBuf;

use crate::store::StoreError;

pub mod cds;
pub mod fhir;
pub mod fhir_import;
pub mod ics;
pub mod jwt;

/// What can go wrong turning Praxis records into a standard form, or outside
/// data into Praxis records.
#[derive(Debug)]
pub enum InteropError {
    /// Outside input is not what the standard or Praxis expects. `at` names
    /// the place (such as `entry[3].resource.subject`), `message` what is
    /// wrong and what to do.
    Invalid {
        /// Where in the input.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// Input larger than the limit.
    TooLarge {
        /// Its size in bytes.
        bytes: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A record that a request names does not exist (such as `Patient/{id}`).
    NotFound {
        /// The kind of record.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// A CDS Hooks caller without a valid JWT: why it was refused.
    Unauthorized(String),
    /// An EHR's JWKS could not be fetched from its `jwks_url`.
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The store failed or refused the records.
    Store(StoreError),
}

impl InteropError {
    /// An [`InteropError::Invalid`].
    pub fn invalid(at: impl Into<String>, message: impl Into<String>) -> InteropError {
        InteropError::Invalid { at: at.into(), message: message.into() }
    }

    /// Whether the caller gave something wrong (bad input, unknown record, no
    /// valid token), as opposed to a failure of Praxis or its disk: exit 2 in
    /// the command line, a 4xx status on the server.
    pub fn is_caller_error(&self) -> bool {
        match self {
            InteropError::Invalid { .. }
            | InteropError::TooLarge { .. }
            | InteropError::NotFound { .. }
            | InteropError::Unauthorized(_) => true,
            InteropError::Io { .. } | InteropError::Fetch { .. } => false,
            InteropError::Store(e) => matches!(
                e,
                StoreError::Invalid(_)
                    | StoreError::NotFound { .. }
                    | StoreError::Format { .. }
                    | StoreError::UnsupportedFormat { .. }
                    | StoreError::BadActor(_)
            ),
        }
    }
}

impl fmt::Display for InteropError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InteropError::Invalid { at, message } if at.is_empty() => f.write_str(message),
            InteropError::Invalid { at, message } => write!(f, "{at}: {message}"),
            InteropError::TooLarge { bytes, limit } => {
                write!(f, "the input is {bytes} bytes, over the limit of {limit} bytes: split it into smaller files")
            }
            InteropError::NotFound { kind, id } => write!(f, "no {kind} `{id}`"),
            InteropError::Unauthorized(why) => write!(f, "not authorized: {why}"),
            InteropError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            InteropError::Fetch { url, message } => write!(f, "could not fetch {url}: {message}"),
            InteropError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for InteropError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InteropError::Io { error, .. } => Some(error),
            InteropError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for InteropError {
    fn from(e: StoreError) -> Self {
        InteropError::Store(e)
    }
}

/// A local date and time of the practice as an instant in its zone. A time
/// that does not exist (skipped by a daylight-saving change) moves forward;
/// an ambiguous one takes the earlier instant (jiff's `compatible` rule).
pub(crate) fn zoned(at: praxis_sdk::DateTime, tz: &jiff::tz::TimeZone) -> jiff::Zoned {
    let (y, m, d) = at.date.ymd();
    let minutes = at.time.minutes();
    let civil =
        jiff::civil::DateTime::new(y as i16, m as i8, d as i8, (minutes / 60) as i8, (minutes % 60) as i8, 0, 0)
            .unwrap_or_default();
    civil.to_zoned(tz.clone()).unwrap_or_else(|_| jiff::Timestamp::UNIX_EPOCH.to_zoned(tz.clone()))
}
