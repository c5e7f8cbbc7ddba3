//! An SMTP server for `cargo xtask chaos`, std only: it keeps what it is sent, can go
//! away and come back on the same port, and shows its messages with the dev mailbox's
//! API, so that `passway-load --mailbox` reads codes from it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use crate::fleet::free_ports;

/// An SMTP server that keeps what it is sent, can go away and come back on the same
/// port, and shows its messages with the dev mailbox's API (`passway-load --mailbox`).
pub struct MailSink {
    pub port: u16,
    pub http_url: String,
    /// Turn it false and the port refuses connections; true, and it listens again.
    pub up: Arc<AtomicBool>,
    /// (recipient, text), oldest first.
    messages: Arc<Mutex<Vec<(String, String)>>>,
}

impl MailSink {
    pub fn start() -> Result<MailSink> {
        let port = free_ports(1)?[0];
        let up = Arc::new(AtomicBool::new(true));
        let messages: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let (smtp_up, smtp_messages) = (up.clone(), messages.clone());
        std::thread::spawn(move || smtp_loop(port, &smtp_up, &smtp_messages));
        let http = TcpListener::bind("127.0.0.1:0")?;
        let http_url = format!("http://{}", http.local_addr()?);
        let shown = messages.clone();
        std::thread::spawn(move || {
            for stream in http.incoming().flatten() {
                let shown = shown.clone();
                std::thread::spawn(move || {
                    let _ = mailbox(stream, &shown);
                });
            }
        });
        Ok(MailSink { port, http_url, up, messages })
    }

    /// Messages received, and distinct ones: a recipient and its magic link (unique to
    /// its challenge). Not its code: one address signing in a thousand times meets the
    /// same six digits twice about one run in ten, which counted as one email lost.
    pub fn received(&self) -> (u64, u64) {
        let messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        let distinct: HashSet<(&str, &str)> = messages.iter().map(|(to, text)| (to.as_str(), identity(text))).collect();
        (messages.len() as u64, distinct.len() as u64)
    }
}

/// What tells one email from another: its first link (the plain-text part comes first),
/// else its whole text.
fn identity(text: &str) -> &str {
    text.lines().map(str::trim).find(|l| l.starts_with("http://") || l.starts_with("https://")).unwrap_or(text)
}

/// Listens while `up`; while down the port refuses connections, and open sessions are
/// cut at their next command.
fn smtp_loop(port: u16, up: &Arc<AtomicBool>, messages: &Arc<Mutex<Vec<(String, String)>>>) {
    let mut listener: Option<TcpListener> = None;
    loop {
        if !up.load(Ordering::SeqCst) {
            listener = None;
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        let l = match &listener {
            Some(l) => l,
            None => match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => {
                    let _ = l.set_nonblocking(true);
                    listener.insert(l)
                }
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            },
        };
        match l.accept() {
            Ok((stream, _)) => {
                let (up, messages) = (up.clone(), messages.clone());
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    let _ = smtp_session(stream, &up, &messages);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn smtp_session(stream: TcpStream, up: &AtomicBool, messages: &Mutex<Vec<(String, String)>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    writer.write_all(b"220 chaos ESMTP\r\n")?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || !up.load(Ordering::SeqCst) {
            return writer.shutdown(std::net::Shutdown::Both);
        }
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-chaos\r\n250 8BITMIME\r\n",
            "DATA" => {
                writer.write_all(b"354 go on\r\n")?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    if l.trim_end() == "." {
                        break;
                    }
                    data.push_str(l.trim_end_matches(['\r', '\n']));
                    data.push('\n');
                }
                // Quoted-printable soft breaks and `=3D`, so that the code reads whole.
                let text = data.replace("=\n", "").replace("=3D", "=");
                let to = text.lines().find_map(|l| l.strip_prefix("To: ")).unwrap_or_default().to_owned();
                messages.lock().unwrap_or_else(|p| p.into_inner()).push((to, text));
                b"250 queued\r\n"
            }
            "QUIT" => {
                writer.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => b"250 ok\r\n",
        };
        writer.write_all(reply)?;
    }
}

/// `GET /dev/mailbox/messages?to=…&limit=…`: newest first, `[{id, to, text}]`.
fn mailbox(stream: TcpStream, messages: &Mutex<Vec<(String, String)>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
                break;
            }
        }
        let query: HashMap<&str, String> = request
            .split_whitespace()
            .nth(1)
            .and_then(|target| target.split_once('?'))
            .map(|(_, q)| {
                q.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k, v.replace("%40", "@"))).collect()
            })
            .unwrap_or_default();
        let limit: usize = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(20);
        let body = {
            let messages = messages.lock().unwrap_or_else(|p| p.into_inner());
            let shown: Vec<Value> = messages
                .iter()
                .enumerate()
                .rev()
                .filter(|(_, (to, _))| query.get("to").is_none_or(|want| to == want))
                .take(limit)
                .map(|(i, (to, text))| json!({ "id": i + 1, "to": to, "text": text }))
                .collect();
            Value::Array(shown).to_string()
        };
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )?;
        writer.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::identity;

    #[test]
    fn emails_are_told_apart_by_their_link_not_their_code() {
        let email =
            |token: &str| format!("To: a@example.com\n\nSign in:\nhttp://x.test/magic/{token}\nYour code: 123456\n");
        let (first, second) = (email("one"), email("two"));
        assert_ne!(identity(&first), identity(&second), "same code, different challenges");
        assert_eq!(identity(&first), identity(&email("one")), "a resend of the same email is a duplicate");
        assert_eq!(identity("no link here"), "no link here");
    }
}
