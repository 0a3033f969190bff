//! world (in progress)
