//! Who is calling, and whether they may: resolves the session cookie or bearer token into a
//! [`Caller`], sends signed-out browsers to the sign-in page, refuses cross-origin writes,
//! and handles sign-in and sign-out.

use axum::extract::{Form, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use varai_core::Services;
use varai_core::accounts::{Caller, Principal};
use varai_core::accounts::{authenticate_password, authenticate_token, principal_for_user};
use varai_core::clock::now_ms;
use varai_core::error::AppError;

use varai_domain::url::encode_query_value as urlencode;

use super::error::{error_response, json_error};

use crate::storage::USER_ID;

/// The files of `public/`, served at the site's root.
const PUBLIC_FILES: [&str; 1] = ["/favicon.svg"];

/// Built files (WASM, JS, CSS under `/pkg/`) and the files of `public/`: served to anyone,
/// with no session lookup. Decided by the path's place, never by how its name looks, so a
/// page such as `/flags/checkout.v2` is not mistaken for one.
fn is_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || PUBLIC_FILES.contains(&path)
}

/// Paths anyone may open without signing in.
fn is_public(path: &str) -> bool {
    const PREFIXES: [&str; 6] = [
        "/login", "/api/", "/rpc/", "/healthz", "/readyz", "/metrics",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p)) || is_asset(path)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

pub(crate) async fn resolve(
    services: &Services,
    session: &Session,
    headers: &HeaderMap,
) -> Result<Option<Principal>, AppError> {
    if let Some(secret) = bearer(headers) {
        return authenticate_token(services.accounts.as_ref(), secret)
            .await
            .map(Some);
    }
    match session.get::<i64>(USER_ID).await {
        Ok(Some(id)) => principal_for_user(services.accounts.as_ref(), id).await,
        Ok(None) => Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, "unreadable session; treating as signed out");
            Ok(None)
        }
    }
}

/// Puts the [`Caller`] into the request; a bad bearer token is refused outright, and a
/// signed-out browser asking for a page is sent to sign in.
pub async fn resolve_caller(
    State(services): State<Services>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    if is_asset(req.uri().path()) {
        return next.run(req).await;
    }
    let principal = match resolve(&services, &session, req.headers()).await {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    let path = req.uri().path();
    if req.method() == Method::GET && !is_public(path) && principal.is_none() {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let login = if target == "/" {
            "/login".to_owned()
        } else {
            format!("/login?next={}", urlencode(target))
        };
        return Redirect::to(&login).into_response();
    }
    if path == "/login" && req.method() == Method::GET && principal.is_some() {
        return Redirect::to("/").into_response();
    }
    req.extensions_mut().insert(Caller(principal));
    next.run(req).await
}

/// Refuses state-changing requests that a browser sent from another site.
pub async fn refuse_cross_origin(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let https = req
        .extensions()
        .get::<super::Client>()
        .is_some_and(|c| c.https);
    if !safe && is_cross_origin(req.headers(), https) {
        tracing::warn!(path = %req.uri().path(), "refused a cross-origin request");
        let message = "requests that change state must come from this site".to_owned();
        return json_error(StatusCode::FORBIDDEN, "cross_origin", message, None);
    }
    next.run(req).await
}

/// True when the `Origin` (or, without it, `Sec-Fetch-Site`) shows another site sent this:
/// the origin must be this server's, scheme included (`http://` for a client on HTTPS is
/// another site).
fn is_cross_origin(headers: &HeaderMap, https: bool) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let scheme = if https { "https" } else { "http" };
        return host.is_none_or(|host| origin != format!("{scheme}://{host}"));
    }
    matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site" | "same-site")
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// The longest path sign-in sends a person back to.
const MAX_NEXT: usize = 2_000;

/// Only a plain local path may be redirected to after sign-in: it starts with one `/`, and has
/// no backslash, whitespace or control character (browsers drop tabs and newlines, which turns
/// `/\t/evil.example` into `//evil.example`).
fn safe_next(next: &str) -> &str {
    let plain = next.len() <= MAX_NEXT
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    if plain { next } else { "/" }
}

/// The address a request came from (see [`super::edge`]); `unknown` where the server was not
/// given connection details.
fn client_address(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<super::Client>()
        .and_then(|c| c.ip)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

pub async fn login(
    State(services): State<Services>,
    session: Session,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let address = client_address(&extensions);
    let next = safe_next(&form.next).to_owned();
    let again = |query: String| {
        let next_q = if next == "/" {
            String::new()
        } else {
            format!("&next={}", urlencode(&next))
        };
        Redirect::to(&format!("/login?{query}{next_q}")).into_response()
    };
    match authenticate_password(
        services.accounts.as_ref(),
        &form.username,
        &form.password,
        &address,
    )
    .await
    {
        Ok(user) => {
            // A new session id at sign-in, so an id planted before it is worthless after.
            if let Err(e) = session.cycle_id().await {
                tracing::error!(error = %e, "could not rotate the session id");
                return error_response(&AppError::Internal);
            }
            if let Err(e) = session.insert(USER_ID, user.id).await {
                tracing::error!(error = %e, "could not store the session");
                return error_response(&AppError::Internal);
            }
            Redirect::to(&next).into_response()
        }
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            again(format!("error=throttled&retry={retry_after_secs}"))
        }
        Err(AppError::Unauthenticated) => again("error=invalid".into()),
        // Every password check is taken: come back in a second (memory stays bounded).
        Err(AppError::Unavailable(message)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            message,
        )
            .into_response(),
        Err(e) => error_response(&e),
    }
}

pub async fn logout(State(services): State<Services>, session: Session, req: Request) -> Response {
    if let Some(Caller(Some(who))) = req.extensions().get::<Caller>()
        && let Err(e) = services.accounts.record_logout(who, now_ms()).await
    {
        return error_response(&e);
    }
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "could not end the session");
        return error_response(&AppError::Internal);
    }
    Redirect::to("/login?notice=signed_out").into_response()
}

/// Server functions answer every error with 500; this gives each its real status, read
/// from the error it carries, so a refused request is never reported as a crash.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/audit?actor=bob"), "/audit?actor=bob");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("/\t/evil.example"), "/");
        assert_eq!(safe_next("/audit\r\nSet-Cookie: a=b"), "/");
        assert_eq!(safe_next(&format!("/{}", "a".repeat(MAX_NEXT))), "/");
    }

    #[test]
    fn only_built_files_skip_the_session() {
        assert!(is_asset("/pkg/varai.wasm"));
        assert!(is_asset("/favicon.svg"));
        assert!(!is_asset("/flags/checkout.v2"));
        assert!(!is_asset("/api/v1/flags/checkout.v2"));
    }

    #[test]
    fn an_origin_from_another_host_or_scheme_is_cross_origin() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
        h.insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
        assert!(!is_cross_origin(&h, false));
        // A page on plain HTTP posting to the HTTPS dashboard is another site.
        assert!(is_cross_origin(&h, true));
        h.insert(header::ORIGIN, "https://127.0.0.1:3000".parse().unwrap());
        assert!(!is_cross_origin(&h, true));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(is_cross_origin(&h, false));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(is_cross_origin(&h, false));
    }
}
