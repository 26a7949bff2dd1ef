//! Work too heavy for the async workers (password hashing, costly flag evaluations) runs on
//! the blocking pool, a bounded number at once. A caller that finds every turn taken waits a
//! little, then is refused as busy: the runtime stays responsive and memory stays bounded.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

use crate::error::{AppError, Result};

/// A bounded number of turns on the blocking pool.
pub struct Turns {
    permits: Arc<Semaphore>,
    wait: Duration,
    busy: &'static str,
}

impl Turns {
    /// `per_core` turns for each core; a caller waits at most `wait` for one, then gets
    /// `AppError::Unavailable(busy)` (503 with `Retry-After`).
    pub fn per_core(per_core: usize, wait: Duration, busy: &'static str) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Turns {
            permits: Arc::new(Semaphore::new(per_core.max(1) * cores)),
            wait,
            busy,
        }
    }

    /// Runs `work` on the blocking pool once a turn is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let permit = match tokio::time::timeout(
            self.wait,
            Arc::clone(&self.permits).acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            _ => return Err(AppError::Unavailable(self.busy.into())),
        };
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a task on the blocking pool failed");
            AppError::Internal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_caller_finding_every_turn_taken_is_refused_as_busy_and_the_next_gets_one() {
        let turns = Arc::new(Turns::per_core(1, Duration::from_millis(50), "busy now"));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(std::sync::Mutex::new(hold));
        let mut holders = Vec::new();
        for _ in 0..cores {
            let (turns, hold) = (Arc::clone(&turns), Arc::clone(&hold));
            holders.push(tokio::spawn(async move {
                turns
                    .run(move || hold.lock().map(|h| h.recv().is_ok()).unwrap_or(false))
                    .await
            }));
        }
        while turns.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = turns.run(|| 1).await;
        assert!(
            matches!(&refused, Err(AppError::Unavailable(m)) if m == "busy now"),
            "{refused:?}"
        );
        for _ in 0..cores {
            release.send(()).expect("a holder is waiting");
        }
        for h in holders {
            assert!(matches!(h.await, Ok(Ok(true))));
        }
        assert_eq!(turns.run(|| 2).await.ok(), Some(2));
    }
}
