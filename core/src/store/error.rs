//! The store's errors: what went wrong, on which record and field, and what to do.

use std::fmt;
use std::path::PathBuf;

/// The kinds of record the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// A client.
    Client,
    /// A client's intake.
    Intake,
    /// A treatment session.
    Session,
    /// An appointment.
    Appointment,
    /// A practitioner.
    Practitioner,
    /// A room.
    Room,
    /// An override of a critical card.
    Override,
    /// An entry of the audit log.
    AuditEntry,
    /// An API token.
    ApiToken,
    /// A staff account.
    User,
    /// A visit: the appointments booked together (heat, massage, cold).
    Visit,
}

impl RecordKind {
    /// The name used in messages and in the audit log, such as `session`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Client => "client",
            RecordKind::Intake => "intake",
            RecordKind::Session => "session",
            RecordKind::Appointment => "appointment",
            RecordKind::Practitioner => "practitioner",
            RecordKind::Room => "room",
            RecordKind::Override => "override",
            RecordKind::AuditEntry => "audit entry",
            RecordKind::ApiToken => "API token",
            RecordKind::User => "user",
            RecordKind::Visit => "visit",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which record a validation error is about: its kind, its id and, inside an
/// import, its position in the export (`sessions[3]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// The kind of record.
    pub kind: RecordKind,
    /// Its id as given (may be empty or malformed: that may be the error).
    pub id: String,
    /// Its index in the export's list of this kind, for imports.
    pub index: Option<usize>,
}

impl RecordRef {
    /// A record outside an import.
    pub fn new(kind: RecordKind, id: &str) -> RecordRef {
        RecordRef { kind, id: id.to_owned(), index: None }
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{} #{i} (id `{}`)", self.kind, self.id),
            None => write!(f, "{} `{}`", self.kind, self.id),
        }
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A number outside its allowed range (inclusive).
    OutOfRange {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A date or time after "today" where that cannot be.
    InFuture {
        /// The day the write was checked against.
        today: praxis_sdk::Date,
    },
    /// A date that comes before another one it cannot precede.
    BeforeOther {
        /// The other field.
        other: &'static str,
    },
    /// A required value is empty.
    Empty,
    /// A text is longer than allowed.
    TooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// An id that is not usable as a key.
    BadId,
    /// A value that is not one the store accepts (an unknown enum value from
    /// a newer version, a malformed code).
    BadValue {
        /// What a good value looks like.
        expected: &'static str,
    },
    /// A reference to a record that is not in the store (nor in the import).
    UnknownReference {
        /// The kind of record referenced.
        kind: RecordKind,
    },
    /// The practitioner is not qualified in the discipline.
    NotQualified {
        /// The practitioner's id.
        practitioner: String,
    },
    /// A record with this id already exists where a new one is required.
    AlreadyExists,
    /// The field cannot be changed once recorded.
    Immutable {
        /// The value on record.
        recorded: String,
    },
    /// A required companion value is missing.
    Missing {
        /// What is needed.
        needed: &'static str,
    },
    /// The practice's calendar checker refused it (opening hours,
    /// availability, rooms, double booking).
    Calendar {
        /// The checker's reason.
        why: String,
    },
}

/// A record that failed validation: which record, which field, which value
/// and why. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The record.
    pub record: RecordRef,
    /// The field, such as `pain_before` or `conditions[1].since`.
    pub field: String,
    /// The offending value as text (empty if absent).
    pub value: String,
    /// What is wrong.
    pub problem: Problem,
}

impl ValidationError {
    /// A validation error.
    pub fn new(record: RecordRef, field: impl Into<String>, value: impl fmt::Display, problem: Problem) -> Self {
        ValidationError { record, field: field.into(), value: value.to_string(), problem }
    }
}

/// At most this many characters of a value are quoted in a message.
pub const EXCERPT_CHARS: usize = 80;

/// `text`, or its first [`EXCERPT_CHARS`] characters and how long it was:
/// a refusal never echoes a huge value.
pub fn excerpt(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= EXCERPT_CHARS {
        return text.into();
    }
    let head: String = text.chars().take(EXCERPT_CHARS).collect();
    format!("{head}... ({} bytes in all)", text.len()).into()
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ValidationError { record, field, value, problem } = self;
        let full_len = value.len();
        let value = &*excerpt(value);
        let record = &RecordRef { id: excerpt(&record.id).into_owned(), ..record.clone() };
        write!(f, "{record}: {field} ")?;
        match problem {
            Problem::OutOfRange { min, max } => {
                write!(f, "{value} is outside {min}-{max}: give a whole number from {min} to {max}")
            }
            Problem::InFuture { today } => {
                write!(f, "{value} is after today ({today}): give a date that has already happened")
            }
            Problem::BeforeOther { other } => {
                write!(f, "{value} comes before {other}: correct one of the two dates")
            }
            Problem::Empty => write!(f, "is empty: give a value"),
            Problem::TooLong { max } => {
                write!(f, "is {full_len} bytes long, more than the {max} allowed: shorten it")
            }
            Problem::BadId => write!(
                f,
                "`{value}` is not a usable id: use 1 to 128 characters without spaces or control characters \
                 (Praxis makes such ids itself for the records it adds)"
            ),
            Problem::BadValue { expected } => write!(f, "`{value}` is not accepted: expected {expected}"),
            Problem::UnknownReference { kind } => {
                write!(f, "`{value}` names no {kind} in the store: add the {kind} first or correct the id")
            }
            Problem::NotQualified { practitioner } => write!(
                f,
                "`{value}` is not a discipline of practitioner `{practitioner}`: choose one of the practitioner's \
                 disciplines or add it to the practitioner"
            ),
            Problem::AlreadyExists => {
                write!(
                    f,
                    "`{value}` is already in the store with other content: give the new record an id of its own, or \
                     leave the record out if the store's is the one to keep"
                )
            }
            Problem::Immutable { recorded } => write!(
                f,
                "cannot change from `{recorded}` to `{value}` once recorded: record a new {} instead",
                record.kind
            ),
            Problem::Missing { needed } => write!(f, "is incomplete: {needed}"),
            Problem::Calendar { why } => {
                write!(f, "{value} is refused by the practice's calendar: {}: correct it or the calendar", excerpt(why))
            }
        }
    }
}

impl std::error::Error for ValidationError {}

/// A decoder's message, cut to 300 characters (it may quote the value).
fn excerpt_long(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= 300 {
        return text.into();
    }
    let head: String = text.chars().take(300).collect();
    format!("{head}... (message cut)").into()
}

/// Everything that can go wrong in the store.
#[derive(Debug)]
pub enum StoreError {
    /// Another process (or another handle in this one) has the store open.
    InUse {
        /// The store's directory.
        path: PathBuf,
        /// The process that holds it, as its holder file says.
        holder: Option<super::Holder>,
    },
    /// The store was written by a newer Praxis.
    TooNew {
        /// The schema version found in the store.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// The device holding the store is full (or the user's quota is used
    /// up): the write was refused or failed, and nothing acknowledged before
    /// was lost.
    NoSpace {
        /// The store's directory.
        path: PathBuf,
        /// Bytes free for this user on its device, when known.
        free: Option<u64>,
    },
    /// A flush did not finish within [`StoreOptions::flush_timeout`](super::StoreOptions):
    /// the disk is stuck (or full in a way sled does not report). The write
    /// was not acknowledged; this store handle refuses further writes.
    Stuck {
        /// The store's directory.
        path: PathBuf,
        /// How long it waited.
        waited: std::time::Duration,
    },
    /// Reading or writing the disk failed.
    Io {
        /// The store's directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// sled reported an error other than I/O (corruption it detected itself,
    /// an unsupported configuration, a bug).
    Storage(sled::Error),
    /// A value in the store failed to decode.
    Corrupt {
        /// The sled tree.
        tree: String,
        /// The key, as text (hex when not UTF-8).
        key: String,
        /// The decoder's message.
        error: String,
    },
    /// A record failed validation; nothing was written.
    Invalid(Box<ValidationError>),
    /// A record that an operation names is not in the store.
    NotFound {
        /// The kind of record.
        kind: RecordKind,
        /// The id asked for.
        id: String,
    },
    /// An export file could not be read: bad JSON, an unknown field, a wrong type.
    Format {
        /// Where: `export` for the top level, or a record such as `sessions[3] (id ...)`.
        record: String,
        /// The decoder's message.
        error: String,
    },
    /// An export file of a format version this build does not read.
    UnsupportedFormat {
        /// The version in the file.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The actor named for the audit log is empty or unusable.
    BadActor(String),
    /// The change conflicts with one made at the same moment (on
    /// PostgreSQL: a slot another server booked just now, or a transaction
    /// refused as conflicting too often); nothing was written. HTTP 409.
    Conflict(String),
    /// The PostgreSQL database reported an error, or cannot be reached.
    Database {
        /// The database, as its URL without the password.
        location: String,
        /// What it said.
        message: String,
    },
}

impl StoreError {
    /// Maps a sled error, recognizing the lock failure of a store in use.
    pub(crate) fn from_sled(error: sled::Error, path: &std::path::Path) -> StoreError {
        match error {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::InUse { path: path.to_owned(), holder: None }
            }
            sled::Error::Io(io) => StoreError::io(path, io),
            other => StoreError::Storage(other),
        }
    }

    /// Maps an I/O error, recognizing a full device (ENOSPC, EDQUOT).
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> StoreError {
        let full = source.kind() == std::io::ErrorKind::StorageFull
            || source.kind() == std::io::ErrorKind::QuotaExceeded
            || matches!(source.raw_os_error(), Some(28 | 122));
        if full {
            StoreError::NoSpace { path: path.to_owned(), free: super::space::free_bytes(path) }
        } else {
            StoreError::Io { path: path.to_owned(), source }
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::InUse { path, holder } => {
                write!(f, "the store at {} is in use by another Praxis process", path.display())?;
                if let Some(h) = holder {
                    write!(f, ", {h}")?;
                }
                write!(
                    f,
                    ": wait for it to finish, or close it, and try again (the wait is `[store] lock_wait_seconds`)"
                )
            }
            StoreError::TooNew { found, supported } => write!(
                f,
                "the store has schema version {found}, but this Praxis knows versions up to {supported}: it was \
                 written by a newer Praxis; upgrade Praxis to open it (the store was left untouched)"
            ),
            StoreError::NoSpace { path, free } => {
                write!(f, "no space left on the device holding {}", path.display())?;
                if let Some(free) = free {
                    write!(f, " ({} KiB free)", free / 1024)?;
                }
                write!(f, ": free space, then retry; nothing was lost")
            }
            StoreError::Stuck { path, waited } => write!(
                f,
                "the disk holding {} did not finish writing within {} s (it may be full or failing): free space or \
                 check the disk, then retry; the last change was not saved, nothing saved before was lost",
                path.display(),
                waited.as_secs()
            ),
            StoreError::Io { path, source } => {
                write!(f, "disk error in the store at {}: {source}: check the disk and permissions", path.display())
            }
            StoreError::Storage(e) => write!(f, "storage error: {e}: restore the store from an export or backup"),
            StoreError::Corrupt { tree, key, error } => write!(
                f,
                "the value at key `{key}` of tree `{tree}` cannot be decoded ({error}): restore the store from an \
                 export or backup"
            ),
            StoreError::Invalid(e) => write!(f, "{e}"),
            StoreError::NotFound { kind, id } => write!(f, "no {kind} with id `{id}` in the store: check the id"),
            StoreError::Format { record, error } => write!(
                f,
                "the export cannot be read at {}: {}: correct the file and import it again",
                excerpt(record),
                excerpt_long(error)
            ),
            StoreError::UnsupportedFormat { found, supported } => write!(
                f,
                "the export has format_version {found}, but this Praxis reads version {supported}: export it again \
                 with a matching Praxis"
            ),
            StoreError::BadActor(actor) => write!(
                f,
                "actor `{}` is not usable: name who made the change (1 to 200 characters, no control characters), \
                 for the audit log",
                excerpt(&actor.escape_debug().to_string())
            ),
            StoreError::Conflict(why) => write!(f, "{why}; nothing was saved"),
            StoreError::Database { location, message } => write!(
                f,
                "the database at {location} reported: {message}: check that PostgreSQL is running and reachable with \
                 the URL of `[store] url`, then retry"
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Storage(e) => Some(e),
            StoreError::Invalid(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<ValidationError> for StoreError {
    fn from(e: ValidationError) -> Self {
        StoreError::Invalid(Box::new(e))
    }
}

impl From<Box<ValidationError>> for StoreError {
    fn from(e: Box<ValidationError>) -> Self {
        StoreError::Invalid(e)
    }
}
