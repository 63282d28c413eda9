//! `nexuslog`: the one binary. Parses the command line, loads and validates the configuration,
//! connects the configured backends, and runs one role or all of them.

mod admin;
mod backends;
mod cli;
mod deadletter;
mod otel;
mod http_server;
mod server;
mod syslog;
mod telemetry;
mod web;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: nexuslog_alloc::MiMalloc = nexuslog_alloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    nexuslog_alloc::tune();
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
    // Dropped last (after the runtime): flushes the spans of the last requests.
    let _traces = match init_logging(&config, cli.role().name()) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
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

/// Logs to stderr (`log.*`), and spans to an OTLP receiver when `otel.endpoint` is set; then
/// record headers carry trace context too (`nexuslog_bus::trace`).
fn init_logging(config: &nexuslog_config::Config, role: &str) -> Result<Option<otel::Guard>, String> {
    use std::io::IsTerminal;

    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};
    let filter = EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
    // The filter is the log's own: spans exported as traces have theirs (see `otel::layer`).
    let fmt = match config.log.format {
        nexuslog_config::LogFormat::Json => fmt.json().with_filter(filter).boxed(),
        nexuslog_config::LogFormat::Text => fmt.with_filter(filter).boxed(),
    };
    if config.otel.endpoint.is_empty() {
        tracing_subscriber::registry().with(fmt).init();
        return Ok(None);
    }
    let (traces, guard) = otel::layer(&config.otel.endpoint, role).map_err(|e| format!("`otel.endpoint` = {}: {e}", config.otel.endpoint))?;
    tracing_subscriber::registry().with(fmt).with(traces).init();
    nexuslog_bus::trace::enable();
    Ok(Some(guard))
}
