//! Segmented LRU: new entries go to a probation segment; an entry used again by a
//! different reader moves to a protected segment (at most 80% of the capacity). Eviction
//! takes the least recently used probation entries first, so a one-off scan (a single
//! viewer, a crawler) cycles through probation without flushing what many viewers watch.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

#[derive(Debug)]
struct Entry {
    size: u64,
    tick: u64,
    protected: bool,
    last_reader: u64,
}

#[derive(Debug)]
pub(crate) struct Slru<K> {
    entries: HashMap<K, Entry>,
    probation: BTreeMap<u64, K>,
    protected: BTreeMap<u64, K>,
    tick: u64,
    used: u64,
    protected_used: u64,
    capacity: u64,
}

impl<K: Clone + Eq + Hash> Slru<K> {
    pub(crate) fn new(capacity: u64) -> Self {
        Slru {
            entries: HashMap::new(),
            probation: BTreeMap::new(),
            protected: BTreeMap::new(),
            tick: 0,
            used: 0,
            protected_used: 0,
            capacity,
        }
    }

    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Marks `key` as just used by `reader`. A use by another reader than the last one
    /// promotes a probation entry. Returns whether the key is present.
    pub(crate) fn touch(&mut self, key: &K, reader: u64) -> bool {
        let tick = self.next_tick();
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        let old = entry.tick;
        entry.tick = tick;
        let promote = !entry.protected && entry.last_reader != reader;
        entry.last_reader = reader;
        if entry.protected {
            let k = self.protected.remove(&old).expect("slru protected");
            self.protected.insert(tick, k);
        } else if promote {
            entry.protected = true;
            let size = entry.size;
            let k = self.probation.remove(&old).expect("slru probation");
            self.protected.insert(tick, k);
            self.protected_used += size;
            self.rebalance();
        } else {
            let k = self.probation.remove(&old).expect("slru probation");
            self.probation.insert(tick, k);
        }
        true
    }

    /// Keeps the protected segment within 80% of the capacity by moving its least
    /// recently used entries back to probation.
    fn rebalance(&mut self) {
        let limit = self.capacity / 5 * 4;
        while self.protected_used > limit {
            let Some((tick, key)) = self.protected.pop_first() else {
                break;
            };
            let entry = self.entries.get_mut(&key).expect("slru entry");
            entry.protected = false;
            self.protected_used -= entry.size;
            self.probation.insert(tick, key);
        }
    }

    /// Adds (or resizes) `key` in probation and evicts until within capacity. Returns the
    /// evicted keys; that may include `key` itself if it alone exceeds the capacity.
    pub(crate) fn insert(&mut self, key: K, size: u64, reader: u64) -> Vec<K> {
        self.remove(&key);
        let tick = self.next_tick();
        self.entries.insert(key.clone(), Entry { size, tick, protected: false, last_reader: reader });
        self.probation.insert(tick, key);
        self.used += size;
        self.evict()
    }

    fn evict(&mut self) -> Vec<K> {
        let mut evicted = Vec::new();
        while self.used > self.capacity {
            let victim = match self.probation.pop_first() {
                Some((_, key)) => key,
                None => match self.protected.pop_first() {
                    Some((_, key)) => key,
                    None => break,
                },
            };
            let entry = self.entries.remove(&victim).expect("slru entry");
            self.used -= entry.size;
            if entry.protected {
                self.protected_used -= entry.size;
            }
            evicted.push(victim);
        }
        evicted
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<u64> {
        let entry = self.entries.remove(key)?;
        if entry.protected {
            self.protected.remove(&entry.tick);
            self.protected_used -= entry.size;
        } else {
            self.probation.remove(&entry.tick);
        }
        self.used -= entry.size;
        Some(entry.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_does_not_flush_popular_entries() {
        let mut lru = Slru::new(10);
        for k in 0..5u32 {
            lru.insert(k, 1, 1);
            lru.touch(&k, 2); // a second viewer: popular
        }
        for k in 100..200u32 {
            assert!(lru.insert(k, 1, 3).iter().all(|e| *e >= 100), "scan evicted a popular entry");
        }
        for k in 0..5u32 {
            assert!(lru.contains(&k));
        }
        assert!(lru.used() <= 10);
    }

    #[test]
    fn same_reader_does_not_promote_and_bounds_hold() {
        let mut lru = Slru::new(4);
        lru.insert(1u32, 1, 7);
        lru.touch(&1, 7);
        for k in 2..10u32 {
            lru.insert(k, 1, 7);
        }
        assert!(!lru.contains(&1));
        assert_eq!(lru.used(), 4);
        let evicted = lru.insert(99, 5, 1);
        assert!(evicted.contains(&99), "an entry larger than the capacity is not kept");
        assert!(lru.used() <= 4);
    }
}
