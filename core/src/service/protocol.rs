//! The service's operations as data, so that a command line can ask a
//! running server to carry them out (over the data folder's Unix socket) and
//! get the same typed answer it would have computed itself.
//!
//! One request and one reply per line, each a compact JSON document.

use praxis_sdk::Date;
use serde::{Deserialize, Serialize};

use crate::outcomes::OutcomesReport;
use crate::store::{ApiToken, Appointment, Client, ImportReport, Intake, Override, PracticeExport, Session};
use crate::world::ClientGuidance;

use super::{
    Actor, ClientChanges, ClientRecord, ErrorKind, IntakeInput, NewToken, OverrideInput, PracticeService, ReloadReport,
    ServiceError, SessionInput,
};

/// One operation of the practice service. Each variant's fields are the
/// arguments of the service method it names.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// [`PracticeService::add_client`].
    AddClient { changes: ClientChanges },
    /// [`PracticeService::update_client`].
    UpdateClient { client: String, changes: ClientChanges },
    /// [`PracticeService::clients`].
    ListClients,
    /// [`PracticeService::client_record`].
    ShowClient { client: String },
    /// [`PracticeService::record_intake`].
    RecordIntake { client: String, intake: IntakeInput },
    /// [`PracticeService::record_session`].
    RecordSession { client: String, session: SessionInput },
    /// [`PracticeService::follow_up`].
    FollowUp {
        session: String,
        pain: u8,
        /// When it was taken (default now).
        #[serde(default)]
        at: Option<praxis_sdk::DateTime>,
    },
    /// [`PracticeService::guidance`].
    Guidance { client: String, as_of: Option<Date> },
    /// [`PracticeService::all_guidance`].
    AllGuidance { as_of: Option<Date> },
    /// [`PracticeService::override_card`].
    Override { client: String, input: OverrideInput },
    /// [`PracticeService::outcomes`].
    Outcomes { client: Option<String>, as_of: Option<Date>, weeks: u32 },
    /// [`PracticeService::appointments`].
    Appointments { from: Option<Date>, days: u32, practitioner: Option<String> },
    /// [`PracticeService::export`].
    Export,
    /// [`PracticeService::import`].
    Import { export: Box<PracticeExport> },
    /// [`PracticeService::create_token`].
    CreateToken { name: String, user: String },
    /// [`PracticeService::tokens`].
    ListTokens,
    /// [`PracticeService::revoke_token`].
    RevokeToken { token: String },
    /// [`PracticeService::add_user`].
    AddUser { user: Box<super::users::NewUser> },
    /// [`PracticeService::users`].
    ListUsers,
    /// [`PracticeService::disable_user`].
    DisableUser { login: String },
    /// [`PracticeService::set_password`].
    SetPassword { login: String, password: String },
    /// [`PracticeService::has_owner`].
    HasOwner,
    /// [`PracticeService::plan_schedule`].
    PlanSchedule { from: Option<Date>, weeks: Option<u32>, with_request: bool },
    /// [`PracticeService::book_schedule`].
    BookSchedule,
    /// [`PracticeService::show_schedule`].
    ShowSchedule { from: Option<Date>, days: u32, practitioner: Option<String> },
    /// [`PracticeService::cancel_appointment`].
    CancelAppointment { id: String, reason: String },
    /// [`PracticeService::move_appointment`].
    MoveAppointment { id: String, to: crate::scheduling::MoveTo },
    /// [`PracticeService::no_show`].
    NoShow { id: String },
    /// [`PracticeService::audit_log`].
    AuditLog { filter: super::AuditFilter },
    /// Re-read the configuration file and put it in force ([`PracticeService::reload_config`]).
    ReloadConfig,
}

/// The typed answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Response {
    Client(Box<Client>),
    Clients(Vec<Client>),
    Record(Box<ClientRecord>),
    Intake(Intake),
    Session(Box<Session>),
    Guidance(Box<ClientGuidance>),
    GuidanceList(Vec<ClientGuidance>),
    Override(Override),
    Outcomes(Box<OutcomesReport>),
    Appointments(Vec<Appointment>),
    Export(Box<PracticeExport>),
    Imported(ImportReport),
    Token(Box<NewToken>),
    Tokens(Vec<ApiToken>),
    Revoked(Box<ApiToken>),
    Reloaded(ReloadReport),
    User(Box<super::users::UserView>),
    Users(Vec<super::users::UserView>),
    HasOwner(bool),
    AuditLog(Vec<crate::store::AuditEntry>),
    Plan(Box<super::schedule::PlanOutcome>),
}

/// What travels to the server: who asks, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The person on whose behalf the command runs (the audit actor).
    pub actor: String,
    /// The operation.
    pub request: Request,
}

/// What travels back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// It worked.
    Ok(Response),
    /// It did not; the kind decides the exit code.
    Err {
        /// The class of error.
        kind: WireErrorKind,
        /// The message, as the service gave it.
        message: String,
    },
}

/// [`ErrorKind`] on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum WireErrorKind {
    BadInput,
    NotFound,
    Forbidden,
    Unauthenticated,
    Conflict,
    Failed,
}

impl From<&ServiceError> for Reply {
    fn from(e: &ServiceError) -> Reply {
        let kind = match e.kind() {
            ErrorKind::BadInput => WireErrorKind::BadInput,
            ErrorKind::NotFound => WireErrorKind::NotFound,
            ErrorKind::Forbidden => WireErrorKind::Forbidden,
            ErrorKind::Unauthenticated => WireErrorKind::Unauthenticated,
            ErrorKind::Conflict => WireErrorKind::Conflict,
            ErrorKind::Failed => WireErrorKind::Failed,
        };
        Reply::Err { kind, message: e.to_string() }
    }
}

impl Reply {
    /// Back to a result.
    pub fn into_result(self) -> Result<Response, ServiceError> {
        match self {
            Reply::Ok(r) => Ok(r),
            Reply::Err { kind, message } => Err(match kind {
                WireErrorKind::BadInput => ServiceError::BadInput(message),
                WireErrorKind::NotFound => ServiceError::NotFound(message),
                WireErrorKind::Forbidden => ServiceError::Forbidden(message),
                WireErrorKind::Unauthenticated => ServiceError::Unauthenticated(message),
                WireErrorKind::Conflict => ServiceError::Conflict(message),
                WireErrorKind::Failed => ServiceError::Failed(message),
            }),
        }
    }
}

impl PracticeService {
    /// Carries out one request on behalf of `actor`.
    pub fn execute(&self, request: Request, actor: &Actor) -> Result<Response, ServiceError> {
        Ok(match request {
            Request::AddClient { changes } => Response::Client(Box::new(self.add_client(&changes, actor)?)),
            Request::UpdateClient { client, changes } => {
                Response::Client(Box::new(self.update_client(&client, &changes, actor)?))
            }
            Request::ListClients => Response::Clients(self.clients(actor)?),
            Request::ShowClient { client } => Response::Record(Box::new(self.client_record(&client, actor)?)),
            Request::RecordIntake { client, intake } => Response::Intake(self.record_intake(&client, &intake, actor)?),
            Request::RecordSession { client, session } => {
                Response::Session(Box::new(self.record_session(&client, &session, actor)?))
            }
            Request::FollowUp { session, pain, at } => {
                Response::Session(Box::new(self.follow_up_at(&session, pain, at, actor)?))
            }
            Request::Guidance { client, as_of } => Response::Guidance(Box::new(self.guidance(&client, as_of, actor)?)),
            Request::AllGuidance { as_of } => Response::GuidanceList(self.all_guidance(as_of, actor)?),
            Request::Override { client, input } => Response::Override(self.override_card(&client, &input, actor)?),
            Request::Outcomes { client, as_of, weeks } => {
                Response::Outcomes(Box::new(self.outcomes(client.as_deref(), as_of, weeks, actor)?))
            }
            Request::Appointments { from, days, practitioner } => {
                Response::Appointments(self.appointments(from, days, practitioner.as_deref(), actor)?)
            }
            Request::Export => Response::Export(Box::new(self.export(actor)?)),
            Request::Import { export } => Response::Imported(self.import(&export, actor)?),
            Request::CreateToken { name, user } => Response::Token(Box::new(self.create_token(&name, &user, actor)?)),
            Request::ListTokens => Response::Tokens(self.tokens(actor)?),
            Request::RevokeToken { token } => Response::Revoked(Box::new(self.revoke_token(&token, actor)?)),
            Request::AddUser { user } => Response::User(Box::new(self.add_user(&user, actor)?)),
            Request::ListUsers => Response::Users(self.users(actor)?),
            Request::DisableUser { login } => Response::User(Box::new(self.disable_user(&login, actor)?)),
            Request::SetPassword { login, password } => {
                Response::User(Box::new(self.set_password(&login, &password, actor)?))
            }
            Request::HasOwner => Response::HasOwner(self.has_owner()?),
            Request::PlanSchedule { from, weeks, with_request } => {
                Response::Plan(Box::new(self.plan_schedule(from, weeks, with_request, actor)?))
            }
            Request::BookSchedule => Response::Appointments(self.book_schedule(actor)?),
            Request::ShowSchedule { from, days, practitioner } => {
                Response::Appointments(self.show_schedule(from, days, practitioner.as_deref(), actor)?)
            }
            Request::CancelAppointment { id, reason } => {
                Response::Appointments(self.cancel_appointment(&id, &reason, actor)?)
            }
            Request::MoveAppointment { id, to } => Response::Appointments(self.move_appointment(&id, &to, actor)?),
            Request::NoShow { id } => Response::Appointments(self.no_show(&id, actor)?),
            Request::AuditLog { filter } => Response::AuditLog(self.audit_log(&filter, actor)?),
            Request::ReloadConfig => {
                actor.require(super::Operation::Administer)?;
                let config = self.config();
                let new = crate::config::PracticeConfig::load(&config.path, Some(&config.data_dir))
                    .map_err(|e| ServiceError::BadInput(format!("{e}; the old configuration stays in force")))?;
                Response::Reloaded(self.reload_config(new)?)
            }
        })
    }
}
