//! Session access tokens: short-lived HS256 JWTs naming the user and the session. A token alone
//! is not enough: [`crate::authz`] also checks the session is live, so logout revokes at once.

use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    pub email: String,
    /// Instance admin. Changing it revokes the user's sessions, so a stale claim cannot outlive it.
    pub adm: bool,
    pub iat: u64,
    pub exp: u64,
}

/// Signs and checks access tokens with one secret.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    /// The signing secret again, to derive rotated refresh tokens.
    refresh_key: Vec<u8>,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation, ttl, refresh_key: secret.to_vec() }
    }

    /// The refresh secret that rotating `presented` issues. Derived (an HMAC under the signing
    /// secret) rather than random, so a second refresh racing the rotation within the grace
    /// window gets the very same token back, without the store keeping any token in clear; and
    /// nobody without the secret can compute it.
    pub fn next_refresh_secret(&self, session_id: &str, presented: &str) -> String {
        nexuslog_metastore::keys::hmac_hex(&self.refresh_key, format!("refresh\0{session_id}\0{presented}").as_bytes())
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed token for the session.
    ///
    /// # Errors
    /// Only if signing fails (it does not with an HMAC key).
    pub fn issue(&self, user_id: &str, session_id: &str, email: &str, is_admin: bool) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = nexuslog_metastore::now().unsigned_abs() / 1_000_000;
        let claims = Claims { sub: user_id.into(), sid: session_id.into(), email: email.into(), adm: is_admin, iat, exp: iat + self.ttl.as_secs() };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a genuine, unexpired token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = Tokens::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let token = t.issue("u1", "s1", "a@b.c", true).expect("sign");
        let c = t.verify(&token).expect("valid");
        assert_eq!((c.sub.as_str(), c.sid.as_str(), c.adm), ("u1", "s1", true));
        let other = Tokens::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert!(other.verify(&token).is_none(), "signed with another secret");
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = {
            use jsonwebtoken::EncodingKey;
            let claims = Claims { adm: true, sub: "u2".into(), ..c };
            encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"guess")).expect("sign")
        };
        let forged_payload = forged.split('.').nth(1).expect("payload");
        parts[1] = forged_payload;
        assert!(t.verify(&parts.join(".")).is_none(), "payload swapped");
        assert!(t.verify("not.a.token").is_none());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let t = Tokens::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(0));
        let mut claims = t.verify(&t.issue("u", "s", "e", false).expect("sign")).expect("within leeway");
        claims.exp -= 3600;
        let old = encode(&Header::new(Algorithm::HS256), &claims, &t.encoding).expect("sign");
        assert!(t.verify(&old).is_none());
    }
}
