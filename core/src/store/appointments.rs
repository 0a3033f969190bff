//! An appointment's lifecycle after booking: closing a visit as cancelled or
//! a no-show. (Moving is [`Store::book`] with the same ids at new times.)

use super::{
    Appointment, AppointmentStatus, Problem, RecordKind, RecordRef, Store, StoreError, ValidationError, abort,
    put_appointment, remove_appointment, validate,
};

impl Store {
    /// Sets the status of booked appointments (usually the heat, massage and
    /// cold of one visit) to `status`, with the reason when given, in one
    /// transaction: all change or none. Each must exist and be booked.
    /// Returns the changed records.
    pub fn close_appointments(
        &self,
        ids: &[&str],
        status: AppointmentStatus,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<Vec<Appointment>, StoreError> {
        validate::actor(actor)?;
        let changed = self.write(|tx| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let Some(before) = remove_appointment(tx, id)? else {
                    return abort(StoreError::NotFound { kind: RecordKind::Appointment, id: (*id).to_owned() });
                };
                if before.status != AppointmentStatus::Booked {
                    let rec = RecordRef::new(RecordKind::Appointment, id);
                    let problem =
                        Problem::BadValue { expected: "a booked appointment (not cancelled, no-show or done)" };
                    return abort(ValidationError::new(rec, "status", before.status.to_string(), problem));
                }
                let after = Appointment { status, status_reason: reason.map(str::to_owned), ..before.clone() };
                if let Err(e) = validate::appointment(&after, &self.options.limits, None) {
                    return abort(*e);
                }
                put_appointment(tx, &after)?;
                tx.audit_change(actor, RecordKind::Appointment, id, Some(&before), &after)?;
                out.push(after);
            }
            Ok(out)
        })?;
        tracing::info!(count = changed.len(), %status, actor, "appointments closed");
        Ok(changed)
    }
}
