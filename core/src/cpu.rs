//! CPU-heavy work (password hashing, MACs over large bodies) runs here: on
//! tokio's blocking threads, at most one job per core at a time, so a flood
//! of such work queues up instead of taking the async workers that answer
//! every other request.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// A bounded pool for CPU-bound jobs.
#[derive(Clone, Debug)]
pub struct CpuPool {
    permits: Arc<Semaphore>,
}

impl Default for CpuPool {
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
    }
}

impl CpuPool {
    /// A pool that runs at most `jobs` jobs at once (at least one).
    pub fn new(jobs: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(jobs.max(1))) }
    }

    /// Runs `job` on a blocking thread once a slot is free; waiting does not
    /// hold an async worker. A job that panics is reported as `None`.
    pub async fn run<T, F>(&self, job: F) -> Option<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self.permits.acquire().await.ok()?;
        tokio::task::spawn_blocking(job).await.ok()
    }

    /// Jobs that may start now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_wait_for_a_slot_and_never_exceed_it() {
        let pool = CpuPool::new(2);
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
                .await
            })
        });
        for j in jobs.collect::<Vec<_>>() {
            assert_eq!(j.await.unwrap(), Some(()));
        }
        assert!(most.load(std::sync::atomic::Ordering::SeqCst) <= 2);
        assert_eq!(pool.available(), 2);
        assert_eq!(pool.run(|| panic!("a job that panics")).await, None::<()>);
    }
}
