//! The one HTTP client Passway calls out with (event hooks today). What it refuses is
//! what an attacker who controls a hook URL, or the DNS behind it, would want:
//! - anything but `https` (plain `http` only to loopback, in dev mode);
//! - redirects (a hook answers itself or fails);
//! - link-local addresses — where cloud metadata services answer — unless
//!   `[hooks] allow_link_local = true`, checked on every address a name resolves to;
//! - answers past [`MAX_ANSWER`] bytes, and calls past their timeout.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The most of an answer that is read.
pub const MAX_ANSWER: usize = 64 * 1024;

#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_link_local: bool,
    dev_mode: bool,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub latency: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("refused to call {0}")]
    Refused(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("answer larger than {MAX_ANSWER} bytes")]
    TooLarge,
    #[error("{0}")]
    Failed(String),
}

impl CallError {
    /// Whether no connection was made (worth one quick retry).
    pub fn is_connect(&self) -> bool {
        matches!(self, CallError::Failed(m) if m.starts_with("connect"))
    }
}

impl Outbound {
    pub fn new(allow_link_local: bool, dev_mode: bool) -> Outbound {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(Guarded { allow_link_local }))
            .user_agent(concat!("Passway/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .expect("the HTTP client builds");
        Outbound { client, allow_link_local, dev_mode }
    }

    /// Why `url` may not be called, if it may not.
    pub fn refuses(&self, url: &str) -> Option<String> {
        refuses(url, self.dev_mode, self.allow_link_local)
    }

    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: String,
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        self.call(self.client.post(url).header("content-type", "application/json").body(body), url, headers, timeout)
            .await
    }

    pub async fn get(&self, url: &str, headers: &[(&str, String)], timeout: Duration) -> Result<Answer, CallError> {
        self.call(self.client.get(url), url, headers, timeout).await
    }

    async fn call(
        &self,
        mut request: reqwest::RequestBuilder,
        url: &str,
        headers: &[(&str, String)],
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        if let Some(why) = self.refuses(url) {
            return Err(CallError::Refused(why));
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let started = Instant::now();
        let exchange = async {
            let mut response = request.send().await.map_err(describe)?;
            let status = response.status().as_u16();
            let mut body = vec![];
            while let Some(chunk) = response.chunk().await.map_err(describe)? {
                if body.len() + chunk.len() > MAX_ANSWER {
                    return Err(CallError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, body))
        };
        let (status, body) =
            tokio::time::timeout(timeout, exchange).await.map_err(|_| CallError::Timeout(timeout))??;
        Ok(Answer { status, body, latency: started.elapsed() })
    }
}

fn describe(e: reqwest::Error) -> CallError {
    use std::error::Error as _;
    let mut message = if e.is_connect() { "connect: ".to_owned() } else { String::new() };
    let e = e.without_url();
    message.push_str(&e.to_string());
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    CallError::Failed(message)
}

/// Why `url` may not be called, if it may not (see the module doc).
pub fn refuses(url: &str, dev_mode: bool, allow_link_local: bool) -> Option<String> {
    let Ok(parsed) = url::Url::parse(url) else { return Some(format!("{url:?} is not a URL")) };
    let host = match parsed.host() {
        None => return Some(format!("{url:?} has no host")),
        Some(url::Host::Domain(d)) => Host::Name(d.to_owned()),
        Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if dev_mode && host.is_loopback() => {}
        "http" => return Some("plain http is only for loopback addresses in dev mode: use https".into()),
        other => return Some(format!("{other}: URLs are https")),
    }
    match host {
        Host::Ip(ip) if blocked(ip, allow_link_local) => {
            Some(format!("{ip} is a link-local or metadata address (allow with [hooks] allow_link_local = true)"))
        }
        _ => None,
    }
}

enum Host {
    Name(String),
    Ip(IpAddr),
}

impl Host {
    fn is_loopback(&self) -> bool {
        match self {
            Host::Name(n) => n == "localhost",
            Host::Ip(ip) => ip.is_loopback(),
        }
    }
}

/// Link-local (169.254/16, fe80::/10: cloud metadata services), the other metadata
/// addresses clouds use, and unspecified addresses.
pub fn blocked(ip: IpAddr, allow_link_local: bool) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    if ip.is_unspecified() {
        return true;
    }
    if allow_link_local {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.octets() == [100, 100, 100, 200],
        IpAddr::V6(v6) => {
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == "fd00:ec2::254".parse::<std::net::Ipv6Addr>().expect("an address")
        }
    }
}

/// Resolves names as the system does, then drops blocked addresses: a name that
/// resolves only to them cannot be called.
struct Guarded {
    allow_link_local: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_link_local;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| !blocked(a.ip(), allow)).collect();
            if allowed.is_empty() {
                return Err(format!("{} resolves only to refused addresses", name.as_str()).into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::refuses;

    #[test]
    fn what_may_be_called() {
        for (url, dev, allow, refused) in [
            ("https://hooks.example/x", false, false, false),
            ("http://hooks.example/x", false, false, true),
            ("http://hooks.example/x", true, false, true),
            ("http://127.0.0.1:9000/x", true, false, false),
            ("http://localhost:9000/x", true, false, false),
            ("http://127.0.0.1:9000/x", false, false, true),
            ("https://169.254.169.254/latest/meta-data", false, false, true),
            ("https://169.254.169.254/latest/meta-data", false, true, false),
            ("https://[fe80::1]/x", false, false, true),
            ("https://[::ffff:169.254.169.254]/x", false, false, true),
            ("https://100.100.100.200/x", false, false, true),
            ("https://0.0.0.0/x", false, true, true),
            ("https://10.0.0.5/x", false, false, false),
            ("ftp://hooks.example/x", false, false, true),
            ("not a url", false, false, true),
        ] {
            assert_eq!(refuses(url, dev, allow).is_some(), refused, "{url} dev={dev} allow={allow}");
        }
    }
}
