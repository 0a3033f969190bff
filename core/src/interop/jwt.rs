//! The CDS Hooks 2.0 JWT check ("Trusting CDS Clients").
//!
//! Each call carries `Authorization: Bearer <JWT>`, signed by the EHR with a
//! key whose public half the practice trusts (a JWKS per EHR, configured in
//! `[[cds_hooks.ehr]]`). The token is refused unless:
//!
//! - its algorithm is an asymmetric one (ES384 and RS384, which the
//!   specification names, or ES256, RS256, RS512, PS256, PS384, PS512):
//!   never `none` or a shared secret;
//! - its `iss` is a configured EHR, and its signature checks with that EHR's
//!   key (by `kid` when the header names one);
//! - its `aud` is the URL of the service called (`{service_url}/{id}`, as
//!   "Trusting CDS Clients" asks), it has not expired (`exp`, with 60
//!   seconds of leeway for clocks), and it carries `iat` and `jti`;
//! - its `jti` has not been seen before (within the token's life).

use std::collections::HashMap;
use std::sync::Mutex;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::InteropError;

/// Algorithms accepted.
pub const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::ES384,
    Algorithm::RS384,
    Algorithm::ES256,
    Algorithm::RS256,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// Clock leeway in seconds for `exp` (project default).
pub const LEEWAY_SECONDS: u64 = 60;

/// An EHR the practice trusts: its issuer and public keys.
#[derive(Debug, Clone)]
pub struct TrustedEhr {
    /// The `iss` it signs with.
    pub issuer: String,
    /// Its public keys.
    pub keys: JwkSet,
}

impl TrustedEhr {
    /// An EHR from its issuer and the text of its JWKS.
    pub fn from_jwks(issuer: &str, jwks: &str) -> Result<TrustedEhr, InteropError> {
        let keys: JwkSet = serde_json::from_str(jwks)
            .map_err(|e| InteropError::invalid(format!("JWKS of {issuer}"), format!("not a JSON Web Key Set: {e}")))?;
        if keys.keys.is_empty() {
            return Err(InteropError::invalid(format!("JWKS of {issuer}"), "holds no keys"));
        }
        Ok(TrustedEhr { issuer: issuer.to_owned(), keys })
    }

    /// The EHRs of a practice's `[[cds_hooks.ehr]]` entries that name a JWKS
    /// file (resolved against the config file's folder). Entries with a
    /// `jwks_url` are left to the caller, which fetches the URL and calls
    /// [`TrustedEhr::from_jwks`].
    pub fn from_config(config: &crate::config::PracticeConfig) -> Result<Vec<TrustedEhr>, InteropError> {
        let base = config.path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let mut out = Vec::new();
        for (i, ehr) in config.file.cds_hooks.ehr.iter().enumerate() {
            if ehr.jwks_file.is_some() == ehr.jwks_url.is_some() {
                return Err(InteropError::invalid(
                    format!("{}: cds_hooks.ehr[{i}]", config.path.display()),
                    "give exactly one of jwks_file and jwks_url",
                ));
            }
            if let Some(file) = &ehr.jwks_file {
                let path = base.join(file);
                let text =
                    std::fs::read_to_string(&path).map_err(|error| InteropError::Io { path: path.clone(), error })?;
                out.push(TrustedEhr::from_jwks(&ehr.issuer, &text)?);
            }
        }
        Ok(out)
    }
}

/// The claims a CDS Hooks JWT carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The EHR.
    pub iss: String,
    /// The service URL called.
    pub aud: String,
    /// Expiry (seconds since 1970).
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
    /// The token's unique id.
    pub jti: String,
    /// The client id of the EHR, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The tenant, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// Checks CDS Hooks JWTs for the services under one base URL, remembering the `jti`s seen.
#[derive(Debug)]
pub struct JwtVerifier {
    service_url: String,
    ehrs: Vec<TrustedEhr>,
    seen: Mutex<HashMap<String, u64>>,
}

fn refuse(why: impl Into<String>) -> InteropError {
    InteropError::Unauthorized(why.into())
}

impl JwtVerifier {
    /// A verifier for the services under `service_url` (the `[cds_hooks]
    /// service_url`, such as `https://praxis.example.org/cds-services`) and
    /// tokens from these EHRs.
    pub fn new(service_url: &str, ehrs: Vec<TrustedEhr>) -> JwtVerifier {
        JwtVerifier {
            service_url: service_url.trim_end_matches('/').to_owned(),
            ehrs,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Checks an `Authorization` header value (`Bearer <JWT>`) of a call to
    /// service `service_id` (or its feedback endpoint); the claims when the
    /// token is valid and new. The `aud` must be `{service_url}/{service_id}`.
    pub fn verify(&self, authorization: Option<&str>, service_id: &str) -> Result<Claims, InteropError> {
        let audience = format!("{}/{service_id}", self.service_url);
        let Some(header) = authorization else { return Err(refuse("no Authorization header: send `Bearer <JWT>`")) };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| refuse("the Authorization header is not `Bearer <JWT>`"))?;
        let head = jsonwebtoken::decode_header(token).map_err(|e| refuse(format!("not a JWT: {e}")))?;
        if !ALGORITHMS.contains(&head.alg) {
            return Err(refuse(format!("algorithm {:?} is not accepted: sign with ES384 or RS384", head.alg)));
        }
        // Which EHR: read `iss` before checking the signature, only to pick the key.
        let unverified: serde_json::Value = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|e| refuse(format!("the JWT's claims are unreadable: {e}")))?;
        let iss = unverified.get("iss").and_then(|v| v.as_str()).ok_or_else(|| refuse("the JWT has no `iss`"))?;
        let Some(ehr) = self.ehrs.iter().find(|e| e.issuer == iss) else {
            return Err(refuse(format!("issuer `{iss}` is not a trusted EHR (see [[cds_hooks.ehr]] in praxis.toml)")));
        };
        let candidates: Vec<_> = match &head.kid {
            Some(kid) => ehr.keys.find(kid).into_iter().collect(),
            None => ehr.keys.keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(refuse(format!("no key `{}` in the JWKS of `{iss}`", head.kid.unwrap_or_default())));
        }
        let mut validation = Validation::new(head.alg);
        validation.set_issuer(&[iss]);
        validation.set_audience(&[audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = LEEWAY_SECONDS;
        let mut last = None;
        let mut claims = None;
        for jwk in candidates {
            let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
            match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some(claims) = claims else {
            use jsonwebtoken::errors::ErrorKind as K;
            let why = match last.as_ref().map(|e| e.kind()) {
                Some(K::ExpiredSignature) => "the JWT has expired".to_owned(),
                Some(K::InvalidAudience) => format!("the JWT's `aud` is not this service ({audience})"),
                Some(K::InvalidIssuer) => "the JWT's `iss` does not match".to_owned(),
                Some(K::InvalidSignature) => "the JWT's signature does not check with the EHR's key".to_owned(),
                Some(K::MissingRequiredClaim(c)) => format!("the JWT has no `{c}`"),
                Some(K::Json(e)) => format!("the JWT's claims are incomplete (exp, iat, jti, aud, iss): {e}"),
                Some(other) => format!("the JWT is not valid: {other:?}"),
                None => "no usable key in the EHR's JWKS".to_owned(),
            };
            return Err(refuse(why));
        };
        if claims.jti.trim().is_empty() {
            return Err(refuse("the JWT's `jti` is empty"));
        }
        let now = jsonwebtoken::get_current_timestamp();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, exp| *exp + LEEWAY_SECONDS >= now);
        let key = format!("{}\u{0}{}", claims.iss, claims.jti);
        if seen.contains_key(&key) {
            return Err(refuse(format!(
                "the JWT's `jti` {} was used before: send a new token with each call",
                claims.jti
            )));
        }
        seen.insert(key, claims.exp);
        Ok(claims)
    }
}
