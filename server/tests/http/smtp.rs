//! Email over real SMTP: a sink listening on loopback receives what Passway sends.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::support::*;

/// A minimal SMTP server: accepts every message and hands over its DATA.
async fn sink() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            tx.send(data).await.unwrap();
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

/// Undoes quoted-printable soft line breaks and escapes.
fn unquote(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn challenge_email_goes_through_smtp() {
    let (port, mut received) = sink().await;
    let extra = format!(
        "[mail]\nfrom = \"Passway <auth@passway.test>\"\ntransport = \"smtp\"\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n"
    );
    let s = TestServer::with(&extra, None).await;
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let message =
        tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("an email within 10 s").unwrap();
    let message = unquote(&message);
    assert!(message.contains("To: ada@example.com"), "{message}");
    assert!(message.contains("From: Passway <auth@passway.test>"));
    assert!(message.contains("Subject: Confirm your email for Shop"));
    assert!(message.contains("multipart/alternative"));
    let code = message.split("code: ").nth(1).expect("the code").chars().take(6).collect::<String>();
    assert!(message.contains(&format!("{ISSUER}/email/verify?t=")), "the magic link");
    assert!(s.get("/dev/mailbox/messages").await.json().as_array().unwrap().is_empty(), "nothing kept in the outbox");
    let next = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert_eq!(names(&next)[0], "enroll-profile", "the mailed code works");
}
