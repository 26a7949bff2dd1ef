//! The HTTP gates: a health check (2xx N times in a row), a smoke test (answers that must
//! match) and the built-in load test (a rate and a concurrency for a duration, judged on its
//! error rate and 95th percentile latency).

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use varai_domain::plan::SmokeRequest;

use super::Verdict;
use super::pods::{PodTarget, excerpt};

/// How long one request of a check may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// GETs `path` from every ready pod of the new version once a second until all answer 2xx
/// `times` rounds in a row, or `timeout` passes.
pub async fn health_check(t: &PodTarget, path: &str, times: u32, timeout: Duration) -> Verdict {
    let deadline = Instant::now() + timeout;
    let mut in_a_row = 0;
    let mut rounds: Vec<Value> = Vec::new();
    let mut last_problem = String::from("no answer yet");
    loop {
        let mut problem = None;
        let mut answers = Vec::new();
        match t.ready_pods().await {
            Ok(pods) if pods.is_empty() => {
                problem = Some(format!("no ready pod of {} to ask", t.version))
            }
            Ok(pods) => {
                for pod in pods {
                    match t.get(&pod, path, REQUEST_TIMEOUT).await {
                        Ok(a) => {
                            if !ok(a.status) && problem.is_none() {
                                problem = Some(format!("{} answered {}", a.pod, a.status));
                            }
                            answers.push(json!({"pod": a.pod, "status": a.status,
                                "ms": a.latency.as_millis()}));
                        }
                        Err(e) => {
                            problem.get_or_insert(e.clone());
                            answers.push(json!({"pod": pod, "error": e}));
                        }
                    }
                }
            }
            Err(e) => problem = Some(e),
        }
        rounds.push(json!({"answers": answers, "ok": problem.is_none()}));
        match problem {
            None => in_a_row += 1,
            Some(p) => {
                in_a_row = 0;
                last_problem = p;
            }
        }
        let evidence = || {
            let start = rounds.len().saturating_sub(20);
            json!({"path": path, "times": times, "inARow": in_a_row, "rounds": rounds[start..]})
        };
        if in_a_row >= times {
            return Verdict::passed(
                format!(
                    "Health check passed: GET {path} answered 2xx {times}× in a row on every ready pod of {}",
                    t.version
                ),
                evidence(),
            );
        }
        if Instant::now() + Duration::from_secs(1) > deadline {
            return Verdict::failed(
                format!(
                    "Health check failed: GET {path} did not answer 2xx {times}× in a row within {} s (last: {last_problem})",
                    timeout.as_secs()
                ),
                evidence(),
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Whether an answer matches what the request expects; the problem if not.
fn judge(r: &SmokeRequest, status: u16, body: &str) -> Option<String> {
    if status != r.status {
        return Some(format!("answered {status}, expected {}", r.status));
    }
    if let Some(text) = &r.body_contains
        && !body.contains(text.as_str())
    {
        return Some(format!("the body does not contain '{text}'"));
    }
    if let Some(j) = &r.json {
        let parsed: Value = match serde_json::from_str(body) {
            Ok(v) => v,
            Err(_) => return Some("the body is not JSON".into()),
        };
        match parsed.pointer(&j.pointer) {
            Some(v) if *v == j.equals => {}
            Some(v) => return Some(format!("{} is {v}, expected {}", j.pointer, j.equals)),
            None => return Some(format!("the body has no {}", j.pointer)),
        }
    }
    None
}

/// Sends each request to a ready pod of the new version, in turn; passes when every answer
/// matches.
pub async fn smoke_test(t: &PodTarget, requests: &[SmokeRequest]) -> Verdict {
    let pods = match t.ready_pods().await {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => {
            return Verdict::failed(
                format!("Smoke test failed: no ready pod of {} to ask", t.version),
                json!({}),
            );
        }
        Err(e) => return Verdict::inconclusive(format!("Smoke test: {e}"), json!({})),
    };
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let pod = &pods[i % pods.len()];
        let (problem, status, body) = match t.get(pod, &r.path, REQUEST_TIMEOUT).await {
            Ok(a) => (judge(r, a.status, &a.body), Some(a.status), a.body),
            Err(e) => (Some(e), None, String::new()),
        };
        if let Some(p) = &problem {
            failures.push(format!("GET {} {p}", r.path));
        }
        results.push(
            json!({"path": r.path, "pod": pod, "status": status, "expected": r.status,
            "ok": problem.is_none(), "problem": problem, "body": excerpt(&body, 300)}),
        );
    }
    let evidence = json!({"requests": results});
    if failures.is_empty() {
        Verdict::passed(
            format!(
                "Smoke test passed: {} request{} answered as expected",
                requests.len(),
                if requests.len() == 1 { "" } else { "s" }
            ),
            evidence,
        )
    } else {
        Verdict::failed(
            format!("Smoke test failed: {}", failures.join("; ")),
            evidence,
        )
    }
}

/// The load test's parameters.
pub struct Load {
    pub rate: u32,
    pub concurrency: u32,
    pub duration: Duration,
    pub max_error_percent: f64,
    pub max_p95_ms: u32,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One request's outcome: when it started (s from the start), its latency (ms), why it failed
/// (a status or an error), if it did.
type Sample = (f64, f64, Option<String>);

/// Requests a second all the load tests of this server send together at most.
const MAX_LOAD_RATE: u32 = 1_000;

fn load_budget() -> &'static Semaphore {
    static BUDGET: std::sync::OnceLock<Semaphore> = std::sync::OnceLock::new();
    BUDGET.get_or_init(|| Semaphore::new(MAX_LOAD_RATE as usize))
}

/// Sends `rate` GET / a second to the new version's ready pods, at most `concurrency` at once,
/// for the duration; requests that would exceed the concurrency are not sent (and the rate
/// achieved says so).
pub async fn load_test(t: &PodTarget, load: &Load) -> Verdict {
    // Every load test on this server shares one budget of requests a second; one that does
    // not fit waits for the others to finish instead of adding to them.
    let Ok(_turn) = load_budget()
        .acquire_many(load.rate.min(MAX_LOAD_RATE))
        .await
    else {
        return Verdict::inconclusive("Load test: the server is stopping".into(), json!({}));
    };
    let pods = match t.ready_pods().await {
        Ok(p) if !p.is_empty() => Arc::new(p),
        Ok(_) => {
            return Verdict::failed(
                format!("Load test failed: no ready pod of {} to send to", t.version),
                json!({}),
            );
        }
        Err(e) => return Verdict::inconclusive(format!("Load test: {e}"), json!({})),
    };
    let permits = Arc::new(Semaphore::new(load.concurrency as usize));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let total = (f64::from(load.rate) * load.duration.as_secs_f64()).round() as u64;
    let gap = Duration::from_secs_f64(1.0 / f64::from(load.rate));
    let mut tasks = Vec::new();
    let mut skipped = 0u64;
    for i in 0..total {
        tokio::time::sleep_until((started + gap.mul_f64(i as f64)).into()).await;
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            skipped += 1;
            continue;
        };
        let (t, pods, next) = (t.clone(), Arc::clone(&pods), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let at = started.elapsed().as_secs_f64();
            let pod = pods[next.fetch_add(1, Ordering::Relaxed) % pods.len()].clone();
            let begun = Instant::now();
            let failure = match t.get(&pod, "/", REQUEST_TIMEOUT).await {
                Ok(a) if ok(a.status) => None,
                Ok(a) => Some(format!("answered {}", a.status)),
                Err(e) => Some(e),
            };
            (at, begun.elapsed().as_secs_f64() * 1000.0, failure)
        }));
    }
    let mut samples: Vec<Sample> = Vec::new();
    for task in tasks {
        if let Ok(s) = task.await {
            samples.push(s);
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(0.001);
    judge_load(load, &samples, skipped, elapsed)
}

fn judge_load(load: &Load, samples: &[Sample], skipped: u64, elapsed: f64) -> Verdict {
    let sent = samples.len();
    let errors = samples.iter().filter(|s| s.2.is_some()).count();
    let mut why: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for reason in samples.iter().filter_map(|s| s.2.as_deref()) {
        *why.entry(reason).or_default() += 1;
    }
    let mut latencies: Vec<f64> = samples.iter().map(|s| s.1).collect();
    latencies.sort_by(f64::total_cmp);
    let error_percent = if sent == 0 {
        100.0
    } else {
        errors as f64 * 100.0 / sent as f64
    };
    let (p50, p95, p99) = (
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0),
    );
    // One point a second, for the gate's chart.
    let seconds = load.duration.as_secs().max(1) as usize;
    let series: Vec<Value> = (0..seconds)
        .map(|s| {
            let mut in_second: Vec<f64> = samples
                .iter()
                .filter(|x| x.0 as usize == s)
                .map(|x| x.1)
                .collect();
            in_second.sort_by(f64::total_cmp);
            let errs = samples
                .iter()
                .filter(|x| x.0 as usize == s && x.2.is_some())
                .count();
            json!({"second": s, "requests": in_second.len(), "errors": errs,
                   "p95": percentile(&in_second, 95.0)})
        })
        .collect();
    let evidence = json!({
        "targetRate": load.rate, "concurrency": load.concurrency,
        "durationSeconds": load.duration.as_secs(),
        "sent": sent, "skipped": skipped, "achievedRate": sent as f64 / elapsed,
        "errors": errors, "errorPercent": error_percent, "failures": why,
        "p50Ms": p50, "p95Ms": p95, "p99Ms": p99,
        "maxErrorPercent": load.max_error_percent, "maxP95Ms": load.max_p95_ms,
        "series": series,
    });
    let figures = format!(
        "{sent} requests at {:.1} req/s, {error_percent:.2}% errors, p95 {p95:.0} ms",
        sent as f64 / elapsed
    );
    let mut problems = Vec::new();
    if error_percent > load.max_error_percent {
        problems.push(format!(
            "errors {error_percent:.2}% > {}%",
            load.max_error_percent
        ));
    }
    if p95 > f64::from(load.max_p95_ms) {
        problems.push(format!("p95 {p95:.0} ms > {} ms", load.max_p95_ms));
    }
    if problems.is_empty() {
        Verdict::passed(format!("Load test passed: {figures}"), evidence)
    } else {
        Verdict::failed(
            format!("Load test failed: {} ({figures})", problems.join(", ")),
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use varai_domain::plan::GateStatus;

    #[test]
    fn the_95th_percentile_is_the_value_below_which_95_percent_fall() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&[], 95.0), 0.0);
    }

    #[test]
    fn a_load_test_fails_on_errors_or_latency_and_says_which() {
        let load = Load {
            rate: 10,
            concurrency: 2,
            duration: Duration::from_secs(1),
            max_error_percent: 5.0,
            max_p95_ms: 100,
        };
        let good: Vec<Sample> = (0..10).map(|i| (0.1 * f64::from(i), 20.0, None)).collect();
        assert_eq!(judge_load(&load, &good, 0, 1.0).status, GateStatus::Passed);
        let mut slow = good.clone();
        slow.iter_mut().for_each(|s| s.1 = 400.0);
        let v = judge_load(&load, &slow, 0, 1.0);
        assert!(
            v.status == GateStatus::Failed && v.summary.contains("p95 400 ms > 100 ms"),
            "{}",
            v.summary
        );
        let mut erring = good;
        erring[0].2 = Some("answered 500".into());
        let v = judge_load(&load, &erring, 0, 1.0);
        assert!(v.summary.contains("errors 10.00% > 5%"), "{}", v.summary);
        assert_eq!(v.evidence["failures"]["answered 500"], 1);
    }

    #[test]
    fn a_smoke_answer_is_judged_by_status_text_and_json() {
        let r = SmokeRequest {
            path: "/".into(),
            status: 200,
            body_contains: Some("ok".into()),
            json: Some(varai_domain::plan::JsonExpectation {
                pointer: "/version".into(),
                equals: json!("v2"),
            }),
        };
        assert_eq!(judge(&r, 200, r#"{"status":"ok","version":"v2"}"#), None);
        assert!(judge(&r, 500, "").is_some_and(|p| p.contains("answered 500")));
        assert!(
            judge(&r, 200, r#"{"status":"ok","version":"v1"}"#)
                .is_some_and(|p| p.contains("/version is \"v1\""))
        );
    }
}
