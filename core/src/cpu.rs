//! CPU-heavy work (password hashing, MACs over large bodies) runs here: on
//! tokio's blocking threads, at most one job per core at a time, so a flood
//! of such work queues up instead of taking the async workers that answer
//! every other request. A job keeps its slot until it has finished, even if
//! the request that asked for it is gone; and only so many jobs may wait,
//! so a flood is turned away at once instead of piling up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

/// A bounded pool for CPU-bound jobs.
#[derive(Clone, Debug)]
pub struct CpuPool {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

/// Why a job did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("too many jobs are waiting for the CPU")]
    Busy,
    #[error("the job failed")]
    Failed,
}

/// One place in the queue, given back when dropped.
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for CpuPool {
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
    }
}

impl CpuPool {
    /// A pool that runs at most `jobs` jobs at once (at least one), with at
    /// most 64 waiting per job slot.
    pub fn new(jobs: usize) -> Self {
        let jobs = jobs.max(1);
        Self { permits: Arc::new(Semaphore::new(jobs)), waiting: Arc::default(), max_waiting: jobs * 64 }
    }

    /// Runs `job` on a blocking thread once a slot is free; waiting does not
    /// hold an async worker. Refused at once when the queue is full.
    pub async fn run<T, F>(&self, job: F) -> Result<T, Refused>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let queued = Queued(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            return Err(Refused::Busy);
        }
        // Counted out of the queue when the slot comes, or when the asking
        // request gives up while waiting.
        let permit = self.permits.clone().acquire_owned().await;
        drop(queued);
        let permit = permit.map_err(|_| Refused::Failed)?;
        // The slot goes with the job: it is given back when the job ends,
        // not when the asking request is dropped.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|_| Refused::Failed)
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
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        for j in jobs.collect::<Vec<_>>() {
            assert_eq!(j.await.unwrap(), Ok(()));
        }
        assert!(most.load(Ordering::SeqCst) <= 2);
        assert_eq!(pool.available(), 2);
        assert_eq!(pool.run(|| panic!("a job that panics")).await, Err::<(), _>(Refused::Failed));
    }

    /// A request that gives up does not free the slot its job still uses.
    #[tokio::test]
    async fn a_dropped_request_keeps_its_job_counted() {
        let pool = CpuPool::new(1);
        let (started, started_rx) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let asked = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    started.send(()).unwrap();
                    release_rx.recv().unwrap();
                })
                .await
            }
        });
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap()).await.unwrap();
        asked.abort();
        let _ = asked.await;
        assert_eq!(pool.available(), 0, "the job still runs, so its slot is taken");
        release.send(()).unwrap();
        for _ in 0..200 {
            if pool.available() == 1 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("the slot came back when the job ended");
    }

    #[tokio::test]
    async fn a_full_queue_turns_jobs_away_at_once() {
        let pool = CpuPool { permits: Arc::new(Semaphore::new(0)), waiting: Arc::default(), max_waiting: 2 };
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run(|| ()).await })
            })
            .collect();
        tokio::task::yield_now().await;
        while pool.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.run(|| ()).await, Err(Refused::Busy));
        for w in waiting {
            w.abort();
        }
    }
}
