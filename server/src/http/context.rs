//! What every handler may want to know about the request: who sent it, in which
//! language, with which device cookie, from which web origin.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::app::AppState;
use crate::config::App;
use crate::events::ClientInfo;
use crate::journey::Holder;

use super::client_ip::{ClientAddr, client_addr};

use super::error::AppError;

/// Name of the cookie that recognises a browser (for magic links and device context).
pub const DEVICE_COOKIE: &str = "pw_device";
/// Name of the SSO session cookie.
pub const SESSION_COOKIE: &str = "pw_session";

pub struct RequestContext {
    pub client: ClientInfo,
    /// The client's address (behind trusted proxies, the one they name), read afresh
    /// on every request.
    pub addr: ClientAddr,
    /// Negotiated from `Accept-Language` against the shipped catalogs.
    pub locale: String,
    pub device: Option<String>,
    /// The SSO session cookie's value.
    pub session: Option<String>,
    pub origin: Option<String>,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// A flow's binding secret (see `engine::binding`), from its header.
    pub binding: Option<String>,
    /// The `Host` header, when it names a custom domain (`[themes.hostnames]`).
    pub custom_host: Option<String>,
    /// The admin console's cookie, when the request says it comes from the console (the
    /// `X-Passway-Console` header: a page of another site cannot send it without a CORS
    /// preflight, which it would not pass).
    pub console: Option<String>,
}

impl FromRequestParts<AppState> for RequestContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let header =
            |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok()).map(str::to_owned);
        let addr = client_addr_of(parts, app);
        let accept = header(header::ACCEPT_LANGUAGE).unwrap_or_default();
        Ok(RequestContext {
            client: ClientInfo {
                ip: addr.ip.to_string(),
                user_agent: header(header::USER_AGENT).unwrap_or_default(),
                ip_chain: addr.chain.iter().map(ToString::to_string).collect(),
                request_id: super::request_id::of(&parts.extensions),
            },
            addr,
            locale: app.brands.catalog.negotiate(&accept).to_owned(),
            device: cookie(headers, &cookie_name(DEVICE_COOKIE, &app.issuer)),
            session: cookie(headers, &cookie_name(SESSION_COOKIE, &app.issuer)),
            origin: header(header::ORIGIN),
            authorization: header(header::AUTHORIZATION),
            binding: headers
                .get(passway_protocol::BINDING_HEADER)
                .and_then(|v| v.to_str().ok())
                .filter(|b| b.len() <= 64)
                .map(str::to_owned),
            custom_host: header(header::HOST)
                .filter(|h| h.len() <= 255 && app.config.brand_of_host(h).is_some())
                .map(|h| h.to_ascii_lowercase()),
            console: headers
                .contains_key(super::console::HEADER)
                .then(|| cookie_up_to(headers, super::console::COOKIE, super::console::COOKIE_MAX))
                .flatten(),
        })
    }
}

/// The client of a request: the socket's peer, or whom trusted proxies name. A request
/// that did not come through a socket (tests through the router) counts as from
/// `0.0.0.0`.
pub fn client_addr_of(parts: &Parts, app: &AppState) -> ClientAddr {
    let peer =
        parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    client_addr(peer, &parts.headers, &app.config.trusted_proxies)
}

impl RequestContext {
    /// What the request offers as proof that it comes from a flow's browser.
    pub fn holder(&self) -> Holder<'_> {
        Holder { device: self.device.as_deref(), binding: self.binding.as_deref() }
    }

    /// The request's `Origin`, unless it is the custom domain the request came to (a page
    /// of that domain calling it: same origin, like a page of the issuer's).
    pub fn foreign_origin(&self, issuer: &str) -> Option<&str> {
        let own = self.custom_host.as_ref().map(|h| crate::app::custom_domain_base(issuer, h));
        self.origin.as_deref().filter(|o| own.as_deref() != Some(*o))
    }

    /// Refuses a browser request from an origin the app does not allow. Requests
    /// without `Origin` (servers, same-origin navigations) pass.
    pub fn check_origin(&self, app: &App, issuer: &str) -> Result<(), AppError> {
        match self.foreign_origin(issuer) {
            None => Ok(()),
            Some(o) if app.allows_origin(o, issuer) => Ok(()),
            Some(o) => Err(AppError::new(
                axum::http::StatusCode::FORBIDDEN,
                "origin_not_allowed",
                format!("the origin {o} is not in allowed_origins of the app {:?}", app.client_id),
            )),
        }
    }
}

/// Whether `origin` is the origin of `base_url`.
pub fn same_origin(origin: &str, base_url: &str) -> bool {
    url::Url::parse(base_url).map(|u| u.origin().ascii_serialization() == origin).unwrap_or(false)
}

/// The value of cookie `name`, if sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_up_to(headers, name, 64)
}

/// A cookie's value, when it is at most `max` bytes.
pub fn cookie_up_to(headers: &HeaderMap, name: &str, max: usize) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= max)
}

/// A cookie's name: over https with the `__Host-` prefix, which browsers accept only
/// from a secure origin, for the whole host (`Path=/`, no `Domain`), so neither a
/// sibling subdomain nor a plain-http page can set or shadow it.
pub fn cookie_name(name: &str, issuer: &str) -> String {
    if issuer.starts_with("https://") { format!("__Host-{name}") } else { name.to_owned() }
}

/// `Set-Cookie` for a new device cookie. Over https it is `SameSite=None; Secure` so
/// that a widget embedded on another site keeps it; over http (development) `Lax`.
pub fn device_cookie_header(value: &str, issuer: &str) -> String {
    format!("{}={value}; Path=/; Max-Age=31536000; HttpOnly; {}", cookie_name(DEVICE_COOKIE, issuer), same_site(issuer))
}

/// `Set-Cookie` for an SSO session cookie (`max_age` 0 deletes it). HttpOnly, and
/// like the device cookie `SameSite=None; Secure` over https (so a widget embedded on
/// another site can resume the session), `Lax` over plain-http development.
pub fn session_cookie_header(value: &str, issuer: &str, max_age: std::time::Duration) -> String {
    format!(
        "{}={value}; Path=/; Max-Age={}; HttpOnly; {}",
        cookie_name(SESSION_COOKIE, issuer),
        max_age.as_secs(),
        same_site(issuer)
    )
}

fn same_site(issuer: &str) -> &'static str {
    if issuer.starts_with("https://") { "SameSite=None; Secure" } else { "SameSite=Lax" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_origins() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; pw_device=abc".parse().unwrap());
        h.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&h, "pw_device").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
        assert!(same_origin("http://127.0.0.1:8080", "http://127.0.0.1:8080"));
        assert!(!same_origin("http://127.0.0.1:8081", "http://127.0.0.1:8080"));
        assert!(device_cookie_header("x", "https://a").contains("SameSite=None; Secure"));
        assert!(device_cookie_header("x", "http://a").contains("SameSite=Lax"));
        let secure = session_cookie_header("s", "https://a", std::time::Duration::from_secs(60));
        assert_eq!(secure, "__Host-pw_session=s; Path=/; Max-Age=60; HttpOnly; SameSite=None; Secure");
        assert!(device_cookie_header("x", "https://a").starts_with("__Host-pw_device=x; Path=/;"));
        assert!(session_cookie_header("s", "http://a", std::time::Duration::ZERO).starts_with("pw_session=s;"));
    }
}
