//! A pool of OpenAI-compatible servers serving one model: each request goes to the
//! least-loaded live server, with a timeout, and is retried with exponential backoff on 429,
//! 5xx and connection errors (on another server when one is live); counters of requests,
//! retries and failures per server.

use crate::counters::Counters;
use crate::server_kind::ServerKind;
use serde_json::Value;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use ttsearch::{Error, Result};

/// How requests are timed out and retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub attempts: u32,
    /// The first backoff; each retry doubles it.
    pub base_delay: Duration,
    /// The longest backoff (and the longest `Retry-After` honoured).
    pub max_delay: Duration,
    /// The longest one request may take, connection to last byte.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            timeout: Duration::from_secs(900),
        }
    }
}

/// One server of the pool.
#[derive(Debug)]
struct Server {
    /// Its base URL, ending in "/v1".
    base: String,
    in_flight: AtomicUsize,
    requests: AtomicU64,
    failures: AtomicU64,
    /// Not chosen before this instant after a connection failure.
    down_until: Mutex<Option<Instant>>,
}

/// What one server did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerStats {
    /// Its base URL.
    pub url: String,
    /// Requests answered with a success.
    pub requests: u64,
    /// Attempts that failed (status or connection).
    pub failures: u64,
    /// Requests in flight now.
    pub in_flight: usize,
}

/// The servers of one model.
#[derive(Debug)]
pub struct Pool {
    servers: Vec<Server>,
    model: String,
    api_key: Option<String>,
    agent: ureq::Agent,
    retry: RetryPolicy,
    counters: Counters,
    kind: Mutex<ServerKind>,
    context: Mutex<Option<usize>>,
}

/// Decrements a server's in-flight count when dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One failed attempt: whether it may be retried, and after how long at least.
struct Failure {
    error: Error,
    retry: bool,
    retry_after: Option<Duration>,
    connection: bool,
    timeout: bool,
}

/// `url` as a base ending in "/v1" ("http://host:8000", ".../v1" and ".../v1/" alike).
fn base_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::InvalidArgument(format!(
            "server URL {url:?}: give http://host:port (or https://)"
        )));
    }
    Ok(if url.ends_with("/v1") {
        url.to_string()
    } else {
        format!("{url}/v1")
    })
}

/// A short excerpt of a server's error body.
fn excerpt(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(300) {
        Some((at, _)) => format!("{}...", &body[..at]),
        None => body.to_string(),
    }
}

impl Pool {
    /// A pool of `urls` serving `model`; `api_key` is sent as a bearer token.
    pub fn new(
        urls: &[String],
        model: &str,
        api_key: Option<String>,
        retry: RetryPolicy,
    ) -> Result<Self> {
        if urls.is_empty() {
            return Err(Error::InvalidArgument("a server pool needs a URL".into()));
        }
        if retry.attempts == 0 {
            return Err(Error::InvalidArgument(
                "a server pool needs at least one attempt".into(),
            ));
        }
        let servers = urls
            .iter()
            .map(|u| {
                Ok(Server {
                    base: base_url(u)?,
                    in_flight: AtomicUsize::new(0),
                    requests: AtomicU64::new(0),
                    failures: AtomicU64::new(0),
                    down_until: Mutex::new(None),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(retry.timeout))
            .http_status_as_error(false)
            .max_idle_connections_per_host(64)
            .build();
        Ok(Self {
            servers,
            model: model.to_string(),
            api_key,
            agent: config.into(),
            retry,
            counters: Counters::default(),
            kind: Mutex::new(ServerKind::Other),
            context: Mutex::new(None),
        })
    }

    /// The model's name, as requests give it.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The pool's counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// What each server did.
    pub fn server_stats(&self) -> Vec<ServerStats> {
        self.servers
            .iter()
            .map(|s| ServerStats {
                url: s.base.clone(),
                requests: s.requests.load(Ordering::SeqCst),
                failures: s.failures.load(Ordering::SeqCst),
                in_flight: s.in_flight.load(Ordering::SeqCst),
            })
            .collect()
    }

    /// The least-loaded server not marked down (or, when all are, the one back soonest).
    fn pick(&self) -> &Server {
        let now = Instant::now();
        let down = |s: &Server| -> Option<Instant> {
            match s.down_until.lock() {
                Ok(guard) => guard.filter(|t| *t > now),
                Err(_) => None,
            }
        };
        let live = self
            .servers
            .iter()
            .enumerate()
            .filter(|(_, s)| down(s).is_none())
            .min_by_key(|(i, s)| {
                (
                    s.in_flight.load(Ordering::SeqCst),
                    s.requests.load(Ordering::SeqCst) + s.failures.load(Ordering::SeqCst),
                    *i,
                )
            })
            .map(|(_, s)| s);
        match live {
            Some(s) => s,
            None => self
                .servers
                .iter()
                .min_by_key(|s| down(s).unwrap_or(now))
                .unwrap_or(&self.servers[0]),
        }
    }

    /// The servers' kind, as [`Pool::connect`] found it ([`ServerKind::Other`] before).
    pub fn kind(&self) -> ServerKind {
        self.kind.lock().map_or(ServerKind::Other, |k| *k)
    }

    /// The model's context in tokens: what the servers said (vLLM's `max_model_len`), or what
    /// [`Pool::set_context`] set.
    pub fn context(&self) -> Option<usize> {
        self.context.lock().ok().and_then(|c| *c)
    }

    /// Sets the model's context in tokens (for servers that do not say).
    pub fn set_context(&self, tokens: Option<usize>) {
        if let Ok(mut c) = self.context.lock() {
            *c = tokens;
        }
    }

    /// Sets the servers' kind (instead of asking them).
    pub fn set_kind(&self, kind: ServerKind) {
        if let Ok(mut k) = self.kind.lock() {
            *k = kind;
        }
    }

    /// The first model id the first server lists (`GET /v1/models`).
    pub fn first_model(&self) -> Result<String> {
        let server = &self.servers[0];
        let url = format!("{}/models", server.base);
        let body = self.get_once(&url).map_err(|f| match f.connection {
            true => Error::Network(format!("the server at {} is unreachable", server.base)),
            false => f.error,
        })?;
        body["data"][0]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::Network(format!("the server at {} lists no model", server.base)))
    }

    /// Checks that every server answers and serves the pool's model (`GET /v1/models`), and
    /// records their kind; servers of different kinds in one pool are refused.
    pub fn connect(&self) -> Result<ServerKind> {
        let mut kinds = Vec::new();
        for server in &self.servers {
            let url = format!("{}/models", server.base);
            let body = self.get_once(&url).map_err(|f| match f.connection {
                true => Error::Network(format!("the server at {} is unreachable", server.base)),
                false => f.error,
            })?;
            let ids: Vec<&str> = body["data"]
                .as_array()
                .map(|a| a.iter().filter_map(|m| m["id"].as_str()).collect())
                .unwrap_or_default();
            if !ids.is_empty() && !ids.contains(&self.model.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "the server at {} serves {ids:?}, not {:?}",
                    server.base, self.model
                )));
            }
            kinds.push(ServerKind::from_models(&body));
            let listed = body["data"]
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .find(|m| m["id"].as_str() == Some(self.model.as_str()))
                })
                .and_then(|m| m["max_model_len"].as_u64());
            if let Some(len) = listed
                && self.context().is_none()
            {
                self.set_context(Some(len as usize));
            }
        }
        let kind = kinds[0];
        if kinds.iter().any(|k| *k != kind) {
            return Err(Error::InvalidArgument(format!(
                "the servers of {:?} are of different kinds ({kinds:?})",
                self.model
            )));
        }
        self.set_kind(kind);
        Ok(kind)
    }

    fn get_once(&self, url: &str) -> std::result::Result<Value, Failure> {
        let mut req = self.agent.get(url);
        if let Some(key) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {key}"));
        }
        read_response(url, req.call())
    }

    fn post_once(&self, url: &str, body: &Value) -> std::result::Result<Value, Failure> {
        let mut req = self.agent.post(url);
        if let Some(key) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {key}"));
        }
        read_response(url, req.send_json(body))
    }

    /// POSTs `body` to `path` (under "/v1") on the least-loaded server, retrying on 429, 5xx
    /// and connection errors; returns the answer's JSON.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.post_under(path, body, true)
    }

    /// As [`Pool::post`], to `path` beside "/v1" (vLLM's `/pooling`).
    pub fn post_beside(&self, path: &str, body: &Value) -> Result<Value> {
        self.post_under(path, body, false)
    }

    fn post_under(&self, path: &str, body: &Value, under_v1: bool) -> Result<Value> {
        let mut last = None;
        let mut timeouts = 0;
        for attempt in 0..self.retry.attempts {
            let server = self.pick();
            server.in_flight.fetch_add(1, Ordering::SeqCst);
            self.counters.in_flight.fetch_add(1, Ordering::SeqCst);
            let base = match under_v1 {
                true => server.base.as_str(),
                false => server.base.trim_end_matches("/v1"),
            };
            let url = format!("{base}{path}");
            let result = {
                let _guard = InFlight(&server.in_flight);
                let _total = InFlight(&self.counters.in_flight);
                self.post_once(&url, body)
            };
            match result {
                Ok(value) => {
                    server.requests.fetch_add(1, Ordering::SeqCst);
                    self.counters.requests.fetch_add(1, Ordering::SeqCst);
                    return Ok(value);
                }
                Err(failure) => {
                    server.failures.fetch_add(1, Ordering::SeqCst);
                    if failure.timeout {
                        timeouts += 1;
                    }
                    // A request that timed out is tried once more at most: the server may
                    // still be working on it.
                    if !failure.retry || attempt + 1 == self.retry.attempts || timeouts > 1 {
                        self.counters.failures.fetch_add(1, Ordering::SeqCst);
                        return Err(failure.error);
                    }
                    self.counters.retries.fetch_add(1, Ordering::SeqCst);
                    let backoff = self
                        .retry
                        .base_delay
                        .saturating_mul(1 << attempt.min(16))
                        .min(self.retry.max_delay);
                    if failure.connection
                        && let Ok(mut down) = server.down_until.lock()
                    {
                        *down = Some(Instant::now() + backoff.max(Duration::from_secs(1)));
                    }
                    let now = Instant::now();
                    let other_live = failure.connection
                        && self.servers.iter().any(|s| {
                            !std::ptr::eq(s, server)
                                && s.down_until
                                    .lock()
                                    .map_or(true, |d| d.is_none_or(|t| t <= now))
                        });
                    let wait = match failure.retry_after {
                        Some(after) => after.min(self.retry.max_delay),
                        None if other_live => Duration::ZERO,
                        None => backoff,
                    };
                    std::thread::sleep(wait);
                    last = Some(failure.error);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Network("no attempt was made".into())))
    }
}

/// A response's JSON, or the failure it is, retriable or not.
fn read_response(
    url: &str,
    response: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> std::result::Result<Value, Failure> {
    let mut response = match response {
        Ok(r) => r,
        Err(e) => {
            let retry = matches!(
                e,
                ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::HostNotFound
                    | ureq::Error::Protocol(_)
            );
            return Err(Failure {
                timeout: matches!(e, ureq::Error::Timeout(_)),
                error: Error::Network(format!("{url}: {e}")),
                retry,
                retry_after: None,
                connection: retry,
            });
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    let text = response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_string();
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            return Err(Failure {
                error: Error::Network(format!("{url}: reading the answer: {e}")),
                retry: true,
                retry_after: None,
                connection: true,
                timeout: false,
            });
        }
    };
    if (200..300).contains(&status) {
        return serde_json::from_str(&text).map_err(|e| Failure {
            error: Error::Network(format!(
                "{url}: the answer is not JSON ({e}): {}",
                excerpt(&text)
            )),
            retry: false,
            retry_after: None,
            connection: false,
            timeout: false,
        });
    }
    let retry = status == 429 || status == 408 || status >= 500;
    let error = match status {
        401 | 403 => Error::Unauthorized(format!("{url}: HTTP {status}: {}", excerpt(&text))),
        404 => Error::NotFound(format!("{url}: HTTP 404: {}", excerpt(&text))),
        400 | 422 => Error::InvalidArgument(format!(
            "{url}: the server refused the request (HTTP {status}): {}",
            excerpt(&text)
        )),
        _ => Error::Network(format!("{url}: HTTP {status}: {}", excerpt(&text))),
    };
    Err(Failure {
        error,
        retry,
        retry_after,
        connection: false,
        timeout: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_end_in_v1() {
        assert_eq!(base_url("http://a:1").ok(), Some("http://a:1/v1".into()));
        assert_eq!(
            base_url("http://a:1/v1/").ok(),
            Some("http://a:1/v1".into())
        );
        assert!(base_url("a:1").is_err());
    }
}
