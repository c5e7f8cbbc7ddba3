//! Email over real SMTP: a sink listening on loopback receives what Passway sends.

use std::time::Duration;

use crate::smtp_sink::{sink, sink_on};
use crate::support::*;
use serde_json::json;

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

fn smtp_to(port: u16) -> String {
    format!(
        "[mail]\nfrom = \"Passway <auth@passway.test>\"\ntransport = \"smtp\"\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n"
    )
}

/// Waits until `done` says yes about the server's `/metrics` page.
async fn until_metrics(s: &TestServer, what: &str, done: impl Fn(&str) -> bool) {
    for _ in 0..100 {
        if done(&passway_server::metrics::render(&s.app).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}:\n{}", passway_server::metrics::render(&s.app).await);
}

#[tokio::test]
async fn challenge_email_goes_through_smtp() {
    let (port, mut received) = sink().await;
    let s = TestServer::with(&smtp_to(port), None).await;
    let _worker = passway_server::mail::worker::spawn(&s.app).expect("SMTP: a worker");
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

/// SMTP down: the email waits in the store (sealed), is tried again with backoff, and
/// arrives once the server is back.
#[tokio::test]
async fn an_email_waits_out_an_smtp_outage() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener); // nothing listens: SMTP is down
    let s = TestServer::with(&smtp_to(port), None).await;
    let _worker = passway_server::mail::worker::spawn(&s.app).unwrap();
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    until_metrics(&s, "a failed attempt", |m| m.contains("passway_mail_attempts_total{result=\"retry\"} 1\n")).await;
    assert!(passway_server::metrics::render(&s.app).await.contains("passway_mail_queue 1\n"), "it waits");

    let mut received = sink_on(tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap(), None);
    s.advance(1); // its backoff
    let message = tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("sent later").unwrap();
    let message = unquote(&message);
    assert!(message.contains("To: ada@example.com"), "{message}");
    let code = message.split("code: ").nth(1).expect("the code").chars().take(6).collect::<String>();
    until_metrics(&s, "an empty queue", |m| m.contains("passway_mail_queue 0\n")).await;
    let next = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert_eq!(names(&next)[0], "enroll-profile", "the late code still works");
}

/// A recipient the SMTP server refuses for good is dropped; the others go.
#[tokio::test]
async fn a_refused_recipient_holds_up_nobody() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut received = sink_on(listener, Some("nobody@"));
    let s = TestServer::with(&smtp_to(port), None).await;
    let _worker = passway_server::mail::worker::spawn(&s.app).unwrap();
    for who in ["nobody@example.com", "ada@example.com", "bob@example.com"] {
        let flow = s.start().await;
        s.submit(&flow, "identify", json!({ "identifier": who })).await.flow();
    }
    let mut to = vec![];
    for _ in 0..2 {
        let message = tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("sent").unwrap();
        to.push(message.lines().find(|l| l.starts_with("To: ")).unwrap().to_owned());
    }
    to.sort();
    assert_eq!(to, ["To: ada@example.com", "To: bob@example.com"]);
    until_metrics(&s, "the refusal", |m| {
        m.contains("passway_mail_attempts_total{result=\"refused\"} 1\n") && m.contains("passway_mail_queue 0\n")
    })
    .await;
}
