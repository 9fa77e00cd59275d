//! Trace and span ids: random, never zero, from a generator per thread
//! (ids must not collide; they guard nothing, so no cryptographic source).

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A seed that differs between threads and processes: the standard
/// library's random hasher keys, the time and the thread.
fn seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.write(format!("{:?}", std::thread::current().id()).as_bytes());
    h.finish()
}

/// SplitMix64's output function: a counter in, well-spread bits out.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn next() -> u64 {
    STATE.with(|s| {
        let v = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(v);
        mix(v)
    })
}

pub(super) fn span_id() -> [u8; 8] {
    loop {
        let v = next();
        if v != 0 {
            return v.to_be_bytes();
        }
    }
}

pub(super) fn trace_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&next().to_be_bytes());
    id[8..].copy_from_slice(&span_id());
    id
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_do_not_repeat_and_are_never_zero() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let id = super::span_id();
            assert_ne!(id, [0; 8]);
            assert!(seen.insert(id));
        }
        let other = std::thread::spawn(super::trace_id).join().unwrap();
        assert_ne!(other, super::trace_id());
    }
}
