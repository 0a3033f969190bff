//! # praxis-core
//!
//! The Praxis host: the practice's records in an embedded sled store, the
//! plugin host that loads condition modules through the SDK's C ABI, the
//! clinic world (bevy_ecs) that turns records and plugin advice into guidance,
//! the practice calendar, and the practice configuration.
#![deny(missing_docs)]

pub mod calendar;
pub mod config;
pub mod interop;
pub mod local;
pub mod outcomes;
pub mod plugin_host;
pub mod scheduling;
pub mod server;
pub mod service;
pub mod store;
pub mod utilisation;
pub mod world;
