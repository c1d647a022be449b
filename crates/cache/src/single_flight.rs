//! Single-flight: concurrent calls for one key share one execution of the work, without any
//! lock held while it runs.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

type Call<T> = Arc<OnceCell<T>>;

#[derive(Debug)]
pub(crate) struct SingleFlight<T> {
    /// Calls in progress. An entry lives while someone waits on it (or, if everyone gave up
    /// before it finished, until its last waiter is gone), so the map holds no more than the
    /// calls running now.
    calls: Mutex<HashMap<String, Call<T>>>,
}

impl<T> Default for SingleFlight<T> {
    fn default() -> Self {
        SingleFlight { calls: Mutex::new(HashMap::new()) }
    }
}

impl<T: Clone> SingleFlight<T> {
    /// The result of `work`, or of the call for `key` already running. If the caller running
    /// the work goes away, a waiting caller runs its own `work` instead.
    pub(crate) async fn run<F: Future<Output = T>>(&self, key: &str, work: F) -> T {
        let call = {
            let mut calls = self.calls.lock().expect("single-flight lock");
            match calls.get(key) {
                Some(call) => Arc::clone(call),
                None => {
                    let call = Call::default();
                    calls.insert(key.to_owned(), Arc::clone(&call));
                    call
                }
            }
        };
        let _leave = Leave { flight: self, key, call: &call };
        call.get_or_init(|| work).await.clone()
    }

    #[cfg(test)]
    fn running(&self) -> usize {
        self.calls.lock().expect("single-flight lock").len()
    }
}

/// Removes a finished (or abandoned) call from the map when a caller leaves it; later callers
/// start afresh.
struct Leave<'a, T> {
    flight: &'a SingleFlight<T>,
    key: &'a str,
    call: &'a Call<T>,
}

impl<T> Drop for Leave<'_, T> {
    fn drop(&mut self) {
        let mut calls = self.flight.calls.lock().expect("single-flight lock");
        // Two references: the map's and ours, so no one else waits on it.
        let abandoned = Arc::strong_count(self.call) == 2;
        if (self.call.initialized() || abandoned) && calls.get(self.key).is_some_and(|c| Arc::ptr_eq(c, self.call)) {
            calls.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn concurrent_calls_share_one_execution_and_are_forgotten_after() {
        let flight = Arc::new(SingleFlight::<u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (flight, runs) = (Arc::clone(&flight), Arc::clone(&runs));
            tasks.push(tokio::spawn(async move {
                flight
                    .run("k", async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        7
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 7);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(flight.running(), 0);
        assert_eq!(flight.run("k", async { 8 }).await, 8, "a finished call is not reused");
    }

    #[tokio::test]
    async fn an_abandoned_call_is_forgotten() {
        let flight = SingleFlight::<u32>::default();
        let pending = flight.run("k", std::future::pending());
        assert!(tokio::time::timeout(Duration::from_millis(10), pending).await.is_err());
        assert_eq!(flight.running(), 0);
    }
}
