//! API tokens: stored hashed (SHA-256 of a 256-bit random secret), never in
//! an export. The secret is shown once, when the token is made.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::{AuditAction, Problem, RecordKind, RecordRef, Store, StoreError, ValidationError};

/// The tree that holds the tokens, keyed by token id. It is not part of the
/// practice's records (nor of an export): a token is a credential.
const TOKENS: &str = "api_tokens";

/// An API token as stored: its hash, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Stable id (the first part of the secret, so a token can be named
    /// without showing it).
    pub id: String,
    /// What it is for, as given to `praxis token create`.
    pub name: String,
    /// The staff account it acts for.
    #[serde(default)]
    pub user: String,
    /// The SHA-256 of the whole secret, hex.
    pub hash: String,
    /// When it was made (UTC, RFC 3339).
    pub created: String,
    /// Who made it.
    pub created_by: String,
    /// When it was revoked, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<String>,
}

/// The SHA-256 of a token secret, hex.
pub fn token_hash(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Makes a new token named `name` and returns it with its secret, which
    /// is stored only as a hash. Audited (the id and name, not the secret).
    pub fn create_token(&self, name: &str, user: &str, actor: &str) -> Result<(ApiToken, String), StoreError> {
        super::validate::actor(actor)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            let problem = Problem::BadValue { expected: "1 to 80 printable characters" };
            return Err(ValidationError::new(RecordRef::new(RecordKind::ApiToken, "new"), "name", name, problem).into());
        }
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(format!("no randomness for a token: {e}")),
        })?;
        let id = hex::encode(&random[..6]);
        let secret = format!("praxis_{id}_{}", hex::encode(&random[6..]));
        let token = ApiToken {
            id: id.clone(),
            name: name.to_owned(),
            user: user.to_owned(),
            hash: token_hash(&secret),
            created: jiff::Timestamp::now().to_string(),
            created_by: actor.to_owned(),
            revoked: None,
        };
        let bytes = serde_json::to_vec(&token).expect("a token encodes");
        self.insert_raw(super::keys::T::Tokens, id.as_bytes(), &bytes)?;
        // The audit transaction flushes the whole database, the token with it.
        self.write(|tx| {
            tx.audit(
                actor,
                AuditAction::Create,
                "api_token",
                &id,
                None,
                Some(serde_json::json!({ "name": name, "user": user })),
            )
        })?;
        Ok((token, secret))
    }

    /// Every token, revoked ones included.
    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.scan(super::keys::T::Tokens, super::backend::Scan::All)?
            .map(|kv| {
                let (k, v) = kv?;
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                    tree: TOKENS.into(),
                    key: String::from_utf8_lossy(&k).into_owned(),
                    error: e.to_string(),
                })
            })
            .collect()
    }

    /// The live (not revoked) token whose secret is `secret`.
    pub fn token_for_secret(&self, secret: &str) -> Result<Option<ApiToken>, StoreError> {
        let Some(id) = secret.strip_prefix("praxis_").and_then(|s| s.split('_').next()) else {
            return Ok(None);
        };
        let Some(bytes) = self.get_raw(super::keys::T::Tokens, id.as_bytes())? else {
            return Ok(None);
        };
        let token: ApiToken = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            tree: TOKENS.into(),
            key: id.to_owned(),
            error: e.to_string(),
        })?;
        let given = token_hash(secret);
        // Compare hashes, not secrets: equal-length hex, and a timing
        // difference on a hash tells nothing about the secret.
        Ok((token.revoked.is_none() && given == token.hash).then_some(token))
    }

    /// Revokes a token by id (or name). Audited.
    pub fn revoke_token(&self, id_or_name: &str, actor: &str) -> Result<ApiToken, StoreError> {
        super::validate::actor(actor)?;
        let mut token = self
            .tokens()?
            .into_iter()
            .find(|t| t.revoked.is_none() && (t.id == id_or_name || t.name == id_or_name))
            .ok_or_else(|| StoreError::NotFound { kind: RecordKind::ApiToken, id: id_or_name.to_owned() })?;
        token.revoked = Some(jiff::Timestamp::now().to_string());
        let bytes = serde_json::to_vec(&token).expect("a token encodes");
        self.insert_raw(super::keys::T::Tokens, token.id.as_bytes(), &bytes)?;
        let id = token.id.clone();
        self.write(|tx| {
            tx.audit(actor, AuditAction::Update, "api_token", &id, None, Some(serde_json::json!({ "revoked": true })))
        })?;
        Ok(token)
    }
}
