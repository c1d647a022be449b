//! A bounded map from object keys to entries that expire: what an origin's cache knows of
//! its objects (versions until they need revalidation, names known to be missing).
//!
//! Entries are also ordered by expiry, so that a full map drops the entry that expires first
//! and expired entries are purged in O(log n) each, never by scanning the map.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug)]
struct Entry<E, V> {
    value: V,
    expiry: E,
    /// Tells apart entries with the same expiry in the order.
    seq: u64,
}

#[derive(Debug)]
pub(crate) struct ExpiryMap<E, V> {
    entries: HashMap<Arc<str>, Entry<E, V>>,
    by_expiry: BTreeMap<(E, u64), Arc<str>>,
    next_seq: u64,
    capacity: usize,
}

impl<E: Ord + Copy, V: Clone> ExpiryMap<E, V> {
    /// A map holding at most `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Self {
        ExpiryMap { entries: HashMap::new(), by_expiry: BTreeMap::new(), next_seq: 0, capacity }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// The value of `key` and when it expires.
    pub(crate) fn get(&self, key: &str) -> Option<(V, E)> {
        self.entries.get(key).map(|entry| (entry.value.clone(), entry.expiry))
    }

    /// Sets `key` to `value` until `expiry`; when the map is full, the entry that expires
    /// first makes room.
    pub(crate) fn insert(&mut self, key: &str, value: V, expiry: E) {
        if self.capacity == 0 {
            return;
        }
        let key: Arc<str> = match self.entries.get_key_value(key) {
            Some((existing, entry)) => {
                let existing = Arc::clone(existing);
                self.by_expiry.remove(&(entry.expiry, entry.seq));
                existing
            }
            None => {
                if self.entries.len() >= self.capacity
                    && let Some((_, victim)) = self.by_expiry.pop_first()
                {
                    self.entries.remove(&victim);
                }
                key.into()
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_expiry.insert((expiry, seq), Arc::clone(&key));
        self.entries.insert(key, Entry { value, expiry, seq });
    }

    /// Moves the expiry of `key`, if present.
    pub(crate) fn set_expiry(&mut self, key: &str, expiry: E) {
        if let Some((value, _)) = self.get(key) {
            self.insert(key, value, expiry);
        }
    }

    pub(crate) fn remove(&mut self, key: &str) {
        if let Some(entry) = self.entries.remove(key) {
            self.by_expiry.remove(&(entry.expiry, entry.seq));
        }
    }

    /// Removes every entry whose key `select` picks, and returns them.
    pub(crate) fn remove_matching(&mut self, select: impl Fn(&str) -> bool) -> Vec<(Arc<str>, V)> {
        let keys: Vec<Arc<str>> = self.entries.keys().filter(|key| select(key)).cloned().collect();
        let mut removed = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(entry) = self.entries.remove(&key) {
                self.by_expiry.remove(&(entry.expiry, entry.seq));
                removed.push((key, entry.value));
            }
        }
        removed
    }

    /// Drops every entry that expires at or before `now`.
    pub(crate) fn purge_expired(&mut self, now: E) {
        while let Some(entry) = self.by_expiry.first_entry()
            && entry.key().0 <= now
        {
            let key = entry.remove();
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_drops_what_expires_first() {
        let mut map = ExpiryMap::new(3);
        map.insert("a", 1, 30);
        map.insert("b", 2, 10);
        map.insert("c", 3, 20);
        map.insert("d", 4, 40);
        assert_eq!(map.len(), 3);
        assert!(map.get("b").is_none(), "b expired first");
        assert_eq!(map.get("a"), Some((1, 30)));
        // Updating an entry keeps the bound and moves it in the order.
        map.insert("a", 5, 5);
        map.insert("e", 6, 50);
        assert!(map.get("a").is_none());
        assert_eq!(map.len(), 3);
        map.set_expiry("c", 100);
        map.purge_expired(45);
        assert_eq!(map.get("c"), Some((3, 100)));
        assert!(map.get("d").is_none() && map.get("e").is_some());
        map.remove("c");
        assert_eq!(map.len(), 1);
        map.insert("dir/a", 7, 60);
        map.insert("dir/b", 8, 70);
        let mut removed: Vec<_> =
            map.remove_matching(|key| key.starts_with("dir/")).into_iter().map(|(_, v)| v).collect();
        removed.sort();
        assert_eq!(removed, [7, 8]);
        assert_eq!(map.len(), 1);
        map.purge_expired(1000);
        assert_eq!(map.len(), 0, "the order forgot the removed entries too");
    }
}
