//! A hook receiver for `cargo xtask bench --hooks`, on loopback, in threads of its own
//! (std only): it echoes event hook verification challenges, counts the events it is
//! delivered (with the instant of the last, and each event's uuid), and allows every
//! inline hook call. It
//! checks no signature: the bench measures Passway, not the receiver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Default)]
pub struct Counts {
    pub events: AtomicU64,
    pub deliveries: AtomicU64,
    pub inline_calls: AtomicU64,
    /// Milliseconds since `started` of the last delivery.
    pub last_delivery_ms: AtomicU64,
    /// Each event delivered, by uuid: how many times (for `cargo xtask chaos`).
    pub uuids: std::sync::Mutex<std::collections::HashMap<String, u32>>,
}

pub struct Receiver {
    pub url: String,
    pub counts: Arc<Counts>,
    pub started: Instant,
}

impl Receiver {
    pub fn start() -> std::io::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let counts = Arc::new(Counts::default());
        let started = Instant::now();
        let shared = counts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counts = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &counts, started);
                });
            }
        });
        Ok(Receiver { url, counts, started })
    }

    pub fn events(&self) -> u64 {
        self.counts.events.load(Ordering::SeqCst)
    }

    /// Seconds from `started` to the last delivery.
    pub fn last_delivery(&self) -> f64 {
        self.counts.last_delivery_ms.load(Ordering::SeqCst) as f64 / 1000.0
    }
}

/// Requests on one keep-alive connection, until it closes.
fn serve(stream: TcpStream, counts: &Counts, started: Instant) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let (mut length, mut challenge) = (0usize, String::new());
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "x-passway-verification-challenge" => challenge = value.trim().to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let answer = if request_line.starts_with("GET") {
            format!("{{\"verification\": \"{challenge}\"}}")
        } else if request_line.contains("/inline") {
            counts.inline_calls.fetch_add(1, Ordering::SeqCst);
            r#"{"commands": [{"type": "allow"}]}"#.to_owned()
        } else {
            let text = String::from_utf8_lossy(&body);
            counts.events.fetch_add(text.matches("\"eventType\"").count() as u64, Ordering::SeqCst);
            if let Ok(batch) = serde_json::from_slice::<serde_json::Value>(&body) {
                let mut uuids = counts.uuids.lock().unwrap_or_else(|p| p.into_inner());
                for event in batch["data"]["events"].as_array().into_iter().flatten() {
                    *uuids.entry(event["uuid"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
                }
            }
            counts.deliveries.fetch_add(1, Ordering::SeqCst);
            counts.last_delivery_ms.store(started.elapsed().as_millis() as u64, Ordering::SeqCst);
            String::new()
        };
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        )?;
        writer.flush()?;
    }
}
