//! `praxis init`, `client`, `intake`, `session`: the practice's records.

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use praxis_core::service::protocol::{Request, Response};
use praxis_core::service::typed::{AdverseKind, MedicationReport};
use praxis_core::service::{ClientChanges, IntakeInput, SessionInput};
use praxis_core::store::{Client, Intake, Session};
use praxis_sdk::{AdverseEvent, Condition, ConditionStatus, Date, DateTime, Pressure, TimeOfDay};

pub use praxis_core::service::known_condition_name;

use super::{Backend, Locations, Practice, bad, print_json, table, unexpected};

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
    /// Keep the store in this PostgreSQL database (`postgres://user@host/database`) instead of the data folder:
    /// written to praxis.toml as `[store] url`.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
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
    if let Some(url) = &args.store
        && !praxis_core::store::is_postgres_url(url)
    {
        return bad(format!(
            "--store `{}` is not a PostgreSQL URL: give postgres://user@host/database (or leave --store out for the \
             store in the data folder)",
            praxis_core::service::excerpt(url)
        ));
    }
    praxis_core::store::create_private_dir(data).with_context(|| format!("creating {}", data.display()))?;
    praxis_core::store::create_private_dir(&data.join("plugins"))
        .with_context(|| format!("creating {}/plugins", data.display()))?;
    let mut text = template_text(args.template, args.name.as_deref());
    if let Some(url) = &args.store {
        let mut doc: toml_edit::DocumentMut = text.parse().expect("templates are valid TOML");
        if doc.get("store").is_none() {
            doc["store"] = toml_edit::table();
        }
        doc["store"]["url"] = toml_edit::value(url.as_str());
        text = doc.to_string();
    }
    let config_path = loc.config_path.clone();
    super::write_atomic(&config_path, text.as_bytes())?;
    // The configuration's practitioners and rooms are in the store from the start.
    let practice = Practice::open(loc)?;
    outln!("Created practice \"{}\"", practice.config.file.practice.name);
    outln!("  configuration: {}", config_path.display());
    outln!("  data:          {}", practice.config.data_dir.display());
    if args.store.is_some() {
        outln!("  store:         {}", practice.store.location());
    }
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
    /// Insurance plan name from the practice config (`[insurance.<name>]`). The client keeps the name:
    /// the plan's terms apply from the config, and its sessions are counted from the session records.
    #[arg(long)]
    pub plan: Option<String>,
    /// The plan's required referral or prescription is on file.
    #[arg(long)]
    pub referral_on_file: bool,
    /// The client's member (policy) id with the payer.
    #[arg(long, value_name = "ID")]
    pub member_id: Option<String>,
    /// Sessions of the plan the client used elsewhere (another practice) in the current period; 0 clears it.
    #[arg(long, value_name = "N")]
    pub sessions_used_elsewhere: Option<u32>,
    /// Custom insurance terms only (a client without a plan name): the hand-kept count of sessions used.
    #[arg(long, value_name = "N")]
    pub sessions_used: Option<u32>,
    /// A therapy of the care plan as DISCIPLINE:EVERY_DAYS[:MINUTES], e.g. `yoga:7` or `acupuncture:14:45`
    /// (repeat; on update, replaces the same discipline). Massage comes from the protocols' guidance.
    #[arg(long, value_name = "THERAPY")]
    pub therapy: Vec<String>,
    /// The client consents to treatment and to the keeping of their health data (recorded today).
    #[arg(long)]
    pub consent: bool,
    /// The day the client gave consent, when it was not today (implies --consent; not after today).
    #[arg(long, value_name = "DATE")]
    pub consent_date: Option<Date>,
    /// Print the saved record as JSON.
    #[arg(long)]
    pub json: bool,
}

impl ClientArgs {
    fn changes(&self) -> ClientChanges {
        ClientChanges {
            name: self.name.clone(),
            dob: self.dob,
            phone: self.phone.clone(),
            email: self.email.clone(),
            conditions: self.condition.clone(),
            red_flags: self.red_flag.clone(),
            sensitivities: self.sensitivity.clone(),
            tender_points: self.tender_point.clone(),
            pressure: self.pressure,
            available: self.available.clone(),
            plan: self.plan.clone(),
            referral_on_file: self.referral_on_file,
            member_id: self.member_id.clone(),
            sessions_used_elsewhere: self.sessions_used_elsewhere,
            sessions_used: self.sessions_used,
            therapies: self.therapy.clone(),
            consent: self.consent,
            consent_date: self.consent_date,
            ..ClientChanges::default()
        }
    }
}

pub fn client(loc: &Locations, cmd: &ClientCommand, json: bool) -> Result<()> {
    let backend = Backend::connect(loc)?;
    match cmd {
        ClientCommand::Add(args) => {
            let Response::Client(client) = backend.call(Request::AddClient { changes: args.changes() })? else {
                return unexpected();
            };
            if json || args.json {
                print_json(&client)?;
            } else {
                outln!("saved client {} ({})", client.name, client.id);
            }
        }
        ClientCommand::List { json: list_json } => {
            let Response::Clients(clients) = backend.call(Request::ListClients)? else { return unexpected() };
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
                        c.insurance
                            .as_ref()
                            .map_or("-".to_owned(), |i| i.plan.clone().unwrap_or_else(|| i.payer.clone())),
                    ]
                })
                .collect();
            out!("{}", table(&["ID", "NAME", "CONDITIONS", "INSURANCE"], &rows));
        }
        ClientCommand::Show { client, json: show_json } => {
            let Response::Record(record) = backend.call(Request::ShowClient { client: client.clone() })? else {
                return unexpected();
            };
            if json || *show_json {
                return print_json(&serde_json::json!({
                    "client": record.client,
                    "intake": record.intake,
                    "sessions": record.sessions,
                    "insurance": record.insurance,
                }));
            }
            out!(
                "{}",
                render_client(&record.client, record.intake.as_ref(), &record.sessions, record.insurance.as_ref())
            );
        }
        ClientCommand::Update { client, args, remove_condition, resolve_red_flag, remove_therapy } => {
            let changes = ClientChanges {
                remove_conditions: remove_condition.clone(),
                resolve_red_flags: resolve_red_flag.clone(),
                remove_therapies: remove_therapy.clone(),
                ..args.changes()
            };
            let Response::Client(client) = backend.call(Request::UpdateClient { client: client.clone(), changes })?
            else {
                return unexpected();
            };
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

fn render_client(
    client: &Client,
    intake: Option<&Intake>,
    sessions: &[Session],
    insurance: Option<&praxis_core::service::insurance::InsuranceStatus>,
) -> String {
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
    if let Some(status) = insurance {
        s.push_str(&format!("  insurance   {}\n", status.line()));
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
    let backend = Backend::connect(loc)?;
    let input = IntakeInput {
        pain_patterns: args.pain_pattern.clone(),
        sensitivities: args.sensitivity.clone(),
        previous_treatments: args.previous_treatment.clone(),
        medications: args.medication.clone(),
        date: args.date,
    };
    let Response::Intake(intake) =
        backend.call(Request::RecordIntake { client: args.client.clone(), intake: input })?
    else {
        return unexpected();
    };
    if args.json {
        print_json(&intake)
    } else {
        let name = backend.client_name(&intake.client);
        outln!("saved intake for {name} ({})", intake.id);
        Ok(())
    }
}

// ---------------------------------------------------------------------------

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
        /// When the follow-up was taken, YYYY-MM-DDTHH:MM in the practice's time zone (default now).
        #[arg(long, value_name = "DATETIME")]
        at: Option<DateTime>,
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
    /// Start time, HH:MM (default: a session given neither day nor time
    /// ended just now; one given only a day started at 09:00).
    #[arg(long)]
    pub time: Option<TimeOfDay>,
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
    /// Adverse event: none, soreness, flare or stopped_early (pain rose and the session was stopped, rule S2;
    /// give --reason). `stopped-early` is accepted too.
    #[arg(long, value_name = "KIND", default_value = "none")]
    pub adverse: AdverseKind,
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
    /// The client's own report of pain-medication use since the last session: none, less_than_usual, as_usual
    /// or more_than_usual (`less`, `as-usual` and `more` are accepted too).
    #[arg(long, value_name = "USE")]
    pub medication: Option<MedicationReport>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn session(loc: &Locations, cmd: &SessionCommand) -> Result<()> {
    let backend = Backend::connect(loc)?;
    match cmd {
        SessionCommand::Record(a) => {
            let input = SessionInput {
                practitioner: a.practitioner.clone(),
                discipline: a.discipline.clone(),
                date: a.date,
                time: a.time,
                minutes: a.minutes,
                pressure: a.pressure,
                techniques: a.technique.clone(),
                regions: a.region.clone(),
                pain_before: a.pain_before,
                pain_after: a.pain_after,
                adverse: a.adverse.as_str().to_owned(),
                reason: a.reason.clone(),
                heat: a.heat,
                cold: a.cold,
                notes: a.notes.clone(),
                medication: a.medication.map(|m| m.as_str().to_owned()),
            };
            let Response::Session(session) =
                backend.call(Request::RecordSession { client: a.client.clone(), session: input })?
            else {
                return unexpected();
            };
            if a.json {
                print_json(&session)?;
            } else {
                let name = backend.client_name(&session.client);
                outln!("saved session {} for {name} on {}", session.id, session.start);
            }
        }
        SessionCommand::FollowUp { session, pain, at, json } => {
            let request = Request::FollowUp { session: session.clone(), pain: *pain, at: *at };
            let Response::Session(saved) = backend.call(request)? else {
                return unexpected();
            };
            let note = saved.follow_up_timing().and_then(|t| t.note());
            if *json {
                print_json(&saved)?;
            } else {
                outln!("saved follow-up pain {pain} on session {}", saved.id);
            }
            if let Some(note) = note {
                eprintln!("note: this follow-up was {note} ([B] FAQ: relief continues to improve over 24-48 hours)");
            }
        }
    }
    Ok(())
}
