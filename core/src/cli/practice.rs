//! `praxis init`, `client`, `intake`, `session`: the practice's records.

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use praxis_core::store::{
    Authorization, Client, Consent, Insurance, Intake, LimitPeriod, MedicationUse, Session, SessionLimit, Therapy,
    new_id,
};
use praxis_sdk::{
    Adjunct, AdverseEvent, Condition, ConditionStatus, Date, DateTime, Discipline, Pressure, RedFlag, RedFlagKind,
    TimeOfDay, WeeklyWindow, snomed,
};

use super::{Locations, Practice, bad, print_json, table};

const SOLO_TEMPLATE: &str = include_str!("../../../examples/practices/solo.toml");
const CLINIC_TEMPLATE: &str = include_str!("../../../examples/practices/clinic.toml");

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Template {
    /// One massage therapist, one room.
    Solo,
    /// A multi-discipline clinic with group classes.
    Clinic,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The practice's name.
    #[arg(long)]
    pub name: Option<String>,
    /// Which example configuration to start from.
    #[arg(long, value_enum, default_value = "solo")]
    pub template: Template,
}

/// The text of a template config with the practice name set.
pub fn template_text(template: Template, name: Option<&str>) -> String {
    let text = match template {
        Template::Solo => SOLO_TEMPLATE,
        Template::Clinic => CLINIC_TEMPLATE,
    };
    match name {
        Some(name) => {
            let mut doc: toml_edit::DocumentMut = text.parse().expect("templates are valid TOML");
            doc["practice"]["name"] = toml_edit::value(name);
            doc.to_string()
        }
        None => text.to_owned(),
    }
}

pub fn init(loc: &Locations, args: &InitArgs) -> Result<()> {
    let Some(data) = &loc.data_override else {
        return bad("say where the practice's data folder goes: `praxis init --data DIR`");
    };
    if loc.config_path.exists() {
        return bad(format!(
            "{} already exists: this folder already holds a practice; choose another --data folder",
            loc.config_path.display()
        ));
    }
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    std::fs::create_dir_all(data.join("plugins")).with_context(|| format!("creating {}/plugins", data.display()))?;
    let text = template_text(args.template, args.name.as_deref());
    let config_path = loc.config_path.clone();
    super::write_atomic(&config_path, text.as_bytes())?;
    let practice = Practice::open_unsynced(loc)?;
    outln!("Created practice \"{}\"", practice.config.file.practice.name);
    outln!("  configuration: {}", config_path.display());
    outln!("  data:          {}", practice.config.data_dir.display());
    outln!("  plugins:       {}", data.join("plugins").display());
    outln!(
        "Next: edit the configuration (hours, practitioners, rooms), then `praxis --data {} client add --name ...`",
        data.display()
    );
    Ok(())
}

// ---------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a new client.
    Add(ClientArgs),
    /// List clients.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one client: record, intake and session history.
    Show {
        /// Client id (or a unique prefix of it) or full name.
        client: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a client's record.
    Update {
        /// Client id (or a unique prefix of it) or full name.
        client: String,
        #[command(flatten)]
        args: ClientArgs,
        /// Remove a condition (SNOMED CT code or name).
        #[arg(long, value_name = "CONDITION")]
        remove_condition: Vec<String>,
        /// Mark this kind of red flag resolved today (recent-injury, nerve-compression, inflammatory-flare, other).
        #[arg(long, value_name = "KIND")]
        resolve_red_flag: Vec<String>,
        /// Remove a discipline from the care plan.
        #[arg(long, value_name = "DISCIPLINE")]
        remove_therapy: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Full name.
    #[arg(long)]
    pub name: Option<String>,
    /// Date of birth, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub dob: Option<Date>,
    /// Telephone.
    #[arg(long)]
    pub phone: Option<String>,
    /// E-mail.
    #[arg(long)]
    pub email: Option<String>,
    /// A condition as CODE-OR-NAME[:STATUS[:SINCE]], e.g. `fibromyalgia:active:2024-03-01` or `69896004:flare`.
    /// Names: fibromyalgia, rheumatoid-arthritis, osteoarthritis, low-back-pain, neck-pain.
    #[arg(long, value_name = "CONDITION")]
    pub condition: Vec<String>,
    /// A red flag as KIND[:REGION[:DATE]], e.g. `recent-injury:left knee:2026-11-10`.
    #[arg(long, value_name = "FLAG")]
    pub red_flag: Vec<String>,
    /// A sensitivity (oils, scalp touch...).
    #[arg(long)]
    pub sensitivity: Vec<String>,
    /// A tender point (region).
    #[arg(long)]
    pub tender_point: Vec<String>,
    /// Preferred pressure: light_touch, light, moderate, firm, deep.
    #[arg(long)]
    pub pressure: Option<Pressure>,
    /// When the client can come, as `DAY HH:MM-HH:MM` (repeat; replaces the list on update).
    #[arg(long, value_name = "WINDOW")]
    pub available: Vec<String>,
    /// Insurance plan name from the practice config (`[insurance.<name>]`).
    #[arg(long)]
    pub plan: Option<String>,
    /// The plan's required referral or prescription is on file.
    #[arg(long)]
    pub referral_on_file: bool,
    /// Sessions of the plan already used this period.
    #[arg(long)]
    pub sessions_used: Option<u32>,
    /// A therapy of the care plan as DISCIPLINE:EVERY_DAYS[:MINUTES], e.g. `yoga:7` or `acupuncture:14:45`
    /// (repeat; on update, replaces the same discipline). Massage comes from the protocols' guidance.
    #[arg(long, value_name = "THERAPY")]
    pub therapy: Vec<String>,
    /// The client consents to treatment and to the keeping of their health data (recorded today).
    #[arg(long)]
    pub consent: bool,
    /// Print the saved record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parses `yoga:7` or `acupuncture:14:45`.
pub fn parse_therapy(spec: &str) -> Result<Therapy> {
    let bad_spec = |why: &str| {
        super::BadInput(format!(
            "`{spec}`: {why}; write DISCIPLINE:EVERY_DAYS[:MINUTES], e.g. yoga:7 or acupuncture:14:45"
        ))
    };
    let mut parts = spec.split(':');
    let discipline = Discipline::parse(parts.next().unwrap_or_default());
    if !discipline.is_known() {
        return Err(bad_spec(
            "unknown discipline (massage, yoga, tai_chi, acupuncture, physical_therapy, mindfulness)",
        )
        .into());
    }
    if discipline == Discipline::Massage {
        return Err(bad_spec("massage intervals come from the protocol plugins' guidance, not the care plan").into());
    }
    let every_days: u32 =
        parts.next().and_then(|d| d.trim().parse().ok()).ok_or_else(|| bad_spec("missing or bad EVERY_DAYS"))?;
    if !(1..=365).contains(&every_days) {
        return Err(bad_spec("EVERY_DAYS must be 1 to 365").into());
    }
    let minutes: u16 = match parts.next() {
        None => 60,
        Some(m) => m
            .trim()
            .parse()
            .ok()
            .filter(|m| (5..=240).contains(m))
            .ok_or_else(|| bad_spec("MINUTES must be 5 to 240"))?,
    };
    if parts.next().is_some() {
        return Err(bad_spec("too many parts").into());
    }
    Ok(Therapy { discipline, every_days, minutes })
}

fn parse_condition(spec: &str, today: Date) -> Result<Condition> {
    let mut parts = spec.splitn(3, ':');
    let code_or_name = parts.next().unwrap_or_default().trim();
    let (code, name) = match code_or_name.to_ascii_lowercase().replace(' ', "-").as_str() {
        "fibromyalgia" => (snomed::FIBROMYALGIA, "Fibromyalgia"),
        "rheumatoid-arthritis" | "ra" => (snomed::RHEUMATOID_ARTHRITIS, "Rheumatoid arthritis"),
        "osteoarthritis" | "oa" => (snomed::OSTEOARTHRITIS, "Osteoarthritis"),
        "low-back-pain" => (snomed::LOW_BACK_PAIN, "Low back pain"),
        "neck-pain" => (snomed::NECK_PAIN, "Neck pain"),
        other if !other.is_empty() && other.bytes().all(|b| b.is_ascii_digit()) => (code_or_name, ""),
        _ => {
            return bad(format!(
                "`{spec}`: unknown condition `{code_or_name}`: give a SNOMED CT code or one of fibromyalgia, rheumatoid-arthritis, osteoarthritis, low-back-pain, neck-pain"
            ));
        }
    };
    let name = if name.is_empty() { known_condition_name(code).unwrap_or("") } else { name };
    let status = match parts.next().map(str::trim) {
        None | Some("") | Some("active") => ConditionStatus::Active,
        Some("flare") => ConditionStatus::Flare,
        Some("remission") => ConditionStatus::Remission,
        Some(other) => return bad(format!("`{spec}`: unknown status `{other}`: use active, flare or remission")),
    };
    let since = match parts.next().map(str::trim) {
        None | Some("") => None,
        Some(d) => {
            let d: Date = d.parse().map_err(|e| super::BadInput(format!("`{spec}`: {e}")))?;
            if d > today {
                return bad(format!("`{spec}`: a condition cannot start in the future ({d})"));
            }
            Some(d)
        }
    };
    Ok(Condition { code: code.to_owned(), name: name.to_owned(), status, since })
}

/// The display name of a known SNOMED CT code.
pub fn known_condition_name(code: &str) -> Option<&'static str> {
    Some(match code {
        snomed::FIBROMYALGIA => "Fibromyalgia",
        snomed::RHEUMATOID_ARTHRITIS => "Rheumatoid arthritis",
        snomed::OSTEOARTHRITIS => "Osteoarthritis",
        snomed::LOW_BACK_PAIN => "Low back pain",
        snomed::NECK_PAIN => "Neck pain",
        _ => return None,
    })
}

fn parse_red_flag_kind(kind: &str) -> Result<RedFlagKind> {
    Ok(match kind.trim().to_ascii_lowercase().replace(['_', ' '], "-").as_str() {
        "recent-injury" | "injury" => RedFlagKind::RecentInjury,
        "nerve-compression" => RedFlagKind::NerveCompression,
        "inflammatory-flare" => RedFlagKind::InflammatoryFlare,
        "other" => RedFlagKind::Other,
        _ => {
            return bad(format!(
                "unknown red flag kind `{kind}`: use recent-injury, nerve-compression, inflammatory-flare or other"
            ));
        }
    })
}

fn parse_red_flag(spec: &str, today: Date) -> Result<RedFlag> {
    let mut parts = spec.splitn(3, ':');
    let kind = parse_red_flag_kind(parts.next().unwrap_or_default())?;
    let region = parts.next().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    let date = match parts.next().map(str::trim) {
        None | Some("") => None,
        Some(d) => {
            let d: Date = d.parse().map_err(|e| super::BadInput(format!("`{spec}`: {e}")))?;
            if d > today {
                return bad(format!("`{spec}`: a red flag cannot be dated in the future ({d})"));
            }
            Some(d)
        }
    };
    Ok(RedFlag { kind, region, date, resolved: None, note: String::new() })
}

/// Parses `monday 09:00-17:00`.
pub fn parse_window(spec: &str) -> Result<WeeklyWindow> {
    let bad_window =
        || super::BadInput(format!("`{spec}` is not an availability window: write it as \"monday 09:00-17:00\""));
    let (day, span) = spec.trim().split_once(' ').ok_or_else(bad_window)?;
    let (a, b) = span.trim().split_once('-').ok_or_else(bad_window)?;
    let start: TimeOfDay = a.trim().parse().map_err(|_| bad_window())?;
    let end: TimeOfDay = b.trim().parse().map_err(|_| bad_window())?;
    if start >= end {
        return bad(format!("`{spec}`: the window ends before it starts"));
    }
    Ok(WeeklyWindow { day: day.parse().map_err(|_| bad_window())?, start, end })
}

fn apply(practice: &Practice, client: &mut Client, args: &ClientArgs, today: Date) -> Result<()> {
    if let Some(name) = &args.name {
        client.name = name.trim().to_owned();
    }
    if let Some(dob) = args.dob {
        client.date_of_birth = Some(dob);
    }
    if let Some(phone) = &args.phone {
        client.contact.phone = Some(phone.clone());
    }
    if let Some(email) = &args.email {
        client.contact.email = Some(email.clone());
    }
    for spec in &args.condition {
        let condition = parse_condition(spec, today)?;
        match client.conditions.iter_mut().find(|c| c.code == condition.code) {
            Some(existing) => {
                existing.status = condition.status;
                if condition.since.is_some() {
                    existing.since = condition.since;
                }
            }
            None => client.conditions.push(condition),
        }
    }
    for spec in &args.red_flag {
        client.red_flags.push(parse_red_flag(spec, today)?);
    }
    extend_unique(&mut client.sensitivities, &args.sensitivity);
    extend_unique(&mut client.tender_points, &args.tender_point);
    if let Some(p) = args.pressure {
        client.preferred_pressure = Some(p);
    }
    if !args.available.is_empty() {
        client.availability = args.available.iter().map(|w| parse_window(w)).collect::<Result<_>>()?;
    }
    if let Some(plan_name) = &args.plan {
        let Some(plan) = practice.config.file.insurance.get(plan_name) else {
            let known: Vec<&str> = practice.config.file.insurance.keys().map(String::as_str).collect();
            return bad(format!(
                "no insurance plan `{plan_name}` in {}: known plans are {}",
                practice.config.path.display(),
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            ));
        };
        client.insurance = Some(Insurance {
            payer: plan.payer.clone(),
            requires: plan.referral_required.then_some(Authorization::Referral),
            authorization_on_file: args.referral_on_file,
            covered_conditions: plan.covered_conditions.clone(),
            session_limit: plan
                .session_limit
                .map(|sessions| SessionLimit { sessions, period: LimitPeriod::CalendarYear }),
            sessions_used: args.sessions_used.unwrap_or(0),
        });
    } else if let Some(ins) = &mut client.insurance {
        if args.referral_on_file {
            ins.authorization_on_file = true;
        }
        if let Some(used) = args.sessions_used {
            ins.sessions_used = used;
        }
    } else if args.referral_on_file || args.sessions_used.is_some() {
        return bad("--referral-on-file and --sessions-used need an insurance plan: add --plan NAME");
    }
    for spec in &args.therapy {
        let therapy = parse_therapy(spec)?;
        client.therapies.retain(|t| t.discipline != therapy.discipline);
        client.therapies.push(therapy);
    }
    if args.consent {
        client.consent = Consent { treatment: true, data_processing: true, recorded: Some(today) };
    }
    Ok(())
}

fn extend_unique(list: &mut Vec<String>, new: &[String]) {
    for item in new {
        let item = item.trim();
        if !item.is_empty() && !list.iter().any(|x| x.eq_ignore_ascii_case(item)) {
            list.push(item.to_owned());
        }
    }
}

pub fn client(loc: &Locations, cmd: &ClientCommand, json: bool) -> Result<()> {
    let practice = Practice::open(loc)?;
    let today = practice.today();
    match cmd {
        ClientCommand::Add(args) => {
            let Some(name) = args.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
                return bad("a new client needs a name: --name \"First Last\"");
            };
            let mut client = Client::new(new_id(), name);
            apply(&practice, &mut client, args, today)?;
            practice.store.put_client_as_of(&client, today, &practice.actor).map_err(super::store_error)?;
            if json || args.json {
                print_json(&client)?;
            } else {
                outln!("saved client {} ({})", client.name, client.id);
            }
        }
        ClientCommand::List { json: list_json } => {
            let clients = practice.store.clients().map_err(super::store_error)?;
            if json || *list_json {
                return print_json(&clients);
            }
            let rows: Vec<Vec<String>> = clients
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        c.name.clone(),
                        c.conditions.iter().map(condition_label).collect::<Vec<_>>().join(", "),
                        c.insurance.as_ref().map_or("-".to_owned(), |i| i.payer.clone()),
                    ]
                })
                .collect();
            out!("{}", table(&["ID", "NAME", "CONDITIONS", "INSURANCE"], &rows));
        }
        ClientCommand::Show { client, json: show_json } => {
            let client = practice.find_client(client)?;
            let intake = practice.store.intake(&client.id).map_err(super::store_error)?;
            let sessions = practice.store.sessions_for(&client.id).map_err(super::store_error)?;
            if json || *show_json {
                return print_json(&serde_json::json!({"client": client, "intake": intake, "sessions": sessions}));
            }
            out!("{}", render_client(&client, intake.as_ref(), &sessions));
        }
        ClientCommand::Update { client, args, remove_condition, resolve_red_flag, remove_therapy } => {
            let mut client = practice.find_client(client)?;
            apply(&practice, &mut client, args, today)?;
            for name in remove_therapy {
                let d = Discipline::parse(name);
                let before = client.therapies.len();
                client.therapies.retain(|t| t.discipline != d);
                if client.therapies.len() == before {
                    return bad(format!("{}'s care plan has no {name}", client.name));
                }
            }
            for spec in remove_condition {
                let code = parse_condition(spec, today)?.code;
                let before = client.conditions.len();
                client.conditions.retain(|c| c.code != code);
                if client.conditions.len() == before {
                    return bad(format!("{} has no condition `{spec}`", client.name));
                }
            }
            for kind in resolve_red_flag {
                let kind = parse_red_flag_kind(kind)?;
                let mut found = false;
                for flag in client.red_flags.iter_mut().filter(|f| f.kind == kind && f.resolved.is_none()) {
                    flag.resolved = Some(today);
                    found = true;
                }
                if !found {
                    return bad(format!("{} has no unresolved red flag of that kind", client.name));
                }
            }
            practice.store.put_client_as_of(&client, today, &practice.actor).map_err(super::store_error)?;
            if json || args.json {
                print_json(&client)?;
            } else {
                outln!("saved client {} ({})", client.name, client.id);
            }
        }
    }
    Ok(())
}

fn condition_label(c: &Condition) -> String {
    let name = if c.name.is_empty() { known_condition_name(&c.code).unwrap_or(&c.code) } else { &c.name };
    let status = match c.status {
        ConditionStatus::Active => "",
        ConditionStatus::Flare => " (flare)",
        ConditionStatus::Remission => " (remission)",
        ConditionStatus::Unknown => " (?)",
    };
    format!("{name}{status}")
}

fn render_client(client: &Client, intake: Option<&Intake>, sessions: &[Session]) -> String {
    let mut s = String::new();
    s.push_str(&format!("{}  ({})\n", client.name, client.id));
    if let Some(dob) = client.date_of_birth {
        s.push_str(&format!("  born        {dob}\n"));
    }
    let conditions: Vec<String> = client.conditions.iter().map(condition_label).collect();
    s.push_str(&format!(
        "  conditions  {}\n",
        if conditions.is_empty() { "-".to_owned() } else { conditions.join(", ") }
    ));
    for f in &client.red_flags {
        s.push_str(&format!(
            "  red flag    {:?}{}{}{}\n",
            f.kind,
            f.region.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
            f.date.map(|d| format!(" since {d}")).unwrap_or_default(),
            f.resolved.map(|d| format!(", resolved {d}")).unwrap_or_default()
        ));
    }
    if !client.tender_points.is_empty() {
        s.push_str(&format!("  tender      {}\n", client.tender_points.join(", ")));
    }
    if !client.sensitivities.is_empty() {
        s.push_str(&format!("  sensitive   {}\n", client.sensitivities.join(", ")));
    }
    if let Some(ins) = &client.insurance {
        s.push_str(&format!(
            "  insurance   {}{}{}\n",
            ins.payer,
            ins.session_limit
                .map(|l| format!(", {}/{} sessions used", ins.sessions_used, l.sessions))
                .unwrap_or_default(),
            match (ins.requires, ins.authorization_on_file) {
                (Some(_), true) => ", referral on file",
                (Some(_), false) => ", referral REQUIRED and not on file",
                _ => "",
            }
        ));
    }
    if !client.therapies.is_empty() {
        let plan: Vec<String> = client
            .therapies
            .iter()
            .map(|t| format!("{} every {} days ({} min)", t.discipline, t.every_days, t.minutes))
            .collect();
        s.push_str(&format!("  care plan   {}\n", plan.join(", ")));
    }
    match intake {
        Some(i) => s.push_str(&format!("  intake      recorded {}: {}\n", i.recorded, i.pain_patterns.join("; "))),
        None => s.push_str("  intake      not recorded\n"),
    }
    if sessions.is_empty() {
        s.push_str("\nNo sessions yet.\n");
    } else {
        let rows: Vec<Vec<String>> = sessions
            .iter()
            .map(|x| {
                vec![
                    x.start.to_string(),
                    x.discipline.to_string(),
                    x.minutes.to_string(),
                    x.pressure.map_or("-".into(), |p| p.label().to_owned()),
                    pain(x.pain_before),
                    pain(x.pain_after),
                    pain(x.follow_up_pain),
                    adverse_label(&x.adverse_event),
                    x.id.clone(),
                ]
            })
            .collect();
        s.push('\n');
        s.push_str(&table(
            &["START", "DISCIPLINE", "MIN", "PRESSURE", "BEFORE", "AFTER", "FOLLOW-UP", "EVENT", "ID"],
            &rows,
        ));
    }
    s
}

fn pain(p: Option<u8>) -> String {
    p.map_or("-".into(), |p| p.to_string())
}

fn adverse_label(a: &AdverseEvent) -> String {
    match a {
        AdverseEvent::None => "-".into(),
        AdverseEvent::Soreness => "soreness".into(),
        AdverseEvent::Flare => "flare".into(),
        AdverseEvent::StoppedEarly { reason } => format!("stopped early: {reason}"),
        AdverseEvent::Unknown => "?".into(),
    }
}

// ---------------------------------------------------------------------------

#[derive(Debug, Args)]
pub struct IntakeArgs {
    /// Client id (or a unique prefix of it) or full name.
    pub client: String,
    /// A pain pattern in the client's words (repeat).
    #[arg(long)]
    pub pain_pattern: Vec<String>,
    /// A sensitivity (repeat).
    #[arg(long)]
    pub sensitivity: Vec<String>,
    /// A previous treatment (repeat).
    #[arg(long)]
    pub previous_treatment: Vec<String>,
    /// A medication (repeat).
    #[arg(long)]
    pub medication: Vec<String>,
    /// When intake was taken (default today).
    #[arg(long)]
    pub date: Option<Date>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn intake(loc: &Locations, args: &IntakeArgs) -> Result<()> {
    let practice = Practice::open(loc)?;
    let client = practice.find_client(&args.client)?;
    if args.pain_pattern.is_empty() && args.previous_treatment.is_empty() {
        return bad(
            "intake records at least the client's pain patterns (--pain-pattern) or previous treatments (--previous-treatment)",
        );
    }
    let intake = Intake {
        id: new_id(),
        client: client.id.clone(),
        recorded: args.date.unwrap_or_else(|| practice.today()),
        pain_patterns: args.pain_pattern.clone(),
        sensitivities: args.sensitivity.clone(),
        previous_treatments: args.previous_treatment.clone(),
        medications: args.medication.clone(),
    };
    practice.store.put_intake_as_of(&intake, practice.today(), &practice.actor).map_err(super::store_error)?;
    if args.json {
        print_json(&intake)
    } else {
        outln!("saved intake for {} ({})", client.name, intake.id);
        Ok(())
    }
}

// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AdverseArg {
    /// Nothing adverse.
    None,
    /// Ordinary soreness.
    Soreness,
    /// A pain flare.
    Flare,
    /// Pain rose significantly and the session was stopped (rule S2); give --reason.
    StoppedEarly,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MedicationArg {
    /// No pain medication since the last session.
    None,
    /// Less than usual.
    Less,
    /// As usual.
    AsUsual,
    /// More than usual.
    More,
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Record a session that took place (use --date for past sessions).
    Record(RecordArgs),
    /// Add the client's 24-48 hour follow-up pain report to a session.
    FollowUp {
        /// The session's id.
        session: String,
        /// Pain now, 0-10.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=10))]
        pain: u8,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Client id (or a unique prefix of it) or full name.
    pub client: String,
    /// Practitioner id (from the practice config).
    #[arg(long)]
    pub practitioner: String,
    /// massage, yoga, tai_chi, acupuncture, physical_therapy, mindfulness, or another name.
    #[arg(long, default_value = "massage")]
    pub discipline: String,
    /// Day of the session (default today).
    #[arg(long)]
    pub date: Option<Date>,
    /// Start time, HH:MM.
    #[arg(long, default_value = "09:00")]
    pub time: TimeOfDay,
    /// Length in minutes.
    #[arg(long)]
    pub minutes: u16,
    /// Pressure used: light_touch, light, moderate, firm, deep.
    #[arg(long)]
    pub pressure: Option<Pressure>,
    /// A technique used (repeat).
    #[arg(long)]
    pub technique: Vec<String>,
    /// A region worked (repeat).
    #[arg(long)]
    pub region: Vec<String>,
    /// Pain before, 0-10.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=10))]
    pub pain_before: Option<u8>,
    /// Pain after, 0-10.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=10))]
    pub pain_after: Option<u8>,
    /// Adverse event.
    #[arg(long, value_enum, default_value = "none")]
    pub adverse: AdverseArg,
    /// Why the session was stopped early.
    #[arg(long)]
    pub reason: Option<String>,
    /// Heat was applied before the massage.
    #[arg(long)]
    pub heat: bool,
    /// Cold was applied after the massage.
    #[arg(long)]
    pub cold: bool,
    /// Free notes.
    #[arg(long, default_value = "")]
    pub notes: String,
    /// The client's own report of pain-medication use since the last session.
    #[arg(long, value_enum)]
    pub medication: Option<MedicationArg>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn session(loc: &Locations, cmd: &SessionCommand) -> Result<()> {
    let practice = Practice::open(loc)?;
    let today = practice.today();
    match cmd {
        SessionCommand::Record(a) => {
            let client = practice.find_client(&a.client)?;
            let adverse_event = match (a.adverse, &a.reason) {
                (AdverseArg::StoppedEarly, Some(r)) if !r.trim().is_empty() => {
                    AdverseEvent::StoppedEarly { reason: r.trim().to_owned() }
                }
                (AdverseArg::StoppedEarly, _) => {
                    return bad("--adverse stopped-early needs --reason \"what happened\"");
                }
                (_, Some(_)) => return bad("--reason goes with --adverse stopped-early"),
                (AdverseArg::None, None) => AdverseEvent::None,
                (AdverseArg::Soreness, None) => AdverseEvent::Soreness,
                (AdverseArg::Flare, None) => AdverseEvent::Flare,
            };
            let mut adjuncts = Vec::new();
            if a.heat {
                adjuncts.push(Adjunct::HeatBefore);
            }
            if a.cold {
                adjuncts.push(Adjunct::ColdAfter);
            }
            let session = Session {
                id: new_id(),
                client: client.id.clone(),
                practitioner: a.practitioner.clone(),
                discipline: Discipline::parse(&a.discipline),
                start: DateTime::new(a.date.unwrap_or(today), a.time),
                minutes: a.minutes,
                pressure: a.pressure,
                techniques: a.technique.clone(),
                regions: a.region.clone(),
                pain_before: a.pain_before,
                pain_after: a.pain_after,
                follow_up_pain: None,
                adverse_event,
                adjuncts,
                notes: a.notes.clone(),
                pain_medication: a.medication.map(|m| match m {
                    MedicationArg::None => MedicationUse::None,
                    MedicationArg::Less => MedicationUse::LessThanUsual,
                    MedicationArg::AsUsual => MedicationUse::AsUsual,
                    MedicationArg::More => MedicationUse::MoreThanUsual,
                }),
            };
            practice.store.record_session(&session, today, &practice.actor).map_err(super::store_error)?;
            if a.json {
                print_json(&session)?;
            } else {
                outln!("saved session {} for {} on {}", session.id, client.name, session.start);
            }
        }
        SessionCommand::FollowUp { session, pain, json } => {
            practice.store.set_follow_up(session, *pain, &practice.actor).map_err(super::store_error)?;
            let saved = practice
                .store
                .get_session(session)
                .map_err(super::store_error)?
                .ok_or_else(|| super::BadInput(format!("no session `{session}`")))?;
            if *json {
                print_json(&saved)?;
            } else {
                outln!("saved follow-up pain {pain} on session {}", saved.id);
            }
        }
    }
    Ok(())
}
