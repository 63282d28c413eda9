//! NexusLog's configuration.
//!
//! Layers, later wins: built-in defaults → TOML file → `NEXUSLOG_*` environment variables.
//! Every key has exactly one environment variable, named after its path
//! (`bus.kafka.brokers` → `NEXUSLOG_BUS_KAFKA_BROKERS`). The environment is passed in as a
//! map rather than read from the process, so loading is a pure function and testable.
//!
//! Errors name the key, where its value came from, and what was expected; an unknown key in
//! the file or an unknown `NEXUSLOG_*` variable is an error, not a silent typo.

mod model;
mod secret;

use std::collections::BTreeMap;
use std::path::Path;

pub use model::*;
pub use secret::Secret;
use toml::Value;

/// Variables with the `NEXUSLOG_` prefix that are not configuration keys.
const NON_CONFIG_ENV: &[&str] = &["NEXUSLOG_CONFIG", "NEXUSLOG_CACHE_DIR", "NEXUSLOG_SERVICES_DIR"];
const NON_CONFIG_ENV_PREFIXES: &[&str] = &["NEXUSLOG_TEST_"];

/// Whether an unknown `NEXUSLOG_*` variable is one Kubernetes injects for a Service whose name
/// starts with `nexuslog` (service links: `NEXUSLOG_SERVICE_HOST`, `NEXUSLOG_API_SERVICE_PORT_HTTP`,
/// `NEXUSLOG_PORT=tcp://10.0.0.1:8000`, `NEXUSLOG_PORT_8000_TCP_ADDR`, ...). A pod in a
/// namespace holding such a Service gets them whatever its own spec says, and refusing them
/// would make every NexusLog pod there crash-loop; no configuration key has these shapes, and
/// real keys are matched first, so a typo in a key is still an error.
fn is_kubernetes_service_link(name: &str, value: &str) -> bool {
    let Some(rest) = name.strip_prefix("NEXUSLOG") else { return false };
    if rest.ends_with("_SERVICE_HOST") || rest.ends_with("_SERVICE_PORT") || rest.contains("_SERVICE_PORT_") {
        return true;
    }
    // `<SVC>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`, then `<SVC>_PORT=tcp://ip:port`.
    let numbered = rest.rsplit_once("_PORT_").and_then(|(_, after)| after.split_once('_')).is_some_and(|(port, tail)| {
        !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && matches!(tail, "TCP" | "UDP" | "SCTP" | "TCP_PROTO" | "UDP_PROTO" | "SCTP_PROTO" | "TCP_PORT" | "UDP_PORT" | "SCTP_PORT" | "TCP_ADDR" | "UDP_ADDR" | "SCTP_ADDR")
    });
    numbered || (rest.ends_with("_PORT") && ["tcp://", "udp://", "sctp://"].iter().any(|scheme| value.starts_with(scheme)))
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(String),
    Env(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => write!(f, "the default"),
            Origin::File(p) => write!(f, "file {p}"),
            Origin::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("unknown configuration key `{key}` (in {origin}); known keys: {known}")]
    UnknownKey { key: String, origin: Origin, known: String },
    #[error("invalid value for `{key}` (from {origin}): {message}; expected {expected}")]
    Invalid { key: String, origin: Origin, message: String, expected: String },
}

impl ConfigError {
    /// The configuration key the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::UnknownKey { key, .. } | ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Every leaf key of the configuration with its default value, in path order.
pub fn keys() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let defaults = Value::try_from(Config::default()).expect("the default config serializes to TOML");
    flatten("", &defaults, &mut out);
    out
}

/// The environment variable of a key: `bus.kafka.brokers` → `NEXUSLOG_BUS_KAFKA_BROKERS`.
pub fn env_name(key: &str) -> String {
    format!("NEXUSLOG_{}", key.replace('.', "_").to_uppercase())
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Table(t) => {
            for (k, v) in t {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&path, v, out);
            }
        }
        leaf => {
            out.insert(prefix.to_owned(), leaf.clone());
        }
    }
}

fn set_path(root: &mut Value, path: &str, value: Value) {
    let mut cur = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Value::Table(t) = cur else { return };
        if i == parts.len() - 1 {
            t.insert((*part).to_owned(), value);
            return;
        }
        cur = t.entry((*part).to_owned()).or_insert_with(|| Value::Table(Default::default()));
    }
}

/// Loads the configuration from an optional file and the given environment.
///
/// # Errors
/// A [`ConfigError`] naming the first bad key.
pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
    let known = keys();
    let mut origins: BTreeMap<String, Origin> = known.keys().map(|k| (k.clone(), Origin::Default)).collect();
    let mut tree = Value::Table(Default::default());

    if let Some(path) = file {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
        tree = text
            .parse::<toml::Table>()
            .map(Value::Table)
            .map_err(|e| ConfigError::Syntax { path: shown.clone(), message: e.to_string() })?;
        let mut leaves = BTreeMap::new();
        flatten("", &tree, &mut leaves);
        for key in leaves.keys() {
            origins.insert(key.clone(), Origin::File(shown.clone()));
        }
    }

    let by_env: BTreeMap<String, (&String, &Value)> = known.iter().map(|(k, v)| (env_name(k), (k, v))).collect();
    for (name, raw) in env {
        if !name.starts_with("NEXUSLOG_")
            || NON_CONFIG_ENV.contains(&name.as_str())
            || NON_CONFIG_ENV_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            continue;
        }
        let Some((key, default)) = by_env.get(name) else {
            if is_kubernetes_service_link(name, raw) {
                continue;
            }
            return Err(ConfigError::UnknownKey {
                key: name.clone(),
                origin: Origin::Env(name.clone()),
                known: by_env.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        };
        let origin = Origin::Env(name.clone());
        let value = env_value(raw, default).map_err(|expected| ConfigError::Invalid {
            key: (*key).clone(),
            origin: origin.clone(),
            message: format!("cannot parse {raw:?}"),
            expected,
        })?;
        set_path(&mut tree, key, value);
        origins.insert((*key).clone(), origin);
    }

    let config: Config = serde_path_to_error::deserialize(tree).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        let origin = origins.get(&key).cloned().unwrap_or(Origin::Default);
        if let Some(field) = message.strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
            // serde_path_to_error's path already ends at the unknown field.
            let full = if key == field || key.ends_with(&format!(".{field}")) {
                key.clone()
            } else if key == "." || key.is_empty() {
                field.to_owned()
            } else {
                format!("{key}.{field}")
            };
            let origin = origins.get(&full).cloned().unwrap_or(origin);
            return ConfigError::UnknownKey { key: full, origin, known: known.keys().cloned().collect::<Vec<_>>().join(", ") };
        }
        ConfigError::Invalid { expected: expected_for(&key), key, origin, message }
    })?;
    config.validate().map_err(|(key, message, expected)| ConfigError::Invalid {
        origin: origins.get(key).cloned().unwrap_or(Origin::Default),
        key: key.to_owned(),
        message,
        expected: expected.to_owned(),
    })?;
    Ok(config)
}

/// Converts an environment string to the TOML type of the key's default.
fn env_value(raw: &str, default: &Value) -> Result<Value, String> {
    match default {
        Value::String(_) => Ok(Value::String(raw.to_owned())),
        Value::Integer(_) => raw.trim().parse::<i64>().map(Value::Integer).map_err(|_| "an integer".to_owned()),
        Value::Float(_) => raw.trim().parse::<f64>().map(Value::Float).map_err(|_| "a number".to_owned()),
        Value::Boolean(_) => match raw.trim() {
            "true" | "1" | "yes" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" => Ok(Value::Boolean(false)),
            _ => Err("true or false".to_owned()),
        },
        Value::Array(_) => Ok(Value::Array(
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect(),
        )),
        _ => Ok(Value::String(raw.to_owned())),
    }
}

/// What a key's value should look like, from the type of its default.
fn expected_for(key: &str) -> String {
    if let Some(e) = model::expected_hint(key) {
        return e.to_owned();
    }
    match keys().get(key) {
        Some(Value::String(_)) => "a string".into(),
        Some(Value::Integer(_)) => "an integer".into(),
        Some(Value::Boolean(_)) => "true or false".into(),
        Some(Value::Array(_)) => "a list".into(),
        _ => "a value of the documented type".into(),
    }
}

/// The process environment, as the map [`load`] takes.
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

#[cfg(test)]
mod tests;
