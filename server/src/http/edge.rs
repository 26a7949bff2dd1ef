//! Where a request came from: the client's address and whether it arrived over HTTPS, read
//! from the connection, and from `X-Forwarded-For` / `X-Forwarded-Proto` only when the
//! connection comes from a proxy the server was told to trust. Here too: password checks
//! (sign-in, password changes) are rate-limited per client address, and the session cookie is
//! marked `Secure` whenever the client reached the server over HTTPS.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use super::error::json_error;

/// How the server is reached: over HTTPS at its public URL or not, and which proxies in front
/// of it may say who the client is.
#[derive(Debug, Clone, Default)]
pub struct EdgePolicy {
    /// The public URL is `https://…` (or `--cookie-secure`): every client is on HTTPS.
    pub https: bool,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<IpAddr>,
}

/// The client behind a request, as the edge policy reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// `None` when the server was not given connection details (tests calling the router).
    pub ip: Option<IpAddr>,
    pub https: bool,
}

impl EdgePolicy {
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Client {
        let trusted = |ip: &IpAddr| self.trusted_proxies.contains(ip);
        if !peer.as_ref().is_some_and(trusted) {
            return Client {
                ip: peer,
                https: self.https,
            };
        }
        // The nearest address that is not one of our proxies: the ones further left were
        // written by the client itself and prove nothing.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .rev()
            .find(|ip| !trusted(ip));
        let proto = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim);
        Client {
            ip: forwarded.or(peer),
            https: self.https || proto.is_some_and(|p| p.eq_ignore_ascii_case("https")),
        }
    }
}

/// Password checks one client address may make: 30 a minute, in bursts of up to 30.
const CHECKS_PER_MINUTE: u32 = 30;
/// Past this many addresses tracked, those whose allowance has refilled are forgotten.
const TRACKED_ADDRESSES: usize = 10_000;

/// The edge policy and the per-address allowance of password checks.
pub struct Edge {
    policy: EdgePolicy,
    checks: DefaultKeyedRateLimiter<IpAddr>,
}

impl Edge {
    pub fn new(policy: EdgePolicy) -> Self {
        let per_minute = NonZeroU32::new(CHECKS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Edge {
            policy,
            checks: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// `Err(seconds to wait)` when the address has used its allowance.
    fn allow_check(&self, ip: IpAddr) -> Result<(), u64> {
        if self.checks.len() > TRACKED_ADDRESSES {
            self.checks.retain_recent();
        }
        self.checks.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs().max(1)
        })
    }
}

/// Whether the request checks a password: signing in, or changing one's own password.
fn checks_password(req: &Request) -> bool {
    req.method() == Method::POST
        && matches!(req.uri().path(), "/login" | "/rpc/account/change-password")
}

/// Reads the client, applies the per-address allowance of password checks, and marks the
/// session cookie `Secure` for clients on HTTPS.
pub async fn edge(State(edge): State<Arc<Edge>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = edge.policy.client(peer, req.headers());
    if checks_password(&req)
        && let Some(ip) = client.ip
        && let Err(wait) = edge.allow_check(ip)
    {
        tracing::warn!(%ip, "refused a password check: too many from this address");
        return too_many(req.uri().path(), wait);
    }
    req.extensions_mut().insert(client);
    let mut response = next.run(req).await;
    if client.https {
        mark_cookies_secure(response.headers_mut());
    }
    response
}

/// Sign-in goes back to its form, which says how long to wait; anything else gets a 429.
fn too_many(path: &str, wait: u64) -> Response {
    let mut response = if path == "/login" {
        Redirect::to(&format!("/login?error=throttled&retry={wait}")).into_response()
    } else {
        let message = format!("too many password checks from this address; try again in {wait} s");
        json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            message,
            None,
        )
    };
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn mark_cookies_secure(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| match v.to_str() {
            Ok(s) if !s.to_ascii_lowercase().contains("; secure") => {
                HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or_else(|_| v.clone())
            }
            _ => v.clone(),
        })
        .collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for c in cookies {
        headers.append(header::SET_COOKIE, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let proxy: IpAddr = [10, 0, 0, 2].into();
        let client: IpAddr = [203, 0, 113, 7].into();
        let forged = headers(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]);
        let open = EdgePolicy::default();
        assert_eq!(
            open.client(Some(client), &forged),
            Client {
                ip: Some(client),
                https: false
            },
            "a client cannot name another address or claim HTTPS"
        );
        let behind = EdgePolicy {
            https: false,
            trusted_proxies: vec![proxy],
        };
        assert_eq!(
            behind.client(Some(proxy), &forged),
            Client {
                ip: Some(client),
                https: true
            },
            "the proxy's own entry is the nearest, not the client's leftmost one"
        );
        let public = EdgePolicy {
            https: true,
            ..EdgePolicy::default()
        };
        assert!(public.client(Some(client), &HeaderMap::new()).https);
    }

    #[test]
    fn cookies_gain_secure_once() {
        let mut h = headers(&[
            ("set-cookie", "varai_session=abc; HttpOnly; SameSite=Strict"),
            ("set-cookie", "other=1; Secure"),
        ]);
        mark_cookies_secure(&mut h);
        let all: Vec<&str> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert_eq!(
            all,
            [
                "varai_session=abc; HttpOnly; SameSite=Strict; Secure",
                "other=1; Secure"
            ]
        );
    }
}
