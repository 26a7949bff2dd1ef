//! The REST API under `/api/v1` for CI and scripts, authenticated by bearer tokens (or the
//! dashboard's session). Handlers receive the signed-in caller as [`SignedIn`] and call the
//! same use cases as the dashboard's server functions, so roles, rules and audit events are the
//! same. One file per capability; this one holds the router and the OpenAPI document.

pub mod accounts;
pub mod changes;
pub mod deploy;
pub mod environments;
pub mod flags;
pub mod monitor;
pub mod rollouts;
mod statuses;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use varai_core::Services;
use varai_core::accounts::{Caller, Principal};
use varai_core::error::AppError;

use super::AppState;
use super::error::{ApiError, ErrorBody, ErrorDetail};

pub type ApiResult<T> = Result<T, ApiError>;

/// The signed-in caller of a request, with the ports its use cases reach; a request without a
/// caller is refused with 401 before the handler runs.
pub struct SignedIn {
    pub services: Services,
    pub who: Principal,
}

impl<S> FromRequestParts<S> for SignedIn
where
    Services: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let who = parts
            .extensions
            .get::<Caller>()
            .and_then(|Caller(who)| who.clone())
            .ok_or(ApiError(AppError::Unauthenticated))?;
        Ok(SignedIn {
            services: Services::from_ref(state),
            who,
        })
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .merge(accounts::router())
        .merge(flags::router())
        .merge(environments::router())
        .merge(changes::router())
        .merge(deploy::router())
        .merge(monitor::router())
        .merge(rollouts::router())
        .fallback(|| async { ApiError(AppError::NotFound("API route".into())) })
}

#[derive(OpenApi)]
#[openapi(
    info(title = "VARAi Rollout API", description = "Automation API for VARAi Rollout. Authenticate with `Authorization: Bearer <token>`; an admin creates tokens under Settings → API tokens or with `varai admin create-token`."),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole API's OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi()
        .merge_from(accounts::AccountApiDoc::openapi())
        .merge_from(flags::FlagApiDoc::openapi())
        .merge_from(environments::ConfigApiDoc::openapi())
        .merge_from(changes::ChangeApiDoc::openapi())
        .merge_from(deploy::DeployApiDoc::openapi())
        .merge_from(monitor::MonitorApiDoc::openapi())
        .merge_from(rollouts::RolloutApiDoc::openapi());
    statuses::document_errors(&mut doc);
    accounts::require_a_change(&mut doc);
    doc
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
