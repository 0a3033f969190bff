//! CDS Hooks feedback in the audit log (`POST /cds-services/{id}/feedback`).

use super::records::AuditAction;
use super::{Store, StoreError, validate};
use crate::interop::cds::FeedbackRecord;

impl Store {
    /// Audits CDS Hooks feedback: one `create` entry of entity `cds_feedback`
    /// per item, keyed by the card's uuid, all in one transaction, flushed.
    pub fn record_cds_feedback(&self, records: &[FeedbackRecord], actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        self.write(|tx| {
            for r in records {
                tx.audit(actor, AuditAction::Create, "cds_feedback", &r.card, None, serde_json::to_value(r).ok())?;
            }
            Ok(())
        })
    }
}
