//! What a scheduler plugin sees and returns: the practice calendar, care plans
//! and proposed appointments.

use serde::{Deserialize, Serialize};

use crate::guidance::Range;
use crate::model::{Adjunct, Discipline};
use crate::time::{Date, DateRange, DateTime, TimeOfDay, Weekday, WeeklyWindow};

/// What a room is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A treatment room for one client (massage, physical therapy).
    TreatmentRoom,
    /// A room fitted for acupuncture.
    AcupunctureRoom,
    /// A studio for group classes (yoga, tai chi, mindfulness).
    Studio,
    /// A kind this SDK does not know.
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Unknown,
}

/// A room of the practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Room {
    /// Stable id.
    pub id: String,
    /// Name for people.
    #[serde(default)]
    pub name: String,
    /// What it is for.
    pub kind: RoomKind,
    /// How many clients at once.
    pub capacity: u16,
}

/// A practitioner of the practice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Practitioner {
    /// Stable id.
    pub id: String,
    /// Name for people.
    #[serde(default)]
    pub name: String,
    /// Disciplines the practitioner is qualified in.
    pub disciplines: Vec<Discipline>,
    /// When the practitioner works, week by week.
    #[serde(default)]
    pub availability: Vec<WeeklyWindow>,
    /// Leave.
    #[serde(default)]
    pub time_off: Vec<DateRange>,
}

/// A recurring group class, such as Tuesday yoga at 18:00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GroupClass {
    /// Stable id.
    pub id: String,
    /// Name for people.
    #[serde(default)]
    pub name: String,
    /// Its discipline (yoga, tai chi, mindfulness...).
    pub discipline: Discipline,
    /// Day of the week.
    pub day: Weekday,
    /// Start time.
    pub start: TimeOfDay,
    /// Length in minutes.
    pub minutes: u16,
    /// Who leads it.
    pub practitioner: String,
    /// Where.
    pub room: String,
    /// Places in the class.
    pub capacity: u16,
}

/// An appointment already booked (or proposed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Appointment {
    /// The client.
    pub client: String,
    /// The practitioner.
    pub practitioner: String,
    /// The room.
    pub room: String,
    /// The discipline.
    pub discipline: Discipline,
    /// Start, local time.
    pub start: DateTime,
    /// Length in minutes.
    pub minutes: u16,
    /// The visit it belongs to: heat, massage and cold of one visit share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
    /// Set when this appointment is the heat or cold step of a massage visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjunct: Option<Adjunct>,
    /// The group class it is a place in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

impl Appointment {
    /// An appointment with no visit, adjunct or class (set those fields after).
    pub fn new(
        client: &str,
        practitioner: &str,
        room: &str,
        discipline: Discipline,
        start: DateTime,
        minutes: u16,
    ) -> Appointment {
        Appointment {
            client: client.to_owned(),
            practitioner: practitioner.to_owned(),
            room: room.to_owned(),
            discipline,
            start,
            minutes,
            visit: None,
            adjunct: None,
            class: None,
        }
    }

    /// The end, local time.
    pub fn end(&self) -> DateTime {
        self.start.add_minutes(i64::from(self.minutes))
    }
}

/// How often a client should have a discipline other than massage, as the
/// practitioner set it in the care plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DisciplineDemand {
    /// The discipline.
    pub discipline: Discipline,
    /// Days between sessions (for example 7 for weekly).
    pub every_days: u32,
    /// Minutes per session (ignored for group classes, which have their own length).
    pub minutes: u16,
    /// The last session of this discipline, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Date>,
}

/// Massage demand, from the merged guidance of the protocol plugins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MassageDemand {
    /// Days between massages (rule C4).
    pub interval_days: Range,
    /// Minutes per massage.
    pub minutes: Range,
    /// Adjunct steps before the massage, in order (rule C2).
    #[serde(default)]
    pub before: Vec<Adjunct>,
    /// Adjunct steps after the massage, in order (rule C2).
    #[serde(default)]
    pub after: Vec<Adjunct>,
    /// The last massage, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Date>,
    /// The first day a massage may be booked (such as after a pain report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Date>,
}

/// One client's care plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CarePlan {
    /// The client.
    pub client: String,
    /// When the client can come, week by week.
    #[serde(default)]
    pub availability: Vec<WeeklyWindow>,
    /// Whether the client has fibromyalgia (rule C5 applies).
    #[serde(default)]
    pub fibromyalgia: bool,
    /// Massage demand; `None` when no massage is planned (or a hold stands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub massage: Option<MassageDemand>,
    /// Other disciplines.
    #[serde(default)]
    pub other: Vec<DisciplineDemand>,
}

/// Everything a scheduler plugin is told.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScheduleRequest {
    /// First day of the horizon.
    pub start: Date,
    /// Length of the horizon in days.
    pub days: u32,
    /// Practice opening hours.
    pub opening_hours: Vec<WeeklyWindow>,
    /// Practitioners.
    pub practitioners: Vec<Practitioner>,
    /// Rooms.
    pub rooms: Vec<Room>,
    /// Recurring group classes.
    #[serde(default)]
    pub classes: Vec<GroupClass>,
    /// Appointments already booked in or around the horizon.
    #[serde(default)]
    pub booked: Vec<Appointment>,
    /// Care plans.
    pub plans: Vec<CarePlan>,
    /// The plugin's settings from the practice config.
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

/// Demand the scheduler could not meet, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Unmet {
    /// The client.
    pub client: String,
    /// The discipline.
    pub discipline: Discipline,
    /// The day it was due.
    pub due: Date,
    /// Why it could not be placed.
    pub reason: String,
}

impl Unmet {
    /// Demand not met: whose, which discipline, due when, and why.
    pub fn new(client: &str, discipline: Discipline, due: Date, reason: impl Into<String>) -> Unmet {
        Unmet { client: client.to_owned(), discipline, due, reason: reason.into() }
    }
}

/// A massage placed after its window: the rest before it is at least the
/// interval's minimum, but longer than its maximum (rule C4), because no day of
/// the window had room. The front desk confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Late {
    /// The client.
    pub client: String,
    /// The discipline (massage).
    pub discipline: Discipline,
    /// The day it was placed.
    pub placed: Date,
    /// The last day of its window.
    pub window_end: Date,
    /// Days after the window's last day.
    pub days: u32,
    /// Why the window had no room.
    pub reason: String,
}

/// A scheduler plugin's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScheduleProposal {
    /// Proposed appointments.
    #[serde(default)]
    pub appointments: Vec<Appointment>,
    /// Demand not met.
    #[serde(default)]
    pub unmet: Vec<Unmet>,
    /// Proposed massages placed after their window, each also in `appointments` (ABI 1.x minor addition).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub late: Vec<Late>,
}
