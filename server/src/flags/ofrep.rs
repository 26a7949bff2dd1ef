//! The OpenFeature Remote Evaluation Protocol (OFREP) endpoints, as published in
//! open-feature/protocol `service/openapi.yaml`: single and bulk evaluation, authenticated by
//! an environment's SDK key (`Authorization: Bearer` or `X-API-Key`). Reads only the
//! in-memory [`FlagCache`].

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::{Map, Value};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use varai_core::clock::now_ms;
use varai_core::turns::Turns;
use varai_domain::flags::Context;

use super::answers::{Failure, Success, ignored_attributes, json_response, serialize, success};
use super::cache::{EnvSnapshot, FlagCache};

/// The largest evaluation request accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The OFREP routes, to be merged outside the dashboard's session layers.
pub fn router(cache: Arc<FlagCache>) -> Router {
    use tower_http::cors::{Any, CorsLayer};
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([header::ETAG]);
    Router::new()
        .route("/ofrep/v1/evaluate/flags", post(evaluate_all))
        .route("/ofrep/v1/evaluate/flags/{key}", post(evaluate_one))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors)
        .with_state(cache)
}

/// The environment the request's SDK key opens.
fn authenticate(cache: &FlagCache, headers: &HeaderMap) -> Result<Arc<EnvSnapshot>, Failure> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let Some(secret) = bearer.or(api_key).map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "GENERAL",
            "send an SDK key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        ));
    };
    cache
        .snapshot()
        .environment_for_key(secret)
        .cloned()
        .ok_or_else(|| {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                "GENERAL",
                "the SDK key is not valid (unknown or revoked)",
            )
        })
}

/// Reads `{"context": {...}}`. A missing `targetingKey` is allowed (an anonymous user).
fn parse_context(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, Failure> {
    let body = body.map_err(|e| {
        let status = e.status();
        let details = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!("the request body is larger than {MAX_BODY_BYTES} bytes")
        } else {
            e.body_text()
        };
        Failure::new(status, "PARSE_ERROR", details)
    })?;
    let request: Value = serde_json::from_slice(&body).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "PARSE_ERROR",
            format!("the request body is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(mut request) = request else {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "PARSE_ERROR",
            "the request body must be a JSON object like {\"context\": {…}}",
        ));
    };
    let context = match request.remove("context") {
        Some(Value::Object(c)) => c,
        None | Some(Value::Null) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "INVALID_CONTEXT",
                "the request body needs a `context` object (it may be empty)",
            ));
        }
        Some(_) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "INVALID_CONTEXT",
                "`context` must be a JSON object",
            ));
        }
    };
    if let Some(t) = context.get("targetingKey")
        && !t.is_string()
    {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "INVALID_CONTEXT",
            "`context.targetingKey` must be a string",
        ));
    }
    Ok(context)
}

/// `POST /ofrep/v1/evaluate/flags/{key}`
#[tracing::instrument(skip_all, fields(flag = %key))]
async fn evaluate_one(
    State(cache): State<Arc<FlagCache>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let env = authenticate(&cache, &headers)?;
    let attributes = parse_context(body).map_err(|f| f.for_flag(&key))?;
    let cost = env.flags.get(&key).map_or(0, |f| f.cost());
    off_the_runtime(cost, move || answer_one(&env, &key, &attributes)).await
}

fn answer_one(
    env: &EnvSnapshot,
    key: &str,
    attributes: &Map<String, Value>,
) -> Result<Response, Failure> {
    let ctx = Context::new(attributes, now_ms(), rand::random()).in_environment(&env.key);
    let Some(evaluation) = env.flags.evaluate(key, &ctx) else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            "FLAG_NOT_FOUND",
            format!("flag '{key}' was not found in environment '{}'", env.key),
        )
        .for_flag(key));
    };
    let ignored = ignored_attributes(&ctx);
    Ok(json_response(
        StatusCode::OK,
        serialize(&success(&evaluation, ignored.as_deref()))?,
    ))
}

/// Checks the re-fetch metadata an event stream's client may add to a bulk evaluation:
/// `flagConfigLastModified` is Unix seconds (any non-negative integer, as the specification
/// allows) or an RFC 3339 date-time, `flagConfigEtag` at most 256 characters.
fn check_refetch_metadata(query: Option<&str>) -> Result<(), Failure> {
    let refuse = |message: &str| Failure::new(StatusCode::BAD_REQUEST, "GENERAL", message);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = varai_domain::url::decode_query_value(value);
        match name {
            "flagConfigLastModified" => {
                let seconds = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
                let rfc3339 = time::OffsetDateTime::parse(
                    &value,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok();
                if !(seconds || rfc3339) {
                    return Err(refuse(
                        "flagConfigLastModified must be Unix seconds or an ISO 8601 date-time",
                    ));
                }
            }
            "flagConfigEtag" if value.chars().count() > 256 => {
                return Err(refuse("flagConfigEtag must be at most 256 characters"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `POST /ofrep/v1/evaluate/flags`: every flag of the environment, with an ETag that changes
/// when the configuration or the context does (`If-None-Match` → 304).
#[tracing::instrument(skip_all)]
async fn evaluate_all(
    State(cache): State<Arc<FlagCache>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let env = authenticate(&cache, &headers)?;
    check_refetch_metadata(query.as_deref())?;
    let etag = match &body {
        Ok(bytes) => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            format!("\"{}-{:016x}\"", env.config_tag, h.finish())
        }
        Err(_) => String::new(),
    };
    let attributes = parse_context(body)?;
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let cost = env.flags.cost();
        off_the_runtime(cost, move || answer_all(&env, &attributes)).await?
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}

fn answer_all(env: &EnvSnapshot, attributes: &Map<String, Value>) -> Result<Response, Failure> {
    #[derive(Serialize)]
    struct Bulk<'a> {
        flags: Vec<Success<'a>>,
        metadata: BulkMetadata<'a>,
    }
    #[derive(Serialize)]
    struct BulkMetadata<'a> {
        environment: &'a str,
    }
    let ctx = Context::new(attributes, now_ms(), rand::random()).in_environment(&env.key);
    let ignored = ignored_attributes(&ctx);
    let evaluator = env.flags.evaluator(ctx);
    let flags = env
        .flags
        .flags()
        .map(|f| success(&evaluator.evaluate(f), ignored.as_deref()))
        .collect();
    let bulk = Bulk {
        flags,
        metadata: BulkMetadata {
            environment: &env.key,
        },
    };
    Ok(json_response(StatusCode::OK, serialize(&bulk)?))
}

/// The cost (in simple tests, see `CompiledFlag::cost`) up to which an evaluation runs on the
/// async worker that received it: about a hundred string comparisons and three patterns, tens
/// of microseconds. Anything costlier runs on the blocking pool, one per core at a time, so no
/// flag and no context can hold up the requests around it.
const INLINE_COST: u32 = 400;

/// Runs an evaluation of the given cost where it cannot stall the runtime.
async fn off_the_runtime(
    cost: u32,
    work: impl FnOnce() -> Result<Response, Failure> + Send + 'static,
) -> Result<Response, Failure> {
    if cost <= INLINE_COST {
        return work();
    }
    static TURNS: std::sync::OnceLock<Turns> = std::sync::OnceLock::new();
    let turns = TURNS.get_or_init(|| {
        Turns::per_core(
            1,
            std::time::Duration::from_secs(2),
            "too many costly evaluations at once; try again in a second",
        )
    });
    match turns.run(work).await {
        Ok(answer) => answer,
        Err(e) => {
            let mut failure = Failure::new(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "GENERAL",
                e.to_string(),
            );
            failure.retry_after = e.status() == 503;
            Err(failure)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::thread::ThreadId;

    /// Where an evaluation of `cost` ran.
    async fn thread_for(cost: u32) -> ThreadId {
        let ran_on: Arc<Mutex<Option<ThreadId>>> = Arc::default();
        let slot = Arc::clone(&ran_on);
        let answer = off_the_runtime(cost, move || {
            if let Ok(mut s) = slot.lock() {
                *s = Some(std::thread::current().id());
            }
            Ok(StatusCode::OK.into_response())
        })
        .await;
        assert!(answer.is_ok_and(|r| r.status() == StatusCode::OK));
        let id = ran_on.lock().ok().and_then(|s| *s);
        id.expect("the evaluation ran")
    }

    #[tokio::test]
    async fn a_costly_evaluation_runs_off_the_async_worker_and_a_cheap_one_on_it() {
        // A current-thread runtime: its one worker is this thread.
        let worker = std::thread::current().id();
        assert_eq!(thread_for(INLINE_COST).await, worker);
        assert_ne!(thread_for(INLINE_COST + 1).await, worker);
    }
}
