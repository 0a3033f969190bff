//! `praxis plugins verify` and `praxis plugins trust`: what the host makes of
//! one named file.
//!
//! The order is the point: the file is resolved (a bare name or a relative
//! path is taken in the current folder, never searched for by the dynamic
//! loader), hashed and looked up in the trust list **before** it is opened,
//! so the caller can say whether it is trusted before any of its code runs.
//! Then it is loaded with the same checks as discovery, and, if it is a
//! protocol, asked about a sample client. With `--strict`
//! ([`check_strictly`]), its manifest and its answers for several sample
//! clients (or a sample schedule request) are checked for fields the host
//! does not know.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use praxis_sdk::schedule::{CarePlan, DisciplineDemand, GroupClass, MassageDemand, Practitioner, Room, RoomKind};
use praxis_sdk::schema::{Message, UnknownField, unknown_fields};
use praxis_sdk::testing::{ClientBuilder, massage};
use praxis_sdk::{
    Adjunct, AdverseEvent, ClientSnapshot, ConditionStatus, Date, Discipline, PluginKind, Pressure, Range, RedFlagKind,
    ScheduleRequest, Weekday, WeeklyWindow,
};

use super::{Candidate, LoadedPlugin, Origin, PluginPolicy, PluginRegistry, PluginReport, sha256_file};

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
    /// With `--strict`, for a plugin that loaded: its answers' unknown fields.
    pub strict: Option<Strict>,
}

/// What `praxis plugins verify --strict` found in a plugin's answers.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Strict {
    /// Every answer read: `manifest`, `guidance for verify-new`...
    pub answers: Vec<String>,
    /// Every field of those answers that the host does not know (and so
    /// would drop without a word).
    pub unknown: Vec<Slip>,
    /// Sample calls that failed, and why (a failure refuses the file as the
    /// smoke test's does).
    pub failures: Vec<String>,
}

/// One unknown field in one answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Slip {
    /// Which answer, as in [`Strict::answers`].
    pub answer: String,
    /// Where in it, as a JSONPath (`$.cards[0].override_reasons`).
    pub path: String,
    /// The field.
    pub field: String,
    /// The known field it looks like, if any.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for Slip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field =
            UnknownField { path: self.path.clone(), field: self.field.clone(), suggestion: self.suggestion.clone() };
        write!(f, "{}: {field}", self.answer)
    }
}

impl Verification {
    /// Why the file is not fit to load, if it is not.
    pub fn refusal(&self) -> Option<String> {
        if let Some(reason) = &self.report.reason {
            return Some(format!("plugin refused: {reason}"));
        }
        if let Some(Err(m)) = &self.smoke {
            return Some(format!("plugin loads but its answer was refused: {m}"));
        }
        let strict = self.strict.as_ref()?;
        if let Some(failure) = strict.failures.first() {
            return Some(format!("a sample call failed: {failure}"));
        }
        match strict.unknown.len() {
            0 => None,
            n => Some(format!(
                "{n} unknown field(s) in the plugin's answers: the host ignores them, so what they say is lost \
                 (fix the names; the wire format is in the SDK's WIRE.md and schema/)"
            )),
        }
    }
}

/// Loads the named file (this runs its code: call it only after telling the
/// user whether the file is trusted) with the same checks as discovery, and
/// asks a protocol about a sample client.
pub fn verify(file: &NamedFile, policy: &dyn PluginPolicy, today: Date, strict: bool) -> Verification {
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
    let strict = match registry.all().first() {
        Some(plugin) if strict => Some(check_strictly(plugin, today)),
        _ => None,
    };
    Verification { report, smoke, strict }
}

/// Runs a loaded plugin on the sample clients (a protocol) or the sample
/// request (a scheduler) and lists every field of its answers, and of its
/// manifest, that the host does not know.
pub fn check_strictly(plugin: &LoadedPlugin, today: Date) -> Strict {
    let mut strict = Strict::default();
    let look = |strict: &mut Strict, answer: String, message: Message, value: &serde_json::Value| {
        for f in unknown_fields(&message.schema(), value) {
            strict.unknown.push(Slip {
                answer: answer.clone(),
                path: f.path,
                field: f.field,
                suggestion: f.suggestion,
            });
        }
        strict.answers.push(answer);
    };
    match plugin.manifest_json() {
        Some(manifest) => look(&mut strict, "manifest".to_owned(), Message::Manifest, manifest),
        None => strict.failures.push("the manifest could not be read again as JSON".to_owned()),
    }
    let decoded = |bytes: Result<Vec<u8>, super::PluginFailure>| {
        bytes.map_err(|e| e.message).and_then(|b| {
            serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| format!("the answer is not JSON: {e}"))
        })
    };
    if plugin.manifest().is(PluginKind::Protocol) {
        let codes: Vec<String> = plugin.manifest().conditions.iter().map(|c| c.code.clone()).collect();
        for client in sample_clients(&codes, today) {
            let answer = format!("guidance for {}", client.id);
            match decoded(plugin.evaluate_raw(today, &client)) {
                Ok(value) => look(&mut strict, answer, Message::Guidance, &value),
                Err(e) => strict.failures.push(format!("{answer}: {e}")),
            }
        }
    }
    if plugin.manifest().is(PluginKind::Scheduler) {
        let answer = "schedule proposal for the sample request".to_owned();
        match decoded(plugin.schedule_raw(&sample_request(today))) {
            Ok(value) => look(&mut strict, answer, Message::ScheduleProposal, &value),
            Err(e) => strict.failures.push(format!("{answer}: {e}")),
        }
    }
    strict
}

/// Synthetic clients with every condition the plugin handles, in the
/// situations the guidance rules tell apart: a regular client with history,
/// a new one, one in flare after a session, one with a recent injury, one in
/// remission who had heat and cold. For `verify --strict`.
pub fn sample_clients(codes: &[String], today: Date) -> Vec<ClientSnapshot> {
    let day = |back: i32| today.add_days(-back).to_string();
    let with = |id: &str, status: ConditionStatus| {
        let mut b = ClientBuilder::new(id);
        for code in codes {
            b = b.condition(code, status);
        }
        b
    };
    vec![
        sample_client(codes, today),
        with("verify-new", ConditionStatus::Active).build(),
        with("verify-flare", ConditionStatus::Flare)
            .intake(&day(90))
            .tender_point("neck")
            .session(massage(&day(30)).minutes(45).pressure(Pressure::Moderate).pain(5, 4))
            .session(
                massage(&day(3))
                    .minutes(45)
                    .pressure(Pressure::Moderate)
                    .pain(4, 7)
                    .follow_up(8)
                    .adverse(AdverseEvent::Flare),
            )
            .build(),
        with("verify-red-flag", ConditionStatus::Active)
            .intake(&day(60))
            .red_flag(RedFlagKind::RecentInjury, Some("lower back"), Some(&day(5)))
            .session(massage(&day(20)).minutes(30).pressure(Pressure::Light).pain(5, 3))
            .build(),
        {
            let mut c = with("verify-remission", ConditionStatus::Remission)
                .intake(&day(200))
                .massages(6, 21, &day(10))
                .build();
            for s in &mut c.sessions {
                s.adjuncts = vec![Adjunct::HeatBefore, Adjunct::ColdAfter];
            }
            c
        },
    ]
}

/// A small practice for a scheduler's sample call: weekdays 09:00-17:00, a
/// massage therapist and a yoga teacher, a treatment room and a studio with a
/// Wednesday class, two clients who need massage (one with heat before and
/// cold after) and one yoga. For `verify --strict`.
pub fn sample_request(today: Date) -> ScheduleRequest {
    let hours = |from: &str, to: &str| -> Vec<WeeklyWindow> {
        Weekday::ALL[..5]
            .iter()
            .map(|&day| WeeklyWindow { day, start: from.parse().expect("time"), end: to.parse().expect("time") })
            .collect()
    };
    let practitioner = |id: &str, d: Discipline| Practitioner {
        id: id.to_owned(),
        name: id.to_owned(),
        disciplines: vec![d],
        availability: hours("09:00", "17:00"),
        time_off: Vec::new(),
    };
    let massage = |before: Vec<Adjunct>, after: Vec<Adjunct>| MassageDemand {
        interval_days: Range::new(7, 14),
        minutes: Range::new(30, 45),
        before,
        after,
        last: Some(today.add_days(-10)),
        not_before: None,
    };
    ScheduleRequest {
        start: today,
        days: 14,
        opening_hours: hours("09:00", "17:00"),
        practitioners: vec![
            practitioner("verify-massage", Discipline::Massage),
            practitioner("verify-yoga", Discipline::Yoga),
        ],
        rooms: vec![
            Room { id: "verify-t1".into(), name: "Treatment 1".into(), kind: RoomKind::TreatmentRoom, capacity: 1 },
            Room { id: "verify-s1".into(), name: "Studio".into(), kind: RoomKind::Studio, capacity: 8 },
        ],
        classes: vec![GroupClass {
            id: "verify-yoga-wed".into(),
            name: "Yoga".into(),
            discipline: Discipline::Yoga,
            day: Weekday::Wednesday,
            start: "10:00".parse().expect("time"),
            minutes: 60,
            practitioner: "verify-yoga".into(),
            room: "verify-s1".into(),
            capacity: 8,
        }],
        booked: Vec::new(),
        plans: vec![
            CarePlan {
                client: "verify-a".into(),
                availability: hours("09:00", "17:00"),
                fibromyalgia: true,
                massage: Some(massage(vec![Adjunct::HeatBefore], vec![Adjunct::ColdAfter])),
                other: vec![DisciplineDemand { discipline: Discipline::Yoga, every_days: 7, minutes: 60, last: None }],
            },
            CarePlan {
                client: "verify-b".into(),
                availability: hours("09:00", "12:00"),
                fibromyalgia: false,
                massage: Some(massage(Vec::new(), Vec::new())),
                other: Vec::new(),
            },
        ],
        settings: Default::default(),
    }
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
