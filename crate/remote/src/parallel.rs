//! Requests in flight together: one scoped thread per item, results in the items' order (a
//! thread that panics gives an internal error, never a panic of the caller).

use ttsearch::{Error, Result};

/// `f` of every item, each on its own thread, in the items' order.
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Vec<Result<R>> {
    if let [one] = items {
        return vec![f(one)];
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || f(item)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Internal("a request thread panicked".into())))
            })
            .collect()
    })
}
