//! Signatures already verified: a thousand plays of one signed name cost one RSA verification.
//!
//! An entry says "this key signed exactly these policy bytes" and holds the parsed policy; the
//! conditions (time, address, resource) are still checked on every use. Entries are kept until
//! their policy expires, at most [`MAX_ENTRIES`] of them, the oldest first out.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::policy::Policy;

/// Most verified signatures remembered; an entry is at most a few KB (a bounded policy and
/// signature), so this is a few MB at worst.
pub const MAX_ENTRIES: usize = 4096;

/// The exact inputs of one verification.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Verified {
    pub key_pair_id: String,
    pub policy: Vec<u8>,
    pub signature: Vec<u8>,
}

#[derive(Debug, Default)]
struct Entries {
    policies: HashMap<Arc<Verified>, Arc<Policy>>,
    /// The same keys in insertion order, for eviction.
    order: VecDeque<Arc<Verified>>,
}

/// A bounded, thread-safe map of verified signatures to their policies.
#[derive(Debug)]
pub struct VerifiedCache {
    entries: Mutex<Entries>,
    capacity: usize,
}

impl Default for VerifiedCache {
    fn default() -> Self {
        VerifiedCache::with_capacity(MAX_ENTRIES)
    }
}

impl VerifiedCache {
    pub fn with_capacity(capacity: usize) -> Self {
        VerifiedCache { entries: Mutex::default(), capacity: capacity.max(1) }
    }

    /// The policy of a signature verified before.
    pub fn get(&self, verified: &Verified) -> Option<Arc<Policy>> {
        self.entries.lock().expect("verified cache lock").policies.get(verified).cloned()
    }

    /// Remembers a verified signature; at capacity, expired entries go first, else the oldest.
    pub fn insert(&self, verified: Verified, policy: Arc<Policy>, now: u64) {
        let mut entries = self.entries.lock().expect("verified cache lock");
        let Entries { policies, order } = &mut *entries;
        if policies.len() >= self.capacity {
            order.retain(|key| {
                let live = policies.get(key).is_some_and(|p| p.date_less_than > now);
                if !live {
                    policies.remove(key);
                }
                live
            });
        }
        while policies.len() >= self.capacity {
            let Some(oldest) = order.pop_front() else { break };
            policies.remove(&oldest);
        }
        let key = Arc::new(verified);
        if policies.insert(Arc::clone(&key), policy).is_none() {
            order.push_back(key);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().expect("verified cache lock").policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8) -> Verified {
        Verified { key_pair_id: "K".into(), policy: vec![n], signature: vec![n] }
    }

    #[test]
    fn bounded_expired_first_then_oldest() {
        let cache = VerifiedCache::with_capacity(3);
        let policy = |until| Arc::new(Policy::canned("r", until));
        cache.insert(entry(1), policy(1000), 0);
        cache.insert(entry(2), policy(10), 0);
        cache.insert(entry(3), policy(1000), 0);
        // At time 50, entry 2 has expired: it makes room, not the oldest.
        cache.insert(entry(4), policy(1000), 50);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&entry(1)).is_some() && cache.get(&entry(2)).is_none());
        cache.insert(entry(5), policy(1000), 50);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&entry(1)).is_none(), "the oldest goes when none has expired");
        assert!(cache.get(&entry(5)).is_some());
    }
}
