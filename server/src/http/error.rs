//! The one mapping from [`AppError`] to an HTTP response for the REST API:
//! `{"error": {"code", "message", "field"?}}` with the matching status.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use varai_core::error::AppError;

/// An [`AppError`] on its way out of a REST handler.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

/// The error document, as described in the OpenAPI schema.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: invalid, conflict, unauthenticated, forbidden, not_found,
    /// too_many_requests, internal, bad_request.
    pub code: String,
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error document with `status`; the one place the format is written.
pub fn json_error(
    status: StatusCode,
    code: &str,
    message: String,
    field: Option<&str>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message,
            field: field.map(str::to_owned),
        },
    };
    (status, Json(body)).into_response()
}

pub fn error_response(e: &AppError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_error(status, e.code(), e.message(), e.field());
    if let AppError::TooManyRequests { retry_after_secs } = e
        && let Ok(v) = retry_after_secs.to_string().parse()
    {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v);
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(&self.0)
    }
}

/// A JSON body whose rejections are answered in our error format, naming the problem.
/// A number with a zero fraction (`3.0`) is read as the integer it equals: JSON and its
/// schemas do not tell `3.0` from `3`, so neither does an integer field here.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = |message: String| {
            ApiError(AppError::Invalid {
                field: "body".into(),
                message,
            })
        };
        let Json(document) = Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(|rejection: JsonRejection| invalid(rejection.body_text()))?;
        serde_path_to_error::deserialize(varai_domain::json::integral_numbers(document))
            .map(ApiJson)
            .map_err(|e| {
                invalid(format!(
                    "Failed to deserialize the JSON body into the target type: {e}"
                ))
            })
    }
}

/// Declares an extractor wrapping one of axum's, answering its rejection in our format.
macro_rules! api_extractor {
    ($name:ident, $inner:ident, $rejection:ty, $field:literal) => {
        pub struct $name<T>(pub T);

        impl<T, S> axum::extract::FromRequestParts<S> for $name<T>
        where
            axum::extract::$inner<T>:
                axum::extract::FromRequestParts<S, Rejection = $rejection>,
            S: Send + Sync,
        {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                let inner = <axum::extract::$inner<T> as axum::extract::FromRequestParts<S>>::from_request_parts(parts, state).await;
                match inner {
                    Ok(axum::extract::$inner(value)) => Ok($name(value)),
                    Err(rejection) => Err(ApiError(AppError::Invalid {
                        field: $field.into(),
                        message: rejection.body_text(),
                    })),
                }
            }
        }
    };
}

api_extractor!(
    ApiQuery,
    Query,
    axum::extract::rejection::QueryRejection,
    "query"
);
api_extractor!(
    ApiPath,
    Path,
    axum::extract::rejection::PathRejection,
    "path"
);
