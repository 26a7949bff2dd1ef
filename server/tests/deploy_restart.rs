//! Killing the server in the middle of each strategy and starting it again: the controller's
//! state is in the database and the sandbox's objects in its file (saved every second, so a
//! crash can lose the last second of them), and every step is a target state, so the new
//! server finishes the deployment correctly.

mod common;

use common::{Backend, TestDb};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use varai_core::accounts::Principal;
use varai_core::deploy::Deployer;
use varai_core::deploy::{Control, DeployRequest, DeploymentRecord};
use varai_core::flags::FlagStore;
use varai_domain::deploy::{Outcome, Stage};
use varai_server::deploy::launch::{Launched, Options, launch};
use varai_server::sandbox::Timings;

async fn start_server(db: &TestDb, file: &Path) -> Launched {
    let flags: Arc<dyn FlagStore> = Arc::new(db.store.clone());
    launch(
        db.store.clone(),
        flags,
        Options {
            timings: Timings::fast(),
            sandbox_file: Some(file.to_owned()),
            sandbox_addr: None,
            poll: Duration::from_millis(25),
        },
    )
    .await
    .expect("the deployment side starts")
}

async fn until<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn only_version(server: &Launched, version: &str) -> bool {
    let Ok(app) = server.service.app("production", "storefront").await else {
        return false;
    };
    app.versions.len() == 1
        && app.versions[0].version == version
        && app.versions[0].ready == 3
        && app.versions[0].serving
}

async fn deployment(server: &Launched, id: i64) -> DeploymentRecord {
    server
        .service
        .deployment(id)
        .await
        .expect("the deployment reads")
        .0
}

/// Starts deploying v2 with `strategy`, kills the server once `kill_at` holds, starts a new
/// one on the same database and sandbox file, and checks the deployment succeeds.
async fn crash_and_finish(
    strategy: serde_json::Value,
    kill_at: impl Fn(&DeploymentRecord) -> bool,
) {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sandbox.json");
    let actor = Principal::system();

    let first = start_server(&db, &file).await;
    until("v1 to run", async || {
        only_version(&first, "v1").await.then_some(())
    })
    .await;
    // Let the sandbox's file catch up with the running demo app, as on a server up for a while.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let request = DeployRequest {
        version: "v2".into(),
        strategy: serde_json::from_value(strategy.clone()).expect("strategy"),
        schema_version: None,
        analysis: Vec::new(),
    };
    let id = first
        .service
        .start(&actor, "production", "storefront", request, None)
        .await
        .expect("the deployment starts")
        .id;
    let at_kill = until("the point to kill at", async || {
        let d = deployment(&first, id).await;
        kill_at(&d).then_some(d)
    })
    .await;
    drop(first);

    let second = start_server(&db, &file).await;
    let finished = until("the deployment to finish", async || {
        let d = deployment(&second, id).await;
        if d.waiting.as_deref() == Some("paused until someone promotes") && !d.promote {
            second
                .service
                .control(&actor, id, Control::Promote)
                .await
                .expect("promote");
        }
        d.stage.is_done().then_some(d)
    })
    .await;
    assert_eq!(
        finished.stage,
        Stage::Done(Outcome::Succeeded),
        "{strategy} killed at {:?}: {finished:#?}",
        at_kill.stage
    );
    until("v2 alone to serve", async || {
        only_version(&second, "v2").await.then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_canary_killed_during_a_timed_pause_finishes() {
    crash_and_finish(
        json!({"type": "canary", "steps": [{"setWeight": 34}, {"pause": {"duration": 1}},
                                           {"setWeight": 67}, {"pause": {}}]}),
        |d| d.stage == Stage::Step(1),
    )
    .await;
}

#[tokio::test]
async fn a_blue_green_killed_during_the_scale_down_delay_finishes() {
    crash_and_finish(
        json!({"type": "blueGreen", "autoPromotionSeconds": 0, "scaleDownDelaySeconds": 1}),
        |d| d.stage == Stage::ScaleDownDelay,
    )
    .await;
}

#[tokio::test]
async fn a_rolling_update_killed_half_way_finishes() {
    crash_and_finish(
        json!({"type": "rolling", "maxSurge": 1, "maxUnavailable": 0}),
        |d| {
            d.stage == Stage::Promote
                && d.waiting
                    .as_deref()
                    .is_some_and(|w| w.starts_with("primary pods ready"))
        },
    )
    .await;
}

#[tokio::test]
async fn a_recreate_killed_while_the_old_pods_go_finishes() {
    crash_and_finish(json!({"type": "recreate"}), |d| d.stage == Stage::Promote).await;
}
