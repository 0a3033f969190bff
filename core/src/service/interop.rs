//! The standards at the edges as operations of the practice service: CDS
//! Hooks calls (after the EHR's JWT is checked), FHIR R4 reads with the role
//! rules, and the practitioners' calendar feeds. The mappings are
//! [`crate::interop`]'s.

use std::sync::OnceLock;

use serde_json::Value;

use super::{Actor, AuditAction, Operation, PracticeService, ServiceError};
use crate::interop::jwt::{JwtVerifier, TrustedEhr};
use crate::interop::{InteropError, cds, fhir, ics};

type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Where `source.url` of a CDS Hooks card points: the rules document in the
/// repository, with `#` and the rule id.
pub const RULES_URL: &str = "https://praxis.invalid/docs/GUIDANCE-RULES.md";

impl From<InteropError> for ServiceError {
    fn from(e: InteropError) -> ServiceError {
        match e {
            InteropError::Unauthorized(m) => ServiceError::Unauthenticated(m),
            InteropError::NotFound { .. } => ServiceError::NotFound(e.to_string()),
            e if e.is_caller_error() => ServiceError::BadInput(e.to_string()),
            e => ServiceError::Failed(e.to_string()),
        }
    }
}

/// The CDS Hooks verifier of a service, made from the configuration on first use.
#[derive(Debug, Default)]
pub struct CdsState {
    verifier: OnceLock<Result<JwtVerifier, String>>,
}

impl PracticeService {
    fn cds_verifier(&self) -> Result<&JwtVerifier> {
        let made = self.cds.verifier.get_or_init(|| {
            let config = self.config();
            let Some(url) = config.file.cds_hooks.service_url.clone() else {
                return Err(format!(
                    "{} has no [cds_hooks] service_url: the CDS Hooks service is off until it names its URL and at least one [[cds_hooks.ehr]]",
                    config.path.display()
                ));
            };
            let ehrs = TrustedEhr::from_config(&config).map_err(|e| e.to_string())?;
            let remote = config
                .file
                .cds_hooks
                .ehr
                .iter()
                .filter_map(|e| Some((e.issuer.clone(), e.jwks_url.clone()?)))
                .collect();
            Ok(JwtVerifier::new(&url, ehrs).with_remote(remote, None))
        });
        made.as_ref().map_err(|m| ServiceError::Unauthenticated(m.clone()))
    }

    /// The CDS Hooks discovery document.
    pub fn cds_discovery(&self) -> Value {
        cds::discovery()
    }

    /// A CDS Hooks call: the EHR's JWT is checked, then the client's cards
    /// are answered (an unknown patient gets no cards).
    pub fn cds_call(&self, service_id: &str, authorization: Option<&str>, body: &[u8]) -> Result<Value> {
        let claims = self.cds_verifier()?.verify(authorization, service_id)?;
        let config = self.config();
        let system =
            config.file.cds_hooks.ehr.iter().find(|e| e.issuer == claims.iss).and_then(|e| e.patient_id_system.clone());
        let options = cds::CardOptions { rules_url: RULES_URL.to_owned() };
        let answer = cds::answer(
            service_id,
            body,
            &self.store,
            self.plugins(),
            &config.file.rules,
            &config.plans,
            self.today(),
            system.as_deref(),
            &options,
        )?;
        let detail = serde_json::json!({ "read": "cds-hooks", "service": service_id });
        self.store.audit_event(AuditAction::Read, &format!("ehr:{}", claims.iss), "cds", service_id, detail, false)?;
        Ok(answer)
    }

    /// CDS Hooks feedback, audited as the EHR.
    pub fn cds_feedback(&self, service_id: &str, authorization: Option<&str>, body: &[u8]) -> Result<usize> {
        let claims = self.cds_verifier()?.verify(authorization, service_id)?;
        Ok(cds::record_feedback(service_id, body, &self.store, &format!("ehr:{}", claims.iss))?)
    }

    /// The FHIR CapabilityStatement.
    pub fn fhir_metadata(&self, base_url: &str) -> Value {
        fhir::capability_statement(base_url, env!("CARGO_PKG_VERSION"))
    }

    /// A client as a FHIR Patient (a chart read: audited).
    pub fn fhir_patient(&self, id: &str, actor: &Actor) -> Result<Value> {
        actor.require(Operation::ReadChart)?;
        let client = self.client_by_id(id, actor)?;
        let detail = serde_json::json!({ "read": "fhir Patient" });
        self.store.audit_event(AuditAction::Read, actor.name(), "chart", &client.id, detail, false)?;
        Ok(fhir::patient_of_store(&self.store, &self.config(), id)?)
    }

    /// A client's whole record as a FHIR searchset Bundle (audited).
    pub fn fhir_everything(&self, id: &str, base_url: &str, actor: &Actor) -> Result<Value> {
        actor.require(Operation::ReadChart)?;
        let client = self.client_by_id(id, actor)?;
        let detail = serde_json::json!({ "read": "fhir $everything" });
        self.store.audit_event(AuditAction::Read, actor.name(), "chart", &client.id, detail, false)?;
        Ok(fhir::everything_of_store(&self.store, &self.config(), id, base_url)?)
    }

    /// A practitioner's calendar feed behind its secret token (no clinical details).
    pub fn practitioner_feed(&self, practitioner: &str, token: &str) -> Result<String> {
        let config = self.config();
        let tokens = ics::FeedTokens::load(&config.data_dir)?;
        let from = self.today().add_days(-30);
        Ok(ics::practitioner_feed(&self.store, &config, &tokens, practitioner, token, from, 30 + 366)?)
    }
}
