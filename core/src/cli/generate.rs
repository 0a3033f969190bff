//! `praxis generate`: a deterministic synthetic practice at clinic scale, as
//! an export document, for benchmarks and load tests (10,000 clients and
//! 250,000 sessions by default). The same seed gives the same document.
//! Every record passes the store's validation; the names are made up.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use praxis_core::store::{
    Appointment, AppointmentStatus, Client, Consent, Intake, MedicationUse, PracticeExport, Session, Therapy,
};
use praxis_sdk::{
    AdverseEvent, Condition, ConditionStatus, Date, DateTime, Discipline, Pressure, TimeOfDay, Weekday, WeeklyWindow,
    snomed,
};

use super::{Locations, bad};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Clients.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub clients: u32,
    /// Sessions in all (spread over the clients).
    #[arg(long, default_value_t = 250_000, value_parser = clap::value_parser!(u32).range(0..=50_000_000))]
    pub sessions: u32,
    /// The seed: the same seed gives the same practice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The last day sessions may fall on (default: today in the practice's time zone, or UTC).
    #[arg(long, value_name = "DATE")]
    pub until: Option<Date>,
    /// Weeks of booked appointments from the Monday of `--until`'s week:
    /// every practitioner's working hours filled with one-hour visits, a
    /// client each (default none).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=52))]
    pub booked_weeks: u32,
    /// Write here (default standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// SplitMix64: small, fast, and the same everywhere for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ada", "Ben", "Carla", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kiri", "Luis", "Mona", "Nils",
    "Oona", "Pavel",
];
const LAST: &[&str] = &[
    "Adams", "Berg", "Costa", "Dahl", "Eze", "Fischer", "Garcia", "Holm", "Ito", "Jensen", "Kowalski", "Lund",
    "Moreau", "Novak", "Ortiz", "Patel",
];

pub fn generate(loc: &Locations, args: &GenerateArgs) -> Result<()> {
    let until = match args.until {
        Some(d) => d,
        None => loc.load_config().map(|c| c.today()).unwrap_or_else(|_| {
            let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
            Date::from_ymd(i32::from(now.year()), now.month() as u32, now.day() as u32).unwrap_or_default()
        }),
    };
    let config_text = super::practice::template_text(super::practice::Template::Clinic, Some("Generated Clinic"));
    let config = praxis_core::config::PracticeConfig::parse(&config_text, std::path::Path::new("praxis.toml"), None)
        .map_err(|e| anyhow::anyhow!("the clinic template does not parse: {e}"))?;
    let massage: Vec<String> = config
        .practitioners
        .iter()
        .filter(|p| p.disciplines.contains(&Discipline::Massage))
        .map(|p| p.id.clone())
        .collect();
    if massage.is_empty() {
        return bad("the clinic template has no massage practitioner");
    }
    let mut rng = Rng(args.seed);
    let mut export = PracticeExport {
        practitioners: config.practitioners.clone(),
        rooms: config.rooms.clone(),
        ..PracticeExport::default()
    };
    let per_client = args.sessions / args.clients;
    let extra = args.sessions % args.clients;
    let conditions = [
        (snomed::FIBROMYALGIA, "Fibromyalgia"),
        (snomed::RHEUMATOID_ARTHRITIS, "Rheumatoid arthritis"),
        (snomed::OSTEOARTHRITIS, "Osteoarthritis"),
        (snomed::LOW_BACK_PAIN, "Low back pain"),
        (snomed::NECK_PAIN, "Neck pain"),
    ];
    let start_day = until.add_days(-(730));
    for i in 0..args.clients {
        // Ids like the store's own (UUID v7 shape), derived from the seed.
        let id = format!(
            "0190{:04x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
            i >> 16,
            i & 0xffff,
            rng.below(0x1000),
            rng.below(0x1000),
            rng.next() & 0xffff_ffff_ffff
        );
        let mut client = Client::new(id.clone(), format!("{} {} {i}", rng.pick(FIRST), rng.pick(LAST)));
        client.date_of_birth =
            Date::from_ymd(1940 + rng.below(60) as i32, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32);
        let (code, name) = *rng.pick(&conditions);
        let status = if rng.below(10) == 0 { ConditionStatus::Flare } else { ConditionStatus::Active };
        client.conditions.push(Condition {
            code: code.to_owned(),
            name: name.to_owned(),
            status,
            since: Some(start_day),
        });
        client.availability = vec![
            WeeklyWindow {
                day: *rng.pick(&[Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday]),
                start: hm(9, 0),
                end: hm(17, 0),
            },
            WeeklyWindow { day: *rng.pick(&[Weekday::Thursday, Weekday::Friday]), start: hm(10, 0), end: hm(16, 0) },
        ];
        if rng.below(3) == 0 {
            client.therapies.push(Therapy { discipline: Discipline::Yoga, every_days: 7, minutes: 60 });
        }
        client.consent = Consent { treatment: true, data_processing: true, recorded: Some(start_day) };
        export.intakes.push(Intake {
            id: format!("{}ffffffff", &id[..id.len() - 8]),
            client: id.clone(),
            recorded: start_day,
            pain_patterns: vec!["aching in the morning".into()],
            sensitivities: Vec::new(),
            previous_treatments: vec!["physiotherapy".into()],
            medications: vec!["paracetamol as needed".into()],
        });
        let n = per_client + u32::from(i < extra);
        let step = (730 / n.max(1)).max(1) as i32;
        for k in 0..n {
            let day = start_day.add_days(k as i32 * step + rng.below(step as u64) as i32).min(until.add_days(-1));
            let before = 3 + rng.below(6) as u8;
            let after = before.saturating_sub(rng.below(4) as u8).min(10);
            let flare = rng.below(20) == 0;
            export.sessions.push(Session {
                id: format!("{}{:08x}", &id[..id.len() - 8], k),
                client: id.clone(),
                practitioner: rng.pick(&massage).clone(),
                discipline: Discipline::Massage,
                start: DateTime::new(day, hm(9 + rng.below(8) as u32, 0)),
                minutes: 30,
                pressure: Some(Pressure::Light),
                techniques: Vec::new(),
                regions: vec!["neck".into(), "shoulders".into()],
                pain_before: Some(before),
                pain_after: Some(if flare { (before + 1).min(10) } else { after }),
                follow_up_pain: None,
                follow_up_at: None,
                adverse_event: if flare { AdverseEvent::Flare } else { AdverseEvent::None },
                adjuncts: Vec::new(),
                notes: String::new(),
                pain_medication: Some(*rng.pick(&[
                    MedicationUse::AsUsual,
                    MedicationUse::LessThanUsual,
                    MedicationUse::None,
                ])),
            });
        }
        export.clients.push(client);
    }
    book_weeks(&mut export, &config.classes, until.week_start(), args.booked_weeks);
    let json = export.to_json().map_err(super::store_error)?;
    match &args.out {
        Some(path) => {
            super::write_atomic(path, json.as_bytes())?;
            eprintln!(
                "generated {} clients, {} sessions and {} appointments (seed {}) in {}",
                export.clients.len(),
                export.sessions.len(),
                export.appointments.len(),
                args.seed,
                path.display()
            );
        }
        None => outln!("{json}"),
    }
    Ok(())
}

/// Fills each practitioner's weekly windows (outside time off) for `weeks`
/// weeks from `monday` with back-to-back one-hour appointments in the
/// practitioner's own room, in their first discipline, the clients taken in
/// turn: a full calendar, so that the day and week pages are measured full.
/// The hours of the practice's group classes stay free (the practitioner
/// teaches them, the room holds them), so the calendar checker passes it.
fn book_weeks(export: &mut PracticeExport, classes: &[praxis_sdk::GroupClass], monday: Date, weeks: u32) {
    if export.clients.is_empty() {
        return;
    }
    let rooms: Vec<String> = export.rooms.iter().map(|r| r.id.clone()).collect();
    let mut next_client = 0usize;
    for (p_index, p) in export.practitioners.clone().iter().enumerate() {
        let Some(discipline) = p.disciplines.first() else { continue };
        // One room each, so no two practitioners share a room at a time.
        let Some(room) = rooms.get(p_index % rooms.len().max(1)) else { continue };
        for day in 0..(weeks as i32 * 7) {
            let date = monday.add_days(day);
            if p.time_off.iter().any(|r| r.contains(date)) {
                continue;
            }
            for w in p.availability.iter().filter(|w| w.day == date.weekday()) {
                let mut at = u32::from(w.start.minutes());
                while at + 60 <= u32::from(w.end.minutes()) {
                    let taken = classes.iter().any(|c| {
                        let from = u32::from(c.start.minutes());
                        c.day == date.weekday()
                            && (c.practitioner == p.id || c.room == *room)
                            && from < at + 60
                            && at < from + u32::from(c.minutes)
                    });
                    if taken {
                        at += 60;
                        continue;
                    }
                    let client = &export.clients[next_client % export.clients.len()];
                    next_client += 1;
                    let start = DateTime::new(date, TimeOfDay::from_minutes(at).unwrap_or(TimeOfDay::MIDNIGHT));
                    export.appointments.push(Appointment {
                        id: format!("0191{:04x}-{:04x}-7000-8000-{:012x}", p_index, day, at),
                        client: client.id.clone(),
                        practitioner: p.id.clone(),
                        room: room.clone(),
                        discipline: discipline.clone(),
                        start,
                        minutes: 60,
                        status: AppointmentStatus::Booked,
                        visit: None,
                        adjunct: None,
                        class: None,
                        status_reason: None,
                    });
                    at += 60;
                }
            }
        }
    }
}

fn hm(h: u32, m: u32) -> TimeOfDay {
    TimeOfDay::from_hm(h, m).unwrap_or(TimeOfDay::MIDNIGHT)
}
