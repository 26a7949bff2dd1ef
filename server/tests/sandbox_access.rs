//! Who a sandbox Service answers on the main port: a signed-in person, an API token or an SDK
//! key, never an anonymous caller, whose requests would count in the traffic analysis judges.

mod common;

use axum::http::{StatusCode, header};
use common::ofrep::live_sdk_key;
use common::{ADMIN_PASSWORD, Backend, Client, TestApp, body_text};

const HEALTHZ: &str = "/sandbox/services/production/storefront/healthz";

async fn status_with(t: &TestApp, header: Option<(header::HeaderName, String)>) -> StatusCode {
    let res = match header {
        Some((name, value)) => t.get_with(HEALTHZ, name, value).await,
        None => {
            t.send(
                common::get(HEALTHZ)
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
        }
    };
    let status = res.status();
    let body = body_text(res).await;
    if status == StatusCode::UNAUTHORIZED {
        assert!(
            body.contains("SDK key") || body.contains("not valid"),
            "the refusal says what it takes: {body}"
        );
    }
    status
}

async fn a_sandbox_service_answers_only_known_callers(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    assert_eq!(
        status_with(&t, None).await,
        StatusCode::UNAUTHORIZED,
        "anonymous"
    );
    let guess = Some((
        header::HeaderName::from_static("x-api-key"),
        "varai_sdk_guess".to_owned(),
    ));
    assert_eq!(
        status_with(&t, guess).await,
        StatusCode::UNAUTHORIZED,
        "an unknown SDK key"
    );

    let sdk = live_sdk_key(&t, &admin, "production").await;
    let key = Some((header::HeaderName::from_static("x-api-key"), sdk));
    assert_ne!(
        status_with(&t, key).await,
        StatusCode::UNAUTHORIZED,
        "an SDK key"
    );
    let token = Some((header::AUTHORIZATION, admin.auth.clone()));
    assert_ne!(
        status_with(&t, token).await,
        StatusCode::UNAUTHORIZED,
        "an API token"
    );
    let cookie = t.sign_in("admin", ADMIN_PASSWORD).await.expect("signed in");
    assert_ne!(
        status_with(&t, Some((header::COOKIE, cookie))).await,
        StatusCode::UNAUTHORIZED,
        "a session"
    );
}

on_both_backends!(a_sandbox_service_answers_only_known_callers);
