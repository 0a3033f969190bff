//! `praxis`: the command line of the Praxis practice workspace.
//!
//! Exit codes: 0 done, 1 failed, 2 bad usage or bad input. Every command that
//! prints data takes `--json`. Logs go to stderr through `tracing`; set
//! `RUST_LOG` (for example `RUST_LOG=praxis=debug`) to see more.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
