//! [`StateStore`] on Redis, through a multiplexed connection manager that reconnects by itself.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use crate::{StateError, StateStore};

/// Redis as the shared state.
#[derive(Clone)]
pub struct RedisState {
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState").finish_non_exhaustive()
    }
}

fn unavailable(e: redis::RedisError) -> StateError {
    StateError::Unavailable(e.to_string())
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisState {
    /// Connects to `url` (`redis://host:port/db`).
    ///
    /// # Errors
    /// When the URL is invalid or the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StateError> {
        Self::connect_with_ca(url, None).await
    }

    /// Connects to `url`; with `rediss://`, the server's certificate must be signed by the CA
    /// in `ca_pem` (or, without one, by a root the system trusts).
    ///
    /// # Errors
    /// When the URL or the CA is invalid, or the server cannot be reached.
    pub async fn connect_with_ca(url: &str, ca_pem: Option<Vec<u8>>) -> Result<Self, StateError> {
        if url.starts_with("rediss://") {
            // redis builds its TLS configuration with the process's default crypto provider;
            // this build links two (ring, and aws-lc through reqwest), so none is implied.
            let _already = rustls::crypto::ring::default_provider().install_default();
        }
        let client = match ca_pem {
            Some(root_cert) => redis::Client::build_with_tls(url, redis::TlsCertificates { client_tls: None, root_cert: Some(root_cert) }),
            None => redis::Client::open(url),
        }
        .map_err(|e| StateError::Config(e.to_string()))?;
        let conn = client.get_connection_manager().await.map_err(unavailable)?;
        Ok(Self { conn })
    }
}

/// Increments and sets the expiry only when the key was created, atomically.
const INCR_SCRIPT: &str = r"
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and v == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v";

/// GET, or SET when absent, in one step: the first writer's value stays.
const GET_OR_SET_SCRIPT: &str = r"
local v = redis.call('GET', KEYS[1])
if v then return v end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return false";

/// `crate::gcra` on the server's clock, so replicas' clocks do not matter. Times in µs
/// (below 2^53: exact in Lua's doubles). Returns the wait, 0 when taken.
const GCRA_SCRIPT: &str = r"
local n, per_sec, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local interval = math.floor(1000000 / math.max(per_sec, 1))
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + n * interval
local allowed_from = new_tat - burst * interval
if allowed_from > now then return allowed_from - now end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 1)
return 0";

#[async_trait]
impl StateStore for RedisState {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let mut c = self.conn.clone();
        c.get(key).await.map_err(unavailable)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StateError> {
        let mut c = self.conn.clone();
        match ttl {
            Some(t) => c.pset_ex::<_, _, ()>(key, value, millis(t)).await,
            None => c.set::<_, _, ()>(key, value).await,
        }
        .map_err(unavailable)
    }

    async fn delete(&self, key: &str) -> Result<bool, StateError> {
        let mut c = self.conn.clone();
        let n: i64 = c.del(key).await.map_err(unavailable)?;
        Ok(n > 0)
    }

    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StateError> {
        let mut c = self.conn.clone();
        redis::Script::new(INCR_SCRIPT)
            .key(key)
            .arg(by)
            .arg(ttl.map_or(0, millis))
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)
    }

    async fn get_or_set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<Option<Vec<u8>>, StateError> {
        let mut c = self.conn.clone();
        redis::Script::new(GET_OR_SET_SCRIPT).key(key).arg(value).arg(ttl.map_or(0, millis)).invoke_async(&mut c).await.map_err(unavailable)
    }

    async fn take_tokens(&self, key: &str, n: u64, per_sec: u64, burst: u64) -> Result<Option<Duration>, StateError> {
        let mut c = self.conn.clone();
        let wait: u64 = redis::Script::new(GCRA_SCRIPT).key(key).arg(n).arg(per_sec).arg(burst).invoke_async(&mut c).await.map_err(unavailable)?;
        Ok((wait > 0).then(|| Duration::from_micros(wait)))
    }

    async fn health(&self) -> Result<(), StateError> {
        let mut c = self.conn.clone();
        let pong: String = redis::cmd("PING").query_async(&mut c).await.map_err(unavailable)?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StateError::Unavailable(format!("PING answered {pong:?}")))
        }
    }
}
