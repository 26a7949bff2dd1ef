//! `POST /hooks/alertmanager`: Alertmanager's webhook (payload version 4). It is authenticated
//! by an API token of an operator or admin, in the `Authorization: Bearer` header (as
//! Alertmanager's `http_config.authorization` sends it) or as `?token=` in the URL.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use varai_core::Services;
use varai_core::accounts::authenticate_token;
use varai_core::error::AppError;
use varai_core::monitor;
use varai_core::monitor::WebhookReceipt;

use super::error::ApiError;

pub fn router(services: Services) -> Router {
    Router::new()
        .route("/hooks/alertmanager", post(alertmanager))
        .with_state(services)
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn alertmanager(
    State(services): State<Services>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookReceipt>, ApiError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let secret = from_header
        .or(q.token)
        .ok_or(ApiError(AppError::Unauthenticated))?;
    let who = authenticate_token(services.accounts.as_ref(), &secret).await?;
    let receipt = monitor::receive_alerts(&services, &who, &body).await?;
    tracing::info!(
        alerts = receipt.received,
        "Alertmanager notification handled"
    );
    Ok(Json(receipt))
}
