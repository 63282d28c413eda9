//! The command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nexuslog_config::Config;

/// NexusLog: real-time log analytics and alerting.
///
/// With no command, runs every role in one process (standalone). Configuration comes from
/// built-in defaults, then the TOML file given by --config (or NEXUSLOG_CONFIG), then NEXUSLOG_*
/// environment variables, then the flags below. `nexuslog config keys` lists every key.
#[derive(Debug, Parser)]
#[command(name = "nexuslog", version, propagate_version = true)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, short = 'c', env = "NEXUSLOG_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory for embedded data (overrides `data_dir`).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// HTTP listen address (overrides `http.addr`, e.g. 0.0.0.0:8000).
    #[arg(long, global = true)]
    pub http_addr: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Standalone,
    Gateway,
    Processor,
    Sink,
    Api,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Gateway => "gateway",
            Role::Processor => "processor",
            Role::Sink => "sink",
            Role::Api => "api",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every role in one process (the default). Uses the configured backends: embedded by
    /// default, or Kafka/OpenSearch/PostgreSQL/Redis when configured.
    Standalone,
    /// Ingest gateway: accepts logs over HTTP (POST /v1/logs/bulk) and writes raw events to the
    /// bus, answering only after the bus acknowledged them.
    Gateway,
    /// Stream processor: consumes raw events, parses and normalizes them, writes log records
    /// (and dead letters) to the bus, committing input offsets in the same transaction.
    Processor,
    /// Sink: consumes log records and bulk-indexes them into the log store, committing offsets
    /// only after the bulk request succeeded.
    Sink,
    /// API: search and management over HTTP, reading from the log store and metadata store.
    Api,
    /// Inspect the configuration without starting anything.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Exit 0 when this instance answers `GET /healthz` on `http.addr` within 3 s, else 1: the
    /// container image's HEALTHCHECK (the image holds no curl or shell).
    Healthcheck,
    /// Operator commands on the configured metadata store.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// List dead letters, or re-submit them through the normal path (idempotently: each keeps
    /// its id, so a replayed event that was indexed before is not indexed twice). With the
    /// embedded log, stop the server first (the log is one process's file).
    Deadletter {
        #[command(subcommand)]
        action: DeadLetterAction,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum DeadLetterAction {
    /// Print the matching dead letters, one JSON object per line (newest last).
    List {
        #[command(flatten)]
        filter: DeadLetterFilter,
        /// Most letters printed.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Re-submit the matching dead letters: events go back to the raw topic for the current
    /// pipeline, whole records back to the topic they came from.
    Replay {
        #[command(flatten)]
        filter: DeadLetterFilter,
        /// Count what would be re-submitted, and submit nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Which dead letters a command takes; all of them by default.
#[derive(Debug, Clone, clap::Args)]
pub struct DeadLetterFilter {
    /// Only this project (its id).
    #[arg(long)]
    pub project: Option<String>,
    /// Only this stage: gateway, processor or sink.
    #[arg(long)]
    pub stage: Option<String>,
    /// Only letters whose error kind or reason contains this text (case-insensitive).
    #[arg(long)]
    pub reason: Option<String>,
    /// Only letters that failed at or after this time: RFC 3339, or an age like 24h or 7d.
    #[arg(long)]
    pub since: Option<String>,
    /// Only letters that failed before this time: RFC 3339, or an age like 1h.
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AdminAction {
    /// Give a user a new generated password (printed once), enable the account and end its
    /// sessions: the way back in when the only admin's password is lost.
    ResetPassword {
        /// The account's e-mail, e.g. admin@localhost.
        email: String,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ConfigAction {
    /// Validate the configuration and exit 0, or print what is wrong and exit 2.
    Check,
    /// List every key with its environment variable and default value.
    Keys,
    /// Print the effective configuration as TOML (secrets hidden).
    Show,
}

impl Cli {
    pub fn role(&self) -> Role {
        match self.command {
            None | Some(Command::Standalone) | Some(Command::Config { .. }) | Some(Command::Admin { .. }) | Some(Command::Deadletter { .. }) | Some(Command::Healthcheck) => Role::Standalone,
            Some(Command::Gateway) => Role::Gateway,
            Some(Command::Processor) => Role::Processor,
            Some(Command::Sink) => Role::Sink,
            Some(Command::Api) => Role::Api,
        }
    }

    /// Defaults → file → environment → flags (flags are applied as environment overrides, so
    /// they are validated exactly like every other source).
    pub fn load_config(&self) -> Result<Config, nexuslog_config::ConfigError> {
        let mut env = nexuslog_config::process_env();
        if let Some(dir) = &self.data_dir {
            env.insert("NEXUSLOG_DATA_DIR".into(), dir.display().to_string());
        }
        if let Some(addr) = &self.http_addr {
            env.insert("NEXUSLOG_HTTP_ADDR".into(), addr.clone());
        }
        nexuslog_config::load(self.config.as_deref(), &env)
    }
}

/// Runs `config ...` commands, which need no runtime; `None` for every other command.
pub fn run_offline_command(cli: &Cli, config: &Config) -> Option<ExitCode> {
    if let Some(Command::Healthcheck) = &cli.command {
        return Some(healthcheck(config.http.addr, !config.http.tls_cert.is_empty()));
    }
    let Some(Command::Config { action }) = &cli.command else { return None };
    match action {
        ConfigAction::Check => println!("configuration is valid"),
        ConfigAction::Keys => {
            println!("{:<34} {:<44} default", "key", "environment variable");
            for (key, default) in nexuslog_config::keys() {
                let shown = if key.ends_with("password") || key.ends_with("api_key") || key.ends_with(".url") && key.contains("postgres") {
                    "(secret)".to_owned()
                } else {
                    default.to_string()
                };
                println!("{key:<34} {:<44} {shown}", nexuslog_config::env_name(&key));
            }
        }
        ConfigAction::Show => match toml::to_string_pretty(&redacted(config)) {
            Ok(text) => print!("{text}"),
            Err(err) => {
                eprintln!("error: cannot print configuration: {err}");
                return Some(ExitCode::FAILURE);
            }
        },
    }
    Some(ExitCode::SUCCESS)
}

fn redacted(config: &Config) -> Config {
    let mut c = config.clone();
    let hide = |s: &mut nexuslog_config::Secret| {
        if s.is_set() {
            *s = nexuslog_config::Secret::new("***");
        }
    };
    hide(&mut c.bootstrap.api_key);
    hide(&mut c.bootstrap.admin_password);
    hide(&mut c.logstore.opensearch.password);
    hide(&mut c.metastore.postgres.url);
    hide(&mut c.state.redis.url);
    c
}

/// `GET /healthz` on the local listener with plain HTTP/1.0: no runtime, no client library.
///
/// With HTTPS on the port, the plain request gets the listener's own "HTTPS only" 400, which
/// proves what `/healthz` proves (the process accepts and answers connections) without a TLS
/// client here, and without the client certificate mutual TLS would ask for.
fn healthcheck(addr: std::net::SocketAddr, https: bool) -> ExitCode {
    use std::io::{Read, Write};
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
    // A wildcard bind address is reached on loopback.
    let target = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::SocketAddr::from(([127, 0, 0, 1], addr.port())),
        ip if ip.is_unspecified() => std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    };
    let answer = (|| -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect_timeout(&target, TIMEOUT)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut head = [0u8; 64];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    })();
    match answer {
        Ok(line) if line.starts_with("HTTP/1.0 200") || line.starts_with("HTTP/1.1 200") => ExitCode::SUCCESS,
        Ok(line) if https && line.starts_with("HTTP/1.1 400") => ExitCode::SUCCESS,
        Ok(line) => {
            eprintln!("unhealthy: {target} answered {:?}", line.lines().next().unwrap_or_default());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {target}: {e}");
            ExitCode::FAILURE
        }
    }
}
