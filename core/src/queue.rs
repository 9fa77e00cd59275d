//! The run queue: approved runs waiting for a worker, claimed with leases so
//! several replicas can work one queue. A worker that dies loses its lease
//! when it runs out, and another claims the run and resumes it from its last
//! completed step. Writes by a worker land only while it still holds the
//! lease, so a worker that was presumed dead cannot overwrite its successor.

use async_trait::async_trait;

use crate::ids::RunId;
use crate::model::{Millis, Run};
use crate::store::StoreResult;

#[async_trait]
pub trait RunQueue: Send + Sync {
    /// The oldest run of one of `operations` that is approved (or running
    /// with a lapsed lease) and due at `now`, now leased to `worker` until
    /// `now + lease_ms`. Runs of other operations wait for a worker that can do them.
    async fn claim_run(
        &self,
        worker: &str,
        operations: &[String],
        now: Millis,
        lease_ms: i64,
    ) -> StoreResult<Option<Run>>;
    /// Extends `worker`'s lease on `run` to `until`; false when it no longer holds it.
    async fn renew_lease(&self, run: &RunId, worker: &str, until: Millis) -> StoreResult<bool>;
    /// Stores `run` (its steps, its status) if `worker` still holds its
    /// lease and nobody cancelled the run; `retry_at` makes it due again then (a failed step's backoff)
    /// and gives the lease up, as does a finished run. False when the lease
    /// was lost (nothing is written).
    async fn save_leased(&self, run: &Run, worker: &str, retry_at: Option<Millis>) -> StoreResult<bool>;
    /// Who holds `run`'s lease and until when, if anyone.
    async fn lease_of(&self, run: &RunId) -> StoreResult<Option<(String, Millis)>>;
}
