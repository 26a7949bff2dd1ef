//! The controllers at rest and on demand, in a release build: how much CPU 1,000 rollouts that
//! only bake and 100 paused deployments cost, and how soon a command or a gate's verdict is
//! acted on. Everything runs as the server runs it (SQLite, the sandbox, the deployment,
//! monitoring and rollout controllers on a two-worker runtime); only HTTP is left out, since
//! what is measured is the controllers.
//!
//! `cargo bench -p varai-server --bench controllers` (`BENCH_SECONDS` sets each measurement's
//! length, 60 by default).

use anyhow::{Context, bail};
use std::time::{Duration, Instant};
use varai_core::Services;
use varai_core::accounts::Principal;
use varai_core::deploy::{Control, DeployRequest, NewApp, NewWorkload};
use varai_core::rollouts::{NewRollout, RolloutCommand};
use varai_domain::Role;
use varai_domain::deploy::{CanaryStep, Strategy, canary::Pause};
use varai_domain::flags::FlagSpec;
use varai_domain::plan::{Audience, Gate, Phase, PhaseKind, Plan, Release};
use varai_server::engine::{Engine, EngineOptions};
use varai_server::monitor::ServerPrometheus;
use varai_server::sandbox::Timings;
use varai_server::storage::SqlxStore;

const ROLLOUTS: usize = 1_000;
const DEPLOYMENTS: usize = 100;
const ENV: &str = "production";

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = SqlxStore::connect(&url).await?;
    let engine = Engine::start(&store, options()).await?;
    let s = engine.services.clone();
    let who = Principal::system();
    // The demo app's simulated traffic is the sandbox's work, not the controllers'.
    s.deploy.set_rate(&who, ENV, "storefront", 0.0).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = core_share(seconds).await?;
    println!("nothing to do: {idle:.2} % of a core over {seconds} s");

    let started = Instant::now();
    baking_rollouts(&s, &who).await?;
    let apps = paused_deployments(&s, &who).await?;
    println!(
        "{ROLLOUTS} rollouts baking and {DEPLOYMENTS} deployments paused, set up in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let mut commands = Vec::new();
    let mut verdicts = Vec::new();
    for (i, app) in apps.iter().take(20).enumerate() {
        commands.push(resume_acted_on(&s, &who, app).await?);
        verdicts.push(approval_acted_on(&s, &who, i).await?);
    }
    report(
        "a paused deployment resumed, until the controller acted",
        &mut commands,
    );
    report(
        "an approval given, until the rollout entered its next phase",
        &mut verdicts,
    );

    tokio::time::sleep(Duration::from_secs(5)).await;
    let looks = |e: &Engine| {
        let store = &e.deploy.sandbox.store;
        (
            e.deploy.service.queue.looks(),
            e.rollouts.looks(),
            store.resource_version(),
        )
    };
    let before = looks(&engine);
    let loaded = core_share(seconds).await?;
    let after = looks(&engine);
    println!(
        "with them: {loaded:.2} % of a core over {seconds} s; the controllers looked at a deployment {} times and at a rollout {} times; the sandbox's objects changed {} times",
        after.0 - before.0,
        after.1 - before.1,
        after.2 - before.2
    );
    // The same objects with the controllers stopped: what is left is the rest of the product
    // (the sandbox simulating the apps' pods above all), not the controllers.
    engine.stop_controllers();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let without = core_share(seconds).await?;
    println!(
        "the same with the controllers stopped: {without:.2} % of a core; the controllers' share {:.2} %",
        loaded - without
    );
    Ok(())
}

fn options() -> EngineOptions {
    EngineOptions {
        deploy: varai_server::deploy::launch::Options {
            // The sandbox simulates the 100 apps' pods; ticking every second instead of every
            // 100 ms keeps its share small beside the controllers' without changing what they do.
            timings: Timings {
                tick: Duration::from_secs(1),
                ..Timings::default()
            },
            sandbox_file: None,
            sandbox_addr: None,
            poll: Duration::from_millis(200),
        },
        prometheus: ServerPrometheus::Missing("none in this benchmark".into()),
        scrape_seconds: 15,
        monitor_tick: Duration::from_millis(250),
        rollout_poll: Duration::from_millis(200),
    }
}

/// CPU time this process has used, every thread, from `/proc/self/stat` (10 ms ticks).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .context("an unreadable /proc/self/stat")?
        .split_whitespace()
        .collect();
    let ticks = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks / 100.0)
}

/// The share of one core this process used over `seconds`, in per cent.
async fn core_share(seconds: u64) -> anyhow::Result<f64> {
    let (cpu, wall) = (cpu_seconds()?, Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    Ok((cpu_seconds()? - cpu) / wall.elapsed().as_secs_f64() * 100.0)
}

/// Milliseconds until `check` holds, looking every millisecond.
async fn ms_until(what: &str, mut check: impl AsyncFnMut() -> bool) -> anyhow::Result<f64> {
    let start = Instant::now();
    while !check().await {
        if start.elapsed() > Duration::from_secs(10) {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

fn flag(key: &str) -> anyhow::Result<FlagSpec> {
    Ok(serde_json::from_value(serde_json::json!({
        "key": key, "name": key, "valueType": "boolean",
        "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}]
    }))?)
}

fn phase(name: &str, users: u32, gates: Vec<Gate>, bake_seconds: u32) -> Phase {
    Phase {
        name: name.into(),
        kind: PhaseKind::Exposure,
        audience: Audience {
            segments: vec!["internal".into()],
            users_percent: Some(users),
            traffic_percent: None,
        },
        gates,
        bake_seconds,
        auto_advance: true,
        steps: Vec::new(),
    }
}

async fn start_rollout(
    s: &Services,
    who: &Principal,
    key: &str,
    plan: Plan,
) -> anyhow::Result<i64> {
    s.flags
        .create_flag(who, &flag(key)?, &Default::default(), 0)
        .await?;
    let new = NewRollout {
        title: key.into(),
        release: Release {
            app: None,
            version: None,
            flags: vec![key.into()],
        },
        template: None,
        plan: Some(plan),
        start: true,
        start_at: None,
    };
    Ok(s.rollouts.create_rollout(who, ENV, new).await?.id)
}

/// Rollouts of one flag each, in a phase that bakes for a day.
async fn baking_rollouts(s: &Services, who: &Principal) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    for i in 0..ROLLOUTS {
        let plan = Plan {
            phases: vec![phase("Bake", 5, Vec::new(), 86_400)],
        };
        ids.push(start_rollout(s, who, &format!("bake-{i}"), plan).await?);
    }
    for id in ids {
        ms_until("a rollout to bake", async || {
            s.rollouts.rollout(id).await.is_ok_and(|v| {
                v.rollout
                    .waiting
                    .as_deref()
                    .is_some_and(|w| w.contains("baking"))
            })
        })
        .await?;
    }
    Ok(())
}

/// Apps of their own, each with a canary deployment paused by an operator.
async fn paused_deployments(s: &Services, who: &Principal) -> anyhow::Result<Vec<String>> {
    let mut apps = Vec::new();
    for i in 0..DEPLOYMENTS {
        let name = format!("bench-{i}");
        let app = NewApp {
            name: name.clone(),
            deployment: None,
            service: None,
            container: None,
            image: "registry.sandbox.local/bench".into(),
            create: Some(NewWorkload {
                version: "v1".into(),
                port: 8080,
                replicas: 1,
                cpu: None,
                memory: None,
            }),
        };
        s.deploy.register_app(who, ENV, app).await?;
        s.deploy.set_rate(who, ENV, &name, 0.0).await?;
        let request = DeployRequest {
            version: "v2".into(),
            strategy: Strategy::Canary {
                steps: vec![
                    CanaryStep::SetWeight(50),
                    CanaryStep::Pause(Pause { duration: None }),
                ],
            },
            schema_version: None,
            analysis: Vec::new(),
        };
        let d = s.deploy.start(who, ENV, &name, request, None).await?;
        s.deploy.control(who, d.id, Control::Pause).await?;
        apps.push(name);
    }
    for name in &apps {
        ms_until("a deployment to pause", async || {
            let app = s.deploy.app(ENV, name).await;
            app.is_ok_and(|a| {
                a.deployment
                    .and_then(|d| d.waiting)
                    .is_some_and(|w| w.starts_with("paused by an operator"))
            })
        })
        .await?;
    }
    Ok(apps)
}

/// From resuming a paused deployment to the controller's next decision about it.
async fn resume_acted_on(s: &Services, who: &Principal, app: &str) -> anyhow::Result<f64> {
    let d = s
        .deploy
        .app(ENV, app)
        .await?
        .deployment
        .context("a deployment")?;
    s.deploy.control(who, d.id, Control::Resume).await?;
    ms_until("the resumed deployment to move", async || {
        s.deploy.deployment(d.id).await.is_ok_and(|(d, _)| {
            !d.waiting
                .as_deref()
                .is_some_and(|w| w.starts_with("paused by an operator"))
        })
    })
    .await
}

/// From approving a waiting approval gate to the rollout entering its next phase.
async fn approval_acted_on(s: &Services, who: &Principal, i: usize) -> anyhow::Result<f64> {
    let approval = Gate::Approval {
        role: Role::Operator,
        four_eyes: false,
    };
    let plan = Plan {
        phases: vec![
            phase("Ask", 5, vec![approval], 0),
            phase("After", 10, Vec::new(), 86_400),
        ],
    };
    let id = start_rollout(s, who, &format!("approve-{i}"), plan).await?;
    ms_until("the approval gate to wait", async || {
        s.rollouts
            .rollout(id)
            .await
            .is_ok_and(|v| !v.waiting_approvals().is_empty())
    })
    .await?;
    let command = RolloutCommand::Approve {
        comment: "benchmark".into(),
    };
    let services = s.clone();
    let start = Instant::now();
    varai_core::rollouts::command_rollout(&services, who, id, command).await?;
    ms_until("the rollout to move on", async || {
        s.rollouts
            .rollout(id)
            .await
            .is_ok_and(|v| v.rollout.position.phase == 1)
    })
    .await?;
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

fn report(what: &str, ms: &mut [f64]) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}: median {:.1} ms, p90 {:.1} ms, max {:.1} ms ({} runs)",
        at(0.5),
        at(0.9),
        at(1.0),
        ms.len()
    );
}
