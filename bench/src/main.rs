//! `passway-load`: drives a running Passway (dev mode, so codes can be read from the
//! outbox) with one scenario and reports throughput and per-step latency as JSON.
//!
//! - `email`: start flow → identify → read the code from `/dev/mailbox/messages` →
//!   submit the code → exchange the authorization code.
//! - `passkey`: start flow (it carries the autofill ceremony's options) → answer it
//!   with a software authenticator → exchange the code.
//! - `authorization_code`: `/authorize?prompt=none` with a live SSO session cookie →
//!   exchange the code (confidential client, `client_secret_basic`).
//! - `refresh_token`: rotate a refresh token, each worker along its own chain.
//! - `client_credentials`: a JWT access token for the client itself.
//! - `enumeration`: the same steps for a known and an unknown address — identify, and
//!   identify-recovery in an app with passwords — to compare their timing.
//! - `flood`: one address starting flows as fast as it can (most get `429`).
//! - `signup`: a complete registration of a new address each time: start flow →
//!   identify → read the code → submit it → the registration form → exchange the code
//!   (what a registration inline hook and most event hooks see).
//!
//! `--hold FLOWS:STREAMS` runs no scenario: it leaves FLOWS flows waiting and STREAMS
//! event streams open, and reports the server's memory meanwhile (`hold.rs`). Every
//! report gives the server's memory at the end of the run.
//!
//! `--on-window-start CMD` and `--on-window-end CMD` run a shell command as the measured
//! window opens and closes (`cargo xtask bench --instructions` zeroes and dumps
//! callgrind's counters there, so that set-up and warm-up are not counted).
//!
//! `--spread-ips` sends every iteration from another client address (in
//! `X-Forwarded-For`, for a server that trusts the bench as its proxy), and
//! `--accounts N` gives each worker N accounts to take turns with: so that per-address
//! rate limits see what many people would look like, not one.

mod hold;
mod memory;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use passway_softkey::SoftKey;
use serde_json::{Value, json};

/// The remediation that signs in with a passkey from the identify step.
const AUTOFILL: &str = "challenge-webauthn-autofillui-authenticator";

/// RFC 7636 appendix B: a fixed PKCE pair is fine for load.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Email,
    Password,
    Passkey,
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Enumeration,
    Flood,
    Signup,
}

impl Scenario {
    fn parse(name: &str) -> Result<Scenario> {
        Ok(match name {
            "email" => Scenario::Email,
            "password" => Scenario::Password,
            "passkey" => Scenario::Passkey,
            "authorization_code" => Scenario::AuthorizationCode,
            "refresh_token" => Scenario::RefreshToken,
            "client_credentials" => Scenario::ClientCredentials,
            "enumeration" => Scenario::Enumeration,
            "flood" => Scenario::Flood,
            "signup" => Scenario::Signup,
            other => bail!(
                "unknown scenario {other:?}: expected email, password, passkey, authorization_code, refresh_token, \
                 client_credentials, enumeration, flood or signup"
            ),
        })
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::Email => "email",
            Scenario::Password => "password",
            Scenario::Passkey => "passkey",
            Scenario::AuthorizationCode => "authorization_code",
            Scenario::RefreshToken => "refresh_token",
            Scenario::ClientCredentials => "client_credentials",
            Scenario::Enumeration => "enumeration",
            Scenario::Flood => "flood",
            Scenario::Signup => "signup",
        }
    }

    fn steps(self) -> &'static [&'static str] {
        match self {
            Scenario::Email => &["start flow", "identify", "read code", "submit code", "token"],
            Scenario::Password => &["start flow", "identify", "submit password (argon2id)", "token"],
            Scenario::Passkey => &["start flow", "answer with passkey", "token"],
            Scenario::AuthorizationCode => &["authorize (SSO, prompt=none)", "token: authorization_code"],
            Scenario::RefreshToken => &["token: refresh_token"],
            Scenario::ClientCredentials => &["token: client_credentials"],
            Scenario::Enumeration => &["identify: known", "identify: unknown", "recovery: known", "recovery: unknown"],
            Scenario::Flood => &["start flow (one address)"],
            Scenario::Signup => &["start flow", "identify", "read code", "submit code", "registration form", "token"],
        }
    }

    /// The token endpoint scenarios need a confidential client.
    fn needs_secret(self) -> bool {
        matches!(self, Scenario::AuthorizationCode | Scenario::RefreshToken | Scenario::ClientCredentials)
    }
}

struct Args {
    base: String,
    client_id: String,
    client_secret: Option<String>,
    redirect_uri: String,
    concurrency: usize,
    duration: Duration,
    warmup: Duration,
    scenario: Scenario,
    spread_ips: bool,
    accounts: usize,
    recovery_client: String,
    /// The server's process id, to read its CPU time (`/proc/PID/stat`).
    server_pid: Option<u32>,
    /// Where emails arrive when they go over SMTP (a mailbox with the dev mailbox's
    /// API): codes are awaited there, each newer than the last.
    mailbox: Option<String>,
    /// `--hold FLOWS:STREAMS`: hold that many flows and event streams instead of
    /// running the scenario.
    hold: Option<(usize, usize)>,
    /// Writes every iteration's end (seconds since the start, ok or the failed step),
    /// one JSON object per line, for `cargo xtask chaos`.
    timeline: Option<std::path::PathBuf>,
    /// Shell commands run (and waited for) as the measured window opens and closes:
    /// `cargo xtask bench --instructions` zeroes and dumps callgrind's counters there.
    on_window: [Option<String>; 2],
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        base: String::new(),
        client_id: "bench".into(),
        redirect_uri: "http://bench.invalid/cb".into(),
        concurrency: 32,
        duration: Duration::from_secs(20),
        warmup: Duration::from_secs(3),
        scenario: Scenario::Email,
        client_secret: None,
        spread_ips: false,
        accounts: 1,
        recovery_client: "bench-passwords".into(),
        server_pid: None,
        mailbox: None,
        timeline: None,
        hold: None,
        on_window: [None, None],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--spread-ips" {
            a.spread_ips = true;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--base" => a.base = value,
            "--scenario" => a.scenario = Scenario::parse(&value)?,
            "--client-id" => a.client_id = value,
            "--client-secret" => a.client_secret = Some(value),
            "--redirect-uri" => a.redirect_uri = value,
            "--concurrency" => a.concurrency = value.parse()?,
            "--duration" => a.duration = Duration::from_secs(value.parse()?),
            "--warmup" => a.warmup = Duration::from_secs(value.parse()?),
            "--accounts" => a.accounts = value.parse::<usize>()?.max(1),
            "--recovery-client" => a.recovery_client = value,
            "--server-pid" => a.server_pid = Some(value.parse()?),
            "--mailbox" => a.mailbox = Some(value.trim_end_matches('/').to_owned()),
            "--timeline" => a.timeline = Some(value.into()),
            "--hold" => a.hold = Some(hold::parse(&value)?),
            "--on-window-start" => a.on_window[0] = Some(value),
            "--on-window-end" => a.on_window[1] = Some(value),
            other => bail!("unknown flag {other}"),
        }
    }
    if a.base.is_empty() {
        bail!(
            "usage: passway-load --base http://127.0.0.1:PORT [--scenario NAME] [--client-id ID --client-secret S] \
             [--concurrency N] [--duration S] [--warmup S] [--spread-ips] [--accounts N] [--hold FLOWS:STREAMS] [--on-window-start CMD] [--on-window-end CMD]"
        );
    }
    if a.scenario.needs_secret() && a.client_secret.is_none() {
        bail!("the {} scenario needs --client-secret (a confidential client)", a.scenario.name());
    }
    Ok(a)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    // One thread: the server under test needs the other core.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = runtime.block_on(run(args))?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}

/// The password of every bench account (long and uncommon enough for the policy).
const PASSWORD: &str = "bench: correct horse battery staple";

struct Client {
    http: reqwest::Client,
    base: String,
    client_id: String,
    client_secret: Option<String>,
    redirect_uri: String,
    scope: &'static str,
    /// Each iteration from another address (`X-Forwarded-For`), or all from this one.
    spread_ips: bool,
    /// The address of the iteration under way (a counter over 100.64.0.0/10).
    address: std::cell::Cell<u32>,
    recovery_client: String,
    /// How long the run warms up before it measures.
    warmup: Duration,
    /// See [`Args::mailbox`].
    mailbox: Option<String>,
}

/// What one worker carries from one iteration to the next.
enum Worker {
    /// Accounts taking turns.
    Email(Vec<String>, usize),
    /// An account with the bench password.
    Password(String),
    Passkey(SoftKey),
    /// The `pw_session=…` cookie of a live SSO session.
    Session(String),
    Refresh(String),
    Credentials,
    /// A known account, and how many unknown addresses were tried.
    Enumeration(String, u64),
    /// The worker's address, and how many sign-ups it made from it.
    Signup(String, u64),
    /// How many flow starts were refused, counted from the instant given (after the
    /// warm-up).
    Flood(u64, Instant),
}

impl Client {
    /// The client address requests claim (the bench is the server's trusted proxy).
    fn forwarded(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let n = self.address.get();
        let ip = format!("100.{}.{}.{}", 64 + ((n >> 16) & 63), (n >> 8) & 255, n & 255);
        request.header("x-forwarded-for", ip)
    }

    /// Moves on to another client address, when spreading them.
    fn next_address(&self) {
        if self.spread_ips {
            self.address.set(self.address.get().wrapping_add(1));
        }
    }

    async fn post(&self, url: &str, body: Value) -> Result<Value> {
        Ok(self.post_keeping_session(url, body, None).await?.0)
    }

    /// Posts `body` about `flow`, as the browser that started it (its binding secret).
    async fn post_bound(&self, flow: &Value, name: &str, body: Value) -> Result<Value> {
        let binding = flow["binding"].as_str().with_context(|| format!("no binding: {flow}"))?;
        Ok(self.post_keeping_session(&Self::href(flow, name)?, body, Some(binding)).await?.0)
    }

    /// Posts `body`; the response and the session cookie it set, if any.
    async fn post_keeping_session(
        &self,
        url: &str,
        body: Value,
        binding: Option<&str>,
    ) -> Result<(Value, Option<String>)> {
        let mut request = self.forwarded(self.http.post(url).json(&body));
        if let Some(b) = binding {
            request = request.header("passway-binding", b);
        }
        let r = request.send().await?;
        let status = r.status();
        let session = r
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("pw_session="))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        let v: Value = r.json().await?;
        if !status.is_success() {
            bail!("{url}: {status} {v}");
        }
        Ok((v, session))
    }

    /// A request to the token endpoint, authenticated as the client.
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<Value> {
        let mut request = self.forwarded(self.http.post(format!("{}/oauth2/v1/token", self.base)));
        let mut body: Vec<(&str, &str)> = form.to_vec();
        match &self.client_secret {
            Some(secret) => request = request.basic_auth(&self.client_id, Some(secret)),
            None => body.push(("client_id", &self.client_id)),
        }
        let r = request.form(&body).send().await?;
        if !r.status().is_success() {
            bail!("token: {}", r.text().await?);
        }
        Ok(r.json().await?)
    }

    fn href(flow: &Value, name: &str) -> Result<String> {
        flow["remediations"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == name))
            .and_then(|r| r["href"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("{name} not offered: {flow}"))
    }

    async fn start(&self) -> Result<Value> {
        self.start_for(&self.client_id, None).await
    }

    async fn start_for(&self, client_id: &str, intent: Option<&str>) -> Result<Value> {
        self.post(&format!("{}/api/v1/flows", self.base), self.start_request(client_id, intent)).await
    }

    /// The body of a flow start.
    fn start_request(&self, client_id: &str, intent: Option<&str>) -> Value {
        json!({ "client_id": client_id, "redirect_uri": self.redirect_uri, "state": "s", "nonce": "n",
                "scope": self.scope, "code_challenge": CHALLENGE, "code_challenge_method": "S256",
                "intent": intent })
    }

    /// One flow start from the one flooding address: `Ok(true)` when refused (429).
    async fn flood_once(&self) -> Result<bool> {
        let r = self
            .http
            .post(format!("{}/api/v1/flows", self.base))
            .header("x-forwarded-for", "198.51.100.66")
            .json(&json!({ "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                "code_challenge": CHALLENGE, "code_challenge_method": "S256" }))
            .send()
            .await?;
        let status = r.status();
        let _ = r.bytes().await?;
        match status.as_u16() {
            429 => Ok(true),
            200 => Ok(false),
            other => bail!("flood: {other}"),
        }
    }

    /// The time `identify` (or `identify-recovery`) takes for `email`, from a new flow.
    async fn time_identify(&self, email: &str, recovery: bool) -> Result<Duration> {
        let (flow, name) = if recovery {
            (self.start_for(&self.recovery_client, Some("recover")).await?, "identify-recovery")
        } else {
            (self.start().await?, "identify")
        };
        let clock = Instant::now();
        let answer = self.post_bound(&flow, name, json!({ "identifier": email })).await?;
        let took = clock.elapsed();
        Self::href(&answer, "challenge-authenticator")?;
        Ok(took)
    }

    async fn latest_code(&self, email: &str, after: i64) -> Result<String> {
        let mailbox = self.mailbox.as_deref().unwrap_or(&self.base);
        // Over SMTP the email comes when it comes (an outage delays it): wait for it.
        let patience = if self.mailbox.is_some() { Duration::from_secs(180) } else { Duration::ZERO };
        let waited = Instant::now();
        loop {
            let mails: Value = self
                .http
                .get(format!("{mailbox}/dev/mailbox/messages?to={email}&limit=1"))
                .send()
                .await?
                .json()
                .await?;
            if mails[0]["id"].as_i64().unwrap_or(0) > after {
                let text = mails[0]["text"].as_str().with_context(|| format!("no email to {email}"))?;
                return Ok(text.split("code: ").nth(1).context("no code in the email")?.chars().take(6).collect());
            }
            if waited.elapsed() >= patience {
                bail!("no email to {email}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The newest email to `email` at an external mailbox (0 without one: the dev
    /// mailbox gets the email in the step's own commit).
    async fn newest_mail(&self, email: &str) -> Result<i64> {
        let Some(mailbox) = &self.mailbox else { return Ok(0) };
        let mails: Value =
            self.http.get(format!("{mailbox}/dev/mailbox/messages?to={email}&limit=1")).send().await?.json().await?;
        Ok(mails[0]["id"].as_i64().unwrap_or(0))
    }

    /// One complete email sign-in; the duration of each step.
    async fn sign_in(&self, email: &str) -> Result<Vec<Duration>> {
        self.by_email(email, false).await
    }

    /// One complete registration of a new address; the duration of each step.
    async fn sign_up(&self, email: &str) -> Result<Vec<Duration>> {
        self.by_email(email, true).await
    }

    /// Start flow → identify → read the code → submit it → (the registration form, for a
    /// new address) → token; the duration of each step, in that order.
    async fn by_email(&self, email: &str, register: bool) -> Result<Vec<Duration>> {
        let mut t = vec![];
        let mut clock = Instant::now();
        let mut lap = |t: &mut Vec<Duration>| {
            t.push(clock.elapsed());
            clock = Instant::now();
        };
        // Each step names itself in its error, so that a failure says where it happened.
        let flow = self.start().await.context("start")?;
        lap(&mut t);
        let seen = self.newest_mail(email).await.context("mailbox")?;
        let flow = self.post_bound(&flow, "identify", json!({ "identifier": email })).await.context("identify")?;
        lap(&mut t);
        let code = self.latest_code(email, seen).await.context("email")?;
        lap(&mut t);
        let mut done =
            self.post_bound(&flow, "challenge-authenticator", json!({ "code": code })).await.context("code")?;
        lap(&mut t);
        if register {
            done = self
                .post_bound(&done, "enroll-profile", json!({ "email": email, "given_name": "Bench" }))
                .await
                .context("profile")?;
            lap(&mut t);
        }
        self.token(&done).await.context("token")?;
        lap(&mut t);
        Ok(t)
    }

    /// One complete password sign-in, identifier first; the duration of each step.
    async fn password_sign_in(&self, email: &str) -> Result<Vec<Duration>> {
        let mut t = vec![Duration::ZERO; 4];
        let clock = Instant::now();
        let flow = self.start().await?;
        t[0] = clock.elapsed();
        let clock = Instant::now();
        let flow = self.post_bound(&flow, "identify", json!({ "identifier": email })).await?;
        t[1] = clock.elapsed();
        let clock = Instant::now();
        let done = self.post_bound(&flow, "challenge-authenticator", json!({ "password": PASSWORD })).await?;
        t[2] = clock.elapsed();
        let clock = Instant::now();
        self.token(&done).await?;
        t[3] = clock.elapsed();
        Ok(t)
    }

    /// One passkey-first sign-in (autofill) with `key`; the duration of each step.
    async fn passkey_sign_in(&self, key: &mut SoftKey) -> Result<Vec<Duration>> {
        let mut t = vec![Duration::ZERO; 3];
        let clock = Instant::now();
        let flow = self.start().await?;
        t[0] = clock.elapsed();
        let clock = Instant::now();
        let (done, _) = self.answer_passkey(&flow, AUTOFILL, key).await?;
        t[1] = clock.elapsed();
        let clock = Instant::now();
        self.token(&done).await?;
        t[2] = clock.elapsed();
        Ok(t)
    }

    /// Answers remediation `name` of `flow` with a WebAuthn ceremony run by `key`.
    async fn answer_passkey(&self, flow: &Value, name: &str, key: &mut SoftKey) -> Result<(Value, Option<String>)> {
        let r = flow["remediations"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == name))
            .with_context(|| format!("{name} not offered: {flow}"))?;
        let options = &r["webauthn"];
        let credential = match (options.get("create"), options.get("get")) {
            (Some(create), _) => key.register(create, &self.base),
            (_, Some(get)) => key.assert(get, &self.base),
            _ => bail!("{name} has no WebAuthn options"),
        };
        self.post_keeping_session(
            r["href"].as_str().context("href")?,
            json!({ "credential": credential.to_string() }),
            flow["binding"].as_str(),
        )
        .await
    }

    /// Exchanges the authorization code of a finished flow.
    async fn token(&self, done: &Value) -> Result<Value> {
        let auth_code = done["success"]["code"].as_str().with_context(|| format!("no success: {done}"))?;
        self.exchange(auth_code).await
    }

    async fn exchange(&self, auth_code: &str) -> Result<Value> {
        let tokens = self
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", auth_code),
                ("redirect_uri", &self.redirect_uri),
                ("code_verifier", VERIFIER),
            ])
            .await?;
        tokens["id_token"].as_str().context("no id_token")?;
        Ok(tokens)
    }

    /// `/authorize?prompt=none` with the session cookie: the code it redirects with.
    async fn authorize_silently(&self, session: &str) -> Result<String> {
        let r = self
            .http
            .get(format!("{}/oauth2/v1/authorize", self.base))
            .query(&[
                ("client_id", self.client_id.as_str()),
                ("redirect_uri", &self.redirect_uri),
                ("response_type", "code"),
                ("scope", self.scope),
                ("state", "s"),
                ("nonce", "n"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("prompt", "none"),
            ])
            .header(reqwest::header::COOKIE, session)
            .send()
            .await?;
        let location = r
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .with_context(|| format!("authorize answered {} without a redirect", r.status()))?;
        let url = reqwest::Url::parse(location)?;
        let code = url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
        code.with_context(|| format!("authorize did not issue a code: {location}"))
    }

    /// Registers `email` (identify → code → profile), and creates a passkey with `key`
    /// when given. The finished flow and the SSO session cookie it set.
    async fn register(&self, email: &str, key: Option<&mut SoftKey>) -> Result<(Value, String)> {
        let flow = self.start().await?;
        let seen = self.newest_mail(email).await?;
        let flow = self.post_bound(&flow, "identify", json!({ "identifier": email })).await?;
        let code = self.latest_code(email, seen).await?;
        let flow = self.post_bound(&flow, "challenge-authenticator", json!({ "code": code })).await?;
        let (mut done, mut session) = self
            .post_keeping_session(
                &Self::href(&flow, "enroll-profile")?,
                json!({ "email": email, "given_name": "Bench" }),
                flow["binding"].as_str(),
            )
            .await?;
        if let Some(key) = key {
            let flow =
                self.post_bound(&done, "select-authenticator-enroll", json!({ "authenticator": "passkey" })).await?;
            let r = self.answer_passkey(&flow, "enroll-authenticator", key).await?;
            (done, session) = (r.0, r.1.or(session));
        }
        done["success"]["code"].as_str().context("registration did not succeed")?;
        Ok((done, session.context("no session cookie after signing up")?))
    }

    /// Prepares one worker: registers its accounts when the scenario needs them.
    async fn worker(&self, scenario: Scenario, email: String, accounts: usize) -> Result<Worker> {
        Ok(match scenario {
            Scenario::Email => {
                let mut emails = vec![];
                for k in 0..accounts {
                    let email = email.replacen('@', &format!(".{k}@"), 1);
                    self.next_address();
                    self.register(&email, None).await?;
                    emails.push(email);
                }
                Worker::Email(emails, 0)
            }
            Scenario::Enumeration => {
                self.register(&email, None).await?;
                Worker::Enumeration(email, 0)
            }
            Scenario::Flood => Worker::Flood(0, Instant::now() + self.warmup),
            Scenario::Password => {
                // Sign up through the password step's other way (email), then take the
                // password the app offers.
                let flow = self.start().await?;
                let seen = self.newest_mail(&email).await?;
                let flow = self.post_bound(&flow, "identify", json!({ "identifier": email })).await?;
                let flow = self
                    .post_bound(&flow, "select-authenticator-authenticate", json!({ "authenticator": "email" }))
                    .await?;
                let code = self.latest_code(&email, seen).await?;
                let flow = self.post_bound(&flow, "challenge-authenticator", json!({ "code": code })).await?;
                let flow =
                    self.post_bound(&flow, "enroll-profile", json!({ "email": email, "given_name": "Bench" })).await?;
                let done = self.post_bound(&flow, "enroll-authenticator", json!({ "password": PASSWORD })).await?;
                done["success"]["code"].as_str().context("setting the password did not succeed")?;
                Worker::Password(email)
            }
            Scenario::Passkey => {
                let mut key = SoftKey::new();
                self.register(&email, Some(&mut key)).await?;
                Worker::Passkey(key)
            }
            Scenario::AuthorizationCode => Worker::Session(self.register(&email, None).await?.1),
            Scenario::RefreshToken => {
                let (done, _) = self.register(&email, None).await?;
                let tokens = self.token(&done).await?;
                Worker::Refresh(tokens["refresh_token"].as_str().context("no refresh_token")?.to_owned())
            }
            Scenario::ClientCredentials => Worker::Credentials,
            Scenario::Signup => Worker::Signup(email, 0),
        })
    }

    /// One iteration of the scenario; the duration of each step.
    async fn once(&self, worker: &mut Worker) -> Result<Vec<Duration>> {
        self.next_address();
        match worker {
            Worker::Email(emails, turn) => {
                *turn = (*turn + 1) % emails.len();
                self.sign_in(&emails[*turn]).await
            }
            Worker::Enumeration(known, tried) => {
                *tried += 1;
                let unknown = known.replacen('@', &format!(".nobody{tried}@"), 1);
                Ok(vec![
                    self.time_identify(known, false).await?,
                    self.time_identify(&unknown, false).await?,
                    self.time_identify(known, true).await?,
                    self.time_identify(&unknown, true).await?,
                ])
            }
            Worker::Flood(refused, from) => {
                let clock = Instant::now();
                if self.flood_once().await? && clock >= *from {
                    *refused += 1;
                }
                Ok(vec![clock.elapsed()])
            }
            Worker::Password(email) => self.password_sign_in(email).await,
            Worker::Signup(email, made) => {
                *made += 1;
                let new = email.replacen('@', &format!(".new{made}@"), 1);
                self.sign_up(&new).await
            }
            Worker::Passkey(key) => self.passkey_sign_in(key).await,
            Worker::Session(session) => {
                let clock = Instant::now();
                let code = self.authorize_silently(session).await?;
                let authorize = clock.elapsed();
                let clock = Instant::now();
                self.exchange(&code).await?;
                Ok(vec![authorize, clock.elapsed()])
            }
            Worker::Refresh(token) => {
                let clock = Instant::now();
                let tokens = self.token_request(&[("grant_type", "refresh_token"), ("refresh_token", token)]).await?;
                *token = tokens["refresh_token"].as_str().context("no rotated refresh_token")?.to_owned();
                Ok(vec![clock.elapsed()])
            }
            Worker::Credentials => {
                let clock = Instant::now();
                let tokens = self.token_request(&[("grant_type", "client_credentials")]).await?;
                tokens["access_token"].as_str().context("no access_token")?;
                Ok(vec![clock.elapsed()])
            }
        }
    }
}

async fn run(args: Args) -> Result<Value> {
    let scenario = args.scenario;
    let client = std::rc::Rc::new(Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency * 2)
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        base: args.base.trim_end_matches('/').to_owned(),
        client_id: args.client_id,
        client_secret: args.client_secret,
        redirect_uri: args.redirect_uri,
        scope: if scenario == Scenario::RefreshToken { "openid email offline_access" } else { "openid email" },
        spread_ips: args.spread_ips,
        address: std::cell::Cell::new(u32::from(std::process::id() as u16) << 8),
        recovery_client: args.recovery_client,
        warmup: args.warmup,
        mailbox: args.mailbox,
    });
    if let Some(held) = args.hold {
        let start = client.start_request(&client.client_id, None);
        return hold::hold(&client.http, &client.base, &start, held, args.server_pid).await;
    }
    let run_id = std::process::id();
    let mut workers = vec![];
    for i in 0..args.concurrency {
        let email = format!("bench{run_id}.{}.{i}@example.com", scenario.name());
        workers.push(client.worker(scenario, email, args.accounts).await?);
    }

    let local = tokio::task::LocalSet::new();
    let started = Instant::now();
    let measure_from = started + args.warmup;
    let end = measure_from + args.duration;
    // The server's own CPU time over the measured window: the load generator shares
    // the machine, so wall time alone would count its share too.
    let server_pid = args.server_pid;
    let [on_start, on_end] = args.on_window.clone();
    let cpu = local.spawn_local(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let from = server_pid.and_then(cpu_seconds);
        run_hook(on_start.as_deref()).await?;
        tokio::time::sleep_until(end.into()).await;
        let cpu = from.zip(server_pid.and_then(cpu_seconds)).map(|(a, b)| b - a);
        run_hook(on_end.as_deref()).await?;
        anyhow::Ok(cpu)
    });
    let mut tasks = vec![];
    for mut worker in workers {
        let client = client.clone();
        tasks.push(local.spawn_local(async move {
            let mut samples: Vec<Vec<Duration>> = vec![];
            let mut errors = 0u64;
            let mut failed_at: BTreeMap<String, u64> = BTreeMap::new();
            let mut timeline: Vec<Value> = vec![];
            while Instant::now() < end {
                let begun = Instant::now();
                let result = client.once(&mut worker).await;
                let at = started.elapsed().as_secs_f64();
                let unix_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                match result {
                    Ok(t) => {
                        timeline.push(json!({ "t": at, "unix_ms": unix_ms, "ok": true }));
                        if begun >= measure_from && Instant::now() <= end {
                            samples.push(t);
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        let step = e.to_string();
                        timeline.push(json!({ "t": at, "unix_ms": unix_ms, "ok": false, "step": step }));
                        *failed_at.entry(step).or_default() += 1;
                        if errors <= 3 {
                            eprintln!("{} failed: {e:#}", scenario.name());
                        }
                    }
                }
            }
            let refused = if let Worker::Flood(n, _) = worker { n } else { 0 };
            (samples, errors, refused, failed_at, timeline)
        }));
    }
    let (results, cpu) = local
        .run_until(async {
            let mut all = vec![];
            for t in tasks {
                all.push(t.await.expect("task"));
            }
            (all, cpu.await.expect("cpu task"))
        })
        .await;
    let cpu = cpu?;
    let steps = scenario.steps();
    let mut per_step: Vec<Vec<Duration>> = vec![vec![]; steps.len()];
    let mut totals = vec![];
    let mut errors = 0;
    let mut refused = 0;
    let mut failed_at: BTreeMap<String, u64> = BTreeMap::new();
    let mut timeline: Vec<Value> = vec![];
    for (samples, e, r, at, line) in results {
        errors += e;
        refused += r;
        for (step, n) in at {
            *failed_at.entry(step).or_default() += n;
        }
        timeline.extend(line);
        for s in samples {
            for (i, d) in s.iter().enumerate() {
                per_step[i].push(*d);
            }
            totals.push(s.iter().sum::<Duration>());
        }
    }
    if let Some(path) = &args.timeline {
        timeline.sort_by(|a, b| a["t"].as_f64().partial_cmp(&b["t"].as_f64()).unwrap_or(std::cmp::Ordering::Equal));
        let lines: Vec<String> = timeline.iter().map(Value::to_string).collect();
        std::fs::write(path, lines.join("\n") + "\n")?;
    }
    let completed = totals.len();
    let steps: Vec<Value> = steps
        .iter()
        .zip(per_step.iter_mut())
        .map(|(name, d)| json!({ "step": name, "p50_ms": percentile(d, 0.50), "p99_ms": percentile(d, 0.99) }))
        .collect();
    Ok(json!({
        "scenario": scenario.name(),
        "concurrency": args.concurrency,
        "duration_s": args.duration.as_secs_f64(),
        "completed": completed,
        "errors": errors,
        "failed_at": failed_at,
        "refused": refused,
        "per_s": completed as f64 / args.duration.as_secs_f64(),
        "server_cpu_s": cpu,
        "server_cpu_ms_per_iteration": cpu.filter(|_| completed > 0).map(|c| c * 1000.0 / completed as f64),
        "server_cpu_cores": cpu.map(|c| c / args.duration.as_secs_f64()),
        "p50_ms": percentile(&mut totals, 0.50),
        "p99_ms": percentile(&mut totals, 0.99),
        "steps": steps,
        "server_memory": server_pid.and_then(memory::of),
    }))
}

/// A process's CPU time so far, user and system, in seconds (`/proc/PID/stat`, Linux).
/// Runs `command` with `sh -c` and waits for it; a failure ends the run.
async fn run_hook(command: Option<&str>) -> Result<()> {
    let Some(command) = command else { return Ok(()) };
    // Its output goes to standard error: standard output is the report.
    let status = tokio::process::Command::new("sh").args(["-c", command]).stdout(std::io::stderr()).status().await?;
    if !status.success() {
        bail!("`{command}` failed ({status})");
    }
    Ok(())
}

fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields that count come after its ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clock_ticks_per_second())
}

/// `sysconf(_SC_CLK_TCK)`: 100 on Linux, asked of `getconf` in case it is not.
fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn percentile(samples: &mut [Duration], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
    (samples[i].as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}
