//! A scripted HTTP server on 127.0.0.1 for the client tests: each request (one per
//! connection) goes to a handler with its number (from 1), request line and JSON body; the
//! handler answers with a status line and a body, or None to hang for 5 s.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What a handler answers: (status line, body), or None to hang.
pub type Answer = Option<(String, String)>;

/// Serves `handler` on a free port; returns its URL and the count of requests seen.
pub fn serve<F>(handler: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(usize, &str, serde_json::Value) -> Answer + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let k = seen.fetch_add(1, Ordering::SeqCst) + 1;
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                let Some((status, text)) = handler(k, request_line.trim(), json) else {
                    std::thread::sleep(Duration::from_secs(5));
                    return;
                };
                let mut out = stream;
                let _ = write!(
                    out,
                    "HTTP/1.1 {status}\r\nRetry-After: 0\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            });
        }
    });
    (url, count)
}
