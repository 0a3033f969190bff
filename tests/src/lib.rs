//! Helpers for the end-to-end tests: build the binary, the plugins and the
//! fixtures once, in a target folder of their own.
#![deny(missing_docs)]
