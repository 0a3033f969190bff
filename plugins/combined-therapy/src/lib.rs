//! Placeholder, replaced by the scheduler work.
#![deny(missing_docs)]
use praxis_sdk::prelude::*;

/// The plugin.
#[derive(Debug, Default)]
pub struct ThePlugin;

impl Plugin for ThePlugin {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "combined-therapy".into(),
            name: "Combined therapy".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: String::new(),
            kinds: vec![PluginKind::Scheduler],
            conditions: vec![],
            settings: vec![],
            history_days: None,
        }
    }
}
impl Scheduler for ThePlugin {
    fn schedule(&self, _r: &ScheduleRequest) -> Result<ScheduleProposal, PluginError> {
        Ok(ScheduleProposal::default())
    }
}
praxis_sdk::export_plugin!(scheduler = ThePlugin);
