//! Credentials at rest: AES-256-GCM with keys from `secrets.key_file`.
//!
//! A sealed value is `sealed:v1:<key id>:<base64(nonce ‖ ciphertext)>`, bound to where it is
//! stored (the associated data names the table, column and row), so a value copied to another
//! row does not open. The first key of the file seals; every key opens, so rotating is: put the
//! new key on the first line, restart, and [`crate::SqlMetaStore::reseal`] (run at start)
//! rewrites what older keys sealed. Values stored before sealing was configured are read as they
//! are and sealed at their next write.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::MetaStoreError;

const PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 12;

/// The keys of `secrets.key_file`: the first seals, all open.
#[derive(Clone)]
pub struct SealingKeys {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for SealingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key ids only: never the keys.
        f.debug_struct("SealingKeys").field("ids", &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>()).finish()
    }
}

/// A new key, as a line of a key file.
pub fn new_key_line() -> String {
    use rand::Rng;
    let key: [u8; 32] = rand::rng().random();
    hex::encode(key)
}

fn key_id(key: &[u8]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

impl SealingKeys {
    /// Reads the keys from the text of a key file: one key per line, 64 hex characters; blank
    /// lines and `#` comments are skipped.
    ///
    /// # Errors
    /// A line that is not a 32-byte hex key (named by its number), or no key at all.
    pub fn parse(text: &str) -> Result<Self, MetaStoreError> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bytes = hex::decode(line).ok().filter(|b| b.len() == 32).ok_or_else(|| {
                MetaStoreError::Config(format!("secrets.key_file line {}: not a key (64 hex characters, 32 bytes)", n + 1))
            })?;
            keys.push((key_id(&bytes), Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes))));
        }
        if keys.is_empty() {
            return Err(MetaStoreError::Config("secrets.key_file holds no key".into()));
        }
        Ok(Self { keys })
    }

    /// Reads a key file.
    ///
    /// # Errors
    /// The file cannot be read, or [`SealingKeys::parse`] refuses it.
    pub fn load(path: &Path) -> Result<Self, MetaStoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| MetaStoreError::Config(format!("secrets.key_file {}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// Reads the key file at `path`, creating it with a new key (readable by its owner only)
    /// when it does not exist: the standalone default.
    ///
    /// # Errors
    /// As [`SealingKeys::load`], or the file cannot be created.
    pub fn load_or_create(path: &Path) -> Result<Self, MetaStoreError> {
        if !path.exists() {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let created = options.open(path).and_then(|mut f| {
                use std::io::Write;
                writeln!(f, "# NexusLog's key for credentials at rest (secrets.key_file). Keep a copy: without it they cannot be read.")?;
                writeln!(f, "{}", new_key_line())?;
                f.sync_all()
            });
            // Another process may have created it first; loading tells.
            if let Err(e) = created {
                if e.kind() != std::io::ErrorKind::AlreadyExists {
                    return Err(MetaStoreError::Config(format!("secrets.key_file {}: {e}", path.display())));
                }
            }
        }
        Self::load(path)
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    /// Seals `plain`, bound to `context` (where it is stored).
    ///
    /// # Errors
    /// Only if the cipher refuses (it does not for these sizes).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, MetaStoreError> {
        let (id, cipher) = &self.keys[0];
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| MetaStoreError::Config("sealing a credential failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{id}:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)))
    }

    /// Opens a value [`SealingKeys::seal`] made for `context`; a value that is not sealed is
    /// returned as it is (stored before sealing was configured).
    ///
    /// # Errors
    /// No key of the file has the value's key id, or the value was changed or moved.
    pub fn open(&self, stored: &str, context: &str) -> Result<String, MetaStoreError> {
        open_with(Some(self), stored, context)
    }

    /// Whether `stored` is sealed with the current key (else a write should reseal it).
    pub fn is_current(&self, stored: &str) -> bool {
        stored.strip_prefix(PREFIX).and_then(|rest| rest.split_once(':')).is_some_and(|(id, _)| id == self.current_id())
    }
}

/// Opens `stored` with `keys`; without keys, a sealed value is an error naming the missing
/// setting and a plain one is returned as it is.
pub(crate) fn open_with(keys: Option<&SealingKeys>, stored: &str, context: &str) -> Result<String, MetaStoreError> {
    let Some(rest) = stored.strip_prefix(PREFIX) else {
        return Ok(stored.to_owned());
    };
    let unreadable = |why: &str| MetaStoreError::Config(format!("a stored credential ({context}) cannot be read: {why}"));
    let keys = keys.ok_or_else(|| unreadable("it is encrypted and `secrets.key_file` is not set"))?;
    let (id, data) = rest.split_once(':').ok_or_else(|| unreadable("malformed"))?;
    let (_, cipher) = keys.keys.iter().find(|(k, _)| k == id).ok_or_else(|| unreadable(&format!("no key with id {id} in `secrets.key_file`")))?;
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(data).map_err(|_| unreadable("malformed"))?;
    if bytes.len() < NONCE_LEN {
        return Err(unreadable("malformed"));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() })
        .map_err(|_| unreadable("it does not open with its key (changed, or copied from elsewhere)"))?;
    String::from_utf8(plain).map_err(|_| unreadable("not text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(lines: &[&str]) -> SealingKeys {
        SealingKeys::parse(&lines.join("\n")).expect("keys")
    }

    #[test]
    fn sealed_values_open_only_in_their_place_and_hide_the_text() {
        let k = keys(&[&new_key_line()]);
        let sealed = k.seal("hooks.slack.com/services/T0/B0/xyz", "alert_channels.config:c1").expect("seal");
        assert!(sealed.starts_with("sealed:v1:") && !sealed.contains("slack"), "{sealed}");
        assert_ne!(sealed, k.seal("hooks.slack.com/services/T0/B0/xyz", "alert_channels.config:c1").expect("seal"), "a fresh nonce each time");
        assert_eq!(k.open(&sealed, "alert_channels.config:c1").expect("open"), "hooks.slack.com/services/T0/B0/xyz");
        assert!(k.open(&sealed, "alert_channels.config:c2").is_err(), "moved to another row");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(k.open(&tampered, "alert_channels.config:c1").is_err());
        assert_eq!(k.open("{\"url\":\"x\"}", "any").expect("plain"), "{\"url\":\"x\"}", "values from before sealing read as they are");
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_seals_with_the_new_key() {
        let (old, new) = (new_key_line(), new_key_line());
        let before = keys(&[&old]).seal("secret", "ctx").expect("seal");
        let rotated = keys(&["# new key first", &new, "", &old]);
        assert_eq!(rotated.open(&before, "ctx").expect("old value opens"), "secret");
        assert!(!rotated.is_current(&before), "sealed with the old key: to be resealed");
        let after = rotated.seal("secret", "ctx").expect("seal");
        assert!(rotated.is_current(&after));
        let err = keys(&[&new]).open(&before, "ctx").expect_err("the old key removed");
        assert!(err.to_string().contains("no key with id"), "{err}");
        assert!(open_with(None, &after, "ctx").expect_err("no keys").to_string().contains("secrets.key_file"));
    }

    #[test]
    fn bad_key_files_name_the_line() {
        let err = SealingKeys::parse("# comment\nnot-a-key\n").expect_err("bad");
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(SealingKeys::parse("# only a comment\n").is_err());
        assert!(SealingKeys::parse(&"ab".repeat(16)).is_err(), "16 bytes is not an AES-256 key");
    }

    #[test]
    fn a_created_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("secrets.key");
        let first = SealingKeys::load_or_create(&path).expect("created");
        let second = SealingKeys::load_or_create(&path).expect("loaded");
        assert_eq!(first.current_id(), second.current_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
    }
}
