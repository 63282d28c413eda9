//! API keys: how they look, how they are stored, how a presented key is checked.
//!
//! A key is `nxl_` + 32 random alphanumerics. The first 12 characters are its *prefix*: stored
//! in clear, shown in listings, used to find the row. Only a SHA-256 of the whole key is
//! stored: keys are long and random, so a slow password hash adds cost without adding safety.

use sha2::{Digest, Sha256};

use crate::{ApiKey, MetaStore, MetaStoreError};

/// What every key starts with, so a key is told apart from a session token at a glance.
pub const KEY_PREFIX: &str = "nxl_";
const PREFIX_LEN: usize = 12;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// What a key may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Ingest,
    Read,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
        }
    }
}

/// A newly generated key: the secret (shown once) and its prefix.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

pub fn generate() -> NewKey {
    use rand::Rng;
    let mut rng = rand::rng();
    let body: String = (0..32).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    from_secret(&format!("{KEY_PREFIX}{body}"))
}

/// The stored form of a given secret (for keys supplied by configuration).
pub fn from_secret(secret: &str) -> NewKey {
    NewKey { secret: secret.to_owned(), prefix: prefix_of(secret).to_owned(), hash: hash(secret) }
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// HMAC-SHA-256 (RFC 2104) of `message` under `key`, hex: for values that must be derivable
/// again by the server and by nobody else.
pub fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    hex::encode(Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize())
}

fn prefix_of(secret: &str) -> &str {
    secret.get(..PREFIX_LEN).unwrap_or(secret)
}

/// Why a presented key was refused. Deliberately coarse towards clients.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("missing API key")]
    Missing,
    #[error("invalid API key")]
    Invalid,
    #[error("API key revoked")]
    Revoked,
    #[error("API key expired")]
    Expired,
    #[error("API key lacks the {0} scope")]
    Scope(&'static str),
    #[error(transparent)]
    Store(#[from] MetaStoreError),
}

/// The key a request presents: `Authorization: Bearer <key>` wins over `X-API-Key: <key>`;
/// empty when neither is there.
pub fn presented<'a>(authorization: Option<&'a str>, x_api_key: Option<&'a str>) -> &'a str {
    if let Some(k) = authorization.and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))) {
        return k.trim();
    }
    x_api_key.map_or("", str::trim)
}

/// Finds the key row for a presented key and checks it is genuine and not revoked.
///
/// # Errors
/// A [`KeyError`] saying why the key is refused, or that the store is unavailable.
pub async fn lookup(store: &dyn MetaStore, presented: &str) -> Result<ApiKey, KeyError> {
    if presented.is_empty() {
        return Err(KeyError::Missing);
    }
    if presented.len() < PREFIX_LEN {
        return Err(KeyError::Invalid);
    }
    let row = store.api_key_by_prefix(prefix_of(presented)).await?.ok_or(KeyError::Invalid)?;
    // Compare hashes without an early exit, so timing does not reveal how much matched.
    let given = hash(presented);
    let equal = given.len() == row.key_hash.len() && given.bytes().zip(row.key_hash.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !equal {
        return Err(KeyError::Invalid);
    }
    if row.revoked_at.is_some() {
        return Err(KeyError::Revoked);
    }
    check_expiry(&row)?;
    Ok(row)
}

/// # Errors
/// [`KeyError::Expired`] past the key's expiry (checked on every use, cached or not).
pub fn check_expiry(key: &ApiKey) -> Result<(), KeyError> {
    match key.expires_at {
        Some(at) if at <= crate::now() => Err(KeyError::Expired),
        _ => Ok(()),
    }
}

/// # Errors
/// [`KeyError::Scope`] when the key does not carry `scope`.
pub fn check_scope(key: &ApiKey, scope: Scope) -> Result<(), KeyError> {
    if key.scopes.split(',').any(|s| s.trim() == scope.as_str()) {
        Ok(())
    } else {
        Err(KeyError::Scope(scope.as_str()))
    }
}

/// [`lookup`] then [`check_scope`].
///
/// # Errors
/// As those two.
pub async fn verify(store: &dyn MetaStore, presented: &str, scope: Scope) -> Result<ApiKey, KeyError> {
    let key = lookup(store, presented).await?;
    check_scope(&key, scope)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_key_from_either_header() {
        assert_eq!(presented(None, None), "");
        assert_eq!(presented(None, Some(" nxl_abc ")), "nxl_abc");
        assert_eq!(presented(Some("Bearer nxl_xyz"), Some("nxl_abc")), "nxl_xyz");
        assert_eq!(presented(Some("Basic dXNlcg=="), Some("nxl_abc")), "nxl_abc");
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(hmac_hex(b"Jefe", b"what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hmac_hex(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn generated_keys_have_prefix_and_hash() {
        let k = generate();
        assert!(k.secret.starts_with("nxl_") && k.secret.len() == 36);
        assert_eq!(k.prefix, &k.secret[..12]);
        assert_eq!(k.hash, hash(&k.secret));
        assert_ne!(generate().secret, k.secret);
    }
}
