//! Rate limits and budgets, as `[limits]` sets them: how often one client
//! may call a surface (GCRA buckets, governor), how failed sign-ins of one
//! account from one address slow down, and how much of the language model
//! one person may use in an hour. Counted in this process's memory: each
//! replica limits what it receives.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;
use crate::config::LimitsConfig;
use crate::error::Error;
use crate::messages;
use crate::model::Millis;

/// Who a limit counts: a client address, a signed-in person or a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Who<'a> {
    Address(IpAddr),
    User(&'a str),
    Token(&'a str),
}

/// The client address of a request, as the HTTP edge established it (the
/// peer, or the address a trusted proxy forwarded). Surfaces read it from
/// the request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// What is being limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Api,
    Mcp,
    Chat,
    SignIn,
    /// Requests refused for their signature or token, per address.
    BadCredentials,
}

impl Limit {
    fn what(self) -> &'static str {
        match self {
            Self::Api => "API requests",
            Self::Mcp => "MCP requests",
            Self::Chat => "chat messages",
            Self::SignIn => "sign-in attempts",
            Self::BadCredentials => "requests with bad credentials",
        }
    }
}

/// The service's clock as governor's, so tests move both together.
#[derive(Clone)]
struct ServiceClock(Arc<dyn Clock>);

impl governor::clock::Clock for ServiceClock {
    type Instant = Nanos;
    fn now(&self) -> Nanos {
        Nanos::from(Duration::from_millis(u64::try_from(self.0.now()).unwrap_or(0)))
    }
}

type Bucket = RateLimiter<u64, DefaultKeyedStateStore<u64>, ServiceClock, NoOpMiddleware<Nanos>>;

/// Failed sign-ins of one account from one address.
#[derive(Clone, Copy, Debug, Default)]
struct Failures {
    count: u32,
    /// No attempt before this.
    wait_until: Millis,
}

/// One person's use of the language model in the current hour.
#[derive(Clone, Copy, Debug)]
struct Usage {
    since: Millis,
    calls: u32,
    tokens: u64,
}

const HOUR_MS: Millis = 3_600_000;
/// Entries kept per map before old ones are dropped.
const MAX_ENTRIES: usize = 100_000;

pub struct Limits {
    config: LimitsConfig,
    clock: Arc<dyn Clock>,
    hasher: std::collections::hash_map::RandomState,
    buckets: Vec<(Limit, Bucket)>,
    checks: AtomicU64,
    sign_in: Mutex<HashMap<u64, Failures>>,
    llm: Mutex<HashMap<String, Usage>>,
    /// Addresses past `bad_credentials_per_minute`, until when.
    blocked: Mutex<HashMap<u64, Millis>>,
}

impl Limits {
    pub fn new(config: &LimitsConfig, clock: Arc<dyn Clock>) -> Self {
        let per_minute = [
            (Limit::Api, config.api_per_minute),
            (Limit::Mcp, config.mcp_per_minute),
            (Limit::Chat, config.chat_per_minute),
            (Limit::SignIn, config.sign_in_per_minute),
            (Limit::BadCredentials, config.bad_credentials_per_minute),
        ];
        let buckets = per_minute
            .into_iter()
            .filter_map(|(limit, n)| {
                let quota = Quota::per_minute(NonZeroU32::new(n)?);
                let bucket = RateLimiter::new(quota, DefaultKeyedStateStore::default(), ServiceClock(clock.clone()));
                Some((limit, bucket))
            })
            .collect();
        Self {
            config: config.clone(),
            clock,
            hasher: Default::default(),
            buckets,
            checks: AtomicU64::new(0),
            sign_in: Mutex::default(),
            llm: Mutex::default(),
            blocked: Mutex::default(),
        }
    }

    fn key(&self, who: Who<'_>) -> u64 {
        match who {
            Who::Address(ip) => self.hasher.hash_one(Who::Address(grouped(ip))),
            other => self.hasher.hash_one(other),
        }
    }

    /// Counts one request by `who` against `limit`: refused with the time
    /// to wait when the bucket is empty.
    pub fn check(&self, limit: Limit, who: Who<'_>) -> Result<(), Error> {
        let Some((_, bucket)) = self.buckets.iter().find(|(l, _)| *l == limit) else { return Ok(()) };
        // Now and then, forget clients whose buckets have refilled.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            for (_, b) in &self.buckets {
                b.retain_recent();
                b.shrink_to_fit();
            }
        }
        let key = self.key(who);
        bucket.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(ServiceClock(self.clock.clone()).now());
            if limit == Limit::BadCredentials {
                let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
                let now = self.clock.now();
                if blocked.len() >= MAX_ENTRIES {
                    blocked.retain(|_, until| *until > now);
                }
                blocked.insert(key, now + Millis::try_from(wait.as_millis()).unwrap_or(Millis::MAX / 2));
            }
            rate_limited(limit.what(), wait.as_millis())
        })
    }

    /// Refused while `who` is past `bad_credentials_per_minute`: a client
    /// guessing tokens is turned away before its next guess is looked up.
    /// (Webhook receivers do not ask: a signed delivery is always checked.)
    pub fn refusing(&self, who: Who<'_>) -> Result<(), Error> {
        let key = self.key(who);
        let now = self.clock.now();
        let until = self.blocked.lock().unwrap_or_else(|e| e.into_inner()).get(&key).copied();
        match until {
            Some(until) if until > now => {
                Err(rate_limited(Limit::BadCredentials.what(), u128::try_from(until - now).unwrap_or(1000)))
            }
            _ => Ok(()),
        }
    }

    fn sign_in_key(&self, account: &str, addr: IpAddr) -> u64 {
        self.hasher.hash_one((account.trim().to_ascii_lowercase(), grouped(addr)))
    }

    /// Refused while `account` must wait after failed sign-ins from `addr`
    /// (other addresses are not slowed).
    pub fn sign_in_allowed(&self, account: &str, addr: IpAddr) -> Result<(), Error> {
        let key = self.sign_in_key(account, addr);
        let now = self.clock.now();
        let failures = self.sign_in.lock().unwrap_or_else(|e| e.into_inner()).get(&key).copied();
        match failures {
            Some(f) if f.wait_until > now => Err(rate_limited("sign-in attempts", (f.wait_until - now) as u128)),
            _ => Ok(()),
        }
    }

    /// Records a failed sign-in; returns how long the next attempt waits, in ms.
    pub fn sign_in_failed(&self, account: &str, addr: IpAddr) -> Millis {
        let key = self.sign_in_key(account, addr);
        let now = self.clock.now();
        let mut map = self.sign_in.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, f| f.wait_until > now);
        }
        let f = map.entry(key).or_default();
        f.count = f.count.saturating_add(1);
        let over = f.count.saturating_sub(self.config.sign_in_free_failures);
        let wait = if over == 0 {
            0
        } else {
            let secs = 1u64.checked_shl(over - 1).unwrap_or(u64::MAX).min(self.config.sign_in_max_delay_secs);
            Millis::try_from(secs * 1000).unwrap_or(Millis::MAX)
        };
        f.wait_until = now + wait;
        wait
    }

    /// A successful sign-in clears the failures of that account and address.
    pub fn sign_in_succeeded(&self, account: &str, addr: IpAddr) {
        let key = self.sign_in_key(account, addr);
        self.sign_in.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
    }

    /// Refused when `user` has used this hour's language model budget.
    pub fn llm_allowed(&self, user: &str) -> Result<(), Error> {
        let now = self.clock.now();
        let usage = self.llm.lock().unwrap_or_else(|e| e.into_inner()).get(user).copied();
        let Some(u) = usage.filter(|u| now - u.since < HOUR_MS) else { return Ok(()) };
        let calls = self.config.llm_calls_per_hour;
        let tokens = self.config.llm_tokens_per_hour;
        if (calls > 0 && u.calls >= calls) || (tokens > 0 && u.tokens >= tokens) {
            let wait = (u.since + HOUR_MS - now).max(0);
            return Err(Error::RateLimited {
                message: messages::llm_budget_spent(calls, tokens, wait),
                retry_after_secs: secs_up(wait as u128),
            });
        }
        Ok(())
    }

    /// Counts one language model call of `user` that used `tokens`.
    pub fn llm_used(&self, user: &str, tokens: u64) {
        let now = self.clock.now();
        let mut map = self.llm.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, u| now - u.since < HOUR_MS);
        }
        let u = map.entry(user.to_owned()).or_insert(Usage { since: now, calls: 0, tokens: 0 });
        if now - u.since >= HOUR_MS {
            *u = Usage { since: now, calls: 0, tokens: 0 };
        }
        u.calls = u.calls.saturating_add(1);
        u.tokens = u.tokens.saturating_add(tokens);
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }
}

/// The client an address stands for: IPv4 as it is, IPv6 by its /64 (one
/// site's network, which hands its hosts any address inside it).
pub fn grouped(ip: IpAddr) -> IpAddr {
    match crate::config::canonical(ip) {
        IpAddr::V6(v6) => {
            let mut s = v6.segments();
            s[4..].fill(0);
            IpAddr::V6(s.into())
        }
        v4 => v4,
    }
}

fn secs_up(ms: u128) -> u64 {
    u64::try_from(ms.div_ceil(1000)).unwrap_or(u64::MAX).max(1)
}

fn rate_limited(what: &str, wait_ms: u128) -> Error {
    let retry_after_secs = secs_up(wait_ms);
    Error::RateLimited { message: messages::rate_limited(what, retry_after_secs), retry_after_secs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn limits(edit: impl FnOnce(&mut LimitsConfig)) -> (Limits, Arc<ManualClock>) {
        let mut config = LimitsConfig::default();
        edit(&mut config);
        let clock = Arc::new(ManualClock::new(1_790_000_000_000));
        (Limits::new(&config, clock.clone()), clock)
    }

    #[test]
    fn a_bucket_refuses_past_its_quota_then_refills() {
        let (l, clock) = limits(|c| c.api_per_minute = 3);
        let a = Who::Address("10.0.0.1".parse().unwrap());
        for _ in 0..3 {
            l.check(Limit::Api, a).unwrap();
        }
        let refused = l.check(Limit::Api, a).unwrap_err();
        assert!(matches!(refused, Error::RateLimited { retry_after_secs: 20, .. }), "{refused:?}");
        assert_eq!(refused.code(), "rate_limited");
        // Others are not affected; one cell returns every 20 s.
        l.check(Limit::Api, Who::Token("tok_1")).unwrap();
        l.check(Limit::Mcp, a).unwrap();
        clock.advance(20_000);
        l.check(Limit::Api, a).unwrap();
        assert!(l.check(Limit::Api, a).is_err());
        // `0` turns a limit off.
        let (off, _) = limits(|c| c.api_per_minute = 0);
        for _ in 0..10_000 {
            off.check(Limit::Api, a).unwrap();
        }
    }

    #[test]
    fn addresses_past_the_bad_credentials_limit_are_refused_before_looking() {
        let (l, clock) = limits(|c| c.bad_credentials_per_minute = 1);
        let a = Who::Address("10.0.0.9".parse().unwrap());
        l.refusing(a).unwrap();
        l.check(Limit::BadCredentials, a).unwrap();
        l.refusing(a).expect("the first failure does not block");
        assert!(l.check(Limit::BadCredentials, a).is_err());
        assert!(matches!(l.refusing(a), Err(Error::RateLimited { retry_after_secs: 60, .. })));
        l.refusing(Who::Address("10.0.0.10".parse().unwrap())).expect("others are not refused");
        clock.advance(60_000);
        l.refusing(a).expect("over when the bucket refills");
    }

    #[test]
    fn failed_sign_ins_wait_longer_per_account_and_address_only() {
        let (l, clock) = limits(|c| {
            c.sign_in_free_failures = 2;
            c.sign_in_max_delay_secs = 4;
        });
        let (here, there): (IpAddr, IpAddr) = ("10.0.0.3".parse().unwrap(), "10.0.0.4".parse().unwrap());
        assert_eq!(l.sign_in_failed("admin", here), 0);
        assert_eq!(l.sign_in_failed("admin", here), 0);
        l.sign_in_allowed("admin", here).unwrap();
        assert_eq!(l.sign_in_failed("Admin", here), 1000, "names compare without case");
        assert!(matches!(l.sign_in_allowed("admin", here), Err(Error::RateLimited { retry_after_secs: 1, .. })));
        l.sign_in_allowed("admin", there).expect("another address is not slowed");
        l.sign_in_allowed("carol", here).expect("another account is not slowed");
        clock.advance(1000);
        assert_eq!(l.sign_in_failed("admin", here), 2000);
        clock.advance(2000);
        assert_eq!(l.sign_in_failed("admin", here), 4000);
        clock.advance(4000);
        assert_eq!(l.sign_in_failed("admin", here), 4000, "capped");
        clock.advance(4000);
        l.sign_in_succeeded("admin", here);
        assert_eq!(l.sign_in_failed("admin", here), 0, "a success starts over");
    }

    /// Rotating through the addresses of one IPv6 /64 does not start over.
    #[test]
    fn ipv6_clients_count_by_their_64() {
        let (l, _) = limits(|c| {
            c.sign_in_free_failures = 1;
            c.api_per_minute = 2;
        });
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        l.sign_in_failed("admin", a);
        l.sign_in_failed("admin", a);
        assert!(l.sign_in_allowed("admin", b).is_err(), "same /64");
        l.sign_in_allowed("admin", elsewhere).expect("another /64");
        l.check(Limit::Api, Who::Address(a)).unwrap();
        l.check(Limit::Api, Who::Address(b)).unwrap();
        assert!(l.check(Limit::Api, Who::Address("2001:db8:1:2::7".parse().unwrap())).is_err());
        assert_eq!(grouped("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_llm_budget_is_per_person_and_hour() {
        let (l, clock) = limits(|c| {
            c.llm_calls_per_hour = 2;
            c.llm_tokens_per_hour = 1000;
        });
        l.llm_allowed("ann").unwrap();
        l.llm_used("ann", 100);
        l.llm_used("ann", 100);
        let spent = l.llm_allowed("ann").unwrap_err();
        assert!(spent.to_string().contains("2 calls") && spent.to_string().contains("60 min"), "{spent}");
        l.llm_allowed("bob").unwrap();
        l.llm_used("bob", 5000);
        assert!(l.llm_allowed("bob").is_err(), "tokens count too");
        clock.advance(HOUR_MS);
        l.llm_allowed("ann").unwrap();
        l.llm_allowed("bob").unwrap();
    }
}
