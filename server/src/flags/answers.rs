//! The shapes of OFREP answers: an evaluation (with our metadata) and an error, as published
//! in open-feature/protocol `service/openapi.yaml`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use varai_domain::flags::{Context, Evaluation};

/// An OFREP error response.
pub(super) struct Failure {
    pub(super) status: StatusCode,
    key: Option<String>,
    code: &'static str,
    details: String,
    /// Whether to ask the caller to come back in a second (`Retry-After: 1`).
    pub(super) retry_after: bool,
}

impl Failure {
    pub(super) fn new(status: StatusCode, code: &'static str, details: impl Into<String>) -> Self {
        Failure {
            status,
            key: None,
            code,
            details: details.into(),
            retry_after: false,
        }
    }

    pub(super) fn for_flag(mut self, key: &str) -> Self {
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
        if self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ofrep\""),
            );
        }
        response
    }
}

#[derive(Serialize)]
pub(super) struct Success<'a> {
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
pub(super) fn ignored_attributes(ctx: &Context<'_>) -> Option<String> {
    let names = ctx.unread_fields();
    (!names.is_empty()).then(|| names.join(", "))
}

pub(super) fn success<'a>(e: &Evaluation<'a>, ignored: Option<&'a str>) -> Success<'a> {
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

pub(super) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub(super) fn serialize(value: &impl Serialize) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(value).map_err(|e| {
        tracing::error!(error = %e, "could not serialise an evaluation");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "GENERAL",
            "evaluation failed",
        )
    })
}
