//! The HTTP application in process (`tower::ServiceExt::oneshot`): the
//! problem documents, and the standards at the edges: CDS Hooks calls signed
//! by a trusted EHR answer the same rule ids as the guidance, FHIR reads keep
//! the role rules, and a calendar feed opens only with its token.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use praxis_core::config::PracticeConfig;
use praxis_core::interop::cds::{APPOINTMENT_BOOK_ID, PATIENT_VIEW_ID};
use praxis_core::service::users::NewUser;
use praxis_core::service::{Actor, ClientChanges, PracticeService};
use praxis_core::store::Role;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// A P-384 key made now, with its JWKS: the EHR the practice trusts.
struct Ehr {
    key: jsonwebtoken::EncodingKey,
    jwks: String,
}

impl Ehr {
    fn new() -> Ehr {
        use p384::pkcs8::EncodePrivateKey as _;
        use std::io::Read as _;
        let mut bytes = [0u8; 48];
        std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut bytes).unwrap();
        let secret = p384::SecretKey::from_slice(&bytes).expect("a P-384 scalar");
        let key = jsonwebtoken::EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes());
        let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES384).unwrap();
        jwk.common.key_id = Some("k1".into());
        let jwks = serde_json::to_string(&jsonwebtoken::jwk::JwkSet { keys: vec![jwk] }).unwrap();
        Ehr { key, jwks }
    }

    fn bearer(&self, service: &str, jti: &str) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = json!({
            "iss": "https://ehr.test", "aud": format!("http://praxis.test/cds-services/{service}"),
            "exp": now + 300, "iat": now, "jti": jti,
        });
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
        h.kid = Some("k1".into());
        format!("Bearer {}", jsonwebtoken::encode(&h, &claims, &self.key).unwrap())
    }
}

struct App {
    _dir: tempfile::TempDir,
    service: Arc<PracticeService>,
    router: axum::Router,
    client: String,
    owner: String,
    front_desk: String,
}

fn app(ehr: &Ehr) -> App {
    app_trusting(ehr, "jwks_file = \"ehr.jwks\"")
}

/// The app, its `[[cds_hooks.ehr]]` naming the EHR's keys with `keys`.
fn app_trusting(ehr: &Ehr, keys: &str) -> App {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ehr.jwks"), &ehr.jwks).unwrap();
    let toml = r#"
[practice]
name = "HTTP Clinic"
[[practitioners]]
id = "ana"
name = "Ana"
disciplines = ["massage"]
[store]
max_import_mib = 1
[cds_hooks]
service_url = "http://praxis.test/cds-services"
[[cds_hooks.ehr]]
issuer = "https://ehr.test"
"#;
    let path = dir.path().join("praxis.toml");
    std::fs::write(&path, format!("{toml}{keys}\n")).unwrap();
    let config = PracticeConfig::load(&path, None).unwrap();
    let service = Arc::new(PracticeService::open_live(config).unwrap());
    let local = Actor::new("setup").unwrap();
    let changes = ClientChanges {
        name: Some("Rosa Http".into()),
        conditions: vec!["fibromyalgia".into()],
        ..ClientChanges::default()
    };
    let client = service.add_client(&changes, &local).unwrap().id;
    let token = |login: &str, role: Role| {
        let user = NewUser {
            login: login.into(),
            name: login.into(),
            role,
            practitioner: None,
            password: "a long password".into(),
        };
        service.add_user(&user, &local).unwrap();
        service.create_token("t", login, &local).unwrap().secret
    };
    let owner = token("olive", Role::Owner);
    let front_desk = token("fran", Role::FrontDesk);
    let router = praxis_core::server::router(service.clone(), false);
    App { _dir: dir, service, router, client, owner, front_desk }
}

impl App {
    async fn send(
        &self,
        method: &str,
        uri: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, String, Value) {
        let mut req = Request::builder().method(method).uri(uri).header(header::HOST, "praxis.test");
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let response = self.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (status, content_type, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// (method, uri, authorization, body, status)
type Case<'a> = (&'static str, String, Option<&'a str>, Option<Value>, u16);

#[tokio::test]
async fn problems_are_rfc9457_documents() {
    let ehr = Ehr::new();
    let a = app(&ehr);
    let owner = format!("Bearer {}", a.owner);
    let cases: Vec<Case> = vec![
        ("GET", "/api/v1/clients".into(), None, None, 401),
        ("GET", "/api/v1/clients/nope".into(), Some(&owner), None, 404),
        ("GET", "/api/v1/nowhere".into(), Some(&owner), None, 404),
        ("GET", "/api/v1/clients?limit=5000".into(), Some(&owner), None, 400),
        ("GET", "/api/v1/clients?bogus=1".into(), Some(&owner), None, 400),
        ("POST", "/api/v1/clients".into(), Some(&owner), Some(json!({"name": "X", "bogus": 1})), 422),
        ("POST", "/api/v1/clients".into(), Some(&owner), Some(json!({"name": ""})), 422),
        (
            "POST",
            format!("/api/v1/clients/{}/sessions", a.client),
            Some(&owner),
            Some(json!({"practitioner": "ana", "minutes": 0})),
            422,
        ),
        (
            "POST",
            format!("/api/v1/clients/{}/sessions", a.client),
            Some(&owner),
            Some(json!({"practitioner": "ana", "minutes": 30, "pain_before": 11})),
            422,
        ),
        (
            "POST",
            format!("/api/v1/clients/{}/overrides", a.client),
            Some(&owner),
            Some(json!({"rule": "S1", "reason": "x"})),
            422,
        ),
        ("GET", "/api/v1/appointments?days=0".into(), Some(&owner), None, 422),
        ("GET", "/api/v1/appointments?from=2026-13-01".into(), Some(&owner), None, 400),
        ("GET", "/api/v1/reports/utilisation?days=0".into(), Some(&owner), None, 422),
        ("GET", "/api/v1/reports/utilisation?from=2026-13-01".into(), Some(&owner), None, 400),
        ("GET", "/api/v1/reports/utilisation?weeks=2".into(), Some(&owner), None, 400),
        // Over `[store] max_import_mib` (1 here), and over the 2 MB of other bodies.
        ("POST", "/api/v1/import".into(), Some(&owner), Some(json!({"pad": "x".repeat(1_100_000)})), 413),
        ("POST", "/api/v1/import".into(), Some(&owner), Some(json!({"pad": "x".repeat(900_000)})), 422),
        ("POST", "/api/v1/clients".into(), Some(&owner), Some(json!({"name": "x".repeat(2_100_000)})), 413),
    ];
    for (method, uri, auth, body, want) in cases {
        let (status, content_type, problem) = a.send(method, &uri, auth, body).await;
        assert_eq!(status.as_u16(), want, "{method} {uri}: {problem}");
        assert_eq!(content_type, "application/problem+json", "{method} {uri}");
        assert_eq!(problem["status"], want, "{method} {uri}: {problem}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()), "{method} {uri}: {problem}");
    }
}

/// Serves `body` as JSON to every request on a loopback port; its URL.
fn serve_jwks(body: String) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut request = [0u8; 4096];
            let _ = conn.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body.as_bytes());
        }
    });
    format!("http://{addr}/.well-known/jwks.json")
}

#[tokio::test]
async fn cds_hooks_trusts_an_ehr_whose_keys_come_from_its_jwks_url() {
    let ehr = Ehr::new();
    let url = serve_jwks(ehr.jwks.clone());
    let a = app_trusting(&ehr, &format!("jwks_url = \"{url}\""));
    let body = json!({
        "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": { "userId": "Practitioner/1", "patientId": a.client },
    });
    let uri = format!("/cds-services/{PATIENT_VIEW_ID}");
    let (status, _, cards) = a.send("POST", &uri, Some(&ehr.bearer(PATIENT_VIEW_ID, "u1")), Some(body.clone())).await;
    assert_eq!(status, 200, "{cards}");
    let got: Vec<&str> =
        cards["cards"].as_array().unwrap().iter().filter_map(|c| c["extension"]["praxis-rule"].as_str()).collect();
    let guidance = a.service.guidance(&a.client, None, &Actor::new("t").unwrap()).unwrap();
    assert_eq!(got, guidance.rules(), "{cards}");
    // A stranger's token is still refused: the fetched keys are the EHR's.
    let stranger = Ehr::new();
    let (status, _, problem) =
        a.send("POST", &uri, Some(&stranger.bearer(PATIENT_VIEW_ID, "u2")), Some(body.clone())).await;
    assert_eq!(status, 401, "{problem}");
}

#[tokio::test]
async fn cds_hooks_answers_the_guidance_to_a_trusted_ehr() {
    let ehr = Ehr::new();
    let a = app(&ehr);
    let (status, _, discovery) = a.send("GET", "/cds-services", None, None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = discovery["services"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, [PATIENT_VIEW_ID, APPOINTMENT_BOOK_ID]);

    let body = json!({
        "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": { "userId": "Practitioner/1", "patientId": a.client },
    });
    let uri = format!("/cds-services/{PATIENT_VIEW_ID}");
    let (status, _, cards) = a.send("POST", &uri, Some(&ehr.bearer(PATIENT_VIEW_ID, "j1")), Some(body.clone())).await;
    assert_eq!(status, 200, "{cards}");
    let got: Vec<&str> =
        cards["cards"].as_array().unwrap().iter().filter_map(|c| c["extension"]["praxis-rule"].as_str()).collect();
    let guidance = a.service.guidance(&a.client, None, &Actor::new("t").unwrap()).unwrap();
    assert_eq!(got, guidance.rules(), "{cards}");
    assert!(!got.is_empty());

    // No JWT, a reused one, or a stranger's: refused.
    assert_eq!(a.send("POST", &uri, None, Some(body.clone())).await.0, 401);
    assert_eq!(a.send("POST", &uri, Some(&ehr.bearer(PATIENT_VIEW_ID, "j1")), Some(body.clone())).await.0, 401);
    let stranger = Ehr::new();
    assert_eq!(a.send("POST", &uri, Some(&stranger.bearer(PATIENT_VIEW_ID, "j2")), Some(body.clone())).await.0, 401);
    // An unknown patient: no cards, not an error.
    let unknown = json!({"hook": "patient-view", "hookInstance": "5a7d1e9f-9c52-4d1c-8f0e-2a1b3c4d5e6f", "context": {"userId": "Practitioner/1", "patientId": "nobody"}});
    let (status, _, none) = a.send("POST", &uri, Some(&ehr.bearer(PATIENT_VIEW_ID, "j3")), Some(unknown)).await;
    assert_eq!((status.as_u16(), none["cards"].as_array().map(Vec::len)), (200, Some(0)));
    // Feedback is audited as the EHR.
    let fb = json!({"feedback": [{"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-12-01T10:00:00Z",
        "overrideReason": {"reason": {"code": "provider-cleared"}, "userComment": "seen today"}}]});
    let (status, _, answer) =
        a.send("POST", &format!("{uri}/feedback"), Some(&ehr.bearer(PATIENT_VIEW_ID, "j4")), Some(fb)).await;
    assert_eq!(status, 200, "{answer}");
    let audit = a.service.store().audit().unwrap();
    assert!(
        audit.iter().any(|e| e.actor == "ehr:https://ehr.test" && e.entity == "cds_feedback"),
        "feedback not audited"
    );
}

#[tokio::test]
async fn fhir_reads_keep_the_role_rules_and_feeds_need_their_token() {
    let ehr = Ehr::new();
    let a = app(&ehr);
    let (status, content_type, meta) = a.send("GET", "/fhir/r4/metadata", None, None).await;
    assert_eq!((status.as_u16(), content_type.as_str()), (200, "application/fhir+json"));
    assert_eq!(meta["resourceType"], "CapabilityStatement");
    let uri = format!("/fhir/r4/Patient/{}", a.client);
    let (status, _, patient) = a.send("GET", &uri, Some(&format!("Bearer {}", a.owner)), None).await;
    assert_eq!(status, 200, "{patient}");
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(a.send("GET", &uri, None, None).await.0, 401);
    assert_eq!(a.send("GET", &uri, Some(&format!("Bearer {}", a.front_desk)), None).await.0, 403);
    let (status, _, all) =
        a.send("GET", &format!("{uri}/$everything"), Some(&format!("Bearer {}", a.owner)), None).await;
    assert_eq!(status, 200);
    assert_eq!(all["resourceType"], "Bundle");

    let mut tokens = praxis_core::interop::ics::FeedTokens::load(&a.service.config().data_dir).unwrap();
    let token = tokens.create("ana").unwrap();
    let (status, content_type, feed) =
        a.send("GET", &format!("/calendar/practitioner/ana.ics?token={token}"), None, None).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/calendar"));
    assert!(feed.as_str().unwrap().starts_with("BEGIN:VCALENDAR"));
    assert_eq!(a.send("GET", "/calendar/practitioner/ana.ics?token=0000", None, None).await.0, 401);
    assert_eq!(a.send("GET", &format!("/calendar/practitioner/zed.ics?token={token}"), None, None).await.0, 401);
}
