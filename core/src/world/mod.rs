//! The clinic world: a bevy_ecs [`World`] derived from the store, and the
//! schedule that turns records and plugin advice into the guidance a therapist
//! reads before a session.
//!
//! Each client is an entity. Its record ([`ClientSnapshot`]) is a component;
//! so are the plugins that handle its conditions, and the output of each
//! stage. Resources hold the plugin registry, the host rules and the
//! evaluation date. The schedule runs, in order:
//!
//! 1. the **safety screen** (S1-S3, [`safety_screen`]), the **protocol plugins**
//!    (each client asked of the enabled protocols whose manifest handles one of
//!    its conditions, with the practice's settings; failures and invalid
//!    output become a warning card) and the **insurance checks** (I1-I3,
//!    [`insurance_checks`], on the client's plan resolved against the
//!    practice's plans: [`resolve_insurance`]), side by side;
//! 2. the **merge** ([`merge`]) into one [`ClientGuidance`] per client.
//!
//! Every stage uses change detection: it recomputes a client only when what it
//! reads changed since it last ran. Recording a session or changing a client
//! ([`ClinicWorld::upsert_client`]) re-evaluates that client; new settings for
//! a plugin ([`ClinicWorld::set_plugin_settings`]) re-ask that plugin's
//! clients; a new date or new host rules re-evaluate everyone.
//!
//! The store stays the source of truth: [`ClinicWorld::hydrate`] rebuilds the
//! world from the store's snapshots at any time.
//!
//! ```
//! use praxis_core::plugin_host::PluginRegistry;
//! use praxis_core::world::{ClinicWorld, HostRules};
//! use praxis_sdk::testing::ClientBuilder;
//!
//! let as_of = "2026-11-21".parse().unwrap();
//! let mut world = ClinicWorld::new(PluginRegistry::default(), HostRules::default(), as_of);
//! world.hydrate(vec![ClientBuilder::new("c1").build()]);
//! assert_eq!(world.evaluate().clients, 1);
//! let guidance = world.guidance("c1").unwrap();
//! assert_eq!(guidance.rules(), ["S3"]); // no intake recorded
//! assert_eq!(world.evaluate().clients, 0); // nothing changed
//! ```

mod booking;
mod insurance;
mod merge;
mod render;
mod rules;
mod safety;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::MultiThreadedExecutor;
use praxis_sdk::{Appointment, ClientSnapshot, Date, Practitioner, Room, Settings};

use crate::plugin_host::{HostError, PluginRegistry};
use crate::store::{AppointmentStatus, Client, Insurance, Store, StoreError};

pub use booking::{BlockKind, Blocker, BookingRefused, OverrideGrant, Verdict, check_booking, pending_overrides};
pub use insurance::{
    INSURANCE_LABEL, MISSING_PLAN_RULE, PlanPeriod, PlanTerms, Plans, ResolvedInsurance, SELF_PAY_AGREED,
    checks_for_record, insurance_checks, resolve_insurance, resolved_insurance_checks,
};
pub use merge::{
    Advice, BOOKING_PROMPT_RULES, ClientGuidance, HoldInfo, MergedRecommendation, defer_booking_prompts, merge,
    merge_with_overrides, validate_advice,
};
pub use rules::{BUILT_IN_INFLAMMATORY, HostRules, MAX_RECENT_INJURY_DAYS, RulesError};
pub use safety::{
    HOST, PROVIDER_CLEARED, SAFETY_LABEL, SUBSIDED_REPORTED, as_of_view, last_massage, pain_subsided, safety_screen,
};

/// How much one [`ClinicWorld::evaluate`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalStats {
    /// Clients whose guidance was merged anew.
    pub clients: usize,
    /// Clients run through the safety screen and the insurance checks.
    pub screened: usize,
    /// Calls made to protocol plugins.
    pub plugin_calls: usize,
}

/// Guidance for one client without a world: the safety screen, every enabled
/// protocol that handles one of its conditions, the insurance checks, merged.
/// This is what the world computes for each client.
pub fn evaluate_client(
    registry: &PluginRegistry,
    rules: &HostRules,
    as_of: Date,
    client: &ClientSnapshot,
) -> ClientGuidance {
    evaluate_client_with_overrides(registry, rules, as_of, client, &[])
}

/// [`evaluate_client`] with the client's pending overrides (see
/// [`pending_overrides`]), which the booking verdict counts.
pub fn evaluate_client_with_overrides(
    registry: &PluginRegistry,
    rules: &HostRules,
    as_of: Date,
    client: &ClientSnapshot,
    overrides: &[OverrideGrant],
) -> ClientGuidance {
    evaluate_client_insured(registry, rules, &Plans::new(), as_of, client, None, overrides)
}

/// [`evaluate_client_with_overrides`] for a client whose insurance record
/// (`insurance`, from the store) is resolved against the practice's `plans`
/// (see [`resolve_insurance`]); `None` takes the snapshot's insurance as given.
pub fn evaluate_client_insured(
    registry: &PluginRegistry,
    rules: &HostRules,
    plans: &Plans,
    as_of: Date,
    client: &ClientSnapshot,
    insurance: Option<&Insurance>,
    overrides: &[OverrideGrant],
) -> ClientGuidance {
    let view = as_of_view(client, as_of);
    let routing = route(registry, &view);
    let mut advice = vec![Advice::host(SAFETY_LABEL, safety_screen(&view, as_of, rules))];
    advice.extend(ask_plugins(registry, &routing, as_of, &view));
    advice.push(Advice::host(INSURANCE_LABEL, checks_for_record(insurance, plans, &view, as_of, rules)));
    merge_with_overrides(&client.id, as_of, last_massage(&view, as_of).map(|s| s.date), advice, overrides)
}

/// The ids of the enabled protocol plugins that handle one of the client's conditions, in registry order,
/// then those of the modules that should handle one but are not working (each becomes a warning card).
fn route(registry: &PluginRegistry, client: &ClientSnapshot) -> Vec<String> {
    let handles = |code: &dyn Fn(&str) -> bool| client.conditions.iter().any(|c| code(&c.code));
    registry
        .protocols()
        .filter(|p| handles(&|c| p.manifest().handles(c)))
        .map(|p| p.id().to_owned())
        .chain(registry.unavailable().iter().filter(|u| handles(&|c| u.handles(c))).map(|u| u.id.clone()))
        .collect()
}

fn ask_plugins(registry: &PluginRegistry, routing: &[String], as_of: Date, client: &ClientSnapshot) -> Vec<Advice> {
    routing
        .iter()
        .filter_map(|id| match registry.get(id) {
            Some(plugin) => Some(Advice {
                source: plugin.id().to_owned(),
                label: plugin.manifest().name.clone(),
                outcome: plugin.evaluate(as_of, client),
            }),
            None => registry.unavailable_module(id).map(|u| Advice {
                source: u.id.clone(),
                label: u.id.clone(),
                outcome: Err(u.failure()),
            }),
        })
        .collect()
}

// --- components and resources ------------------------------------------------

/// A client's id.
#[derive(Component, Debug)]
struct ClientKey(String);

/// A client's record, as the store gave it.
#[derive(Component, Debug)]
struct Record(Arc<ClientSnapshot>);

/// The protocol plugins that handle one of the client's conditions. Marked
/// changed when one of them gets new settings.
#[derive(Component, Debug, Default, PartialEq)]
struct Routing(Vec<String>);

/// S1-S3 for the client.
#[derive(Component, Debug, Default)]
struct SafetyStage(praxis_sdk::Guidance);

/// I1-I3 for the client.
#[derive(Component, Debug, Default)]
struct InsuranceStage(praxis_sdk::Guidance);

/// The client's insurance record as the store keeps it (a plan name, or
/// custom terms), resolved against [`PlanBook`] by the insurance checks.
/// `None`: the snapshot's insurance is taken as given.
#[derive(Component, Debug, Default, PartialEq)]
struct Coverage(Option<Insurance>);

/// What each routed plugin said.
#[derive(Component, Debug, Default)]
struct ProtocolStage(Vec<Advice>);

/// The merged guidance.
#[derive(Component, Debug, Default)]
struct Merged(Option<ClientGuidance>);

/// The client's pending overrides, which the booking verdict counts.
#[derive(Component, Debug, Default, PartialEq)]
struct Grants(Vec<OverrideGrant>);

/// A practitioner of the practice.
#[derive(Component, Debug)]
struct PractitionerEntity(Practitioner);

/// A room of the practice.
#[derive(Component, Debug)]
struct RoomEntity(Room);

/// A booked appointment.
#[derive(Component, Debug)]
struct AppointmentEntity(Appointment);

#[derive(Resource, Debug)]
struct Plugins(PluginRegistry);

#[derive(Resource, Debug, PartialEq)]
struct Rules(HostRules);

#[derive(Resource, Debug, PartialEq)]
struct AsOf(Date);

/// The practice's insurance plans (`[insurance.<plan>]`).
#[derive(Resource, Debug, Default, PartialEq)]
struct PlanBook(Plans);

#[derive(Resource, Debug, Default)]
struct Counters {
    merged: AtomicUsize,
    screened: AtomicUsize,
    plugin_calls: AtomicUsize,
}

// --- systems -------------------------------------------------------------------

fn safety_system(
    as_of: Res<AsOf>,
    rules: Res<Rules>,
    counters: Res<Counters>,
    mut q: Query<(Ref<Record>, &mut SafetyStage)>,
) {
    let all = as_of.is_changed() || rules.is_changed();
    q.par_iter_mut().for_each(|(record, mut stage)| {
        if all || record.is_changed() {
            let view = as_of_view(&record.0, as_of.0);
            stage.0 = safety_screen(&view, as_of.0, &rules.0);
            counters.screened.fetch_add(1, Ordering::Relaxed);
        }
    });
}

fn insurance_system(
    as_of: Res<AsOf>,
    rules: Res<Rules>,
    plans: Res<PlanBook>,
    mut q: Query<(Ref<Record>, Ref<Coverage>, &mut InsuranceStage)>,
) {
    let all = as_of.is_changed() || rules.is_changed() || plans.is_changed();
    q.par_iter_mut().for_each(|(record, coverage, mut stage)| {
        if all || record.is_changed() || coverage.is_changed() {
            let view = as_of_view(&record.0, as_of.0);
            stage.0 = checks_for_record(coverage.0.as_ref(), &plans.0, &view, as_of.0, &rules.0);
        }
    });
}

fn protocol_system(
    as_of: Res<AsOf>,
    plugins: Res<Plugins>,
    counters: Res<Counters>,
    mut q: Query<(Ref<Record>, Ref<Routing>, &mut ProtocolStage)>,
) {
    let all = as_of.is_changed();
    q.par_iter_mut().for_each(|(record, routing, mut stage)| {
        if !(all || record.is_changed() || routing.is_changed()) {
            return;
        }
        if routing.0.is_empty() && stage.0.is_empty() {
            return;
        }
        let view = as_of_view(&record.0, as_of.0);
        stage.0 = ask_plugins(&plugins.0, &routing.0, as_of.0, &view);
        counters.plugin_calls.fetch_add(routing.0.len(), Ordering::Relaxed);
    });
}

type MergeInputs<'a> = (
    &'a ClientKey,
    &'a Record,
    Ref<'a, SafetyStage>,
    Ref<'a, ProtocolStage>,
    Ref<'a, InsuranceStage>,
    Ref<'a, Grants>,
    &'a mut Merged,
);

fn merge_system(as_of: Res<AsOf>, counters: Res<Counters>, mut q: Query<MergeInputs<'_>>) {
    q.par_iter_mut().for_each(|(key, record, safety, protocols, insurance, grants, mut merged)| {
        let changed = safety.is_changed() || protocols.is_changed() || insurance.is_changed() || grants.is_changed();
        if !(changed || merged.0.is_none()) {
            return;
        }
        let mut advice = Vec::with_capacity(protocols.0.len() + 2);
        advice.push(Advice::host(SAFETY_LABEL, safety.0.clone()));
        advice.extend(protocols.0.iter().cloned());
        advice.push(Advice::host(INSURANCE_LABEL, insurance.0.clone()));
        let last = last_massage(&record.0, as_of.0).map(|s| s.date);
        merged.0 = Some(merge_with_overrides(&key.0, as_of.0, last, advice, &grants.0));
        counters.merged.fetch_add(1, Ordering::Relaxed);
    });
}

// --- the world -------------------------------------------------------------------

/// What the world is built from, read from the store in one go, so that
/// the store need not be open while the world is built and evaluated (the
/// command line releases it while plugins run).
#[derive(Debug, Clone, Default)]
pub struct Hydration {
    /// Every client's snapshot.
    pub clients: Vec<ClientSnapshot>,
    /// Each client's record as the store keeps it: its insurance (the
    /// plan's terms come from the configuration when guidance is made) and
    /// its place in the client list.
    pub records: Vec<Client>,
    /// The practitioners.
    pub practitioners: Vec<Practitioner>,
    /// The rooms.
    pub rooms: Vec<Room>,
    /// The appointments still booked.
    pub appointments: Vec<Appointment>,
    /// Each client's overrides not yet used by a booking.
    pub grants: Vec<(String, Vec<OverrideGrant>)>,
}

impl Hydration {
    /// Reads every client's snapshot, the practitioners, the rooms, the
    /// booked appointments and the pending overrides.
    pub fn read(store: &Store) -> Result<Hydration, StoreError> {
        let records = store.clients()?;
        let clients = records.iter().map(|c| store.snapshot_of(c.clone())).collect::<Result<Vec<_>, _>>()?;
        let mut appointments = Vec::new();
        let mut grants = Vec::with_capacity(clients.len());
        for client in &clients {
            for a in store.appointments_for_client(&client.id)? {
                if a.status == AppointmentStatus::Booked {
                    appointments.push(a.plain());
                }
            }
            let pending = pending_overrides(store.overrides_for(&client.id)?);
            grants.push((client.id.clone(), pending.iter().map(OverrideGrant::from).collect()));
        }
        Ok(Hydration {
            practitioners: store.practitioners()?,
            rooms: store.rooms()?,
            clients,
            records,
            appointments,
            grants,
        })
    }
}

/// The clinic world: clients as entities, the plugin registry, the host rules
/// and the evaluation date as resources, and the guidance schedule.
///
/// It holds no data of its own: rebuild it from the store with
/// [`hydrate`](ClinicWorld::hydrate) whenever in doubt.
pub struct ClinicWorld {
    world: World,
    schedule: Schedule,
    index: BTreeMap<String, Entity>,
    calendar: Vec<Entity>,
    /// The client records by name, then id: the client list's order, so a
    /// page of it is read without sorting the practice.
    directory: BTreeMap<(String, String), Arc<Client>>,
    /// Each listed client's name, to find its directory entry.
    listed: BTreeMap<String, String>,
}

const _: () = {
    const fn assert_send<T: Send>() {}
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send::<ClinicWorld>();
    assert_send_sync::<ClientGuidance>();
    assert_send_sync::<EvalStats>();
};

impl std::fmt::Debug for ClinicWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClinicWorld").field("clients", &self.index.len()).field("as_of", &self.as_of()).finish()
    }
}

impl ClinicWorld {
    /// An empty world with these plugins, host rules and evaluation date.
    /// The rules are taken as given: check them with [`HostRules::validate`]
    /// first (the practice config loader does), or set them with
    /// [`set_rules`](ClinicWorld::set_rules), which checks.
    pub fn new(registry: PluginRegistry, rules: HostRules, as_of: Date) -> ClinicWorld {
        let mut world = World::new();
        world.insert_resource(Plugins(registry));
        world.insert_resource(Rules(rules));
        world.insert_resource(AsOf(as_of));
        world.insert_resource(PlanBook::default());
        world.insert_resource(Counters::default());
        let mut schedule = Schedule::default();
        // The multi-threaded executor also sets up the task pool that `par_iter_mut` runs on.
        schedule.set_executor(MultiThreadedExecutor::new());
        schedule.add_systems(((safety_system, protocol_system, insurance_system), merge_system).chain());
        ClinicWorld {
            world,
            schedule,
            index: BTreeMap::new(),
            calendar: Vec::new(),
            directory: BTreeMap::new(),
            listed: BTreeMap::new(),
        }
    }

    /// Replaces every client with these snapshots (from the store). All are
    /// evaluated by the next [`evaluate`](ClinicWorld::evaluate).
    pub fn hydrate(&mut self, clients: Vec<ClientSnapshot>) {
        for (_, entity) in std::mem::take(&mut self.index) {
            self.world.despawn(entity);
        }
        self.directory.clear();
        self.listed.clear();
        for client in clients {
            self.upsert_client(client);
        }
        tracing::debug!(clients = self.index.len(), "world hydrated");
    }

    /// Rebuilds the world from the store, the source of truth: every client's
    /// snapshot, the practitioners, the rooms, and the appointments still
    /// booked. Returns how many clients were loaded; all are evaluated by the
    /// next [`evaluate`](ClinicWorld::evaluate).
    pub fn hydrate_from_store(&mut self, store: &Store) -> Result<usize, StoreError> {
        Ok(self.hydrate_with(Hydration::read(store)?))
    }

    /// Rebuilds the world from what [`Hydration::read`] read from the store;
    /// returns how many clients were loaded.
    pub fn hydrate_with(&mut self, from: Hydration) -> usize {
        let Hydration { clients, records, practitioners, rooms, appointments, grants } = from;
        self.set_calendar(practitioners, rooms, appointments);
        let n = clients.len();
        self.hydrate(clients);
        for (id, list) in grants {
            self.set_overrides(&id, list);
        }
        for record in records {
            self.set_insurance(&record.id, record.insurance.clone());
            self.list_client(record);
        }
        n
    }

    /// Adds a client or replaces its record (a recorded session, a changed
    /// client): only this client is re-evaluated.
    pub fn upsert_client(&mut self, client: ClientSnapshot) {
        let routing = Routing(route(&self.world.resource::<Plugins>().0, &client));
        if let Some(&entity) = self.index.get(&client.id) {
            let mut e = self.world.entity_mut(entity);
            if let Some(mut record) = e.get_mut::<Record>() {
                record.0 = Arc::new(client);
            }
            if let Some(mut r) = e.get_mut::<Routing>() {
                r.set_if_neq(routing);
            }
            return;
        }
        let id = client.id.clone();
        let entity = self
            .world
            .spawn((
                ClientKey(id.clone()),
                Record(Arc::new(client)),
                routing,
                SafetyStage::default(),
                ProtocolStage::default(),
                InsuranceStage::default(),
                Coverage::default(),
                Grants::default(),
                Merged::default(),
            ))
            .id();
        self.index.insert(id, entity);
    }

    /// Replaces the practice's practitioners, rooms and booked appointments
    /// (from the store). They do not take part in guidance; they are here so
    /// that the world mirrors the practice.
    pub fn set_calendar(&mut self, practitioners: Vec<Practitioner>, rooms: Vec<Room>, appointments: Vec<Appointment>) {
        for entity in std::mem::take(&mut self.calendar) {
            self.world.despawn(entity);
        }
        let world = &mut self.world;
        let calendar = &mut self.calendar;
        calendar.extend(practitioners.into_iter().map(|p| world.spawn(PractitionerEntity(p)).id()));
        calendar.extend(rooms.into_iter().map(|r| world.spawn(RoomEntity(r)).id()));
        calendar.extend(appointments.into_iter().map(|a| world.spawn(AppointmentEntity(a)).id()));
        tracing::debug!(entities = self.calendar.len(), "calendar hydrated");
    }

    /// The practitioners, as last given to [`set_calendar`](ClinicWorld::set_calendar).
    pub fn practitioners(&self) -> Vec<&Practitioner> {
        self.calendar.iter().filter_map(|&e| self.world.get::<PractitionerEntity>(e)).map(|p| &p.0).collect()
    }

    /// The rooms, as last given to [`set_calendar`](ClinicWorld::set_calendar).
    pub fn rooms(&self) -> Vec<&Room> {
        self.calendar.iter().filter_map(|&e| self.world.get::<RoomEntity>(e)).map(|r| &r.0).collect()
    }

    /// A client's booked appointments, by start time.
    pub fn appointments_for(&self, client: &str) -> Vec<&Appointment> {
        let mut list: Vec<&Appointment> = self
            .calendar
            .iter()
            .filter_map(|&e| self.world.get::<AppointmentEntity>(e))
            .map(|a| &a.0)
            .filter(|a| a.client == client)
            .collect();
        list.sort_by_key(|a| a.start);
        list
    }

    /// Replaces the client's pending overrides (see [`pending_overrides`]);
    /// only this client's verdict is made anew. `false` for an unknown client.
    pub fn set_overrides(&mut self, id: &str, overrides: Vec<OverrideGrant>) -> bool {
        let Some(&entity) = self.index.get(id) else { return false };
        match self.world.entity_mut(entity).get_mut::<Grants>() {
            Some(mut g) => {
                g.set_if_neq(Grants(overrides));
                true
            }
            None => false,
        }
    }

    /// Sets the client's insurance record as the store keeps it (a plan
    /// name, or custom terms), resolved against the plans of
    /// [`set_plans`](ClinicWorld::set_plans); only this client's insurance
    /// checks run anew. `false` for an unknown client. Until it is set, the
    /// snapshot's insurance is taken as given.
    pub fn set_insurance(&mut self, id: &str, insurance: Option<Insurance>) -> bool {
        let Some(&entity) = self.index.get(id) else { return false };
        match self.world.entity_mut(entity).get_mut::<Coverage>() {
            Some(mut c) => {
                c.set_if_neq(Coverage(insurance));
                true
            }
            None => false,
        }
    }

    /// Replaces the practice's insurance plans (`[insurance.<plan>]`); when
    /// they changed, every client's insurance checks run anew.
    pub fn set_plans(&mut self, plans: Plans) {
        self.world.resource_mut::<PlanBook>().set_if_neq(PlanBook(plans));
    }

    /// Puts a client's record (as the store has it) in the client list, or
    /// replaces it there. The list is kept beside the guidance: nothing is
    /// evaluated for it.
    pub fn list_client(&mut self, client: Client) {
        if let Some(old) = self.listed.insert(client.id.clone(), client.name.clone()) {
            self.directory.remove(&(old, client.id.clone()));
        }
        self.directory.insert((client.name.clone(), client.id.clone()), Arc::new(client));
    }

    /// The listed client records by name, then id.
    pub fn clients_by_name(&self) -> impl Iterator<Item = &Client> {
        self.directory.values().map(|c| &**c)
    }

    /// A listed client's record.
    pub fn listed_client(&self, id: &str) -> Option<&Client> {
        let name = self.listed.get(id)?;
        self.directory.get(&(name.clone(), id.to_owned())).map(|c| &**c)
    }

    /// Removes a client; `false` if it was not there.
    pub fn remove_client(&mut self, id: &str) -> bool {
        if let Some(name) = self.listed.remove(id) {
            self.directory.remove(&(name, id.to_owned()));
        }
        match self.index.remove(id) {
            Some(entity) => self.world.despawn(entity),
            None => false,
        }
    }

    /// Gives a plugin new practice settings (validated by the plugin host) and
    /// marks for re-evaluation only the clients it handles; returns how many.
    pub fn set_plugin_settings(&mut self, plugin: &str, settings: Settings) -> Result<usize, HostError> {
        self.world.resource_mut::<Plugins>().0.set_settings(plugin, settings)?;
        let mut marked = 0;
        let mut q = self.world.query::<&mut Routing>();
        for mut routing in q.iter_mut(&mut self.world) {
            if routing.0.iter().any(|p| p == plugin) {
                routing.set_changed();
                marked += 1;
            }
        }
        tracing::info!(plugin, clients = marked, "plugin settings changed");
        Ok(marked)
    }

    /// Replaces the host rules (validated); every client is re-evaluated.
    pub fn set_rules(&mut self, rules: HostRules) -> Result<(), RulesError> {
        rules.validate()?;
        self.world.resource_mut::<Rules>().set_if_neq(Rules(rules));
        Ok(())
    }

    /// Sets the evaluation date; a different date re-evaluates every client.
    pub fn set_as_of(&mut self, as_of: Date) {
        self.world.resource_mut::<AsOf>().set_if_neq(AsOf(as_of));
    }

    /// The evaluation date.
    pub fn as_of(&self) -> Date {
        self.world.resource::<AsOf>().0
    }

    /// The host rules in force.
    pub fn rules(&self) -> &HostRules {
        &self.world.resource::<Rules>().0
    }

    /// The plugin registry.
    pub fn registry(&self) -> &PluginRegistry {
        &self.world.resource::<Plugins>().0
    }

    /// How many clients the world holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the world holds no client.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The client's record, as last hydrated or upserted.
    pub fn client(&self, id: &str) -> Option<&ClientSnapshot> {
        let entity = *self.index.get(id)?;
        self.world.get::<Record>(entity).map(|r| &*r.0)
    }

    /// Runs the schedule: evaluates what changed since the last run.
    pub fn evaluate(&mut self) -> EvalStats {
        let span = tracing::info_span!("world.evaluate", clients = self.index.len(), as_of = %self.as_of());
        let _enter = span.enter();
        self.schedule.run(&mut self.world);
        // Keep change ticks from wrapping in a long-running host (cheap: it
        // does nothing until enough ticks have passed).
        if let Some(check) = self.world.check_change_ticks() {
            self.schedule.check_change_ticks(check);
        }
        let counters = self.world.resource::<Counters>();
        let stats = EvalStats {
            clients: counters.merged.swap(0, Ordering::Relaxed),
            screened: counters.screened.swap(0, Ordering::Relaxed),
            plugin_calls: counters.plugin_calls.swap(0, Ordering::Relaxed),
        };
        tracing::debug!(clients = stats.clients, plugin_calls = stats.plugin_calls, "world evaluated");
        stats
    }

    /// The client's guidance as of the last [`evaluate`](ClinicWorld::evaluate);
    /// `None` for an unknown client or one not evaluated yet.
    pub fn guidance(&self, id: &str) -> Option<&ClientGuidance> {
        let entity = *self.index.get(id)?;
        self.world.get::<Merged>(entity)?.0.as_ref()
    }

    /// The client's record as a shared snapshot (cheap to keep).
    pub fn record(&self, id: &str) -> Option<Arc<ClientSnapshot>> {
        let entity = *self.index.get(id)?;
        self.world.get::<Record>(entity).map(|r| Arc::clone(&r.0))
    }

    /// A stamp of the client's evaluated guidance: it changes whenever the
    /// world re-merges the client (its record, overrides, plugin answers,
    /// the date or the rules changed), and a re-hydrated world gives every
    /// client a new one. Something derived from a client's record and
    /// guidance (its outcomes) is still good while the stamp is the same.
    /// `None` for an unknown client or one not evaluated yet.
    pub fn guidance_stamp(&self, id: &str) -> Option<u32> {
        let entity = *self.index.get(id)?;
        let merged = self.world.entity(entity).get_ref::<Merged>()?;
        merged.0.as_ref()?;
        Some(merged.last_changed().get())
    }

    /// The ids of every client, in id order.
    pub fn client_ids(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    /// Every evaluated client's guidance, sorted by client id.
    pub fn all_guidance(&self) -> Vec<ClientGuidance> {
        self.index.keys().filter_map(|id| self.guidance(id).cloned()).collect()
    }
}
