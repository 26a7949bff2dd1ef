//! The account rules: who may manage users and tokens, how sign-in is checked and throttled,
//! and how the first admin comes to exist. Server functions and REST handlers both call these.

use sha2::{Digest, Sha256};
use varai_domain::account::parse_token_name;
use varai_domain::{Password, Role, Username};

use super::passwords::{hash_password, random_secret, verify_password};
use super::port::{AccountStore, AuditFilter, NewToken, NewUser, UserChange};
use super::{Actor, ApiToken, AuditPage, CreatedToken, Principal, User};
use crate::Services;
use crate::clock::now_ms;
use crate::error::{AppError, Result};

/// The prefix every API token secret starts with, so a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "varai_";
/// The most audit events one page returns.
pub const AUDIT_PAGE_MAX: u32 = 200;

pub async fn list_users(services: &Services, who: &Principal) -> Result<Vec<User>> {
    who.require(Role::Admin)?;
    services.accounts.list_users().await
}

pub async fn create_user(
    services: &Services,
    who: &Principal,
    username: &str,
    password: &str,
    role: &str,
) -> Result<User> {
    who.require(Role::Admin)?;
    let username = Username::parse(username)?;
    let role = Role::parse_field(role, "role")?;
    let password = Password::parse(password)?;
    let password_hash = hash_password(password).await?;
    let new = NewUser {
        username,
        password_hash,
        role,
    };
    services.accounts.create_user(who, new, now_ms()).await
}

pub async fn change_role(
    services: &Services,
    who: &Principal,
    id: i64,
    role: &str,
) -> Result<User> {
    who.require(Role::Admin)?;
    let role = Role::parse_field(role, "role")?;
    if role != Role::Admin {
        keep_an_admin(services, id, "role").await?;
    }
    let change = UserChange::Role(role);
    services
        .accounts
        .change_user(who, id, change, now_ms())
        .await
}

pub async fn set_disabled(
    services: &Services,
    who: &Principal,
    id: i64,
    disabled: bool,
) -> Result<User> {
    who.require(Role::Admin)?;
    if disabled {
        keep_an_admin(services, id, "disabled").await?;
    }
    let change = UserChange::Disabled(disabled);
    services
        .accounts
        .change_user(who, id, change, now_ms())
        .await
}

/// Refuses a change that would leave no enabled admin to manage the product.
async fn keep_an_admin(services: &Services, changing: i64, field: &str) -> Result<()> {
    let users = services.accounts.list_users().await?;
    let other_admins = users
        .iter()
        .filter(|u| u.role == Role::Admin && !u.disabled && u.id != changing)
        .count();
    let is_admin = users
        .iter()
        .any(|u| u.id == changing && u.role == Role::Admin && !u.disabled);
    if is_admin && other_admins == 0 {
        return Err(AppError::Conflict {
            field: field.to_owned(),
            message: "this is the last enabled admin; make another admin first".into(),
        });
    }
    Ok(())
}

pub async fn list_tokens(services: &Services, who: &Principal) -> Result<Vec<ApiToken>> {
    who.require(Role::Admin)?;
    services.accounts.list_tokens().await
}

pub async fn create_token(
    services: &Services,
    who: &Principal,
    name: &str,
    role: &str,
) -> Result<CreatedToken> {
    who.require(Role::Admin)?;
    issue_token(services.accounts.as_ref(), who, name, role).await
}

/// Creates a token on behalf of `who`; also used by the command line as [`Principal::cli`].
pub async fn issue_token(
    store: &dyn AccountStore,
    who: &Principal,
    name: &str,
    role: &str,
) -> Result<CreatedToken> {
    let name = parse_token_name(name)?;
    let role = Role::parse_field(role, "role")?;
    let secret = format!("{TOKEN_PREFIX}{}", random_secret(40));
    let new = NewToken {
        name,
        role,
        prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
        secret_hash: hash_token(&secret),
    };
    let token = store.create_token(who, new, now_ms()).await?;
    Ok(CreatedToken { token, secret })
}

pub async fn revoke_token(services: &Services, who: &Principal, id: i64) -> Result<ApiToken> {
    who.require(Role::Admin)?;
    services.accounts.revoke_token(who, id, now_ms()).await
}

/// SHA-256 of a token secret, hex. Secrets are long and random, so a fast hash suffices.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The caller a bearer token stands for, if it is a live token.
pub async fn authenticate_token(store: &dyn AccountStore, secret: &str) -> Result<Principal> {
    let token = store
        .use_token(&hash_token(secret.trim()), now_ms())
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok(Principal {
        actor: Actor {
            user_id: None,
            name: format!("token:{}", token.name),
            behind: Actor::person_behind(token.created_by),
        },
        role: token.role,
    })
}

/// Checks a username and password from a client `address`, slowing down repeated failures of
/// one account from that address (a guesser elsewhere cannot lock the owner out). Unknown
/// users, wrong passwords and disabled accounts all read as one failure to the caller.
pub async fn authenticate_password(
    store: &dyn AccountStore,
    username: &str,
    password: &str,
    address: &str,
) -> Result<User> {
    let record = match Username::parse(username) {
        Ok(name) => store.find_user_by_name(name.as_str()).await?,
        Err(_) => None,
    };
    let now = now_ms();
    if let Some(r) = &record
        && let Some(wait) = store.reserve_sign_in(r.user.id, address, now).await?
    {
        return Err(AppError::TooManyRequests {
            retry_after_secs: (wait as u64).div_ceil(1000),
        });
    }
    let hash = record.as_ref().map(|r| r.password_hash.clone());
    let matches = verify_password(hash, password.to_owned()).await?;
    match record {
        Some(r) if matches && !r.user.disabled => {
            store.record_login(r.user.id, address, now).await?;
            Ok(r.user)
        }
        Some(r) => {
            store.record_login_failure(r.user.id, now).await?;
            Err(AppError::Unauthenticated)
        }
        None => Err(AppError::Unauthenticated),
    }
}

/// Resolves a signed-in session's user id to its caller, unless the user is gone or disabled.
pub async fn principal_for_user(store: &dyn AccountStore, id: i64) -> Result<Option<Principal>> {
    Ok(store.get_user(id).await?.and_then(|r| {
        (!r.user.disabled).then(|| Principal {
            actor: Actor {
                user_id: Some(r.user.id),
                name: r.user.username.clone(),
                behind: None,
            },
            role: r.user.role,
        })
    }))
}

/// With no users at all, creates `admin` with the given password or a random one, and
/// returns the credentials so they can be shown once.
pub async fn bootstrap_admin(
    store: &dyn AccountStore,
    password: Option<String>,
) -> Result<Option<(String, String)>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let password = password.unwrap_or_else(|| random_secret(20));
    let parsed = Password::parse(&password).map_err(|e| AppError::Invalid {
        field: "VARAI_ADMIN_PASSWORD".into(),
        message: e.message,
    })?;
    let new = NewUser {
        username: Username::parse("admin")?,
        password_hash: hash_password(parsed).await?,
        role: Role::Admin,
    };
    let user = store
        .create_user(&Principal::system(), new, now_ms())
        .await?;
    Ok(Some((user.username, password)))
}

pub async fn list_audit(
    services: &Services,
    who: &Principal,
    actor: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
) -> Result<AuditPage> {
    who.require(Role::Viewer)?;
    let filter = AuditFilter {
        actor: actor.filter(|a| !a.is_empty()),
        target: None,
        before,
        limit: limit.unwrap_or(50).clamp(1, AUDIT_PAGE_MAX),
    };
    let mut page = services.accounts.list_audit(&filter).await?;
    if who.role < Role::Admin {
        // Accounts are an admin's business (`/users` is admin-only): others see that an
        // account or token changed, not its role or state.
        for event in &mut page.events {
            if event.action.starts_with("user.") || event.action.starts_with("token.") {
                event.before = None;
                event.after = None;
            }
        }
    }
    Ok(page)
}

pub async fn list_audit_actors(services: &Services, who: &Principal) -> Result<Vec<String>> {
    who.require(Role::Viewer)?;
    services.accounts.list_audit_actors().await
}

/// A signed-in user replaces their own password, proving they know the current one.
pub async fn change_own_password(
    services: &Services,
    who: &Principal,
    current: &str,
    new_password: &str,
) -> Result<()> {
    let id = who.actor.user_id.ok_or(AppError::Forbidden {
        required: Role::Viewer,
        actual: who.role,
    })?;
    let record = services
        .accounts
        .get_user(id)
        .await?
        .ok_or_else(|| AppError::NotFound("user".into()))?;
    if !verify_password(Some(record.password_hash), current.to_owned()).await? {
        return Err(AppError::Invalid {
            field: "current".into(),
            message: "the current password is wrong".into(),
        });
    }
    let hash = hash_password(Password::parse(new_password)?).await?;
    let change = UserChange::PasswordHash(hash);
    services
        .accounts
        .change_user(who, id, change, now_ms())
        .await?;
    Ok(())
}
