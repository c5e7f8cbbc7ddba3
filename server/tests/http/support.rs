//! A Passway instance for tests: temp SQLite (or PostgreSQL), dev outbox, a manual
//! clock, and helpers that speak the flow API.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use passway_protocol::FlowResponse;
use passway_server::app::AppState;
use passway_server::clock::Clock;
use passway_server::config::Config;
use passway_server::engine::Timestamp;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const ISSUER: &str = "http://passway.test";
pub const SHOP_ORIGIN: &str = "https://shop.example";
pub const REDIRECT: &str = "https://shop.example/cb";
/// RFC 7636 appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub struct TestServer {
    pub app: AppState,
    pub clock: Clock,
    config: Config,
    _dir: std::sync::Arc<tempfile::TempDir>,
}

/// Extra TOML appended to the test configuration.
pub fn config_text(dir: &Path, extra: &str, store_url: &str) -> String {
    format!(
        r#"
dev_mode = true
data_dir = "{data}"
[store]
url = "{store_url}"
[[profile.attributes]]
name = "given_name"
required = true
[themes]
dir = "{themes}"
[widget]
dir = "{widget}"
[[apps]]
client_id = "shop"
name = "Shop"
brand = "acme"
redirect_uris = ["{REDIRECT}"]
allowed_origins = ["{SHOP_ORIGIN}"]
[[apps]]
client_id = "closed"
name = "Closed"
self_registration = false
redirect_uris = ["{REDIRECT}"]
{extra}
"#,
        data = dir.join("data").display(),
        themes = repo().join("themes").display(),
        widget = dir.join("widget").display(),
    )
}

impl TestServer {
    pub async fn new() -> TestServer {
        TestServer::with("", None).await
    }

    /// A server whose config has `extra` appended, on `store_url` (default: a temp SQLite file).
    pub async fn with(extra: &str, store_url: Option<String>) -> TestServer {
        TestServer::build(extra, store_url, ISSUER, Clock::manual(Timestamp::from_unix_seconds(1_900_000_000))).await
    }

    /// A server whose public URL is `issuer` (e.g. https, for its cookies and headers).
    pub async fn with_issuer(extra: &str, issuer: &str) -> TestServer {
        TestServer::build(extra, None, issuer, Clock::manual(Timestamp::from_unix_seconds(1_900_000_000))).await
    }

    async fn build(extra: &str, store_url: Option<String>, issuer: &str, clock: Clock) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("widget/snippets")).unwrap();
        std::fs::write(dir.path().join("widget/passway.js"), "export const widget = 'passway';\n".repeat(50)).unwrap();
        std::fs::write(dir.path().join("widget/passway_bg.wasm"), [0u8, 97, 115, 109, 1, 0, 0, 0]).unwrap();
        let store_url = store_url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("test.db").display()));
        let path = dir.path().join("passway.toml");
        std::fs::write(&path, config_text(dir.path(), extra, &store_url)).unwrap();
        let config = Config::load(&path).unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        std::mem::forget(_tx);
        let app = AppState::build(config.clone(), issuer.into(), clock.clone(), rx).await.unwrap();
        TestServer { app, clock, config, _dir: std::sync::Arc::new(dir) }
    }

    /// A second instance on the same store and keys (another process behind a load balancer).
    pub async fn twin(&self) -> TestServer {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        std::mem::forget(_tx);
        let app = AppState::build(self.config.clone(), ISSUER.into(), self.clock.clone(), rx).await.unwrap();
        TestServer { app, clock: self.clock.clone(), config: self.config.clone(), _dir: self._dir.clone() }
    }

    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    /// Sends a request through the router (no socket).
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let response = passway_server::http::router(self.app.clone()).oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply { status, headers, body: bytes }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Starts an embedded flow for the `shop` app.
    pub async fn start(&self) -> FlowResponse {
        self.start_with(json!({})).await
    }

    pub async fn start_with(&self, overrides: Value) -> FlowResponse {
        let mut body = json!({
            "client_id": "shop", "redirect_uri": REDIRECT, "state": "st-1", "nonce": "n-1",
            "scope": "openid email profile", "code_challenge": CHALLENGE, "code_challenge_method": "S256",
        });
        for (k, v) in overrides.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.post_json("/api/v1/flows", &body).await.flow()
    }

    /// Submits to a remediation of `flow` by name, as the browser that started it (with
    /// its binding secret; these requests carry no cookies).
    pub async fn submit(&self, flow: &FlowResponse, name: &str, values: Value) -> Reply {
        let r = flow.remediation(name).unwrap_or_else(|| panic!("{name} is not offered; offered: {:?}", names(flow)));
        assert!(r.href.starts_with(ISSUER), "hrefs are absolute");
        let req = Request::post(r.href.strip_prefix(ISSUER).unwrap())
            .header(header::CONTENT_TYPE, "application/json")
            .header(passway_protocol::BINDING_HEADER, binding(flow))
            .body(Body::from(values.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// Posts JSON to `path` (about `flow`) as the browser that started the flow.
    pub async fn post_bound(&self, flow: &FlowResponse, path: &str, body: &Value) -> Reply {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(passway_protocol::BINDING_HEADER, binding(flow))
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// The current state of `flow`, as the browser that started it.
    pub async fn get_flow(&self, flow: &FlowResponse) -> Reply {
        let req = Request::get(format!("/api/v1/flows/{}", flow.handle))
            .header(passway_protocol::BINDING_HEADER, binding(flow))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// The newest email to `to` in the dev outbox: (code, magic-link path and query).
    pub async fn mailed(&self, to: &str) -> (String, String) {
        let mails: Value = self.get(&format!("/dev/mailbox/messages?to={to}")).await.json();
        let text = mails[0]["text"].as_str().unwrap_or_else(|| panic!("no email to {to}: {mails}"));
        // The six digits, whatever the language says around them.
        let code = text
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
            .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no code in {text}"))
            .to_owned();
        let link = text.split_whitespace().find(|w| w.starts_with(ISSUER)).unwrap();
        (code, link.strip_prefix(ISSUER).unwrap().to_owned())
    }

    /// Identify → code from the outbox → success; returns the final response.
    pub async fn sign_in(&self, email: &str) -> FlowResponse {
        let flow = self.start().await;
        let flow = self.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
        let (code, _) = self.mailed(email).await;
        self.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow()
    }

    /// Registers `email` (identify → code → profile) and returns the final response.
    pub async fn register(&self, email: &str, given_name: &str) -> FlowResponse {
        let flow = self.start().await;
        let flow = self.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
        let (code, _) = self.mailed(email).await;
        let flow = self.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
        assert_eq!(names(&flow)[0], "enroll-profile");
        self.submit(&flow, "enroll-profile", json!({ "email": email, "given_name": given_name })).await.flow()
    }

    /// Exchanges an embedded flow's code for tokens.
    pub async fn exchange(&self, code: &str) -> Reply {
        self.post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("client_id", "shop"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
    }
}

/// The flow's binding secret (every flow response carries it to its browser).
pub fn binding(flow: &FlowResponse) -> &str {
    flow.binding.as_deref().expect("a flow response to its own browser carries the binding")
}

pub fn names(flow: &FlowResponse) -> Vec<&str> {
    flow.remediations.iter().map(|r| r.name.as_str()).collect()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as a flow response; panics unless 200.
    pub fn flow(&self) -> FlowResponse {
        assert_eq!(self.status, StatusCode::OK, "{}", String::from_utf8_lossy(&self.body));
        serde_json::from_slice(&self.body).unwrap()
    }

    /// (status, error code) of an API error.
    pub fn error(&self) -> (u16, String) {
        (self.status.as_u16(), self.json()["error"].as_str().unwrap_or("").to_owned())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Runs `f` on a fresh server over SQLite, then over PostgreSQL when
/// `PASSWAY_TEST_POSTGRES_URL` is set (in a schema of its own, dropped after).
pub async fn on_each_store<F, Fut>(f: F)
where
    F: Fn(Arc<TestServer>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    on_each_store_with("", f).await
}

/// [`on_each_store`] with `extra` appended to the configuration.
pub async fn on_each_store_with<F, Fut>(extra: &str, f: F)
where
    F: Fn(Arc<TestServer>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f(Arc::new(TestServer::with(extra, None).await)).await;
    if let Ok(url) = std::env::var("PASSWAY_TEST_POSTGRES_URL") {
        let schema = format!("pw_http_{}", std::process::id()) + &format!("_{}", rand_suffix());
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&pool).await.unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let server = Arc::new(TestServer::with(extra, Some(format!("{url}{sep}options[search_path]={schema}"))).await);
        assert_eq!(server.app.store.backend(), "postgres");
        f(server).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&pool).await.unwrap();
    }
}

fn rand_suffix() -> String {
    let mut b = [0u8; 4];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A browser against a [`TestServer`]: keeps the cookies the server sets (device,
/// SSO session) and sends them back, like a real one.
pub struct Browser<'a> {
    pub server: &'a TestServer,
    pub cookies: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a TestServer) -> Browser<'a> {
        Browser { server, cookies: Default::default() }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub async fn send(&self, mut req: Request<Body>) -> Reply {
        let cookies: Vec<String> = self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !cookies.is_empty() {
            req.headers_mut().insert(header::COOKIE, cookies.join("; ").parse().unwrap());
        }
        let reply = self.server.send(req).await;
        for set in reply.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.lock().unwrap().remove(name);
            } else {
                self.cookies.lock().unwrap().insert(name.to_owned(), value.to_owned());
            }
        }
        reply
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Submits to a remediation of `flow` by name.
    pub async fn submit(&self, flow: &FlowResponse, name: &str, values: Value) -> Reply {
        let r = flow.remediation(name).unwrap_or_else(|| panic!("{name} is not offered; offered: {:?}", names(flow)));
        self.post_json(r.href.strip_prefix(ISSUER).unwrap(), &values).await
    }

    /// Follows `/authorize` (query after `?`) through the hosted page: signs in as
    /// `email` by emailed code when asked, and returns where the browser is sent back
    /// (the redirect URI with `code` or `error`), or the flow response it stopped at
    /// (consent, enrollment).
    pub async fn authorize(&self, query: &str, email: &str) -> Result<url::Url, FlowResponse> {
        let r = self.get(&format!("/oauth2/v1/authorize?{query}")).await;
        assert_eq!(r.status, 303, "{}", r.text());
        let location = r.header("location").unwrap().to_owned();
        let Some(handle) = location.strip_prefix("/signin?flow=") else {
            return Ok(url::Url::parse(&location).unwrap());
        };
        let mut flow = self.get(&format!("/api/v1/flows/{handle}")).await.flow();
        if flow.remediation("identify").is_some() {
            flow = self.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
            let (code, _) = self.server.mailed(email).await;
            flow = self.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
        }
        match flow.success.as_ref().and_then(|s| s.redirect_to.as_deref()) {
            Some(to) => Ok(url::Url::parse(to).unwrap()),
            None => Err(flow),
        }
    }
}

/// The query parameter `name` of `url`.
pub fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// An `/authorize` query for `client` with PKCE, `state` and `nonce`, plus `extra`.
pub fn authorize_query(client: &str, redirect: &str, scope: &str, extra: &str) -> String {
    let scope = scope.replace(' ', "%20");
    format!(
        "response_type=code&client_id={client}&redirect_uri={redirect}&scope={scope}&state=st&nonce=no&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}"
    )
}

/// A server on a real socket (127.0.0.1, a free port), for clients that speak HTTP
/// themselves; its issuer is that address. Its clock starts at the real time and
/// only moves when told. It stops when dropped.
pub struct Listening {
    pub server: TestServer,
    pub issuer: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Listening {
    pub async fn start(extra: &str) -> Listening {
        Listening::start_at(extra, Clock::System.now()).await
    }

    /// With the server's clock at `now` (in the past: its tokens are born expired).
    pub async fn start_at(extra: &str, now: Timestamp) -> Listening {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let server = TestServer::build(extra, None, &issuer, Clock::manual(now)).await;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let app = server.app.clone();
        tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.await;
            };
            passway_server::serve::serve(listener, app, shutdown, stop).await.unwrap();
        });
        Listening { server, issuer, stop: Some(stop) }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
