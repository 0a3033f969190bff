//! A test harness for plugin authors: build a client, run a plugin statically
//! and through the real ABI, assert on its cards.
//!
//! ```
//! use praxis_sdk::prelude::*;
//! use praxis_sdk::testing::{ClientBuilder, massage};
//!
//! let client = ClientBuilder::new("c1")
//!     .condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
//!     .session(massage("2026-11-01").minutes(30).pressure(Pressure::Light).pain(6, 4))
//!     .build();
//! assert_eq!(client.sessions.len(), 1);
//! assert!(!client.sessions[0].is_flare());
//! ```
//!
//! A plugin crate's tests typically define one `check` helper that calls
//! [`run_both`] (static call and ABI call must agree) and many one-line cases.

use crate::abi::{PluginHandle, PluginTableV1};
use crate::{
    AdverseEvent, ClientSnapshot, Condition, ConditionStatus, Date, Discipline, Guidance, InsuranceSummary,
    IntakeSummary, Pressure, Protocol, ProtocolInput, RedFlag, RedFlagKind, SessionRecord, Settings,
};

fn date(s: &str) -> Date {
    s.parse().unwrap_or_else(|e| panic!("test date: {e}"))
}

/// Builds a [`ClientSnapshot`] for tests.
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    snapshot: ClientSnapshot,
}

impl ClientBuilder {
    /// A client with this id, no conditions and no history.
    pub fn new(id: &str) -> ClientBuilder {
        ClientBuilder { snapshot: ClientSnapshot { id: id.to_owned(), ..ClientSnapshot::default() } }
    }

    /// Adds a condition by SNOMED CT code.
    pub fn condition(mut self, code: &str, status: ConditionStatus) -> Self {
        self.snapshot.conditions.push(Condition { code: code.to_owned(), name: String::new(), status, since: None });
        self
    }

    /// Adds a red flag.
    pub fn red_flag(mut self, kind: RedFlagKind, region: Option<&str>, on: Option<&str>) -> Self {
        self.snapshot.red_flags.push(RedFlag {
            kind,
            region: region.map(str::to_owned),
            date: on.map(date),
            resolved: None,
            note: String::new(),
        });
        self
    }

    /// Adds a red flag that a practitioner marked resolved on `resolved`.
    pub fn resolved_red_flag(mut self, kind: RedFlagKind, region: Option<&str>, on: &str, resolved: &str) -> Self {
        self.snapshot.red_flags.push(RedFlag {
            kind,
            region: region.map(str::to_owned),
            date: Some(date(on)),
            resolved: Some(date(resolved)),
            note: String::new(),
        });
        self
    }

    /// Adds a tender point.
    pub fn tender_point(mut self, region: &str) -> Self {
        self.snapshot.tender_points.push(region.to_owned());
        self
    }

    /// Records intake on a day.
    pub fn intake(mut self, on: &str) -> Self {
        self.snapshot.intake = Some(IntakeSummary { recorded: date(on), ..IntakeSummary::default() });
        self
    }

    /// Sets the insurance summary.
    pub fn insurance(mut self, insurance: InsuranceSummary) -> Self {
        self.snapshot.insurance = Some(insurance);
        self
    }

    /// Adds a past session (keep them in date order).
    pub fn session(mut self, session: SessionBuilder) -> Self {
        self.snapshot.sessions.push(session.0);
        self
    }

    /// Adds `n` uneventful massages, `every` days apart, the last on `last`.
    pub fn massages(mut self, n: usize, every: i32, last: &str) -> Self {
        let last = date(last);
        for i in (0..n).rev() {
            let on = last.add_days(-(i as i32) * every).to_string();
            self.snapshot.sessions.push(massage(&on).minutes(30).pressure(Pressure::Light).pain(5, 4).0);
        }
        self
    }

    /// The snapshot.
    pub fn build(self) -> ClientSnapshot {
        self.snapshot
    }
}

/// Builds a [`SessionRecord`].
#[derive(Debug, Clone)]
pub struct SessionBuilder(pub SessionRecord);

/// A 30-minute massage session on a day.
pub fn massage(on: &str) -> SessionBuilder {
    session(Discipline::Massage, on)
}

/// A 30-minute session of a discipline on a day.
pub fn session(discipline: Discipline, on: &str) -> SessionBuilder {
    SessionBuilder(SessionRecord {
        id: format!("s-{on}"),
        date: date(on),
        discipline,
        minutes: 30,
        pressure: None,
        techniques: Vec::new(),
        regions: Vec::new(),
        pain_before: None,
        pain_after: None,
        follow_up_pain: None,
        adverse_event: AdverseEvent::None,
        adjuncts: Vec::new(),
    })
}

impl SessionBuilder {
    /// Length in minutes.
    pub fn minutes(mut self, minutes: u16) -> Self {
        self.0.minutes = minutes;
        self
    }
    /// Pressure used.
    pub fn pressure(mut self, pressure: Pressure) -> Self {
        self.0.pressure = Some(pressure);
        self
    }
    /// Pain before and after.
    pub fn pain(mut self, before: u8, after: u8) -> Self {
        self.0.pain_before = Some(before);
        self.0.pain_after = Some(after);
        self
    }
    /// Pain at the 24-48 hour follow-up.
    pub fn follow_up(mut self, pain: u8) -> Self {
        self.0.follow_up_pain = Some(pain);
        self
    }
    /// Regions worked.
    pub fn regions(mut self, regions: &[&str]) -> Self {
        self.0.regions = regions.iter().map(|r| (*r).to_owned()).collect();
        self
    }
    /// Techniques used.
    pub fn techniques(mut self, techniques: &[&str]) -> Self {
        self.0.techniques = techniques.iter().map(|t| (*t).to_owned()).collect();
        self
    }
    /// An adverse event.
    pub fn adverse(mut self, event: AdverseEvent) -> Self {
        self.0.adverse_event = event;
        self
    }
}

fn input(client: &ClientSnapshot, as_of: &str, settings: &Settings) -> ProtocolInput {
    ProtocolInput { as_of: date(as_of), client: client.clone(), settings: settings.clone() }
}

fn checked(how: &str, guidance: Guidance) -> Guidance {
    if let Err(e) = guidance.validate() {
        panic!("{how}: the host would refuse this guidance: {e}\n{guidance:#?}");
    }
    guidance
}

/// Runs a protocol by a direct call to its trait; panics on error or on
/// guidance the host would refuse.
pub fn run_static<P: Protocol>(plugin: &P, client: &ClientSnapshot, as_of: &str, settings: &Settings) -> Guidance {
    let guidance = plugin.evaluate(&input(client, as_of, settings)).unwrap_or_else(|e| panic!("static call: {e}"));
    checked("static call", guidance)
}

/// Runs a protocol through the real ABI: encode, `extern "C"` call, decode,
/// free. `table` is the plugin's `praxis_plugin_table()`.
pub fn run_abi(table: &'static PluginTableV1, client: &ClientSnapshot, as_of: &str, settings: &Settings) -> Guidance {
    let handle = PluginHandle::from_static(table).unwrap_or_else(|e| panic!("ABI table refused: {e}"));
    if let Err(e) = handle.manifest() {
        panic!("ABI manifest: {e}");
    }
    let guidance = handle.evaluate(&input(client, as_of, settings)).unwrap_or_else(|e| panic!("ABI call: {e}"));
    checked("ABI call", guidance)
}

/// Runs a protocol both ways, asserts both give the same guidance, and returns it.
pub fn run_both<P: Protocol>(
    plugin: &P,
    table: &'static PluginTableV1,
    client: &ClientSnapshot,
    as_of: &str,
    settings: &Settings,
) -> Guidance {
    let by_call = run_static(plugin, client, as_of, settings);
    let by_abi = run_abi(table, client, as_of, settings);
    assert_eq!(by_call, by_abi, "the static call and the ABI call disagree");
    by_abi
}

/// The rule ids of a guidance's cards, in order, for compact assertions.
pub fn rules(guidance: &Guidance) -> Vec<&str> {
    guidance.cards.iter().map(|c| c.rule.as_str()).collect()
}
