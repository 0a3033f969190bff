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
//!
//! An EHR's keys come from a JWKS file beside praxis.toml, or from its
//! `jwks_url`, fetched on the first call that needs them, again once they
//! are [`JWKS_REFRESH`] old, and at once when a token names a `kid` they
//! lack (the EHR rotated its keys), at most every [`JWKS_RETRY`]. A failed
//! fetch keeps the keys fetched before; with none, the call is refused and
//! the reason logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// The longest a JWKS fetch may take (project default).
pub const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest JWKS accepted from a URL, in bytes (project default).
pub const MAX_JWKS_BYTES: u64 = 1024 * 1024;

/// How long keys fetched from a `jwks_url` are used before they are fetched
/// again (project default: one hour).
pub const JWKS_REFRESH: Duration = Duration::from_secs(3600);

/// The shortest time between two fetches of one EHR's JWKS, so that tokens
/// naming an unknown `kid` cannot make the server fetch on every call
/// (project default).
pub const JWKS_RETRY: Duration = Duration::from_secs(30);

/// Checks a `jwks_url`: `https://`, or `http://` to this machine only (a
/// local proxy, or a test); the message says what is wrong.
pub fn check_jwks_url(url: &str) -> Result<(), String> {
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let name = if host.starts_with('[') {
            host.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or_default()
        };
        let loopback = name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!(
                "`{url}` is plain HTTP to another machine: the EHR's keys must come over https:// (http:// is allowed to this machine only)"
            ));
        }
        rest
    } else {
        return Err(format!("`{url}` is not an https:// URL"));
    };
    if rest.split(['/', '?', '#']).next().unwrap_or_default().is_empty() {
        return Err(format!("`{url}` names no host"));
    }
    Ok(())
}

/// Fetches the text of a JWKS from `url` (see [`check_jwks_url`]), within
/// [`JWKS_FETCH_TIMEOUT`] and at most [`MAX_JWKS_BYTES`].
pub fn fetch_jwks(url: &str) -> Result<String, InteropError> {
    let fail = |message: String| InteropError::Fetch { url: url.to_owned(), message };
    check_jwks_url(url).map_err(fail)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(JWKS_FETCH_TIMEOUT)).build().into();
    let mut answer = agent.get(url).header("Accept", "application/json").call().map_err(|e| fail(e.to_string()))?;
    answer
        .body_mut()
        .with_config()
        .limit(MAX_JWKS_BYTES)
        .read_to_string()
        .map_err(|e| fail(format!("{e} (a JWKS is at most {MAX_JWKS_BYTES} bytes of UTF-8 JSON)")))
}

/// How a verifier gets the text of a JWKS from its URL ([`fetch_jwks`];
/// replaceable in tests).
pub type JwksFetcher = Box<dyn Fn(&str) -> Result<String, InteropError> + Send + Sync>;

/// An EHR whose keys are fetched from a URL, and what was fetched.
#[derive(Debug)]
struct RemoteEhr {
    issuer: String,
    url: String,
    state: Mutex<Fetched>,
}

#[derive(Debug, Default)]
struct Fetched {
    keys: Option<JwkSet>,
    at: Option<Instant>,
    tried: Option<Instant>,
}

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
    /// `jwks_url` are left to the caller ([`JwtVerifier::with_remote`]).
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
pub struct JwtVerifier {
    service_url: String,
    ehrs: Vec<TrustedEhr>,
    remote: Vec<RemoteEhr>,
    fetch: JwksFetcher,
    retry: Duration,
    seen: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("service_url", &self.service_url)
            .field("ehrs", &self.ehrs)
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
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
            remote: Vec::new(),
            fetch: Box::new(fetch_jwks),
            retry: JWKS_RETRY,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Adds EHRs whose keys are fetched from a URL, as `(issuer, jwks_url)`
    /// pairs, with `fetch` ([`fetch_jwks`] unless a test gives its own).
    /// Nothing is fetched until a call from that EHR needs the keys.
    pub fn with_remote(mut self, ehrs: Vec<(String, String)>, fetch: Option<JwksFetcher>) -> JwtVerifier {
        self.remote.extend(ehrs.into_iter().map(|(issuer, url)| RemoteEhr {
            issuer,
            url,
            state: Mutex::new(Fetched::default()),
        }));
        if let Some(fetch) = fetch {
            self.fetch = fetch;
        }
        self
    }

    /// Sets the shortest time between two fetches of one EHR's JWKS
    /// ([`JWKS_RETRY`] unless set).
    pub fn with_retry(mut self, retry: Duration) -> JwtVerifier {
        self.retry = retry;
        self
    }

    /// The keys of an EHR with a `jwks_url`: fetched when there are none yet,
    /// when they are [`JWKS_REFRESH`] old, or when the token names a `kid`
    /// they lack, at most every `retry`.
    fn remote_keys(&self, ehr: &RemoteEhr, kid: Option<&str>) -> Result<JwkSet, InteropError> {
        let mut state = ehr.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let stale = state.at.is_none_or(|at| now.duration_since(at) >= JWKS_REFRESH);
        let unknown_kid = kid.is_some_and(|k| state.keys.as_ref().is_none_or(|keys| keys.find(k).is_none()));
        let may_try = state.tried.is_none_or(|t| now.duration_since(t) >= self.retry);
        let mut failure = None;
        if (stale || unknown_kid) && may_try {
            state.tried = Some(now);
            match (self.fetch)(&ehr.url).and_then(|text| TrustedEhr::from_jwks(&ehr.issuer, &text)) {
                Ok(fetched) => {
                    tracing::info!(issuer = %ehr.issuer, url = %ehr.url, keys = fetched.keys.keys.len(), "EHR keys fetched");
                    state.keys = Some(fetched.keys);
                    state.at = Some(now);
                }
                Err(e) => {
                    tracing::warn!(issuer = %ehr.issuer, url = %ehr.url, error = %e, "the EHR's keys could not be fetched");
                    failure = Some(e.to_string());
                }
            }
        }
        state.keys.clone().ok_or_else(|| {
            refuse(match failure {
                Some(why) => format!("the practice has no keys for `{}`: {why}", ehr.issuer),
                None => format!(
                    "the practice has no keys for `{}`: fetching {} failed less than {} s ago; try again later",
                    ehr.issuer,
                    ehr.url,
                    self.retry.as_secs()
                ),
            })
        })
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
        let fetched;
        let keys = match self.ehrs.iter().find(|e| e.issuer == iss) {
            Some(ehr) => &ehr.keys,
            None => match self.remote.iter().find(|e| e.issuer == iss) {
                Some(remote) => {
                    fetched = self.remote_keys(remote, head.kid.as_deref())?;
                    &fetched
                }
                None => {
                    return Err(refuse(format!(
                        "issuer `{iss}` is not a trusted EHR (see [[cds_hooks.ehr]] in praxis.toml)"
                    )));
                }
            },
        };
        let candidates: Vec<_> = match &head.kid {
            Some(kid) => keys.find(kid).into_iter().collect(),
            None => keys.keys.iter().collect(),
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
