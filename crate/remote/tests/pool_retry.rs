//! The server pool against scripted HTTP servers on 127.0.0.1: 503 and 429 are retried (on
//! another server when one is live) and counted, 400 is not, an unreachable server is a
//! network error after the last attempt, and a server that hangs times out instead of hanging.

mod common;

use serde_json::json;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use ttsearch::Error;
use ttsearch_remote::{Pool, RetryPolicy};

/// A server answering its k-th request (from 1) with `answer(k)`, or hanging for None.
fn scripted(
    answer: fn(usize) -> Option<(&'static str, &'static str)>,
) -> (String, Arc<AtomicUsize>) {
    common::serve(move |k, _, _| answer(k).map(|(s, b)| (s.to_string(), b.to_string())))
}

fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(1),
    }
}

#[test]
fn overloaded_answers_are_retried_and_counted() {
    let (url, count) = scripted(|k| match k {
        1 => Some(("503 Service Unavailable", "{}")),
        2 => Some(("429 Too Many Requests", "{}")),
        _ => Some(("200 OK", r#"{"ok": true}"#)),
    });
    let pool = Pool::new(&[url], "m", None, fast_retries(5)).expect("pool");
    let answer = pool.post("/completions", &json!({})).expect("answered");
    assert_eq!(answer["ok"], true);
    assert_eq!(count.load(Ordering::SeqCst), 3);
    let c = pool.counters().snapshot();
    assert_eq!(
        (c.requests, c.retries, c.failures, c.in_flight),
        (1, 2, 0, 0)
    );
}

#[test]
fn a_refused_request_is_not_retried() {
    let (url, count) = scripted(|_| Some(("400 Bad Request", r#"{"error": "bad prompt"}"#)));
    let pool = Pool::new(&[url], "m", None, fast_retries(5)).expect("pool");
    let err = pool.post("/completions", &json!({})).expect_err("refused");
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("bad prompt")),
        "{err}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn a_dead_server_is_skipped_for_a_live_one() {
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").expect("binds");
        format!("http://{}", l.local_addr().expect("address"))
    };
    let (live, count) = scripted(|_| Some(("200 OK", r#"{"ok": 1}"#)));
    let pool = Pool::new(&[dead.clone(), live], "m", None, fast_retries(4)).expect("pool");
    for _ in 0..4 {
        pool.post("/completions", &json!({}))
            .expect("answered by the live server");
    }
    assert_eq!(count.load(Ordering::SeqCst), 4);
    let stats = pool.server_stats();
    assert_eq!(stats[1].requests, 4);
    assert!(
        stats[0].failures >= 1 && stats[0].requests == 0,
        "{stats:?}"
    );
    // Only the dead one: a network error after the last attempt.
    let pool = Pool::new(&[dead], "m", None, fast_retries(3)).expect("pool");
    let err = pool
        .post("/completions", &json!({}))
        .expect_err("unreachable");
    assert_eq!(err.code(), "network");
    assert_eq!(pool.counters().snapshot().retries, 2);
}

#[test]
fn a_hanging_server_times_out() {
    let (url, _) = scripted(|_| None);
    let pool = Pool::new(&[url], "m", None, fast_retries(2)).expect("pool");
    let start = Instant::now();
    let err = pool
        .post("/completions", &json!({}))
        .expect_err("timed out");
    assert_eq!(err.code(), "network");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}
