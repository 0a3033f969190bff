//! Placeholder, replaced by the protocol work.
use praxis_sdk::prelude::*;

/// The plugin.
#[derive(Debug, Default)]
pub struct LowBack;
impl Plugin for LowBack {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "low-back".into(),
            name: "Low back".into(),
            version: "0.1.0".into(),
            description: String::new(),
            kinds: vec![PluginKind::Protocol],
            conditions: vec![],
            settings: vec![],
            history_days: None,
        }
    }
}
impl Protocol for LowBack {
    fn evaluate(&self, _input: &ProtocolInput) -> Result<Guidance, PluginError> {
        Ok(Guidance::default())
    }
}
praxis_sdk::export_plugin!(protocol = LowBack);
