//! The scheduling use cases of `praxis_core::scheduling` over a real store:
//! a plan is reproducible from its start day, booking re-checks the saved
//! plan (it does not plan again) and says what changed, and a booked visit
//! can be cancelled (its demand re-opens), moved (checked by the host's
//! checker) or recorded as a no-show.

use praxis_core::config::PracticeConfig;
use praxis_core::plugin_host::PluginRegistry;
use praxis_core::scheduling::{self, MoveTo, Plan, PlanOptions, ScheduleError};
use praxis_core::store::{AppointmentStatus, Client, Store, Therapy};
use praxis_core::world::{ClientGuidance, HostRules, evaluate_client};
use praxis_sdk::{Date, DateTime, Discipline};

const CONFIG: &str = r#"
[practice]
name = "Test clinic"
time_zone = "Europe/London"

[hours]
monday = "09:00-17:00"
tuesday = "09:00-17:00"
wednesday = "09:00-17:00"
thursday = "09:00-17:00"
friday = "09:00-17:00"

[[practitioners]]
id = "pat"
name = "Pat"
disciplines = ["physical_therapy"]

[[rooms]]
id = "t1"
name = "Treatment room"
kind = "treatment_room"
capacity = 1
"#;

const ACTOR: &str = "tester";

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap()
}

struct Clinic {
    _dir: tempfile::TempDir,
    store: Store,
    config: PracticeConfig,
    plugins: PluginRegistry,
    today: Date,
}

impl Clinic {
    /// Two clients with weekly physical therapy; today is Friday 2026-11-20.
    fn new() -> Clinic {
        let dir = tempfile::tempdir().unwrap();
        let config = PracticeConfig::parse(CONFIG, &dir.path().join("praxis.toml"), Some(dir.path())).unwrap();
        let store = Store::open(&config.store_dir()).unwrap();
        for p in &config.practitioners {
            store.put_practitioner(p, ACTOR).unwrap();
        }
        for r in &config.rooms {
            store.put_room(r, ACTOR).unwrap();
        }
        for id in ["c1", "c2"] {
            let mut c = Client::new(id.to_owned(), format!("Client {id}"));
            c.therapies = vec![Therapy { discipline: Discipline::PhysicalTherapy, every_days: 7, minutes: 60 }];
            store.put_client(&c, ACTOR).unwrap();
        }
        let plugins = PluginRegistry::from_tables(&[praxis_combined_therapy::praxis_plugin_table()]).unwrap();
        Clinic { _dir: dir, store, config, plugins, today: date("2026-11-20") }
    }

    fn guidance(&self) -> Vec<ClientGuidance> {
        self.store
            .snapshots()
            .unwrap()
            .iter()
            .map(|s| evaluate_client(&self.plugins, &HostRules::default(), self.today, s))
            .collect()
    }

    fn plan(&self, from: &str, weeks: u32) -> Result<Plan, ScheduleError> {
        let options = PlanOptions { from: Some(date(from)), weeks };
        scheduling::make_plan(&self.store, &self.config, &self.plugins, &self.guidance(), self.today, options)
    }

    fn book(&self, plan: &Plan) -> Result<Vec<praxis_core::store::Appointment>, ScheduleError> {
        scheduling::book_plan(&self.store, &self.config, &self.plugins, &self.guidance(), self.today, plan, ACTOR)
    }

    fn booked(&self) -> Vec<praxis_core::store::Appointment> {
        scheduling::show(&self.store, &self.config, self.today, 60, None)
            .unwrap()
            .into_iter()
            .filter(|a| a.status == AppointmentStatus::Booked)
            .collect()
    }
}

#[test]
fn a_plan_from_a_day_is_the_same_plan_every_time() {
    let clinic = Clinic::new();
    let first = clinic.plan("2026-11-23", 2).unwrap();
    assert_eq!(first.appointments.len(), 4, "{first:#?}");
    assert_eq!(first.start, date("2026-11-23"));
    assert_eq!(first, clinic.plan("2026-11-23", 2).unwrap());
    assert_ne!(first.fingerprint, clinic.plan("2026-11-24", 2).unwrap().fingerprint);
    // Never from today or earlier: bad input.
    let err = clinic.plan("2026-11-20", 2).unwrap_err();
    assert!(err.is_bad_input() && err.to_string().contains("is not after today"), "{err}");
}

#[test]
fn booking_checks_the_saved_plan_again_and_says_what_changed() {
    let clinic = Clinic::new();
    let plan = clinic.plan("2026-11-23", 2).unwrap();
    let booked = clinic.book(&plan).unwrap();
    assert_eq!(booked.len(), 4);
    assert_eq!(clinic.booked().len(), 4);
    // The same proposal again: every visit now meets itself in the store.
    let err = clinic.book(&plan).unwrap_err();
    assert!(err.is_bad_input(), "{err}");
    let text = err.to_string();
    assert!(text.contains("the practice changed since") && text.contains("double-booked"), "{text}");
    assert_eq!(clinic.booked().len(), 4, "nothing half-written");
}

#[test]
fn a_cancelled_visit_reopens_its_demand() {
    let clinic = Clinic::new();
    clinic.book(&clinic.plan("2026-11-23", 1).unwrap()).unwrap();
    let replan = clinic.plan("2026-11-23", 1).unwrap();
    let short = |v: Vec<(String, String)>| format!("{v:?}");
    assert!(
        replan.appointments.is_empty(),
        "{} vs booked {}",
        short(replan.appointments.iter().map(|a| (a.client.clone(), a.start.to_string())).collect()),
        short(clinic.booked().iter().map(|a| (a.client.clone(), a.start.to_string())).collect())
    );
    let first = clinic.booked().into_iter().find(|a| a.client == "c1").unwrap();
    let err = scheduling::cancel(&clinic.store, &first.id, " ", ACTOR).unwrap_err();
    assert!(err.is_bad_input() && err.to_string().contains("give a reason"), "{err}");
    let cancelled = scheduling::cancel(&clinic.store, &first.id, "client has the flu", ACTOR).unwrap();
    assert_eq!(cancelled.len(), 1);
    let stored = clinic.store.get_appointment(&first.id).unwrap().unwrap();
    assert_eq!(stored.status, AppointmentStatus::Cancelled);
    assert_eq!(stored.status_reason.as_deref(), Some("client has the flu"));
    let again = clinic.plan("2026-11-23", 1).unwrap();
    assert_eq!(again.appointments.len(), 1, "{again:#?}");
    assert_eq!(again.appointments[0].client, "c1");
    // Cancelling twice is bad input.
    let err = scheduling::cancel(&clinic.store, &first.id, "again", ACTOR).unwrap_err();
    assert!(err.is_bad_input() && err.to_string().contains("is cancelled, not booked"), "{err}");
}

#[test]
fn a_move_passes_the_checker() {
    let clinic = Clinic::new();
    clinic.book(&clinic.plan("2026-11-23", 1).unwrap()).unwrap();
    let a = clinic.booked().into_iter().find(|a| a.client == "c1").unwrap();
    let to = |start: &str, room: Option<&str>| MoveTo {
        start: at(start),
        practitioner: None,
        room: room.map(str::to_owned),
    };
    let mv = |target: MoveTo| {
        scheduling::move_visit(
            &clinic.store,
            &clinic.config,
            &clinic.plugins,
            &clinic.guidance(),
            clinic.today,
            &a.id,
            &target,
            ACTOR,
        )
    };
    fn refused(r: Result<Vec<praxis_core::store::Appointment>, ScheduleError>, part: &str) {
        let err = r.unwrap_err();
        assert!(err.is_bad_input(), "{err}");
        assert!(err.to_string().contains(part), "`{err}` lacks `{part}`");
    }
    refused(mv(to("2026-11-28T10:00", None)), "outside opening hours");
    refused(mv(to("2026-11-24T16:30", None)), "outside opening hours");
    refused(mv(to("2026-11-24T10:00", Some("nowhere"))), "unknown room");
    refused(mv(to("2026-11-19T10:00", None)), "is not after today");
    let other = clinic.booked().into_iter().find(|b| b.client == "c2").unwrap();
    refused(mv(to(&other.start.to_string(), None)), "double-booked");
    let moved = mv(to("2026-11-26T14:00", None)).unwrap();
    assert_eq!(moved.len(), 1);
    let stored = clinic.store.get_appointment(&a.id).unwrap().unwrap();
    assert_eq!((stored.start, stored.status), (at("2026-11-26T14:00"), AppointmentStatus::Booked));
    assert_eq!(clinic.booked().len(), 2);
}

#[test]
fn a_no_show_is_recorded_on_or_after_its_day() {
    let clinic = Clinic::new();
    clinic.book(&clinic.plan("2026-11-23", 1).unwrap()).unwrap();
    let a = clinic.booked().into_iter().next().unwrap();
    let err = scheduling::no_show(&clinic.store, clinic.today, &a.id, ACTOR).unwrap_err();
    assert!(err.is_bad_input() && err.to_string().contains("after today"), "{err}");
    let done = scheduling::no_show(&clinic.store, a.start.date, &a.id, ACTOR).unwrap();
    assert_eq!(done[0].status, AppointmentStatus::NoShow);
    let err = scheduling::no_show(&clinic.store, a.start.date, "no-such-id", ACTOR).unwrap_err();
    assert!(err.is_bad_input() && err.to_string().contains("no appointment `no-such-id`"), "{err}");
}
