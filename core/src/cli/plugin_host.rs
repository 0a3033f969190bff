//! `praxis plugin-host LIBRARY` (hidden): the child process an isolated
//! plugin runs in. The loop is `praxis_core::plugin_host::sandbox::serve`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct PluginHostArgs {
    /// The (trusted, privately copied) plugin library.
    pub library: PathBuf,
    /// The largest answer to pass on, in bytes.
    #[arg(long, default_value_t = praxis_core::plugin_host::DEFAULT_MAX_ANSWER_BYTES)]
    pub max_answer_bytes: usize,
}

pub fn run(args: &PluginHostArgs) -> ! {
    std::process::exit(i32::from(praxis_core::plugin_host::sandbox::serve(&args.library, args.max_answer_bytes)))
}
