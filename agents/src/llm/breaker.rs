//! A circuit breaker around the model: after `threshold` failed messages in
//! a row it opens, and for `cooldown` nobody waits on a failing model (the
//! router answers instead). Then one message is let through as a trial: a
//! success closes the breaker, a failure opens it again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    trial_running: bool,
}

/// Why the breaker refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Open {
    /// Seconds until the model is tried again.
    pub retry_in_secs: u64,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self { threshold: threshold.max(1), cooldown, state: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// May a message go to the model now?
    pub fn allow(&self) -> Result<(), Open> {
        self.allow_at(Instant::now())
    }

    pub fn allow_at(&self, now: Instant) -> Result<(), Open> {
        let mut s = self.lock();
        match s.open_until {
            None => Ok(()),
            Some(until) if now < until => Err(Open { retry_in_secs: (until - now).as_secs().max(1) }),
            // Half-open: one trial at a time.
            Some(_) if s.trial_running => Err(Open { retry_in_secs: 1 }),
            Some(_) => {
                s.trial_running = true;
                Ok(())
            }
        }
    }

    pub fn success(&self) {
        *self.lock() = State::default();
    }

    pub fn failure(&self) {
        self.failure_at(Instant::now());
    }

    pub fn failure_at(&self, now: Instant) {
        let mut s = self.lock();
        s.failures += 1;
        s.trial_running = false;
        if s.failures >= self.threshold || s.open_until.is_some() {
            s.open_until = Some(now + self.cooldown);
        }
    }

    pub fn is_open(&self) -> bool {
        self.lock().open_until.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_recovers_after_a_trial() {
        let b = Breaker::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(b.allow_at(t0).is_ok());
        b.failure_at(t0);
        assert!(b.allow_at(t0).is_ok(), "one failure is not enough");
        b.failure_at(t0);
        assert_eq!(b.allow_at(t0 + Duration::from_secs(10)), Err(Open { retry_in_secs: 50 }));
        // Cooldown over: one trial, the next caller waits for it.
        let later = t0 + Duration::from_secs(61);
        assert!(b.allow_at(later).is_ok());
        assert!(b.allow_at(later).is_err());
        // The trial fails: open again for a full cooldown.
        b.failure_at(later);
        assert!(b.allow_at(later + Duration::from_secs(30)).is_err());
        let again = later + Duration::from_secs(61);
        assert!(b.allow_at(again).is_ok());
        b.success();
        assert!(!b.is_open());
        assert!(b.allow_at(again).is_ok() && b.allow_at(again).is_ok());
    }

    #[test]
    fn success_resets_the_count() {
        let b = Breaker::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        b.failure_at(t0);
        b.success();
        b.failure_at(t0);
        assert!(b.allow_at(t0).is_ok());
    }
}
