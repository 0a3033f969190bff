//! The handlers of the workspace's pages: parse the form, call one or a few
//! service operations with the logged-in actor, and render what they return.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use praxis_sdk::{Date, Indicator, Pressure, TimeOfDay};
use serde::Deserialize;

use super::{PageError, Staff, render, render_with};
use crate::server::api::{SESSION_COOKIE, session_cookie, session_set_cookie};
use crate::server::{AppState, blocking};
use crate::service::{
    AuditFilter, ClientChanges, IntakeInput, Operation, OverrideInput, SessionInput, allowed, excerpt, input,
};
use crate::store::Role;

type PageResult = Result<Response, PageError>;

// ----- the frame every page shares -----

/// A link of the navigation.
pub struct NavItem {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// What every page shows around its content.
pub struct Frame {
    title: String,
    login: String,
    role: String,
    csrf: String,
    practice: String,
    tz: String,
    today: String,
    nav: Vec<NavItem>,
}

fn frame(state: &AppState, staff: &Staff, title: impl Into<String>, here: &str) -> Frame {
    let config = state.service.config();
    let role = staff.actor.role();
    let mut nav = Vec::new();
    let mut add = |href: &'static str, label: &'static str, op: Operation| {
        if allowed(role, op) {
            nav.push(NavItem { href, label, current: href == here });
        }
    };
    add("/today", "Today", Operation::ReadSchedule);
    add("/clients", "Clients", Operation::ReadClients);
    add("/follow-ups", "Follow-ups", Operation::RecordClinical);
    add("/calendar", "Calendar", Operation::ReadSchedule);
    add("/plan", "Plan", Operation::EditSchedule);
    add("/outcomes", "Outcomes", Operation::ReadReports);
    add("/utilisation", "Utilisation", Operation::ReadReports);
    add("/plugins", "Plugins", Operation::Administer);
    add("/users", "Users", Operation::ManageUsers);
    add("/audit", "Audit log", Operation::ReadAudit);
    Frame {
        title: title.into(),
        login: staff.actor.name().to_owned(),
        role: role.to_string(),
        csrf: staff.csrf.clone(),
        practice: config.file.practice.name.clone(),
        tz: config.file.practice.time_zone.clone(),
        today: config.today().to_string(),
        nav,
    }
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn long_date(d: Date) -> String {
    let day = d.weekday().as_str();
    let mut chars = day.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or(' ');
    format!("{first}{} {d}", chars.as_str())
}

// ----- login -----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    practice: String,
    login: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LoginQuery {
    expired: Option<String>,
    out: Option<String>,
}

pub(super) async fn login_page(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> PageResult {
    let notice = if q.expired.is_some() {
        Some(format!(
            "You were logged out after {} minutes without activity, or the server restarted. Log in again.",
            state.service.config().file.security.idle_logout_minutes
        ))
    } else {
        q.out.map(|_| "You are logged out.".to_owned())
    };
    render(&LoginPage {
        practice: state.service.config().file.practice.name.clone(),
        login: String::new(),
        error: None,
        notice,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LoginForm {
    login: String,
    password: String,
}

pub(super) async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> PageResult {
    let (login, password) = (form.login.trim().to_owned(), form.password);
    let who = login.clone();
    let service = state.service.clone();
    let outcome = tokio::task::spawn_blocking(move || service.login(&who, &password))
        .await
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the login failed: {e}")))?;
    match outcome {
        Ok((_, session)) => {
            let mut r = see_other("/");
            let cookie = session_set_cookie(&session.secret, state.tls);
            r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("cookie is ASCII"));
            Ok(r)
        }
        Err(refused) => {
            tokio::time::sleep(refused.delay).await;
            render_with(
                StatusCode::UNAUTHORIZED,
                &LoginPage {
                    practice: state.service.config().file.practice.name.clone(),
                    login,
                    error: Some(refused.error.to_string()),
                    notice: None,
                },
            )
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    if let Some(secret) = session_cookie(&headers) {
        state.service.logout(&secret);
    }
    let mut r = see_other("/login?out=1");
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&clear).expect("ASCII"));
    Ok(r)
}

pub(super) async fn home(staff: Option<Staff>) -> Response {
    let Some(staff) = staff else { return see_other("/login") };
    see_other(match staff.actor.role() {
        Role::Owner | Role::Therapist => "/today",
        Role::FrontDesk => "/clients",
        Role::Auditor => "/outcomes",
    })
}

// ----- today -----

struct TodayRow {
    time: String,
    client_id: String,
    client_name: String,
    what: String,
    practitioner: String,
    room: String,
    hold: Option<String>,
    critical: Vec<String>,
    warnings: Vec<String>,
    advice: String,
    alert: bool,
}

#[derive(Template)]
#[template(path = "today.html")]
struct TodayPage {
    frame: Frame,
    day: String,
    is_today: bool,
    rows: Vec<TodayRow>,
    shows_guidance: bool,
}

pub(super) async fn today(State(state): State<AppState>, staff: Staff) -> PageResult {
    let actor = staff.actor.clone();
    let (day, rows) = blocking(&state, move |s| {
        let today = s.today();
        let practitioner = actor.practitioner().map(str::to_owned);
        let mine = |from: Date, days: u32| {
            s.appointments(Some(from), days, None, &actor).map(|all| {
                all.into_iter()
                    .filter(|a| a.adjunct.is_none())
                    .filter(|a| practitioner.as_deref().is_none_or(|p| a.practitioner == p))
                    .collect::<Vec<_>>()
            })
        };
        let mut day = today;
        let mut list = mine(today, 1)?;
        if list.is_empty() {
            // Nothing today: the next day with appointments, within two weeks.
            let ahead = mine(today.add_days(1), 14)?;
            if let Some(first) = ahead.first() {
                day = first.start.date;
                list = ahead.into_iter().filter(|a| a.start.date == day).collect();
            }
        }
        let guidance = allowed(actor.role(), Operation::ReadGuidance);
        let mut rows = Vec::new();
        let mut seen: BTreeMap<String, (String, Option<crate::world::ClientGuidance>)> = BTreeMap::new();
        for a in list {
            if !seen.contains_key(&a.client) {
                let name = s.client_by_id(&a.client, &actor).map(|c| c.name).unwrap_or_else(|_| a.client.clone());
                let g = if guidance { Some(s.guidance(&a.client, Some(day), &actor)?) } else { None };
                seen.insert(a.client.clone(), (name, g));
            }
            let (name, g) = &seen[&a.client];
            let mut row = TodayRow {
                time: a.start.time.to_string(),
                client_id: a.client.clone(),
                client_name: name.clone(),
                what: format!(
                    "{} · {} min{}",
                    a.discipline,
                    a.minutes,
                    if a.class.is_some() { " · class" } else { "" }
                ),
                practitioner: a.practitioner.clone(),
                room: a.room.clone(),
                hold: None,
                critical: Vec::new(),
                warnings: Vec::new(),
                advice: String::new(),
                alert: false,
            };
            if let Some(g) = g {
                row.hold = g.hold.as_ref().map(|h| format!("{} ({})", h.reason, h.rule));
                for c in &g.cards {
                    match c.indicator {
                        Indicator::Critical => row.critical.push(format!("{}: {}", c.rule, c.summary)),
                        Indicator::Warning => row.warnings.push(format!("{}: {}", c.rule, c.summary)),
                        Indicator::Info => {}
                    }
                }
                row.advice = advice_line(&g.recommendation);
                row.alert = row.hold.is_some() || !row.critical.is_empty();
            }
            rows.push(row);
        }
        Ok((day, rows))
    })
    .await?;
    let today = state.service.today();
    render(&TodayPage {
        frame: frame(&state, &staff, "Today", "/today"),
        day: long_date(day),
        is_today: day == today,
        rows,
        shows_guidance: allowed(staff.actor.role(), Operation::ReadGuidance),
    })
}

fn advice_line(r: &crate::world::MergedRecommendation) -> String {
    let mut parts = Vec::new();
    if let Some(m) = r.minutes {
        parts.push(format!("{m} min"));
    }
    if let Some(p) = r.pressure_max {
        parts.push(format!("pressure at most {p}"));
    }
    if !r.avoid.is_empty() {
        parts.push(format!("avoid {}", r.avoid.join(", ")));
    }
    parts.join(" · ")
}

// ----- clients: search and registration -----

struct ClientRow {
    id: String,
    name: String,
    phone: String,
    dob: String,
    plan: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct RegisterForm {
    csrf: String,
    name: String,
    dob: String,
    phone: String,
    email: String,
    consent: Option<String>,
    plan: String,
    referral: Option<String>,
    member_id: String,
    sessions_used_elsewhere: String,
    available: String,
    therapies: String,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    frame: Frame,
    q: String,
    rows: Vec<ClientRow>,
    total: usize,
    can_register: bool,
    plans: Vec<String>,
    form: RegisterForm,
    errors: BTreeMap<&'static str, String>,
    error: Option<String>,
}

impl ClientsPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SearchQuery {
    q: String,
}

const LIST_MAX: usize = 50;

pub(super) async fn clients(State(state): State<AppState>, staff: Staff, Query(q): Query<SearchQuery>) -> PageResult {
    clients_page(&state, &staff, q.q, RegisterForm::default(), BTreeMap::new(), None).await
}

async fn clients_page(
    state: &AppState,
    staff: &Staff,
    q: String,
    form: RegisterForm,
    errors: BTreeMap<&'static str, String>,
    error: Option<String>,
) -> PageResult {
    let actor = staff.actor.clone();
    let search = q.clone();
    let (rows, total) = blocking(state, move |s| {
        let list = s.client_list(&search, LIST_MAX, &actor)?;
        let rows = list
            .clients
            .into_iter()
            .map(|c| ClientRow {
                id: c.id,
                name: c.name,
                phone: c.contact.phone.unwrap_or_default(),
                dob: c.date_of_birth.map(|d| d.to_string()).unwrap_or_default(),
                plan: c.insurance.map(|i| i.plan.unwrap_or(i.payer)).unwrap_or_default(),
            })
            .collect();
        Ok((rows, list.total))
    })
    .await?;
    let status = if errors.is_empty() && error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_with(
        status,
        &ClientsPage {
            frame: frame(state, staff, "Clients", "/clients"),
            q,
            rows,
            total,
            can_register: allowed(staff.actor.role(), Operation::EditClientAdmin),
            plans: state.service.config().file.insurance.keys().cloned().collect(),
            form,
            errors,
            error,
        },
    )
}

/// A number of sessions from a form field (empty: none given).
fn sessions_number(text: &str, errors: &mut BTreeMap<&'static str, String>) -> Option<u32> {
    match text.trim() {
        "" => None,
        n => n
            .parse::<u32>()
            .map_err(|_| {
                errors.insert("sessions_used_elsewhere", format!("`{}` is not a number of sessions.", excerpt(n)));
            })
            .ok(),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn list(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

pub(super) async fn register(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<RegisterForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let mut errors = BTreeMap::new();
    let name = form.name.trim();
    if name.is_empty() {
        errors.insert("name", "Give the client's full name.".to_owned());
    }
    let dob = match form.dob.trim() {
        "" => None,
        d => match d.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.insert("dob", format!("`{}` is not a date: use YYYY-MM-DD.", excerpt(d)));
                None
            }
        },
    };
    let sessions_used_elsewhere = sessions_number(&form.sessions_used_elsewhere, &mut errors);
    let available = lines(&form.available);
    for w in &available {
        if let Err(e) = input::parse_window(w) {
            errors.insert("available", e.to_string());
        }
    }
    let therapies = lines(&form.therapies);
    for t in &therapies {
        if let Err(e) = input::parse_therapy(t) {
            errors.insert("therapies", e.to_string());
        }
    }
    if !errors.is_empty() {
        return clients_page(&state, &staff, String::new(), form, errors, None).await;
    }
    let changes = ClientChanges {
        name: Some(name.to_owned()),
        dob,
        phone: Some(form.phone.trim().to_owned()).filter(|p| !p.is_empty()),
        email: Some(form.email.trim().to_owned()).filter(|p| !p.is_empty()),
        available,
        plan: Some(form.plan.trim().to_owned()).filter(|p| !p.is_empty()),
        referral_on_file: form.referral.is_some(),
        member_id: Some(form.member_id.trim().to_owned()).filter(|m| !m.is_empty()),
        sessions_used_elsewhere,
        therapies,
        consent: form.consent.is_some(),
        ..ClientChanges::default()
    };
    let actor = staff.actor.clone();
    match blocking(&state, move |s| s.add_client(&changes, &actor)).await {
        Ok(client) => Ok(see_other(&format!("/clients/{}?registered=1", client.id))),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let message = PageError::from(e).message;
            clients_page(&state, &staff, String::new(), form, BTreeMap::new(), Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ----- a client's chart -----

struct SessionRow {
    date: String,
    practitioner: String,
    what: String,
    before: String,
    after: String,
    follow_up: String,
    adverse: String,
    medication: String,
    notes: String,
    flare: bool,
}

struct CardView {
    rule: String,
    indicator: &'static str,
    summary: String,
    detail: String,
    source: String,
    critical: bool,
    reasons: Vec<(String, String)>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct SessionForm {
    csrf: String,
    practitioner: String,
    discipline: String,
    date: String,
    time: String,
    minutes: String,
    pressure: String,
    pain_before: String,
    pain_after: String,
    adverse: String,
    reason: String,
    medication: String,
    techniques: String,
    regions: String,
    heat: Option<String>,
    cold: Option<String>,
    notes: String,
}

#[derive(Template)]
#[template(path = "chart.html")]
struct ChartPage {
    frame: Frame,
    id: String,
    name: String,
    dob: String,
    notice: Option<String>,
    conditions: Vec<String>,
    red_flags: Vec<String>,
    sensitivities: String,
    tender_points: String,
    pressure: String,
    intake: Option<Vec<(&'static str, String)>>,
    sessions: Vec<SessionRow>,
    chart_svg: String,
    medication: String,
    hold: Option<String>,
    cards: Vec<CardView>,
    advice: String,
    next_due: String,
    can_record: bool,
    can_override: bool,
    practitioners: Vec<(String, String)>,
    form: SessionForm,
    errors: BTreeMap<&'static str, String>,
    error: Option<String>,
}

impl ChartPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

struct AppointmentRow {
    when: String,
    what: String,
    practitioner: String,
    room: String,
}

#[derive(Template)]
#[template(path = "client_desk.html")]
struct DeskPage {
    frame: Frame,
    id: String,
    name: String,
    notice: Option<String>,
    details: Vec<(&'static str, String)>,
    availability: Vec<String>,
    therapies: Vec<String>,
    insurance: Vec<(&'static str, String)>,
    insurance_form: Option<InsuranceForm>,
    plans: Vec<String>,
    appointments: Vec<AppointmentRow>,
    verdict: Option<crate::service::workspace::BookingStatus>,
}

/// The desk page's insurance form: the plan, and what is the client's own.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct InsuranceForm {
    csrf: String,
    plan: String,
    member_id: String,
    referral: Option<String>,
    sessions_used_elsewhere: String,
}

/// `POST /clients/{id}/insurance`: sets the plan, member id, referral and
/// sessions used elsewhere (an audited client change, like any other).
pub(super) async fn update_insurance(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<InsuranceForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let mut errors = BTreeMap::new();
    let sessions_used_elsewhere = sessions_number(&form.sessions_used_elsewhere, &mut errors);
    if let Some(message) = errors.into_values().next() {
        return Err(PageError::from(crate::service::ServiceError::BadInput(message)));
    }
    let changes = ClientChanges {
        plan: Some(form.plan.trim().to_owned()).filter(|p| !p.is_empty()),
        member_id: Some(form.member_id.trim().to_owned()),
        referral_on_file: form.referral.is_some(),
        sessions_used_elsewhere,
        ..ClientChanges::default()
    };
    let actor = staff.actor.clone();
    let key = id.clone();
    blocking(&state, move |s| s.update_client(&key, &changes, &actor)).await?;
    Ok(see_other(&format!("/clients/{id}?saved=1")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ChartQuery {
    registered: Option<String>,
    recorded: Option<String>,
    saved: Option<String>,
}

impl ChartQuery {
    fn notice(&self) -> Option<String> {
        if self.registered.is_some() {
            Some("Client registered.".into())
        } else if self.recorded.is_some() {
            Some("Session recorded; the guidance below is up to date.".into())
        } else {
            self.saved.as_ref().map(|_| "Saved.".into())
        }
    }
}

pub(super) async fn chart(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<ChartQuery>,
) -> PageResult {
    if !allowed(staff.actor.role(), Operation::ReadChart) {
        return desk_page(&state, &staff, id, q.notice()).await;
    }
    let form = SessionForm {
        practitioner: staff.actor.practitioner().unwrap_or_default().to_owned(),
        date: state.service.today().to_string(),
        time: "09:00".into(),
        minutes: "30".into(),
        discipline: "massage".into(),
        adverse: "none".into(),
        ..SessionForm::default()
    };
    chart_page(&state, &staff, id, form, BTreeMap::new(), None, q.notice()).await
}

async fn desk_page(state: &AppState, staff: &Staff, id: String, notice: Option<String>) -> PageResult {
    let actor = staff.actor.clone();
    let key = id.clone();
    let (client, appointments, verdict, status) = blocking(state, move |s| {
        let client = s.client_by_id(&key, &actor)?;
        let status = s.insurance_status(&key, None, &actor)?;
        let upcoming = s.appointments(None, 56, None, &actor)?;
        let verdict = if allowed(actor.role(), Operation::ReadBookingVerdict) {
            Some(s.booking_status(&key, &actor)?)
        } else {
            None
        };
        Ok((
            client,
            upcoming.into_iter().filter(|a| a.client == key && a.adjunct.is_none()).collect::<Vec<_>>(),
            verdict,
            status,
        ))
    })
    .await?;
    let mut details = vec![
        ("Date of birth", client.date_of_birth.map(|d| d.to_string()).unwrap_or_default()),
        ("Phone", client.contact.phone.clone().unwrap_or_default()),
        ("E-mail", client.contact.email.clone().unwrap_or_default()),
    ];
    let consent = match (client.consent.treatment, client.consent.data_processing) {
        (true, true) => format!("given{}", client.consent.recorded.map(|d| format!(" on {d}")).unwrap_or_default()),
        (false, false) => "not given".to_owned(),
        _ => "partly given".to_owned(),
    };
    details.push(("Consent", consent));
    let insurance = insurance_rows(status.as_ref());
    let insurance_form = allowed(staff.actor.role(), Operation::EditClientAdmin).then(|| InsuranceForm {
        plan: status.as_ref().and_then(|i| i.plan.clone()).unwrap_or_default(),
        member_id: status.as_ref().and_then(|i| i.member_id.clone()).unwrap_or_default(),
        referral: status.as_ref().filter(|i| i.referral_on_file).map(|_| "yes".to_owned()),
        ..InsuranceForm::default()
    });
    render(&DeskPage {
        frame: frame(state, staff, client.name.clone(), "/clients"),
        id: client.id.clone(),
        name: client.name.clone(),
        notice,
        details,
        availability: client.availability.iter().map(|w| format!("{} {}-{}", w.day, w.start, w.end)).collect(),
        therapies: client
            .therapies
            .iter()
            .map(|t| format!("{} every {} days, {} min", t.discipline, t.every_days, t.minutes))
            .collect(),
        insurance,
        insurance_form,
        plans: state.service.config().plans.keys().cloned().collect(),
        verdict,
        appointments: appointments
            .iter()
            .map(|a| AppointmentRow {
                when: format!("{} {}", long_date(a.start.date), a.start.time),
                what: format!("{} · {} min", a.discipline, a.minutes),
                practitioner: a.practitioner.clone(),
                room: a.room.clone(),
            })
            .collect(),
    })
}

/// The desk page's insurance lines: the plan's terms from the config and the
/// sessions remaining in the period, counted from the session records.
fn insurance_rows(status: Option<&crate::service::insurance::InsuranceStatus>) -> Vec<(&'static str, String)> {
    let Some(i) = status else { return vec![("Plan", "none (self-pay)".to_owned())] };
    let mut v = match (&i.plan, i.plan_in_config) {
        (Some(plan), true) => vec![("Plan", format!("{} ({plan})", i.payer))],
        (Some(plan), false) => vec![("Plan", format!("{plan}: not in praxis.toml, coverage unknown"))],
        (None, _) => vec![("Plan", format!("{} (custom terms)", i.payer))],
    };
    if let Some(member) = &i.member_id {
        v.push(("Member id", member.clone()));
    }
    if i.referral_required {
        v.push(("Referral on file", if i.referral_on_file { "yes" } else { "no" }.to_owned()));
    }
    match (i.session_limit, i.sessions_remaining) {
        (Some(limit), Some(left)) => {
            let period = match (i.period_start, i.period_end) {
                (Some(first), Some(last)) => format!(" ({first} to {last})"),
                _ => String::new(),
            };
            v.push(("Sessions remaining", format!("{left} of {limit}{period}")));
            if i.sessions_used_elsewhere > 0 {
                v.push(("Used elsewhere", i.sessions_used_elsewhere.to_string()));
            }
        }
        _ if i.plan_in_config => v.push(("Sessions remaining", "no limit".to_owned())),
        _ => {}
    }
    v
}

fn pain(v: Option<u8>) -> String {
    v.map(|p| p.to_string()).unwrap_or_else(|| "–".into())
}

async fn chart_page(
    state: &AppState,
    staff: &Staff,
    id: String,
    form: SessionForm,
    errors: BTreeMap<&'static str, String>,
    error: Option<String>,
    notice: Option<String>,
) -> PageResult {
    let actor = staff.actor.clone();
    let key = id.clone();
    let (record, guidance, outcome) = blocking(state, move |s| {
        let record = s.client_record(&key, &actor)?;
        let guidance = s.guidance(&key, None, &actor)?;
        let outcome = if allowed(actor.role(), Operation::ReadReports) {
            s.outcomes(Some(&key), None, 12, &actor)?.clients.into_iter().next()
        } else {
            None
        };
        Ok((record, guidance, outcome))
    })
    .await?;
    let c = &record.client;
    let medication = outcome
        .as_ref()
        .map(|o| {
            let m = &o.medication;
            format!("none {} · less {} · as usual {} · more {}", m.none, m.less, m.as_usual, m.more)
        })
        .unwrap_or_default();
    let flare_ids: BTreeSet<String> =
        record.sessions.iter().filter(|s| s.record().is_flare()).map(|s| s.id.clone()).collect();
    let config = state.service.config();
    let status = if errors.is_empty() && error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_with(
        status,
        &ChartPage {
            frame: frame(state, staff, c.name.clone(), "/clients"),
            id,
            name: c.name.clone(),
            dob: c.date_of_birth.map(|d| d.to_string()).unwrap_or_default(),
            notice,
            conditions: c
                .conditions
                .iter()
                .map(|x| {
                    format!(
                        "{} ({:?}{})",
                        x.name,
                        x.status,
                        x.since.map(|d| format!(", since {d}")).unwrap_or_default()
                    )
                })
                .collect(),
            red_flags: c
                .red_flags
                .iter()
                .filter(|f| f.resolved.is_none())
                .map(|f| {
                    format!(
                        "{:?}{}{}",
                        f.kind,
                        f.region.as_deref().map(|r| format!(", {r}")).unwrap_or_default(),
                        f.date.map(|d| format!(", {d}")).unwrap_or_default()
                    )
                })
                .collect(),
            sensitivities: c.sensitivities.join(", "),
            tender_points: c.tender_points.join(", "),
            pressure: c.preferred_pressure.map(|p| p.to_string()).unwrap_or_default(),
            intake: record.intake.as_ref().map(|i| {
                vec![
                    ("Recorded", i.recorded.to_string()),
                    ("Pain patterns", i.pain_patterns.join("; ")),
                    ("Sensitivities", i.sensitivities.join("; ")),
                    ("Previous treatments", i.previous_treatments.join("; ")),
                    ("Medications", i.medications.join("; ")),
                ]
            }),
            sessions: record
                .sessions
                .iter()
                .rev()
                .map(|s| SessionRow {
                    date: format!("{} {}", s.start.date, s.start.time),
                    practitioner: s.practitioner.clone(),
                    what: format!(
                        "{} · {} min{}",
                        s.discipline,
                        s.minutes,
                        s.pressure.map(|p| format!(" · {p}")).unwrap_or_default()
                    ),
                    before: pain(s.pain_before),
                    after: pain(s.pain_after),
                    follow_up: pain(s.follow_up_pain),
                    adverse: format!("{:?}", s.adverse_event).to_lowercase(),
                    medication: s.pain_medication.map(|m| format!("{m:?}").to_lowercase()).unwrap_or_default(),
                    notes: s.notes.clone(),
                    flare: flare_ids.contains(&s.id),
                })
                .collect(),
            chart_svg: outcome.as_ref().map(crate::outcomes::pain_chart_svg).unwrap_or_default(),
            medication,
            hold: guidance.hold.as_ref().map(|h| format!("{} ({}, {})", h.reason, h.rule, h.source)),
            cards: guidance
                .cards
                .iter()
                .map(|card| CardView {
                    rule: card.rule.clone(),
                    indicator: card.indicator.as_str(),
                    summary: card.summary.clone(),
                    detail: card.detail.clone(),
                    source: card.source.label.clone(),
                    critical: card.indicator == Indicator::Critical,
                    reasons: card.override_reasons.iter().map(|r| (r.code.clone(), r.display.clone())).collect(),
                })
                .collect(),
            advice: advice_line(&guidance.recommendation),
            next_due: guidance.recommendation.next_due.map(long_date).unwrap_or_default(),
            can_record: allowed(staff.actor.role(), Operation::RecordClinical),
            can_override: allowed(staff.actor.role(), Operation::Override),
            practitioners: config.practitioners.iter().map(|p| (p.id.clone(), p.name.clone())).collect(),
            form,
            errors,
            error,
        },
    )
}

fn pain_field(
    value: &str,
    field: &'static str,
    label: &str,
    errors: &mut BTreeMap<&'static str, String>,
) -> Option<u8> {
    match value.trim() {
        "" => None,
        v => match v.parse::<u8>() {
            Ok(p) if p <= 10 => Some(p),
            _ => {
                errors.insert(field, format!("{label} is a whole number from 0 to 10, not `{}`.", excerpt(v)));
                None
            }
        },
    }
}

pub(super) async fn record_session(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<SessionForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let mut errors = BTreeMap::new();
    if form.practitioner.trim().is_empty() {
        errors.insert("practitioner", "Choose who gave the session.".to_owned());
    }
    let minutes = match form.minutes.trim().parse::<u16>() {
        Ok(m) if (1..=480).contains(&m) => m,
        _ => {
            errors.insert("minutes", "Give the session's length in minutes (1 to 480).".to_owned());
            0
        }
    };
    let date = match form.date.trim().parse::<Date>() {
        Ok(d) => Some(d),
        Err(_) if form.date.trim().is_empty() => None,
        Err(_) => {
            errors.insert("date", "Give the day as YYYY-MM-DD.".to_owned());
            None
        }
    };
    let time = match form.time.trim().parse::<TimeOfDay>() {
        Ok(t) => Some(t),
        Err(_) if form.time.trim().is_empty() => None,
        Err(_) => {
            errors.insert("time", "Give the start time as HH:MM.".to_owned());
            None
        }
    };
    let pressure = match form.pressure.trim() {
        "" => None,
        p => match serde_json::from_value::<Pressure>(serde_json::Value::String(p.to_owned())) {
            Ok(p) => Some(p),
            Err(_) => {
                errors.insert("pressure", "Choose a pressure from the list.".to_owned());
                None
            }
        },
    };
    let pain_before = pain_field(&form.pain_before, "pain_before", "Pain before", &mut errors);
    let pain_after = pain_field(&form.pain_after, "pain_after", "Pain after", &mut errors);
    if form.adverse == "stopped-early" && form.reason.trim().is_empty() {
        errors.insert("reason", "Say why the session was stopped early (rule S2).".to_owned());
    }
    if !errors.is_empty() {
        return chart_page(&state, &staff, id, form, errors, None, None).await;
    }
    let input = SessionInput {
        practitioner: form.practitioner.trim().to_owned(),
        discipline: if form.discipline.trim().is_empty() {
            "massage".into()
        } else {
            form.discipline.trim().to_owned()
        },
        date,
        time,
        minutes,
        pressure,
        techniques: list(&form.techniques),
        regions: list(&form.regions),
        pain_before,
        pain_after,
        adverse: if form.adverse.trim().is_empty() { "none".into() } else { form.adverse.trim().to_owned() },
        reason: Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty()),
        heat: form.heat.is_some(),
        cold: form.cold.is_some(),
        notes: form.notes.trim().to_owned(),
        medication: Some(form.medication.trim().to_owned()).filter(|m| !m.is_empty()),
    };
    let actor = staff.actor.clone();
    let key = id.clone();
    match blocking(&state, move |s| s.record_session(&key, &input, &actor)).await {
        Ok(_) => Ok(see_other(&format!("/clients/{id}?recorded=1#guidance"))),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let message = PageError::from(e).message;
            chart_page(&state, &staff, id, form, BTreeMap::new(), Some(message), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct IntakeForm {
    csrf: String,
    pain_patterns: String,
    sensitivities: String,
    previous_treatments: String,
    medications: String,
}

pub(super) async fn record_intake(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<IntakeForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let intake = IntakeInput {
        pain_patterns: lines(&form.pain_patterns),
        sensitivities: lines(&form.sensitivities),
        previous_treatments: lines(&form.previous_treatments),
        medications: lines(&form.medications),
        date: None,
    };
    let actor = staff.actor.clone();
    let key = id.clone();
    blocking(&state, move |s| s.record_intake(&key, &intake, &actor)).await?;
    Ok(see_other(&format!("/clients/{id}?saved=1#intake")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct OverrideForm {
    csrf: String,
    rule: String,
    reason: String,
    other: String,
}

pub(super) async fn add_override(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<OverrideForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let reason = if form.other.trim().is_empty() { form.reason } else { form.other };
    let input = OverrideInput { rule: form.rule, reason, as_of: None };
    let actor = staff.actor.clone();
    let key = id.clone();
    blocking(&state, move |s| s.override_card(&key, &input, &actor)).await?;
    Ok(see_other(&format!("/clients/{id}?saved=1#guidance")))
}

// ----- follow-ups due -----

struct DueRow {
    session: String,
    client_id: String,
    client_name: String,
    when: String,
    what: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct FollowUpsPage {
    frame: Frame,
    rows: Vec<DueRow>,
}

#[derive(Template)]
#[template(path = "follow_up_done.html")]
struct FollowUpDone {
    client_name: String,
    pain: u8,
}

pub(super) async fn follow_ups(State(state): State<AppState>, staff: Staff) -> PageResult {
    let actor = staff.actor.clone();
    let due = blocking(&state, move |s| s.follow_ups_due(None, &actor)).await?;
    render(&FollowUpsPage {
        frame: frame(&state, &staff, "Follow-ups due", "/follow-ups"),
        rows: due
            .into_iter()
            .map(|d| DueRow {
                session: d.session.id.clone(),
                client_id: d.client,
                client_name: d.client_name,
                when: format!("{} {}", long_date(d.session.start.date), d.session.start.time),
                what: format!("{} · {} min · {}", d.session.discipline, d.session.minutes, d.session.practitioner),
                before: pain(d.session.pain_before),
                after: pain(d.session.pain_after),
            })
            .collect(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct FollowUpForm {
    csrf: String,
    pain: String,
}

pub(super) async fn follow_up(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<FollowUpForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let Ok(pain) = form.pain.trim().parse::<u8>() else {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Give the follow-up pain as a whole number from 0 to 10.",
        ));
    };
    let actor = staff.actor.clone();
    let (session, name) = blocking(&state, move |s| {
        let session = s.follow_up(&id, pain, &actor)?;
        let name = s.client_by_id(&session.client, &actor)?.name;
        Ok((session, name))
    })
    .await?;
    if headers.contains_key("hx-request") {
        return render(&FollowUpDone { client_name: name, pain: session.follow_up_pain.unwrap_or(pain) });
    }
    Ok(see_other("/follow-ups"))
}

// ----- the week calendar -----

struct CalendarRow {
    label: String,
    booked: String,
    days: Vec<Vec<CalendarEntry>>,
}

/// One entry of a calendar cell, linking to its appointment (a class is
/// one entry for all its places, without a link).
#[derive(Clone)]
struct CalendarEntry {
    text: String,
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    frame: Frame,
    by_room: bool,
    week: String,
    prev: String,
    next: String,
    days: Vec<String>,
    rows: Vec<CalendarRow>,
    total: usize,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CalendarQuery {
    week: String,
    by: String,
}

pub(super) async fn calendar(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<CalendarQuery>,
) -> PageResult {
    let start = match q.week.trim() {
        "" => state.service.today().week_start(),
        w => w
            .parse::<Date>()
            .map_err(|_| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "Give the week as a day, YYYY-MM-DD."))?
            .week_start(),
    };
    let by_room = q.by == "room";
    let actor = staff.actor.clone();
    let (appointments, names) = blocking(&state, move |s| {
        let all = s.appointments(Some(start), 7, None, &actor)?;
        let mut names = BTreeMap::new();
        for a in &all {
            if !names.contains_key(&a.client) {
                let name = s.client_by_id(&a.client, &actor).map(|c| c.name).unwrap_or_else(|_| a.client.clone());
                names.insert(a.client.clone(), name);
            }
        }
        Ok((all, names))
    })
    .await?;
    let config = state.service.config();
    let labels: Vec<(String, String)> = if by_room {
        config.rooms.iter().map(|r| (r.id.clone(), r.name.clone())).collect()
    } else {
        config.practitioners.iter().map(|p| (p.id.clone(), p.name.clone())).collect()
    };
    let mut rows: Vec<CalendarRow> = labels
        .iter()
        .map(|(id, name)| CalendarRow {
            label: if name.is_empty() { id.clone() } else { name.clone() },
            booked: String::new(),
            days: vec![Vec::new(); 7],
        })
        .collect();
    let mut minutes = vec![0u32; labels.len()];
    let mut classes_seen = BTreeSet::new();
    for a in &appointments {
        let key = if by_room { &a.room } else { &a.practitioner };
        let Some(i) = labels.iter().position(|(id, _)| id == key) else { continue };
        let day = a.start.date.days_since(start) as usize;
        if day >= 7 {
            continue;
        }
        if let Some(class) = &a.class {
            // A class is one entry however many places are booked.
            if !classes_seen.insert((class.clone(), i, a.start)) {
                continue;
            }
            minutes[i] += u32::from(a.minutes);
            let text = format!("{} {} class ({} min)", a.start.time, a.discipline, a.minutes);
            rows[i].days[day].push(CalendarEntry { text, href: None });
            continue;
        }
        minutes[i] += u32::from(a.minutes);
        let step = match a.adjunct {
            Some(praxis_sdk::Adjunct::HeatBefore) => " (heat before)",
            Some(praxis_sdk::Adjunct::ColdAfter) => " (cold after)",
            _ => "",
        };
        let name = names.get(&a.client).cloned().unwrap_or_default();
        let text = format!("{} {name}: {}{step}", a.start.time, a.discipline);
        rows[i].days[day].push(CalendarEntry { text, href: Some(format!("/appointments/{}", a.id)) });
    }
    for (row, m) in rows.iter_mut().zip(minutes) {
        row.booked = format!("{}h{:02}", m / 60, m % 60);
    }
    render(&CalendarPage {
        frame: frame(&state, &staff, "Calendar", "/calendar"),
        by_room,
        week: start.to_string(),
        prev: start.add_days(-7).to_string(),
        next: start.add_days(7).to_string(),
        days: (0..7).map(|d| long_date(start.add_days(d))).collect(),
        rows,
        total: appointments.len(),
    })
}

// ----- outcomes -----

struct OutcomeRow {
    id: String,
    name: String,
    sessions: usize,
    before: String,
    after: String,
    trend: String,
    flares: usize,
    per_week: String,
    medication: String,
}

struct ConditionRow {
    condition: String,
    clients: usize,
    before: String,
    after: String,
    before_pct: u32,
    after_pct: u32,
    trend: String,
    flares: usize,
    medication: String,
}

#[derive(Template)]
#[template(path = "outcomes.html")]
struct OutcomesPage {
    frame: Frame,
    as_of: String,
    weeks: u32,
    conditions: Vec<ConditionRow>,
    rows: Vec<OutcomeRow>,
    total: usize,
    chart_name: String,
    chart_svg: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct OutcomesQuery {
    client: String,
}

fn one(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into())
}

fn meds(m: &crate::outcomes::MedicationCounts) -> String {
    format!("{} none · {} less · {} usual · {} more", m.none, m.less, m.as_usual, m.more)
}

pub(super) async fn outcomes(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<OutcomesQuery>,
) -> PageResult {
    let actor = staff.actor.clone();
    let weeks = 12;
    let report = blocking(&state, move |s| s.practice_outcomes(None, weeks, &actor)).await?;
    let chosen = report
        .clients
        .iter()
        .find(|c| c.client == q.client)
        .or_else(|| report.clients.iter().filter(|c| c.sessions > 0).max_by_key(|c| c.sessions));
    let mut rows: Vec<&crate::outcomes::ClientOutcome> = report.clients.iter().filter(|c| c.sessions > 0).collect();
    rows.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.name.cmp(&b.name)));
    let total = rows.len();
    let pct = |v: Option<f64>| v.map(|x| (x * 10.0).round().clamp(0.0, 100.0) as u32).unwrap_or(0);
    render(&OutcomesPage {
        frame: frame(&state, &staff, "Outcomes", "/outcomes"),
        as_of: report.as_of.to_string(),
        weeks,
        conditions: report
            .conditions
            .iter()
            .map(|c| ConditionRow {
                condition: crate::service::known_condition_name(&c.condition).unwrap_or(&c.condition).to_owned(),
                clients: c.clients,
                before: one(c.mean_before),
                after: one(c.mean_after),
                before_pct: pct(c.mean_before),
                after_pct: pct(c.mean_after),
                trend: c.mean_trend.map(|t| format!("{t:+.2}/week")).unwrap_or_else(|| "–".into()),
                flares: c.flares,
                medication: meds(&c.medication),
            })
            .collect(),
        rows: rows
            .iter()
            .take(LIST_MAX)
            .map(|c| OutcomeRow {
                id: c.client.clone(),
                name: c.name.clone(),
                sessions: c.sessions,
                before: one(c.mean_before),
                after: one(c.mean_after),
                trend: c
                    .trend
                    .map(|t| format!("{} ({:+.2}/week)", t.direction(), t.slope))
                    .unwrap_or_else(|| "–".into()),
                flares: c.flares,
                per_week: format!(
                    "{:.1}{}",
                    c.massages_per_week,
                    c.planned_per_week.map(|p| format!(" of {p:.1} planned")).unwrap_or_default()
                ),
                medication: meds(&c.medication),
            })
            .collect(),
        total,
        chart_name: chosen.map(|c| c.name.clone()).unwrap_or_default(),
        chart_svg: chosen.map(crate::outcomes::pain_chart_svg).unwrap_or_default(),
    })
}

// ----- owner: plugins, users, audit -----

#[derive(Template)]
#[template(path = "plugins.html")]
struct PluginsPage {
    frame: Frame,
    rows: Vec<crate::plugin_host::PluginReport>,
}

pub(super) async fn plugins(State(state): State<AppState>, staff: Staff) -> PageResult {
    let actor = staff.actor.clone();
    let rows = blocking(&state, move |s| s.plugin_reports(&actor)).await?;
    render(&PluginsPage { frame: frame(&state, &staff, "Plugins", "/plugins"), rows })
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    frame: Frame,
    rows: Vec<crate::service::users::UserView>,
}

pub(super) async fn users(State(state): State<AppState>, staff: Staff) -> PageResult {
    let actor = staff.actor.clone();
    let rows = blocking(&state, move |s| s.users(&actor)).await?;
    render(&UsersPage { frame: frame(&state, &staff, "Users", "/users"), rows })
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    entity: String,
    key: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    frame: Frame,
    client: String,
    user: String,
    since: String,
    rows: Vec<AuditRow>,
    /// Older entries match too (only the newest [`AUDIT_MAX`] are read).
    more: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct AuditQuery {
    client: String,
    user: String,
    since: String,
}

const AUDIT_MAX: usize = 200;

pub(super) async fn audit(State(state): State<AppState>, staff: Staff, Query(q): Query<AuditQuery>) -> PageResult {
    let mut error = None;
    let since = match q.since.trim() {
        "" => None,
        s => match s.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                error = Some(format!("`{}` is not a day: use YYYY-MM-DD.", excerpt(s)));
                None
            }
        },
    };
    let filter = AuditFilter {
        client: Some(q.client.trim().to_owned()).filter(|c| !c.is_empty()),
        user: Some(q.user.trim().to_owned()).filter(|c| !c.is_empty()),
        since,
    };
    let actor = staff.actor.clone();
    let tail = if error.is_none() {
        match blocking(&state, move |s| s.audit_newest(&filter, AUDIT_MAX, &actor)).await {
            Ok(t) => t,
            Err(e) if e.status() == StatusCode::FORBIDDEN => return Err(e.into()),
            Err(e) => {
                error = Some(PageError::from(e).message);
                crate::service::AuditTail { entries: Vec::new(), more: false }
            }
        }
    } else {
        crate::service::AuditTail { entries: Vec::new(), more: false }
    };
    let tz = state.service.config().time_zone();
    let more = tail.more;
    let rows = tail
        .entries
        .iter()
        .map(|e| AuditRow {
            at: e.at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.actor.clone(),
            action: format!("{:?}", e.action).to_lowercase(),
            entity: e.entity.clone(),
            key: e.key.clone(),
        })
        .collect();
    let page = AuditPage {
        frame: frame(&state, &staff, "Audit log", "/audit"),
        client: q.client,
        user: q.user,
        since: q.since,
        rows,
        more,
        error,
    };
    let status = if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    render_with(status, &page)
}

// ----- plan and book -----

struct ProposalRow {
    when: String,
    client: String,
    what: String,
    practitioner: String,
    room: String,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    frame: Frame,
    from: String,
    weeks: String,
    planned: bool,
    summary: String,
    rows: Vec<ProposalRow>,
    total: usize,
    late: Vec<String>,
    unmet: Vec<String>,
    blocked: Vec<String>,
    refused: Vec<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PlanForm {
    csrf: String,
    from: String,
    weeks: String,
}

pub(super) async fn plan_page(State(state): State<AppState>, staff: Staff) -> PageResult {
    if !allowed(staff.actor.role(), Operation::EditSchedule) {
        return Err(crate::service::ServiceError::Forbidden(format!(
            "{} ({}) may not plan or book: ask the practice's owner",
            staff.actor.name(),
            staff.actor.role()
        ))
        .into());
    }
    render(&PlanPage {
        frame: frame(&state, &staff, "Plan", "/plan"),
        from: state.service.today().add_days(1).to_string(),
        weeks: "8".into(),
        planned: false,
        summary: String::new(),
        rows: Vec::new(),
        total: 0,
        late: Vec::new(),
        unmet: Vec::new(),
        blocked: Vec::new(),
        refused: Vec::new(),
        error: None,
    })
}

pub(super) async fn plan(State(state): State<AppState>, staff: Staff, Form(form): Form<PlanForm>) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let mut page = PlanPage {
        frame: frame(&state, &staff, "Plan", "/plan"),
        from: form.from.clone(),
        weeks: form.weeks.clone(),
        planned: false,
        summary: String::new(),
        rows: Vec::new(),
        total: 0,
        late: Vec::new(),
        unmet: Vec::new(),
        blocked: Vec::new(),
        refused: Vec::new(),
        error: None,
    };
    let from = match form.from.trim().parse::<Date>() {
        Ok(d) => d,
        Err(_) => {
            page.error = Some("Give the first day to plan as YYYY-MM-DD.".into());
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let weeks = match form.weeks.trim().parse::<u32>() {
        Ok(w) if (1..=26).contains(&w) => w,
        _ => {
            page.error = Some("Give the number of weeks to plan, 1 to 26.".into());
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let actor = staff.actor.clone();
    let outcome = blocking(&state, move |s| {
        let outcome = s.plan_schedule(Some(from), Some(weeks), false, &actor)?;
        let mut names = BTreeMap::new();
        let plan = &outcome.plan;
        let ids = plan
            .appointments
            .iter()
            .map(|a| &a.client)
            .chain(plan.unmet.iter().map(|u| &u.client))
            .chain(plan.late.iter().map(|u| &u.client))
            .chain(plan.blocked.iter().map(|u| &u.client))
            .chain(plan.refused.iter().map(|u| &u.client));
        for id in ids {
            if !names.contains_key(id) {
                let name = s.client_by_id(id, &actor).map(|c| c.name).unwrap_or_else(|_| id.clone());
                names.insert(id.clone(), name);
            }
        }
        Ok((outcome, names))
    })
    .await;
    let (outcome, names) = match outcome {
        Ok(found) => found,
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY || e.status() == StatusCode::CONFLICT => {
            page.error = Some(PageError::from(e).message);
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return Err(e.into()),
    };
    let name = |id: &String| names.get(id).cloned().unwrap_or_else(|| id.clone());
    let plan = outcome.plan;
    let visits: Vec<_> = plan.appointments.iter().filter(|a| a.adjunct.is_none()).collect();
    page.planned = true;
    page.total = visits.len();
    page.summary = format!(
        "{} appointments over {} days from {}; {} late, {} not met, {} held back.",
        visits.len(),
        plan.days,
        long_date(plan.start),
        plan.late.len(),
        plan.unmet.len(),
        plan.blocked.len()
    );
    page.rows = visits
        .iter()
        .take(200)
        .map(|a| ProposalRow {
            when: format!("{} {}", long_date(a.start.date), a.start.time),
            client: name(&a.client),
            what: format!("{} · {} min", a.discipline, a.minutes),
            practitioner: a.practitioner.clone(),
            room: a.room.clone(),
        })
        .collect();
    page.late = plan
        .late
        .iter()
        .map(|l| {
            format!(
                "{}: {} placed {} ({} days after its window): {}",
                name(&l.client),
                l.discipline,
                l.placed,
                l.days,
                l.reason
            )
        })
        .collect();
    page.unmet = plan
        .unmet
        .iter()
        .map(|u| format!("{}: {} due {}: {}", name(&u.client), u.discipline, u.due, u.reason))
        .collect();
    // The reasons name clinical findings; a role without the chart sees the
    // rule ids only (the guidance rules say which card needs an override).
    let clinical = allowed(staff.actor.role(), Operation::ReadChart);
    page.blocked = plan
        .blocked
        .iter()
        .map(|b| {
            if clinical {
                return format!("{}: {}", name(&b.client), b.reason);
            }
            let rules: Vec<&str> =
                b.reason.split('[').skip(1).filter_map(|r| r.split_once(']').map(|(id, _)| id)).collect();
            format!(
                "{}: needs an override of rule {} by a therapist before booking",
                name(&b.client),
                if rules.is_empty() { "?".to_owned() } else { rules.join(", ") }
            )
        })
        .collect();
    page.refused = plan.refused.iter().map(|r| format!("{}: {}", name(&r.client), r.reason)).collect();
    render(&page)
}

pub(super) async fn book(State(state): State<AppState>, staff: Staff, Form(form): Form<CsrfForm>) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let actor = staff.actor.clone();
    let booked = blocking(&state, move |s| s.book_schedule(&actor)).await?;
    let week = booked.iter().map(|a| a.start.date).min().unwrap_or_else(|| state.service.today());
    Ok(see_other(&format!("/calendar?week={week}&booked={}", booked.len())))
}

// ----- one appointment: move, cancel, no-show -----

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct AppointmentForm {
    csrf: String,
    date: String,
    time: String,
    practitioner: String,
    room: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "appointment.html")]
struct AppointmentPage {
    frame: Frame,
    id: String,
    client_name: String,
    discipline: String,
    when: String,
    minutes: u16,
    practitioner: String,
    room: String,
    status: String,
    reason: Option<String>,
    booked: bool,
    started: bool,
    can_edit: bool,
    visit: Vec<String>,
    week: String,
    practitioners: Vec<(String, String)>,
    rooms: Vec<(String, String)>,
    form: AppointmentForm,
    errors: BTreeMap<&'static str, String>,
    notice: Option<String>,
    error: Option<String>,
}

impl AppointmentPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct AppointmentQuery {
    done: String,
}

pub(super) async fn appointment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<AppointmentQuery>,
) -> PageResult {
    let notice = match q.done.as_str() {
        "moved" => Some("Moved.".to_owned()),
        "cancelled" => Some("Cancelled. Its care need is planned again at the next plan.".to_owned()),
        "no-show" => Some("Recorded as a no-show.".to_owned()),
        _ => None,
    };
    appointment_page(&state, &staff, id, None, BTreeMap::new(), notice).await
}

async fn appointment_page(
    state: &AppState,
    staff: &Staff,
    id: String,
    form: Option<AppointmentForm>,
    errors: BTreeMap<&'static str, String>,
    notice: Option<String>,
) -> PageResult {
    let actor = staff.actor.clone();
    let (appointment, visit, client_name) = blocking(state, move |s| {
        let (appointment, visit) = s.appointment_visit(&id, &actor)?;
        let name =
            s.client_by_id(&appointment.client, &actor).map(|c| c.name).unwrap_or_else(|_| appointment.client.clone());
        Ok((appointment, visit, name))
    })
    .await?;
    let config = state.service.config();
    let name_of = |list: &[(String, String)], id: &str| {
        list.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone()).unwrap_or_else(|| id.to_owned())
    };
    let practitioners: Vec<(String, String)> = config
        .practitioners
        .iter()
        .map(|p| (p.id.clone(), if p.name.is_empty() { p.id.clone() } else { p.name.clone() }))
        .collect();
    let rooms: Vec<(String, String)> = config
        .rooms
        .iter()
        .map(|r| (r.id.clone(), if r.name.is_empty() { r.id.clone() } else { r.name.clone() }))
        .collect();
    let step = |a: &crate::store::Appointment| match a.adjunct {
        Some(praxis_sdk::Adjunct::HeatBefore) => " (heat before)",
        Some(praxis_sdk::Adjunct::ColdAfter) => " (cold after)",
        _ => "",
    };
    let visit_lines = visit
        .iter()
        .map(|a| {
            format!("{} {} {} min{}, {}", a.start.time, a.discipline, a.minutes, step(a), name_of(&rooms, &a.room))
        })
        .collect();
    let form = form.unwrap_or_else(|| AppointmentForm {
        date: appointment.start.date.to_string(),
        time: appointment.start.time.to_string(),
        practitioner: appointment.practitioner.clone(),
        room: appointment.room.clone(),
        ..AppointmentForm::default()
    });
    render(&AppointmentPage {
        frame: frame(state, staff, "Appointment", "/calendar"),
        id: appointment.id.clone(),
        client_name,
        discipline: format!("{}{}", appointment.discipline, step(&appointment)),
        when: format!("{} {}", long_date(appointment.start.date), appointment.start.time),
        minutes: appointment.minutes,
        practitioner: name_of(&practitioners, &appointment.practitioner),
        room: name_of(&rooms, &appointment.room),
        status: appointment.status.to_string(),
        reason: appointment.status_reason.clone(),
        booked: appointment.status == crate::store::AppointmentStatus::Booked,
        started: appointment.start.date <= config.today(),
        can_edit: allowed(staff.actor.role(), Operation::EditSchedule),
        visit: visit_lines,
        week: appointment.start.date.week_start().to_string(),
        practitioners,
        rooms,
        form,
        errors,
        notice,
        error: None,
    })
}

/// Runs one change of an appointment; a refusal the person can correct is
/// shown on the appointment's page next to `field`.
async fn change_appointment(
    state: AppState,
    staff: Staff,
    id: String,
    form: AppointmentForm,
    field: &'static str,
    done: &'static str,
    change: impl FnOnce(
        &crate::service::PracticeService,
        &str,
        &crate::service::Actor,
    ) -> Result<(), crate::service::ServiceError>
    + Send
    + 'static,
) -> PageResult {
    let actor = staff.actor.clone();
    let target = id.clone();
    match blocking(&state, move |s| change(s, &target, &actor)).await {
        Ok(()) => Ok(see_other(&format!("/appointments/{id}?done={done}"))),
        Err(e)
            if matches!(
                e.status(),
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::BAD_REQUEST
            ) =>
        {
            let errors = BTreeMap::from([(field, e.detail.clone())]);
            let mut page = appointment_page(&state, &staff, id, Some(form), errors, None).await?;
            *page.status_mut() = e.status();
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn move_appointment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<AppointmentForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let mut errors = BTreeMap::new();
    let date = form
        .date
        .trim()
        .parse::<Date>()
        .map_err(|_| errors.insert("date", "Give the day as YYYY-MM-DD.".to_owned()))
        .ok();
    let time = form
        .time
        .trim()
        .parse::<TimeOfDay>()
        .map_err(|_| errors.insert("time", "Give the start time as HH:MM.".to_owned()))
        .ok();
    let (Some(date), Some(time)) = (date, time) else {
        let mut page = appointment_page(&state, &staff, id, Some(form), errors, None).await?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(page);
    };
    let to = crate::scheduling::MoveTo {
        start: praxis_sdk::DateTime::new(date, time),
        practitioner: Some(form.practitioner.trim().to_owned()).filter(|p| !p.is_empty()),
        room: Some(form.room.trim().to_owned()).filter(|r| !r.is_empty()),
    };
    change_appointment(state, staff, id, form, "move", "moved", move |s, id, actor| {
        s.move_appointment(id, &to, actor).map(|_| ())
    })
    .await
}

pub(super) async fn cancel_appointment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<AppointmentForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    let reason = form.reason.trim().to_owned();
    if reason.is_empty() {
        let errors = BTreeMap::from([("reason", "Say why the appointment is cancelled.".to_owned())]);
        let mut page = appointment_page(&state, &staff, id, Some(form), errors, None).await?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(page);
    }
    change_appointment(state, staff, id, form, "reason", "cancelled", move |s, id, actor| {
        s.cancel_appointment(id, &reason, actor).map(|_| ())
    })
    .await
}

pub(super) async fn no_show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<AppointmentForm>,
) -> PageResult {
    staff.check_csrf(&form.csrf)?;
    change_appointment(state, staff, id, form, "no_show", "no-show", |s, id, actor| s.no_show(id, actor).map(|_| ()))
        .await
}

// ----- utilisation -----

struct UtilisationLine {
    name: String,
    available: String,
    booked: String,
    percent: u32,
    no_show: String,
}

#[derive(Template)]
#[template(path = "utilisation.html")]
struct UtilisationPage {
    frame: Frame,
    range: String,
    from: String,
    days: u32,
    prev: String,
    next: String,
    sections: Vec<UtilisationSection>,
}

struct UtilisationSection {
    title: &'static str,
    id: &'static str,
    rows: Vec<UtilisationLine>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct UtilisationQuery {
    from: String,
    days: String,
}

fn hours(minutes: u32) -> String {
    format!("{}h{:02}", minutes / 60, minutes % 60)
}

pub(super) async fn utilisation(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<UtilisationQuery>,
) -> PageResult {
    let from = match q.from.trim() {
        "" => None,
        f => Some(
            f.parse::<Date>()
                .map_err(|_| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "Give the first day as YYYY-MM-DD."))?,
        ),
    };
    let days = match q.days.trim() {
        "" => 7,
        d => d
            .parse::<u32>()
            .map_err(|_| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "Give the number of days, 1 to 366."))?,
    };
    let actor = staff.actor.clone();
    let report = blocking(&state, move |s| s.utilisation(from, days, &actor)).await?;
    let lines = |rows: &[crate::utilisation::UtilisationRow]| {
        rows.iter()
            .map(|r| UtilisationLine {
                name: r.name.clone(),
                available: hours(r.available_minutes),
                booked: hours(r.booked_minutes),
                percent: r.percent(),
                no_show: hours(r.no_show_minutes),
            })
            .collect()
    };
    let step = i32::try_from(report.days).unwrap_or(7);
    let last = report.from.add_days(step - 1);
    render(&UtilisationPage {
        frame: frame(&state, &staff, "Utilisation", "/utilisation"),
        range: format!("{} to {}", long_date(report.from), long_date(last)),
        from: report.from.to_string(),
        days: report.days,
        prev: report.from.add_days(-step).to_string(),
        next: report.from.add_days(step).to_string(),
        sections: vec![
            UtilisationSection { title: "Practitioners", id: "util-practitioners", rows: lines(&report.practitioners) },
            UtilisationSection { title: "Rooms", id: "util-rooms", rows: lines(&report.rooms) },
        ],
    })
}
