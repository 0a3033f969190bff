//! What a plugin says about itself.

use serde::{Deserialize, Serialize};

/// What a plugin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    /// Client snapshot in, guidance out.
    Protocol,
    /// Care plans and calendar in, proposed appointments out.
    Scheduler,
    /// A kind this SDK does not know.
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Unknown,
}

impl PluginKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Protocol => "protocol",
            PluginKind::Scheduler => "scheduler",
            PluginKind::Unknown => "unknown",
        }
    }
}

/// A condition a plugin handles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConditionSpec {
    /// SNOMED CT code.
    pub code: String,
    /// Display name.
    pub display: String,
}

/// One setting a plugin accepts, with its default and meaning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SettingSpec {
    /// The key in the practice config, such as `initial_interval_days`.
    pub key: String,
    /// The default value. Its JSON type is the setting's type.
    pub default: serde_json::Value,
    /// What it means, and where the default comes from.
    pub description: String,
}

impl SettingSpec {
    /// A setting spec.
    pub fn new(key: &str, default: impl Into<serde_json::Value>, description: &str) -> SettingSpec {
        SettingSpec { key: key.to_owned(), default: default.into(), description: description.to_owned() }
    }
}

/// A plugin's manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Manifest {
    /// Stable id, lowercase with dashes, such as `fibromyalgia`.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// The plugin's own version (semver).
    pub version: String,
    /// What it does, in a sentence.
    #[serde(default)]
    pub description: String,
    /// Plugin kinds it implements.
    pub kinds: Vec<PluginKind>,
    /// Conditions it handles (protocols are only asked about clients with one of these).
    #[serde(default)]
    pub conditions: Vec<ConditionSpec>,
    /// Settings it accepts.
    #[serde(default)]
    pub settings: Vec<SettingSpec>,
    /// How many days of session history it needs (`None`: all of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_days: Option<u32>,
}

impl Manifest {
    /// A manifest with an id, a name and a version, and nothing else yet
    /// (add at least one kind). Built this way, with the `with_` methods, a
    /// manifest never breaks your source when a minor version adds a field:
    ///
    /// ```
    /// use praxis_sdk::{Manifest, PluginKind, SettingSpec, snomed};
    ///
    /// let manifest = Manifest::new("neck-care", "Neck care", "0.1.0")
    ///     .with_description("Reminds the therapist to record intake pain patterns.")
    ///     .with_kind(PluginKind::Protocol)
    ///     .with_condition(snomed::NECK_PAIN, "Neck pain")
    ///     .with_setting(SettingSpec::new("max_minutes", 45, "Longest session, in minutes."))
    ///     .with_history_days(90);
    /// assert_eq!(manifest.validate(), Ok(()));
    /// ```
    pub fn new(id: &str, name: &str, version: &str) -> Manifest {
        Manifest { id: id.to_owned(), name: name.to_owned(), version: version.to_owned(), ..Manifest::default() }
    }

    /// Sets the one-sentence description.
    pub fn with_description(mut self, description: impl Into<String>) -> Manifest {
        self.description = description.into();
        self
    }

    /// Adds a kind the plugin implements.
    pub fn with_kind(mut self, kind: PluginKind) -> Manifest {
        self.kinds.push(kind);
        self
    }

    /// Adds a condition it handles, by SNOMED CT code.
    pub fn with_condition(mut self, code: &str, display: &str) -> Manifest {
        self.conditions.push(ConditionSpec { code: code.to_owned(), display: display.to_owned() });
        self
    }

    /// Adds a setting it accepts.
    pub fn with_setting(mut self, setting: SettingSpec) -> Manifest {
        self.settings.push(setting);
        self
    }

    /// Adds settings it accepts.
    pub fn with_settings(mut self, settings: impl IntoIterator<Item = SettingSpec>) -> Manifest {
        self.settings.extend(settings);
        self
    }

    /// Limits the session history it is sent to this many days (the default
    /// is all of it).
    pub fn with_history_days(mut self, days: u32) -> Manifest {
        self.history_days = Some(days);
        self
    }

    /// Checks the manifest's own shape; the first problem found.
    pub fn validate(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!("plugin id `{}` must be 1-64 characters of a-z, 0-9, `-` or `_`", self.id));
        }
        if self.name.trim().is_empty() {
            return Err(format!("plugin `{}` has no name", self.id));
        }
        if self.version.trim().is_empty() {
            return Err(format!("plugin `{}` has no version", self.id));
        }
        if self.kinds.is_empty() {
            return Err(format!("plugin `{}` declares no kind", self.id));
        }
        let mut keys: Vec<&str> = self.settings.iter().map(|s| s.key.as_str()).collect();
        keys.sort_unstable();
        if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("plugin `{}` declares setting `{}` twice", self.id, w[0]));
        }
        Ok(())
    }

    /// Whether the plugin implements this kind.
    pub fn is(&self, kind: PluginKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Whether it handles a condition with this SNOMED CT code.
    pub fn handles(&self, code: &str) -> bool {
        self.conditions.iter().any(|c| c.code == code)
    }

    /// The declared default settings as one JSON object.
    pub fn default_settings(&self) -> serde_json::Map<String, serde_json::Value> {
        self.settings.iter().map(|s| (s.key.clone(), s.default.clone())).collect()
    }
}
