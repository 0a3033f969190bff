//! Calendar dates and local times, as plain data.
//!
//! The SDK carries its own small date types instead of re-exporting a date
//! crate, so that a date library's major release never forces a major ABI
//! release. On the wire a [`Date`] is `"YYYY-MM-DD"`, a [`TimeOfDay`] is
//! `"HH:MM"` and a [`DateTime`] is `"YYYY-MM-DDTHH:MM"`, all in the practice's
//! local time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a date or time failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeParseError {
    input: String,
    expected: &'static str,
}

impl fmt::Display for TimeParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a valid {}", self.input, self.expected)
    }
}

impl std::error::Error for TimeParseError {}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// All seven days, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// 0 for Monday up to 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The lowercase English name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Weekday {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Weekday::ALL
            .into_iter()
            .find(|d| d.as_str() == lower || d.as_str()[..3] == lower)
            .ok_or_else(|| TimeParseError { input: s.to_owned(), expected: "weekday (monday..sunday)" })
    }
}

/// A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
/// The default is 1970-01-01.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The date for a year, month (1-12) and day (1-31), if it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    /// The date `days` days after 1970-01-01.
    pub const fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i32 {
        self.0
    }

    /// Year, month (1-12) and day (1-31).
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i32::from(m <= 2);
        (y, m, d)
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        Weekday::ALL[(self.0 + 3).rem_euclid(7) as usize]
    }

    /// This date moved by `days` (negative goes back).
    pub fn add_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }

    /// Whole days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i32 {
        self.0 - earlier.0
    }

    /// The Monday that starts this date's week.
    pub fn week_start(self) -> Date {
        Date(self.0 - self.weekday().index() as i32)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Date {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TimeParseError { input: s.to_owned(), expected: "date (YYYY-MM-DD)" };
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, TimeParseError> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            part.parse().map_err(|_| err())
        };
        Date::from_ymd(num(0..4)? as i32, num(5..7)?, num(8..10)?).ok_or_else(err)
    }
}

/// A time of day in the practice's local time, in whole minutes since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Midnight.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);

    /// The time `hour:minute`, if valid (24:00 is allowed as the end of a day).
    pub fn from_hm(hour: u32, minute: u32) -> Option<TimeOfDay> {
        let total = hour * 60 + minute;
        (minute < 60 && total <= 24 * 60).then_some(TimeOfDay(total as u16))
    }

    /// Minutes since midnight.
    pub const fn minutes(self) -> u16 {
        self.0
    }

    /// The time `minutes` after midnight, if at most 24:00.
    pub fn from_minutes(minutes: u32) -> Option<TimeOfDay> {
        (minutes <= 24 * 60).then_some(TimeOfDay(minutes as u16))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for TimeOfDay {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TimeParseError { input: s.to_owned(), expected: "time (HH:MM)" };
        let (h, m) = s.split_once(':').ok_or_else(err)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(err());
        }
        let h: u32 = h.parse().map_err(|_| err())?;
        let m: u32 = m.parse().map_err(|_| err())?;
        TimeOfDay::from_hm(h, m).ok_or_else(err)
    }
}

/// A local date and time, to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// The date.
    pub date: Date,
    /// The time of day.
    pub time: TimeOfDay,
}

impl DateTime {
    /// A date and time.
    pub fn new(date: Date, time: TimeOfDay) -> DateTime {
        DateTime { date, time }
    }

    /// Minutes since 1970-01-01T00:00, for arithmetic.
    pub fn epoch_minutes(self) -> i64 {
        i64::from(self.date.days()) * 1440 + i64::from(self.time.minutes())
    }

    /// The local date and time `minutes` after 1970-01-01T00:00.
    pub fn from_epoch_minutes(minutes: i64) -> DateTime {
        let days = minutes.div_euclid(1440);
        let rest = minutes.rem_euclid(1440);
        DateTime { date: Date::from_days(days as i32), time: TimeOfDay(rest as u16) }
    }

    /// This date-time moved by `minutes`.
    pub fn add_minutes(self, minutes: i64) -> DateTime {
        DateTime::from_epoch_minutes(self.epoch_minutes() + minutes)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{}", self.date, self.time)
    }
}

impl FromStr for DateTime {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TimeParseError { input: s.to_owned(), expected: "date and time (YYYY-MM-DDTHH:MM)" };
        let (d, t) = s.split_once(['T', ' ']).ok_or_else(err)?;
        Ok(DateTime { date: d.parse().map_err(|_| err())?, time: t.parse().map_err(|_| err())? })
    }
}

macro_rules! string_serde {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
string_serde!(Date, TimeOfDay, DateTime);

/// A weekly recurring window of time, such as "Mondays 09:00 to 13:00".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WeeklyWindow {
    /// The day of the week.
    pub day: Weekday,
    /// Start, inclusive.
    pub start: TimeOfDay,
    /// End, exclusive.
    pub end: TimeOfDay,
}

impl WeeklyWindow {
    /// Whether `[start, start + minutes)` on a day of this weekday fits inside the window.
    pub fn contains(&self, day: Weekday, start: TimeOfDay, minutes: u16) -> bool {
        day == self.day
            && start >= self.start
            && u32::from(start.minutes()) + u32::from(minutes) <= u32::from(self.end.minutes())
    }
}

/// An inclusive range of dates, such as a practitioner's leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DateRange {
    /// First day, inclusive.
    pub from: Date,
    /// Last day, inclusive.
    pub to: Date,
}

impl DateRange {
    /// Whether `date` falls within the range.
    pub fn contains(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for days in -800_000..800_000 {
            let d = Date::from_days(days);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d), "{days}");
        }
    }

    #[test]
    fn parse_and_print() {
        fn check(input: &str, expected: Option<&str>) {
            assert_eq!(input.parse::<Date>().ok().map(|d| d.to_string()).as_deref(), expected, "{input}");
        }
        check("2026-11-21", Some("2026-11-21"));
        check("2024-02-29", Some("2024-02-29"));
        check("2023-02-29", None);
        check("2026-13-01", None);
        check("2026-1-01", None);
        check("2026-11-21T", None);
        check("+026-11-21", None);
        check("", None);
        assert_eq!(Date::from_ymd(2026, 11, 21).unwrap().weekday(), Weekday::Saturday);
        assert_eq!("09:30".parse::<TimeOfDay>().unwrap().minutes(), 570);
        assert!("24:01".parse::<TimeOfDay>().is_err());
        assert!("9:3".parse::<TimeOfDay>().is_err());
        assert!("ab:cd".parse::<TimeOfDay>().is_err());
        assert_eq!("2026-11-21T09:30".parse::<DateTime>().unwrap().to_string(), "2026-11-21T09:30");
    }
}
