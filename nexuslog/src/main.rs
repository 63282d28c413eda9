//! `nexuslog`: the one binary. Parses the command line, loads and validates the configuration,
//! connects the configured backends, and runs one role or all of them.

mod admin;
mod backends;
mod cli;
mod deadletter;
mod http_server;
mod server;
mod syslog;
mod telemetry;
mod web;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let config = match cli.load_config() {
        Ok(c) => c,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some(code) = cli::run_offline_command(&cli, &config) {
        return code;
    }
    init_logging(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match &cli.command {
        Some(cli::Command::Admin { action }) => runtime.block_on(admin::run(action, &config)),
        Some(cli::Command::Deadletter { action }) => runtime.block_on(deadletter::run(action, &config)),
        _ => runtime.block_on(server::run(cli.role(), config)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(log: &nexuslog_config::LogConfig) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match log.format {
        nexuslog_config::LogFormat::Json => builder.json().init(),
        nexuslog_config::LogFormat::Text => builder.init(),
    }
}
