//! Random callers for the differential tests, as Unleash's context and as an OFREP context.
//! Every caller has a session id and a tenant, so a variant bucketed by default stickiness, by
//! session or by tenant is never chosen at random; other fields may be missing.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One caller, as both engines read it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Option<String>,
    pub session_id: String,
    pub environment: Option<String>,
    pub app_name: Option<String>,
    pub current_time: String,
    pub remote_address: Option<String>,
    pub properties: BTreeMap<String, String>,
}

impl Caller {
    /// The context an OpenFeature application sends over OFREP: flat attributes.
    pub fn ofrep(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<&String>| {
            if let Some(v) = v {
                m.insert(k.to_owned(), Value::String(v.clone()));
            }
        };
        put("targetingKey", self.user_id.as_ref());
        put("sessionId", Some(&self.session_id));
        put("environment", self.environment.as_ref());
        put("appName", self.app_name.as_ref());
        put("currentTime", Some(&self.current_time));
        put("remoteAddress", self.remote_address.as_ref());
        for (k, v) in &self.properties {
            put(k, Some(v));
        }
        m
    }

    /// The same caller as Unleash's context.
    pub fn unleash(&self) -> unleash_yggdrasil::Context {
        unleash_yggdrasil::Context {
            user_id: self.user_id.clone(),
            session_id: Some(self.session_id.clone()),
            environment: self.environment.clone(),
            app_name: self.app_name.clone(),
            current_time: Some(self.current_time.clone()),
            remote_address: self.remote_address.clone(),
            properties: Some(self.properties.clone().into_iter().collect()),
        }
    }
}

fn maybe(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(0.75, select(values).prop_map(str::to_owned))
}

pub const USERS: &[&str] = &[
    "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10", "u11", "u12",
];
const SESSIONS: &[&str] = &["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"];
const TIMES: &[&str] = &[
    "2024-01-01T00:00:00Z",
    "2024-06-01T00:00:00Z",
    "2025-03-15T12:30:00.000Z",
    "2026-12-02T08:00:00+02:00",
];
const TENANTS: &[&str] = &["acme", "globex", "Initech", "umbrella", "ACME"];
const PLANS: &[&str] = &["free", "Pro", "enterprise"];
const AGES: &[&str] = &[
    "17",
    "18",
    "42",
    "3.5",
    "-1",
    "100",
    "abc",
    "0.30000000000000004",
];
const VERSIONS: &[&str] = &[
    "1.2.3",
    "2.0.0-beta.1",
    "2.0.0",
    "10.1.0",
    "1.2",
    "junk",
    "2.0.0+417",
];
const EMAILS: &[&str] = &[
    "a@example.com",
    "B@Example.COM",
    "c@test.org",
    "u1@example.com",
];
const ADDRESSES: &[&str] = &[
    "10.0.0.5",
    "192.168.1.20",
    "2001:db8::1",
    "172.16.0.1",
    "nope",
];

/// Random callers.
pub fn caller() -> impl Strategy<Value = Caller> {
    let properties = (
        select(TENANTS),
        maybe(PLANS),
        maybe(AGES),
        maybe(VERSIONS),
        maybe(EMAILS),
        maybe(TIMES),
    )
        .prop_map(|(tenant, plan, age, version, email, signup)| {
            let mut p = BTreeMap::from([("tenant".to_owned(), tenant.to_owned())]);
            for (k, v) in [
                ("plan", plan),
                ("age", age),
                ("version", version),
                ("email", email),
                ("signup", signup),
            ] {
                if let Some(v) = v {
                    p.insert(k.to_owned(), v);
                }
            }
            p
        });
    (
        maybe(USERS),
        select(SESSIONS),
        maybe(&["production", "staging"]),
        maybe(&["web", "ios", "Android"]),
        select(TIMES),
        maybe(ADDRESSES),
        properties,
    )
        .prop_map(
            |(user_id, session, environment, app_name, time, remote_address, properties)| Caller {
                user_id,
                session_id: session.to_owned(),
                environment,
                app_name,
                current_time: time.to_owned(),
                remote_address,
                properties,
            },
        )
}
