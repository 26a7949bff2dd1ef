//! The storage story, run against SQLite and PostgreSQL alike: every change lands with its
//! audit event, conflicts name their field, sign-in is throttled, sessions persist.

mod common;

use common::{Backend, TestApp, TestDb, admin_principal};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;
use varai_core::accounts::AuditEvent;
use varai_core::accounts::{self, authenticate_password, authenticate_token};
use varai_core::accounts::{AccountStore, AuditFilter, AuditLog, TokenStore};
use varai_core::error::AppError;
use varai_server::storage::{SqlxSessionStore, SqlxStore};

const PASSWORD: &str = "a-long-enough-password";
/// The client address sign-ins come from in these tests.
const ADDRESS: &str = "203.0.113.7";

/// Every audit event (only `actor`'s, when given), newest first.
async fn audit_events(store: &SqlxStore, actor: Option<&str>) -> Vec<AuditEvent> {
    let filter = AuditFilter {
        actor: actor.map(str::to_owned),
        target: None,
        before: None,
        limit: 200,
    };
    store
        .list_audit(&filter)
        .await
        .expect("read the audit log")
        .events
}

async fn creating_a_user_writes_its_audit_event(backend: Backend) {
    let t = TestApp::new(backend).await;
    let user = accounts::create_user(
        &t.services,
        &admin_principal(),
        "Alice",
        PASSWORD,
        "developer",
    )
    .await
    .unwrap();
    assert_eq!(user.username, "alice");
    let events = audit_events(&t.db.store, None).await;
    let event = &events[0];
    assert_eq!(event.action, "user.create");
    assert_eq!(event.actor, "admin");
    assert_eq!(event.target, "user:alice");
    let after: serde_json::Value = serde_json::from_str(event.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["role"], "developer");
    assert!(
        !event.after.as_deref().unwrap().contains("argon2"),
        "no hash in the audit log"
    );
}

async fn a_taken_username_is_a_conflict_and_writes_nothing(backend: Backend) {
    let t = TestApp::new(backend).await;
    let before = audit_events(&t.db.store, None).await.len();
    let err = accounts::create_user(&t.services, &admin_principal(), "admin", PASSWORD, "viewer")
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("username"));
    assert_eq!(err.status(), 409);
    let after = audit_events(&t.db.store, None).await.len();
    assert_eq!(before, after, "a refused change leaves no audit event");
}

async fn a_role_change_records_before_and_after(backend: Backend) {
    let t = TestApp::new(backend).await;
    t.create_user("bob", PASSWORD, "viewer").await;
    let bob = t.user("bob").await;
    let changed = accounts::change_role(&t.services, &admin_principal(), bob.id, "operator")
        .await
        .unwrap();
    assert_eq!(changed.role, varai_domain::Role::Operator);
    let event = audit_events(&t.db.store, None).await.remove(0);
    assert_eq!(event.action, "user.change_role");
    assert!(event.before.unwrap().contains("\"viewer\""));
    assert!(event.after.unwrap().contains("\"operator\""));
}

async fn the_last_admin_cannot_be_demoted_or_disabled(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = t.user("admin").await;
    let err = accounts::change_role(&t.services, &admin_principal(), admin.id, "viewer")
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("role"));
    let err = accounts::set_disabled(&t.services, &admin_principal(), admin.id, true)
        .await
        .unwrap_err();
    assert!(err.message().contains("last enabled admin"), "{err}");
    t.create_user("second", PASSWORD, "admin").await;
    // Two admins demoting each other at the same moment: one of them stays.
    let second = t.user("second").await;
    let who = admin_principal();
    let (a, b) = tokio::join!(
        accounts::change_role(&t.services, &who, admin.id, "viewer"),
        accounts::change_role(&t.services, &who, second.id, "viewer"),
    );
    assert!(
        a.is_ok() != b.is_ok(),
        "exactly one demotion holds: {a:?} {b:?}"
    );
    let admins = t.db.store.list_users().await.unwrap();
    let left: Vec<_> = admins
        .iter()
        .filter(|u| u.role == varai_domain::Role::Admin)
        .collect();
    assert_eq!(left.len(), 1, "{admins:?}");
    let (keep, other) = if a.is_ok() {
        (second.id, admin.id)
    } else {
        (admin.id, second.id)
    };
    accounts::change_role(&t.services, &admin_principal(), other, "admin")
        .await
        .unwrap();
    accounts::set_disabled(&t.services, &admin_principal(), keep, true)
        .await
        .unwrap();
}

async fn a_disabled_user_cannot_sign_in(backend: Backend) {
    let t = TestApp::new(backend).await;
    t.create_user("carol", PASSWORD, "developer").await;
    assert!(
        authenticate_password(&t.db.store, "carol", PASSWORD, ADDRESS)
            .await
            .is_ok()
    );
    let carol = t.user("carol").await;
    accounts::set_disabled(&t.services, &admin_principal(), carol.id, true)
        .await
        .unwrap();
    let err = authenticate_password(&t.db.store, "carol", PASSWORD, ADDRESS)
        .await
        .unwrap_err();
    assert_eq!(err, AppError::Unauthenticated);
}

async fn repeated_failed_sign_ins_are_slowed_down(backend: Backend) {
    let t = TestApp::new(backend).await;
    t.create_user("dave", PASSWORD, "viewer").await;
    for _ in 0..3 {
        let err = authenticate_password(&t.db.store, "dave", "wrong-password-guess", ADDRESS)
            .await
            .unwrap_err();
        assert_eq!(err, AppError::Unauthenticated);
    }
    // Even the right password must wait now.
    let err = authenticate_password(&t.db.store, "dave", PASSWORD, ADDRESS)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::TooManyRequests { retry_after_secs } if retry_after_secs >= 1),
        "{err:?}"
    );
    let failures = audit_events(&t.db.store, Some("dave")).await;
    assert_eq!(
        failures
            .iter()
            .filter(|e| e.action == "session.login_failed")
            .count(),
        3
    );
}

async fn a_guesser_cannot_lock_the_owner_out_from_elsewhere(backend: Backend) {
    let t = TestApp::new(backend).await;
    t.create_user("erin", PASSWORD, "viewer").await;
    for _ in 0..6 {
        let _ = authenticate_password(&t.db.store, "erin", "a-wrong-guess-here", ADDRESS).await;
    }
    let err = authenticate_password(&t.db.store, "erin", PASSWORD, ADDRESS)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::TooManyRequests { .. }), "{err:?}");
    let owner = authenticate_password(&t.db.store, "erin", PASSWORD, "198.51.100.20").await;
    assert!(owner.is_ok(), "the owner, elsewhere, signs in: {owner:?}");
}

async fn parallel_guesses_are_counted_before_any_is_checked(backend: Backend) {
    let t = TestApp::new(backend).await;
    t.create_user("frank", PASSWORD, "viewer").await;
    let store = t.db.store.clone();
    let guesses = (0..40).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let guess = format!("wrong-guess-number-{i}");
            authenticate_password(&store, "frank", &guess, ADDRESS).await
        })
    });
    let mut checked = 0;
    let mut throttled = 0;
    for guess in guesses.collect::<Vec<_>>() {
        match guess.await.unwrap() {
            Err(AppError::Unauthenticated) => checked += 1,
            Err(AppError::TooManyRequests { .. }) => throttled += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        (checked, throttled),
        (varai_domain::throttle::FREE_ATTEMPTS as usize, 40 - 3),
        "only the free attempts had their password checked"
    );
}

async fn a_token_works_until_it_is_revoked(backend: Backend) {
    let t = TestApp::new(backend).await;
    let created = accounts::create_token(&t.services, &admin_principal(), "ci-deploy", "operator")
        .await
        .unwrap();
    assert!(created.secret.starts_with("varai_"));
    let who = authenticate_token(&t.db.store, &created.secret)
        .await
        .unwrap();
    assert_eq!(who.actor.name, "token:ci-deploy");
    assert_eq!(who.role, varai_domain::Role::Operator);
    let listed = t.db.store.list_tokens().await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "use is recorded");
    accounts::revoke_token(&t.services, &admin_principal(), created.token.id)
        .await
        .unwrap();
    assert_eq!(
        authenticate_token(&t.db.store, &created.secret)
            .await
            .unwrap_err(),
        AppError::Unauthenticated
    );
    let actions: Vec<String> = audit_events(&t.db.store, None)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(&actions[..2], ["token.revoke", "token.create"]);
}

async fn the_audit_log_pages_newest_first_and_filters_by_actor(backend: Backend) {
    let t = TestApp::new(backend).await;
    for i in 0..5 {
        t.create_user(&format!("user{i}"), PASSWORD, "viewer").await;
    }
    let first =
        t.db.store
            .list_audit(&AuditFilter {
                actor: Some("admin".into()),
                target: None,
                before: None,
                limit: 3,
            })
            .await
            .unwrap();
    let targets: Vec<&str> = first.events.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets, ["user:user4", "user:user3", "user:user2"]);
    let rest =
        t.db.store
            .list_audit(&AuditFilter {
                actor: Some("admin".into()),
                target: None,
                before: first.next_before,
                limit: 3,
            })
            .await
            .unwrap();
    let targets: Vec<&str> = rest.events.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets, ["user:user1", "user:user0"]);
    assert_eq!(rest.next_before, None);
    let actors = t.db.store.list_audit_actors().await.unwrap();
    assert_eq!(actors, ["admin", "system"]);
}

async fn sessions_persist_until_they_expire(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = SqlxSessionStore::new(&db.store);
    let mut data = std::collections::HashMap::new();
    data.insert("user_id".to_owned(), serde_json::json!(7));
    let live = Record {
        id: Id::default(),
        data: data.clone(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.save(&live).await.unwrap();
    let loaded = store
        .load(&live.id)
        .await
        .unwrap()
        .expect("saved session loads");
    assert_eq!(loaded.data["user_id"], 7);
    let stale = Record {
        id: Id::default(),
        data,
        expiry_date: time::OffsetDateTime::now_utc() - time::Duration::hours(1),
    };
    store.save(&stale).await.unwrap();
    assert!(
        store.load(&stale.id).await.unwrap().is_none(),
        "expired sessions do not load"
    );
    assert_eq!(
        store
            .delete_expired(varai_core::clock::now_ms())
            .await
            .unwrap(),
        1
    );
    store.delete(&live.id).await.unwrap();
    assert!(store.load(&live.id).await.unwrap().is_none());
}

async fn the_first_admin_is_created_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (name, password) = accounts::bootstrap_admin(&db.store, None)
        .await
        .unwrap()
        .expect("created");
    assert_eq!(name, "admin");
    assert!(password.len() >= 12);
    assert!(
        accounts::bootstrap_admin(&db.store, None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        authenticate_password(&db.store, "admin", &password, ADDRESS)
            .await
            .is_ok()
    );
    let events = audit_events(&db.store, None).await;
    assert!(
        events
            .iter()
            .any(|e| e.actor == "system" && e.action == "user.create")
    );
}

on_both_backends!(
    creating_a_user_writes_its_audit_event,
    a_taken_username_is_a_conflict_and_writes_nothing,
    a_role_change_records_before_and_after,
    the_last_admin_cannot_be_demoted_or_disabled,
    a_disabled_user_cannot_sign_in,
    repeated_failed_sign_ins_are_slowed_down,
    a_guesser_cannot_lock_the_owner_out_from_elsewhere,
    parallel_guesses_are_counted_before_any_is_checked,
    a_token_works_until_it_is_revoked,
    the_audit_log_pages_newest_first_and_filters_by_actor,
    sessions_persist_until_they_expire,
    the_first_admin_is_created_once,
);

#[tokio::test]
async fn a_missing_postgres_database_is_created_at_first_start() {
    let name = format!("varai_fresh_{}", uuid::Uuid::new_v4().simple());
    let store = SqlxStore::connect(&common::postgres_url(&name))
        .await
        .expect("connect creates the database");
    assert_eq!(store.count_users().await.unwrap(), 0, "and migrates it");
    store.close().await;
    common::drop_postgres_database(&name)
        .await
        .expect("drop the database");
}
