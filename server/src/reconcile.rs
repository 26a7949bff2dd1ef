//! The one reconcile loop both controllers run. Each object (a deployment, a rollout) is
//! looked at when something can have changed: its next due time (a bake or a pause ending, a
//! back-off, a cluster still converging) or an event (a person's command, a gate's verdict, an
//! analysis verdict, a deployment moving on), never by reading every active object on a tick.
//! A slow resync re-reads the active objects as a safety net. The back-off after errors and
//! its cap, and the lock per object that keeps a controller's step and a person's command
//! apart, are here too, so the two controllers cannot drift apart.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use varai_core::clock::now_ms;
use varai_domain::Recheck;
use varai_domain::timeline::EventLevel;

use crate::error::Result;
use crate::storage::Changed;

/// The longest wait between attempts after errors.
pub const MAX_BACKOFF_MS: i64 = 30_000;

/// How long to wait before attempt number `attempts` (1-based) after errors: doubling from
/// one second, capped.
pub fn backoff_ms(attempts: u32) -> i64 {
    (500_i64 << attempts.min(10)).min(MAX_BACKOFF_MS)
}

/// What an object's step failed with, and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub next_attempt_at: i64,
    /// A timeline line, the first time this error is met (a repeated one is not written again).
    pub event: Option<(EventLevel, String)>,
}

/// The error policy: count the attempt, back off, and say so once per distinct error.
pub fn retry(last_error: Option<&str>, attempts: u32, message: &str, now: i64) -> Retry {
    let attempts = attempts + 1;
    let wait = backoff_ms(attempts);
    let event = (last_error != Some(message)).then(|| {
        (
            EventLevel::Error,
            format!("{message} (retrying with back-off, next in {wait} ms)"),
        )
    });
    Retry {
        attempts,
        next_attempt_at: now + wait,
        event,
    }
}

/// When to look at an object again, as one step of it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// It moved on; look again at once.
    Now,
    /// It waits for the cluster to converge; look again after the poll interval.
    Soon,
    /// It waits for a time (ms since the epoch).
    At(i64),
    /// Only an event can move it: a command, a verdict, another object changing.
    OnEvent,
    /// It is over.
    Done,
}

impl From<Recheck> for Next {
    fn from(r: Recheck) -> Next {
        match r {
            Recheck::Soon => Next::Soon,
            Recheck::At(at) => Next::At(at),
            Recheck::OnEvent => Next::OnEvent,
        }
    }
}

/// What a controller reconciles.
pub trait Reconciler: Send + Sync + 'static {
    type Key: Copy + Eq + Hash + Ord + Send + Sync + Debug + 'static;

    /// The objects due for a look.
    fn queue(&self) -> &Queue<Self::Key>;

    /// Every object that may need work, read at start and at each resync.
    fn active(&self) -> impl Future<Output = Result<Vec<Self::Key>>> + Send;

    /// Wakes the objects a committed change concerns.
    fn heard(&self, change: Changed) -> impl Future<Output = ()> + Send;

    /// Takes one object one decision further and says when to look at it again. An error
    /// here is the loop's to handle (the object could not even be read): it is retried with
    /// the back-off; errors of the object's own work are the reconciler's, recorded on it.
    fn reconcile(&self, key: Self::Key) -> impl Future<Output = Result<Next>> + Send;
}

/// The objects due for a look, each at its earliest due time.
pub struct Queue<K> {
    due: Mutex<Due<K>>,
    changed: Notify,
    /// How many times an object was looked at, for the server's metrics and benchmarks.
    looks: AtomicU64,
}

struct Due<K> {
    at: HashMap<K, i64>,
    order: BTreeSet<(i64, K)>,
}

impl<K: Copy + Eq + Hash + Ord> Default for Queue<K> {
    fn default() -> Self {
        Queue {
            due: Mutex::new(Due {
                at: HashMap::new(),
                order: BTreeSet::new(),
            }),
            changed: Notify::new(),
            looks: AtomicU64::new(0),
        }
    }
}

impl<K: Copy + Eq + Hash + Ord> Queue<K> {
    /// Look at `key` now: something about it changed.
    pub fn wake(&self, key: K) {
        self.wake_at(key, 0);
    }

    /// Look at `key` at `at` (ms since the epoch), unless it is due earlier already.
    pub fn wake_at(&self, key: K, at: i64) {
        let mut due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        match due.at.get(&key).copied() {
            Some(current) if current <= at => return,
            Some(current) => {
                due.order.remove(&(current, key));
            }
            None => {}
        }
        due.at.insert(key, at);
        due.order.insert((at, key));
        drop(due);
        self.changed.notify_one();
    }

    /// Takes every key due at `now`.
    fn take_due(&self, now: i64) -> Vec<K> {
        let mut due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys = Vec::new();
        while let Some(&(at, key)) = due.order.first() {
            if at > now {
                break;
            }
            due.order.pop_first();
            due.at.remove(&key);
            keys.push(key);
        }
        keys
    }

    /// When the earliest key is due.
    fn next_due(&self) -> Option<i64> {
        let due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        due.order.first().map(|(at, _)| *at)
    }

    /// How many times an object was looked at since the start.
    pub fn looks(&self) -> u64 {
        self.looks.load(Ordering::Relaxed)
    }

    /// How many objects wait for a time or for now.
    pub fn len(&self) -> usize {
        self.due.lock().unwrap_or_else(|e| e.into_inner()).at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How often the loop polls an object that waits for the cluster, and re-reads every active
/// object as a safety net.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub poll: Duration,
    pub resync: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            poll: Duration::from_millis(250),
            resync: Duration::from_secs(300),
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Runs the loop forever: every active object once at start and at each resync, then each
/// one when it is due, or woken by a change it hears of.
pub async fn run<R: Reconciler>(
    reconciler: Arc<R>,
    mut changes: broadcast::Receiver<Changed>,
    pace: Pace,
) {
    let queue = reconciler.queue();
    let mut resync_at = 0;
    let mut resync_failures = 0;
    let mut failures: HashMap<R::Key, u32> = HashMap::new();
    let mut listening = true;
    loop {
        let now = now_ms();
        if now >= resync_at {
            match reconciler.active().await {
                Ok(keys) => {
                    keys.into_iter().for_each(|k| queue.wake(k));
                    resync_failures = 0;
                    resync_at = now + millis(pace.resync);
                }
                Err(e) => {
                    resync_failures += 1;
                    tracing::warn!(error = %e.chain(), "a controller could not read its work");
                    resync_at = now + backoff_ms(resync_failures);
                }
            }
        }
        for key in queue.take_due(now) {
            queue.looks.fetch_add(1, Ordering::Relaxed);
            let next = match reconciler.reconcile(key).await {
                Ok(next) => {
                    failures.remove(&key);
                    next
                }
                Err(e) => {
                    let n = failures.entry(key).or_insert(0);
                    *n += 1;
                    tracing::warn!(?key, attempts = *n, error = %e.chain(), "could not look at an object");
                    Next::At(now_ms() + backoff_ms(*n))
                }
            };
            let now = now_ms();
            match next {
                Next::Now => queue.wake(key),
                Next::Soon => queue.wake_at(key, now + millis(pace.poll)),
                Next::At(at) => queue.wake_at(key, at),
                Next::OnEvent | Next::Done => {}
            }
        }
        let until = queue.next_due().unwrap_or(i64::MAX).min(resync_at);
        let wait = Duration::from_millis(u64::try_from((until - now_ms()).max(0)).unwrap_or(0));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = queue.changed.notified() => {}
            heard = changes.recv(), if listening => match heard {
                Ok(change) => reconciler.heard(change).await,
                // Missed some: look at everything again rather than miss an object.
                Err(broadcast::error::RecvError::Lagged(_)) => resync_at = 0,
                Err(broadcast::error::RecvError::Closed) => listening = false,
            },
        }
    }
}

/// One lock per object: a controller's step and a person's command on the same object never
/// interleave, so a step decided before a command cannot undo it.
pub struct Locks<K> {
    map: Mutex<LockMap<K>>,
}

struct LockMap<K> {
    locks: HashMap<K, Arc<tokio::sync::Mutex<()>>>,
    /// The size at which locks nobody holds or waits for are dropped.
    prune_at: usize,
}

/// The fewest locks kept before any is dropped.
const MIN_PRUNE_AT: usize = 64;

impl<K> Default for Locks<K> {
    fn default() -> Self {
        Locks {
            map: Mutex::new(LockMap {
                locks: HashMap::new(),
                prune_at: MIN_PRUNE_AT,
            }),
        }
    }
}

impl<K: Eq + Hash> Locks<K> {
    /// Holds `key`'s lock until the guard is dropped.
    pub async fn lock(&self, key: K) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if map.locks.len() >= map.prune_at {
                // Only the map holds such a lock: no guard, no waiter. Each object ever locked
                // would otherwise keep an entry for the life of the process.
                map.locks.retain(|_, l| Arc::strong_count(l) > 1);
                map.prune_at = (2 * map.locks.len()).max(MIN_PRUNE_AT);
            }
            Arc::clone(map.locks.entry(key).or_default())
        };
        lock.lock_owned().await
    }

    /// How many locks are kept.
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .locks
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_one_second_up_to_its_cap() {
        assert_eq!(backoff_ms(1), 1_000);
        assert_eq!(backoff_ms(2), 2_000);
        assert_eq!(backoff_ms(5), 16_000);
        assert_eq!(backoff_ms(6), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(60), MAX_BACKOFF_MS);
    }

    #[test]
    fn an_error_is_written_to_the_timeline_once_until_it_changes() {
        let first = retry(None, 0, "the cluster did not answer", 10_000);
        assert_eq!(first.attempts, 1);
        assert_eq!(first.next_attempt_at, 11_000);
        assert!(first.event.is_some());
        let again = retry(
            Some("the cluster did not answer"),
            1,
            "the cluster did not answer",
            11_000,
        );
        assert_eq!(again.next_attempt_at, 13_000);
        assert_eq!(again.event, None);
        let other = retry(Some("the cluster did not answer"), 2, "forbidden", 13_000);
        assert!(other.event.is_some_and(|(_, m)| m.starts_with("forbidden")));
    }

    #[tokio::test]
    async fn locks_nobody_holds_are_dropped_and_held_ones_kept() {
        let locks = Locks::default();
        let held = locks.lock(0).await;
        for key in 1..1_000 {
            drop(locks.lock(key).await);
        }
        assert!(locks.len() <= MIN_PRUNE_AT, "{} locks kept", locks.len());
        // The held one survived every pruning: locking it again waits for its holder.
        let again = tokio::time::timeout(std::time::Duration::from_millis(50), locks.lock(0));
        assert!(again.await.is_err(), "key 0 is still held");
        drop(held);
        drop(locks.lock(0).await);
    }

    #[test]
    fn a_key_is_due_at_its_earliest_time_and_taken_once() {
        let q = Queue::default();
        q.wake_at(1, 500);
        q.wake_at(2, 100);
        q.wake_at(1, 900);
        q.wake_at(3, 300);
        q.wake(3);
        assert_eq!(q.next_due(), Some(0));
        assert_eq!(q.take_due(200), vec![3, 2]);
        assert_eq!(q.take_due(499), Vec::<i32>::new());
        assert_eq!(q.take_due(500), vec![1]);
        assert!(q.is_empty());
    }
}
