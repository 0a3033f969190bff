//! `praxis demo`: a multi-discipline clinic with a dozen clients, chosen so
//! that every rule id of the guidance rules shows at least once.

use std::collections::BTreeSet;

use anyhow::{Context as _, Result};
use clap::Args;
use praxis_core::config::CONFIG_FILE_NAME;
use praxis_core::store::{
    Client, Consent, Insurance, Intake, LimitPeriod, MedicationUse, Override, Session, SessionLimit, Therapy,
    UsedElsewhere, new_id,
};
use praxis_sdk::{
    Adjunct, AdverseEvent, Condition, ConditionStatus, Date, DateTime, Discipline, Pressure, RedFlag, RedFlagKind,
    TimeOfDay, Weekday, WeeklyWindow, snomed,
};

use super::{Locations, Practice, bad};

/// Every rule id of `GUIDANCE-RULES.md`.
pub const ALL_RULES: &[&str] = &[
    "S1", "S2", "S3", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "R1", "R2", "R3", "R4", "C1", "C2", "C3", "C4", "C5",
    "I1", "I2", "I3",
];

/// `praxis demo` takes the global `--data DIR` (a new folder) or makes a temporary one.
#[derive(Debug, Args)]
pub struct DemoArgs {}

fn step(n: usize, total: usize, what: &str) {
    eprintln!("[{n}/{total}] {what}");
}

/// The demo's clients, their records and histories, relative to `today`.
struct Seed<'a> {
    practice: &'a Practice,
    today: Date,
}

impl Seed<'_> {
    fn day(&self, days_ago: i32) -> Date {
        self.today.add_days(-days_ago)
    }

    fn client(
        &self,
        name: &str,
        conditions: &[(&str, ConditionStatus)],
        f: impl FnOnce(&mut Client),
    ) -> Result<Client> {
        let mut c = Client::new(new_id(), name);
        c.conditions = conditions
            .iter()
            .map(|(code, status)| Condition {
                code: (*code).to_owned(),
                name: super::practice::known_condition_name(code).unwrap_or_default().to_owned(),
                status: *status,
                since: Some(self.day(400)),
            })
            .collect();
        c.consent = Consent { treatment: true, data_processing: true, recorded: Some(self.day(120)) };
        c.availability = weekdays("09:00", "19:00");
        f(&mut c);
        self.practice.store.put_client_as_of(&c, self.today, &self.practice.actor).map_err(super::store_error)?;
        Ok(c)
    }

    fn intake(&self, client: &Client, patterns: &[&str], days_ago: i32) -> Result<()> {
        let intake = Intake {
            id: new_id(),
            client: client.id.clone(),
            recorded: self.day(days_ago),
            pain_patterns: patterns.iter().map(|s| (*s).to_owned()).collect(),
            sensitivities: Vec::new(),
            previous_treatments: vec!["physiotherapy".into(), "over-the-counter analgesics".into()],
            medications: vec!["paracetamol as needed".into()],
        };
        self.practice.store.put_intake_as_of(&intake, self.today, &self.practice.actor).map_err(super::store_error)
    }

    #[allow(clippy::too_many_arguments)]
    fn massage(
        &self,
        client: &Client,
        practitioner: &str,
        days_ago: i32,
        pain: (u8, u8),
        pressure: Pressure,
        regions: &[&str],
        f: impl FnOnce(&mut Session),
    ) -> Result<Session> {
        let mut s = Session {
            id: new_id(),
            client: client.id.clone(),
            practitioner: practitioner.to_owned(),
            discipline: Discipline::Massage,
            start: DateTime::new(self.day(days_ago), TimeOfDay::from_hm(10, 0).expect("valid time")),
            minutes: 30,
            pressure: Some(pressure),
            techniques: vec!["slow strokes".into()],
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            pain_before: Some(pain.0),
            pain_after: Some(pain.1),
            follow_up_pain: None,
            follow_up_at: None,
            adverse_event: AdverseEvent::None,
            adjuncts: Vec::new(),
            notes: String::new(),
            pain_medication: None,
        };
        f(&mut s);
        self.practice.store.record_session(&s, self.today, &self.practice.actor).map_err(super::store_error)?;
        Ok(s)
    }
}

fn weekdays(from: &str, to: &str) -> Vec<WeeklyWindow> {
    let start: TimeOfDay = from.parse().expect("valid time");
    let end: TimeOfDay = to.parse().expect("valid time");
    [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday, Weekday::Saturday]
        .into_iter()
        .map(|day| WeeklyWindow { day, start, end })
        .collect()
}

fn therapy(discipline: Discipline, every_days: u32, minutes: u16) -> Therapy {
    Therapy { discipline, every_days, minutes }
}

/// Custom terms with a hand-kept count, as a client entered before plans were referenced keeps them.
fn custom_terms(payer: &str, limit: Option<u32>, used: u32) -> Insurance {
    Insurance {
        payer: payer.to_owned(),
        session_limit: limit.map(|sessions| SessionLimit { sessions, period: LimitPeriod::CalendarYear }),
        sessions_used: used,
        plan: None,
        ..Insurance::on_plan("")
    }
}

/// A plan of the clinic template's praxis.toml: its terms come from there, its sessions from the records.
fn on_plan(plan: &str, referral_on_file: bool, used_elsewhere: u32, today: Date) -> Insurance {
    let mut ins = Insurance::on_plan(plan);
    ins.authorization_on_file = referral_on_file;
    ins.used_elsewhere = (used_elsewhere > 0).then_some(UsedElsewhere { sessions: used_elsewhere, recorded: today });
    ins
}

fn seed(practice: &Practice, today: Date) -> Result<Vec<Client>> {
    use ConditionStatus::{Active, Flare, Remission};
    let s = Seed { practice, today };
    let fm = snomed::FIBROMYALGIA;
    let ra = snomed::RHEUMATOID_ARTHRITIS;
    let oa = snomed::OSTEOARTHRITIS;
    let neck = ["neck", "shoulders", "back"];
    let mut clients = Vec::new();

    // F1 F2 F3 F7 (and C1, C5 through her plan): fibromyalgia, initial phase, going well.
    let maria = s.client("Maria Santos", &[(fm, Active)], |c| {
        c.tender_points = vec!["trapezius".into(), "lower back".into()];
        c.insurance = Some(on_plan("self-pay", false, 0, today));
        c.therapies = vec![therapy(Discipline::Yoga, 7, 60), therapy(Discipline::Mindfulness, 7, 45)];
    })?;
    s.intake(&maria, &["widespread aching, worst in neck and shoulders in the morning"], 45)?;
    for (ago, pain) in [(30, (7, 5)), (20, (6, 5)), (10, (6, 4))] {
        s.massage(&maria, "ana", ago, pain, Pressure::Light, &neck, |x| {
            x.pain_medication = Some(MedicationUse::AsUsual)
        })?;
    }
    clients.push(maria);

    // F4: a flare after the last session (pain after above pain before).
    let john = s.client("John Miller", &[(fm, Active)], |_| {})?;
    s.intake(&john, &["burning pain across the upper back, fatigue"], 50)?;
    s.massage(&john, "ana", 35, (6, 5), Pressure::Light, &neck, |_| {})?;
    s.massage(&john, "ana", 21, (6, 5), Pressure::Light, &neck, |_| {})?;
    s.massage(&john, "ben", 9, (5, 7), Pressure::Light, &neck, |x| {
        x.pain_medication = Some(MedicationUse::MoreThanUsual)
    })?;
    clients.push(john);

    // F4 twice in a row: the longer interval.
    let priya = s.client("Priya Shah", &[(fm, Active)], |_| {})?;
    s.intake(&priya, &["tender points flare after busy weeks"], 60)?;
    s.massage(&priya, "ana", 40, (6, 5), Pressure::Light, &neck, |_| {})?;
    s.massage(&priya, "ana", 26, (5, 7), Pressure::Light, &neck, |_| {})?;
    let last = s.massage(&priya, "ana", 12, (6, 6), Pressure::LightTouch, &neck, |_| {})?;
    practice.store.set_follow_up(&last.id, 8, &practice.actor).map_err(super::store_error)?;
    clients.push(priya);

    // F5: too long since the last massage.
    let tom = s.client("Tom Becker", &[(fm, Active)], |_| {})?;
    s.intake(&tom, &["stiffness in the neck, poor sleep"], 80)?;
    for ago in [60, 50, 40] {
        s.massage(&tom, "ben", ago, (6, 5), Pressure::Light, &neck, |_| {})?;
    }
    clients.push(tom);

    // F6: stable, maintenance phase (and C1/C5 with tai chi in her plan).
    let lena = s.client("Lena Fischer", &[(fm, Active)], |c| {
        c.insurance = Some(custom_terms("CityCare", Some(20), 0));
        c.therapies = vec![therapy(Discipline::TaiChi, 7, 60)];
    })?;
    s.intake(&lena, &["diffuse pain, better with regular massage"], 130)?;
    for (i, ago) in [112, 98, 84, 70, 56, 42, 28, 14].into_iter().enumerate() {
        let before = 7 - (i as u8 / 2);
        s.massage(&lena, "ana", ago, (before, before.saturating_sub(2)), Pressure::Light, &neck, |x| {
            x.pain_medication = Some(if i < 3 { MedicationUse::AsUsual } else { MedicationUse::LessThanUsual });
        })?;
    }
    clients.push(lena);

    // S1 (inflammatory condition in flare) and R2 (hold during a rheumatoid flare).
    let robert = s.client("Robert King", &[(ra, Flare)], |_| {})?;
    s.intake(&robert, &["swollen, hot knuckles and wrists since last week"], 90)?;
    s.massage(&robert, "ben", 30, (5, 4), Pressure::Light, &["forearms"], |_| {})?;
    s.massage(&robert, "ben", 16, (5, 4), Pressure::Light, &["forearms"], |_| {})?;
    clients.push(robert);

    // R1 R3 R4 (and C2 through her visits): osteoarthritis, heat before and cold after.
    let grace = s.client("Grace Lee", &[(oa, Active)], |c| {
        c.tender_points = vec!["right knee".into()];
        c.therapies = vec![therapy(Discipline::PhysicalTherapy, 14, 45), therapy(Discipline::TaiChi, 7, 60)];
    })?;
    s.intake(&grace, &["aching knees after walking, stiff hips in the morning"], 40)?;
    for ago in [21, 14, 7] {
        s.massage(&grace, "ben", ago, (6, 4), Pressure::Moderate, &["thighs", "calves"], |x| {
            x.adjuncts = vec![Adjunct::HeatBefore, Adjunct::ColdAfter];
        })?;
    }
    clients.push(grace);

    // Merge (fibromyalgia + osteoarthritis), I1 (referral missing), I2 warning (2 left: his 2 sessions
    // here and 6 used at another practice, of the 10 HealthFirst covers in 12 months).
    let omar = s.client("Omar Haddad", &[(fm, Active), (oa, Active)], |c| {
        c.insurance = Some(on_plan("healthfirst", false, 6, today));
    })?;
    s.intake(&omar, &["pain in the hands and the upper back"], 50)?;
    s.massage(&omar, "ana", 24, (6, 5), Pressure::Light, &neck, |_| {})?;
    s.massage(&omar, "ana", 10, (6, 4), Pressure::Light, &neck, |_| {})?;
    clients.push(omar);

    // S1: a recent injury.
    let sofia = s.client("Sofia Rossi", &[(snomed::LOW_BACK_PAIN, Active), (snomed::NECK_PAIN, Active)], |c| {
        c.therapies = vec![therapy(Discipline::PhysicalTherapy, 7, 45), therapy(Discipline::Acupuncture, 14, 45)];
        c.red_flags.push(RedFlag {
            kind: RedFlagKind::RecentInjury,
            region: Some("left knee".into()),
            date: Some(today.add_days(-10)),
            resolved: None,
            note: "fell on stairs".into(),
        });
    })?;
    s.intake(&sofia, &["tight lower back after desk work, neck tension"], 30)?;
    clients.push(sofia);

    // S2: the last session was stopped early; held until the pain has subsided.
    let david = s.client("David Brown", &[(fm, Active)], |c| {
        c.therapies = vec![therapy(Discipline::Acupuncture, 14, 45)];
    })?;
    s.intake(&david, &["sharp flares in the lower back"], 70)?;
    s.massage(&david, "ana", 17, (5, 4), Pressure::Light, &neck, |_| {})?;
    s.massage(&david, "ana", 3, (5, 8), Pressure::Light, &["lower back"], |x| {
        x.adverse_event = AdverseEvent::StoppedEarly { reason: "pain rose sharply in the lower back".into() };
        x.minutes = 15;
    })?;
    clients.push(david);

    // S3: no intake yet.
    let emma = s.client("Emma Wilson", &[(snomed::NECK_PAIN, Active)], |c| {
        c.therapies = vec![therapy(Discipline::Yoga, 7, 60)];
    })?;
    clients.push(emma);

    // I2 critical (limit reached at another practice: self-pay), I3 (condition not covered, so her
    // sessions here are self-pay and do not count toward the limit).
    let hannah = s.client("Hannah Clarke", &[(ra, Remission)], |c| {
        c.insurance = Some(on_plan("healthfirst", true, 10, today));
        c.therapies = vec![therapy(Discipline::Acupuncture, 14, 45)];
    })?;
    s.intake(&hannah, &["morning stiffness in the fingers"], 100)?;
    s.massage(&hannah, "ben", 28, (4, 3), Pressure::Light, &["hands", "forearms"], |_| {})?;
    s.massage(&hannah, "ben", 14, (4, 2), Pressure::Light, &["hands", "forearms"], |_| {})?;
    clients.push(hannah);

    // S1: nerve compression.
    let michael = s.client("Michael Green", &[(oa, Active)], |c| {
        c.red_flags.push(RedFlag {
            kind: RedFlagKind::NerveCompression,
            region: Some("neck (C6)".into()),
            date: Some(today.add_days(-20)),
            resolved: None,
            note: String::new(),
        });
    })?;
    s.intake(&michael, &["tingling down the right arm"], 25)?;
    clients.push(michael);

    Ok(clients)
}

pub fn demo(loc: &Locations, _args: &DemoArgs) -> Result<()> {
    let total = 6;
    let dir = match loc.data_override.clone() {
        Some(d) => {
            if d.join(CONFIG_FILE_NAME).exists() {
                return bad(format!("{} already holds a practice: give the demo a new folder", d.display()));
            }
            d
        }
        None => {
            let stamp = jiff::Timestamp::now().as_millisecond();
            std::env::temp_dir().join(format!("praxis-demo-{stamp}"))
        }
    };
    step(1, total, &format!("creating the demo clinic in {}", dir.display()));
    praxis_core::store::create_private_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    praxis_core::store::create_private_dir(&dir.join("plugins"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let config_path = dir.join(CONFIG_FILE_NAME);
    let text =
        super::practice::template_text(super::practice::Template::Clinic, Some("Riverside Chronic Pain Clinic (demo)"));
    super::write_atomic(&config_path, text.as_bytes())?;
    let loc =
        Locations { config_path: config_path.clone(), data_override: Some(dir.clone()), actor: loc.actor.clone() };
    let practice = Practice::open(&loc)?;
    let today = practice.today();

    step(2, total, "registering clients, intake and past sessions");
    let clients = seed(&practice, today)?;

    step(3, total, "loading plugins through the ABI and evaluating every client");
    let registry = practice.plugins();
    let loaded: Vec<String> = registry
        .protocols()
        .chain(registry.scheduler())
        .map(|p| format!("{} {}", p.id(), p.manifest().version))
        .collect();
    if loaded.is_empty() {
        return Err(anyhow::anyhow!(
            "no plugins were found next to the praxis executable: build them with `cargo build --release` (or run the demo with `cargo run --release -- demo`)"
        ));
    }
    eprintln!("      plugins: {}", loaded.join(", "));
    let guidance = super::guidance::all_guidance(&practice, today)?;
    let mut shown: BTreeSet<String> = BTreeSet::new();
    outln!("\n== Guidance for {} clients, {today} ==\n", clients.len());
    for g in &guidance {
        let name = clients.iter().find(|c| c.id == g.client).map_or("?", |c| c.name.as_str());
        out!("{}", g.render_page(name));
        outln!();
        shown.extend(g.cards.iter().map(|c| c.rule.clone()));
    }

    step(4, total, "recording an override with a reason (Hannah Clarke agreed to pay herself)");
    let hannah = clients.iter().find(|c| c.name == "Hannah Clarke");
    let limit_card = hannah.and_then(|h| {
        guidance
            .iter()
            .find(|g| g.client == h.id)
            .and_then(|g| g.cards.iter().find(|c| c.rule == "I2" && c.indicator == praxis_sdk::Indicator::Critical))
    });
    if let (Some(hannah), Some(card)) = (hannah, limit_card) {
        let ov = Override {
            id: new_id(),
            client: hannah.id.clone(),
            rule: card.rule.clone(),
            card_summary: card.summary.clone(),
            reason: "client agreed to pay for sessions herself".into(),
            at: DateTime::new(today, TimeOfDay::MIDNIGHT),
            appointment: None,
        };
        practice.store.record_override(&ov, &practice.actor).map_err(super::store_error)?;
    }

    step(5, total, "planning and booking the next 8 weeks");
    let plan = super::schedule::plan_and_book_for_demo(&practice, today, &guidance)?;
    outln!("{}", plan.summary);
    shown.extend(plan.rules_shown.iter().cloned());

    step(6, total, "outcomes report");
    outln!("\n== Outcomes ==\n");
    super::guidance::print_report(&super::guidance::outcomes_report(&practice, None, today, 8)?);
    let chart = dir.join("pain-lena-fischer.svg");
    let lena = super::guidance::outcomes_report(&practice, Some("Lena Fischer"), today, 8)?;
    super::write_atomic(&chart, praxis_core::outcomes::pain_chart_svg(&lena.clients[0]).as_bytes())?;

    let missing: Vec<&str> = ALL_RULES.iter().copied().filter(|r| !shown.contains(*r)).collect();
    outln!("\n== Rule coverage ==");
    outln!("shown: {}", ALL_RULES.iter().copied().filter(|r| shown.contains(*r)).collect::<Vec<_>>().join(" "));
    if missing.is_empty() {
        outln!("every rule id of GUIDANCE-RULES.md showed at least once");
    } else {
        outln!("NOT shown: {}", missing.join(" "));
    }
    let d = dir.display();
    outln!("\n== Your demo practice ==");
    outln!("data and configuration: {d}");
    outln!("pain chart (SVG):       {}", chart.display());
    outln!("go on with, for example:");
    outln!("  praxis --data {d} client list");
    outln!("  praxis --data {d} guidance \"John Miller\"");
    outln!("  praxis --data {d} schedule show --days 7");
    outln!("  praxis --data {d} report outcomes --client \"Lena Fischer\"");
    outln!("(with cargo: cargo run --release -- --data {d} client list)");
    outln!("\nserve it to the whole team (the command line keeps working beside it):");
    outln!("  praxis --data {d} user add owner --name \"Clinic Owner\" --role owner   # asks for a password");
    outln!("  praxis --data {d} serve                       # http://{}/", praxis_core::server::DEFAULT_LISTEN);
    outln!(
        "then open the workspace at http://{}/ and log in (add staff with `user add LOGIN --role therapist --practitioner ana` or `--role front-desk`)",
        praxis_core::server::DEFAULT_LISTEN
    );
    outln!("  praxis --data {d} token create front-desk     # prints an API token, once");
    outln!("  curl -H \"Authorization: Bearer TOKEN\" http://{}/api/v1/clients", praxis_core::server::DEFAULT_LISTEN);
    if !missing.is_empty() {
        return Err(anyhow::anyhow!("the demo did not show rule(s) {}", missing.join(", ")));
    }
    Ok(())
}
