//! A client's plan through the practice service with a live world (a
//! server): sessions recorded through the service count at once, a reloaded
//! praxis.toml reaches the client, and the status the front desk reads
//! follows the same count.

use std::path::Path;

use praxis_core::config::PracticeConfig;
use praxis_core::service::{Actor, ClientChanges, PracticeService, SessionInput};
use praxis_sdk::Indicator;

fn config(dir: &Path, limit: u32) -> PracticeConfig {
    let toml = format!(
        r#"
[practice]
name = "Plan Clinic"
[[practitioners]]
id = "ana"
name = "Ana"
disciplines = ["massage"]
[insurance.acme]
payer = "Acme Health"
session_limit = {limit}
period = "rolling-12-months"
"#
    );
    let path = dir.join("praxis.toml");
    std::fs::write(&path, toml).unwrap();
    PracticeConfig::load(&path, None).unwrap()
}

/// The client's I2 card as (indicator, summary), if any.
fn i2(service: &PracticeService, id: &str, actor: &Actor) -> Option<(Indicator, String)> {
    let g = service.guidance(id, None, actor).unwrap();
    g.cards_for("I2").next().map(|c| (c.indicator, c.summary.clone()))
}

#[test]
fn sessions_through_the_service_and_a_reloaded_plan_reach_the_live_world() {
    let dir = tempfile::tempdir().unwrap();
    let service = PracticeService::open_live(config(dir.path(), 3)).unwrap();
    assert!(service.is_live());
    let owner = Actor::new("owner").unwrap();
    let changes = ClientChanges {
        name: Some("Pia Plan".into()),
        conditions: vec!["fibromyalgia".into()],
        plan: Some("acme".into()),
        ..ClientChanges::default()
    };
    let id = service.add_client(&changes, &owner).unwrap().id;
    assert_eq!(i2(&service, &id, &owner), None, "no sessions yet");
    let today = service.today();
    for days_ago in [2, 1] {
        let input = SessionInput {
            practitioner: "ana".into(),
            discipline: "massage".into(),
            date: Some(today.add_days(-days_ago)),
            minutes: 30,
            ..SessionInput::default()
        };
        service.record_session(&id, &input, &owner).unwrap();
    }
    assert_eq!(
        i2(&service, &id, &owner),
        Some((Indicator::Warning, "1 covered session remains in the plan (2 of 3 used)".into())),
        "the live world counts the sessions recorded through the service"
    );
    let status = service.insurance_status(&id, None, &owner).unwrap().unwrap();
    assert_eq!((status.sessions_used, status.sessions_remaining, status.payer.as_str()), (2, Some(1), "Acme Health"));

    // Sessions used elsewhere reach the live world as a client change.
    let elsewhere = ClientChanges { sessions_used_elsewhere: Some(1), ..ClientChanges::default() };
    service.update_client(&id, &elsewhere, &owner).unwrap();
    assert_eq!(i2(&service, &id, &owner).map(|(i, _)| i), Some(Indicator::Critical));

    // The practice raises the limit and reloads praxis.toml: the client, untouched, sees it.
    let report = service.reload_config(config(dir.path(), 10)).unwrap();
    assert!(report.clients >= 1, "{report:?}");
    assert_eq!(i2(&service, &id, &owner), None, "3 of 10 used");
    assert_eq!(service.insurance_status(&id, None, &owner).unwrap().unwrap().sessions_remaining, Some(7));
}
