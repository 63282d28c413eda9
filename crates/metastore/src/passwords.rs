//! User passwords: Argon2id hashes in PHC format (algorithm, parameters and salt travel with
//! the hash, so parameters can be raised later without invalidating stored hashes).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::MetaStoreError;

/// # Errors
/// Only if the hasher fails (it does not for valid input).
pub fn hash(password: &str) -> Result<String, MetaStoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| MetaStoreError::Config(format!("password hashing: {e}")))
}

/// Whether `password` matches a stored hash; a malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random password for a generated admin account: 24 alphanumerics.
pub fn generate() -> String {
    crate::keys::generate().secret[4..28].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let h = hash("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong", &h));
        assert_ne!(hash("correct horse").expect("hash"), h, "salted");
        assert!(!verify("x", "not a phc string"));
        assert_eq!(generate().len(), 24);
    }
}
