//! Placeholder, replaced by the protocol work.
#![deny(missing_docs)]
use praxis_sdk::prelude::*;

/// The plugin.
#[derive(Debug, Default)]
pub struct ThePlugin;

impl Plugin for ThePlugin {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "arthritis".into(),
            name: "arthritis".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: String::new(),
            kinds: vec![PluginKind::Protocol],
            conditions: vec![],
            settings: vec![],
            history_days: None,
        }
    }
}
impl Protocol for ThePlugin {
    fn evaluate(&self, _input: &ProtocolInput) -> Result<Guidance, PluginError> {
        Ok(Guidance::default())
    }
}
praxis_sdk::export_plugin!(protocol = ThePlugin);
