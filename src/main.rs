//! The `switchboard` binary: the CLI, composing the store, the service and
//! the portal. Nothing else lives here.

mod accounts;
mod app;
#[cfg(feature = "bench")]
mod bench;
mod bench_attack;
mod bench_campaign;
mod bench_import;
#[cfg(feature = "bench")]
mod bench_logs;
mod bench_vectors;
mod catalog_files;
mod chat;
mod cli;
mod eval;
mod imports;
mod migrate;
mod samples;
mod seed;
mod transfer;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    switchboard_agents::install_tls_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
