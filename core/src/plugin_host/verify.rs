//! `praxis plugins verify` and `praxis plugins trust`: what the host makes of
//! one named file.
//!
//! The order is the point: the file is resolved (a bare name or a relative
//! path is taken in the current folder, never searched for by the dynamic
//! loader), hashed and looked up in the trust list **before** it is opened,
//! so the caller can say whether it is trusted before any of its code runs.
//! Then it is loaded with the same checks as discovery, and, if it is a
//! protocol, asked about a sample client.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use praxis_sdk::testing::{ClientBuilder, massage};
use praxis_sdk::{ClientSnapshot, ConditionStatus, Date, PluginKind, Pressure};

use super::{Candidate, Origin, PluginPolicy, PluginRegistry, PluginReport, sha256_file};

/// A named file, resolved and hashed, not yet opened.
#[derive(Debug, Clone)]
pub struct NamedFile {
    /// The absolute path of the file.
    pub path: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
    /// Whether the practice's trust list has it.
    pub trusted: bool,
}

/// Why a named file could not even be looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAFile(pub String);

impl std::fmt::Display for NotAFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAFile {}

/// Resolves `file` against the current folder (a bare `libx.so` means
/// `./libx.so`, never a library-path search), checks it is a file, hashes it
/// and looks it up in `trusted`. Opens nothing but the file's bytes.
pub fn inspect(file: &Path, trusted: &BTreeSet<String>) -> Result<NamedFile, NotAFile> {
    let absolute = if file.is_absolute() {
        file.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| NotAFile(format!("cannot resolve {}: no current folder: {e}", file.display())))?
            .join(file)
    };
    let path = absolute.canonicalize().map_err(|e| NotAFile(format!("{} is not a file ({e})", absolute.display())))?;
    if !path.is_file() {
        return Err(NotAFile(format!("{} is not a file", path.display())));
    }
    let sha256 = sha256_file(&path).map_err(|e| NotAFile(format!("cannot read {}: {e}", path.display())))?;
    let trusted = trusted.contains(&sha256);
    Ok(NamedFile { path, sha256, trusted })
}

/// What loading a named file and a sample call gave.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The host's report of the file (refused, with the reason, or loaded).
    pub report: PluginReport,
    /// For a protocol that loaded: the sample call's outcome.
    pub smoke: Option<Result<String, String>>,
}

impl Verification {
    /// Why the file is not fit to load, if it is not.
    pub fn refusal(&self) -> Option<String> {
        if let Some(reason) = &self.report.reason {
            return Some(format!("plugin refused: {reason}"));
        }
        match &self.smoke {
            Some(Err(m)) => Some(format!("plugin loads but its answer was refused: {m}")),
            _ => None,
        }
    }
}

/// Loads the named file (this runs its code: call it only after telling the
/// user whether the file is trusted) with the same checks as discovery, and
/// asks a protocol about a sample client.
pub fn verify(file: &NamedFile, policy: &dyn PluginPolicy, today: Date) -> Verification {
    let mut registry = PluginRegistry::default();
    // The user names the file: open it whatever the trust list says; the
    // trust list decides only whether the practice loads it from a folder.
    let allow: BTreeSet<String> = [file.sha256.clone()].into();
    let report =
        registry.load_file(&Candidate { path: file.path.clone(), origin: Origin::Direct }, &allow, policy).clone();
    let mut smoke = None;
    if let Some(plugin) = registry.all().first()
        && plugin.manifest().is(PluginKind::Protocol)
    {
        let codes: Vec<String> = plugin.manifest().conditions.iter().map(|c| c.code.clone()).collect();
        smoke = Some(match plugin.evaluate(today, &sample_client(&codes, today)) {
            Ok(g) => {
                Ok(format!("answered a sample client with {} card(s); the guidance passed validation", g.cards.len()))
            }
            Err(e) => Err(e.to_string()),
        });
    }
    Verification { report, smoke }
}

/// A synthetic client with every condition the plugin handles, for a smoke call.
pub fn sample_client(codes: &[String], today: Date) -> ClientSnapshot {
    let mut b = ClientBuilder::new("verify-sample").intake(&today.add_days(-60).to_string());
    for code in codes {
        b = b.condition(code, ConditionStatus::Active);
    }
    for back in [42, 28, 14] {
        b = b.session(massage(&today.add_days(-back).to_string()).minutes(30).pressure(Pressure::Light).pain(6, 4));
    }
    b.build()
}
