//! The OpenFeature Remote Evaluation Protocol (OFREP) endpoints, as published in
//! open-feature/protocol `service/openapi.yaml`: single and bulk evaluation, authenticated by
//! an environment's SDK key (`Authorization: Bearer` or `X-API-Key`). Reads only the
//! in-memory [`FlagCache`].

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::{Map, Value};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use varai_core::clock::now_ms;
use varai_domain::flags::{Context, Evaluation};

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

/// An OFREP error response.
struct Failure {
    status: StatusCode,
    key: Option<String>,
    code: &'static str,
    details: String,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str, details: impl Into<String>) -> Self {
        Failure {
            status,
            key: None,
            code,
            details: details.into(),
        }
    }

    fn for_flag(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            #[serde(skip_serializing_if = "Option::is_none")]
            key: Option<String>,
            error_code: &'static str,
            error_details: String,
        }
        let body = Body {
            key: self.key,
            error_code: self.code,
            error_details: self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ofrep\""),
            );
        }
        response
    }
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

#[derive(Serialize)]
struct Success<'a> {
    key: &'a str,
    value: &'a Value,
    reason: &'static str,
    variant: &'a str,
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    metadata: Metadata<'a>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Metadata<'a> {
    /// The 1-based number of the rule that matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prerequisite_failed: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_value: Option<&'a str>,
    /// Context attributes too long for a constraint to read, comma-separated: no constraint
    /// on them held.
    #[serde(skip_serializing_if = "Option::is_none")]
    context_values_ignored: Option<&'a str>,
}

impl Metadata<'_> {
    fn is_empty(&self) -> bool {
        self.rule.is_none()
            && self.prerequisite_failed.is_none()
            && self.payload_type.is_none()
            && self.context_values_ignored.is_none()
    }
}

/// The names of the context's attributes that no constraint read because they are too long.
fn ignored_attributes(ctx: &Context<'_>) -> Option<String> {
    let names = ctx.unread_fields();
    (!names.is_empty()).then(|| names.join(", "))
}

fn success<'a>(e: &Evaluation<'a>, ignored: Option<&'a str>) -> Success<'a> {
    Success {
        key: e.key,
        value: e.value,
        reason: e.reason.as_str(),
        variant: e.variant,
        metadata: Metadata {
            rule: e.rule.map(|r| r + 1),
            prerequisite_failed: e.prerequisite_failed,
            payload_type: e.payload.map(|p| p.kind.as_str()),
            payload_value: e.payload.map(|p| p.value.as_str()),
            context_values_ignored: ignored,
        },
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn serialize(value: &impl Serialize) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(value).map_err(|e| {
        tracing::error!(error = %e, "could not serialise an evaluation");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "GENERAL",
            "evaluation failed",
        )
    })
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
    let ctx = Context::new(&attributes, now_ms(), rand::random()).in_environment(&env.key);
    let Some(evaluation) = env.flags.evaluate(&key, &ctx) else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            "FLAG_NOT_FOUND",
            format!("flag '{key}' was not found in environment '{}'", env.key),
        )
        .for_flag(&key));
    };
    let ignored = ignored_attributes(&ctx);
    Ok(json_response(
        StatusCode::OK,
        serialize(&success(&evaluation, ignored.as_deref()))?,
    ))
}

/// `POST /ofrep/v1/evaluate/flags`: every flag of the environment, with an ETag that changes
/// when the configuration or the context does (`If-None-Match` → 304).
#[tracing::instrument(skip_all)]
async fn evaluate_all(
    State(cache): State<Arc<FlagCache>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let env = authenticate(&cache, &headers)?;
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
        let ctx = Context::new(&attributes, now_ms(), rand::random()).in_environment(&env.key);
        #[derive(Serialize)]
        struct Bulk<'a> {
            flags: Vec<Success<'a>>,
            metadata: BulkMetadata<'a>,
        }
        #[derive(Serialize)]
        struct BulkMetadata<'a> {
            environment: &'a str,
        }
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
        json_response(StatusCode::OK, serialize(&bulk)?)
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}
