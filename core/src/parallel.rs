//! Work shared out over the machine's cores.

use std::sync::{Mutex, OnceLock};
use std::thread;

/// Runs `work` on every item, on all cores, and returns the results in the
/// items' order. Items are handed out one at a time, so uneven items balance.
pub(crate) fn parallel_map<I: Send, T: Send>(
    items: Vec<I>,
    work: impl Fn(I) -> T + Sync,
) -> Vec<T> {
    let count = items.len();
    // Asked once: on Linux the answer reads the cgroup's CPU quota from files.
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| thread::available_parallelism().map_or(1, |n| n.get()));
    let threads = cores.min(count);
    if threads <= 1 {
        return items.into_iter().map(work).collect();
    }
    let queue = Mutex::new(items.into_iter().enumerate());
    let worker = || {
        let mut done = Vec::new();
        loop {
            let next = match queue.lock() {
                Ok(mut items) => items.next(),
                Err(_) => None, // another worker panicked; its panic is re-raised below
            };
            let Some((index, item)) = next else { break };
            done.push((index, work(item)));
        }
        done
    };
    let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
    thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(worker)).collect();
        let mut finished = vec![worker()];
        for helper in helpers {
            match helper.join() {
                Ok(done) => finished.push(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        for (index, result) in finished.into_iter().flatten() {
            slots[index] = Some(result);
        }
    });
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_the_order() {
        let squares = parallel_map((0..1000u64).collect(), |i| i * i);
        assert_eq!(squares, (0..1000u64).map(|i| i * i).collect::<Vec<_>>());
        assert!(parallel_map(Vec::<u8>::new(), |i| i).is_empty());
    }
}
