//! The `switchboard` binary: the CLI, composing the store, the service and
//! the portal. Nothing else lives here.

mod accounts;
mod advisories;
mod advisory_files;
mod app;
mod backup;
#[cfg(feature = "bench")]
mod bench;
mod bench_advisories;
mod bench_appends;
mod bench_attack;
mod bench_campaign;
mod bench_commands;
mod bench_http;
mod bench_import;
#[cfg(feature = "bench")]
mod bench_logs;
mod bench_receive;
#[cfg(feature = "bench")]
mod bench_spans;
mod bench_vectors;
mod bench_webhooks;
mod catalog_files;
mod chat;
mod cli;
mod dependency_track;
mod eval;
mod imports;
mod log_writer;
mod migrate;
mod samples;
mod seed;
mod simulated_github;
mod store_args;
mod telemetry;
mod transfer;

use std::process::ExitCode;

use clap::Parser;

/// A command whose output is piped into `head` ends quietly when the reader
/// goes, as Unix tools do, instead of panicking in `println!` (Rust ignores
/// SIGPIPE, and this crate forbids the `unsafe` that would restore it).
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            // What a shell reports for a process ended by SIGPIPE.
            std::process::exit(141);
        }
        default(info);
    }));
}

/// mimalloc instead of the C library's allocator: under a flood of webhooks
/// glibc's malloc and free (their consolidation and locks across the
/// runtime's threads) were a sixth of the process's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = cli::Cli::parse();
    switchboard_agents::install_tls_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    app::flush_logs();
    code
}
