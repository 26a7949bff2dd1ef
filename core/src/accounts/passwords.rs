//! Password hashing with argon2id. Hashing is deliberately slow and takes about 19 MiB, so it
//! runs on the blocking pool, never on the async workers, and only a few at once: a flood of
//! sign-ins waits briefly for a turn, then is told to come back, and memory stays bounded.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;
use std::time::Duration;
use varai_domain::Password;

use crate::error::{AppError, Result};
use crate::turns::Turns;

/// Password hashes and checks running at once: two per core, each waiting at most 2 s.
fn turns() -> &'static Turns {
    static TURNS: OnceLock<Turns> = OnceLock::new();
    TURNS.get_or_init(|| Turns::per_core(2, Duration::from_secs(2), BUSY))
}

/// What a caller is told when every turn is taken.
pub const BUSY: &str = "too many sign-ins at once; try again in a second";

/// Hashes a new password into a PHC string.
pub async fn hash_password(password: Password) -> Result<String> {
    turns()
        .run(move || hash_blocking(password.expose()))
        .await?
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "argon2 could not hash a password");
            AppError::Internal
        })
}

/// Checks `candidate` against a stored hash; a malformed hash never matches. With no hash
/// (an unknown user) it still does the work, so timing does not tell which names exist.
pub async fn verify_password(hash: Option<String>, candidate: String) -> Result<bool> {
    turns()
        .run(move || {
            let hash = hash.as_deref().unwrap_or_else(|| decoy_hash());
            match PasswordHash::new(hash) {
                Ok(parsed) => Argon2::default()
                    .verify_password(candidate.as_bytes(), &parsed)
                    .is_ok(),
                Err(_) => false,
            }
        })
        .await
}

/// A hash of a random password, computed once, to verify against for unknown users.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_blocking(&random_secret(24)).unwrap_or_default())
}

/// A random string of `len` characters from an alphabet without look-alikes.
pub fn random_secret(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
