//! The composition root: builds every service from the configuration, once, at start.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::watch;

use crate::assets::{Asset, content_type_for};
use crate::branding::Brands;
use crate::clock::Clock;
use crate::config::SigningAlg;
use crate::config::{Config, ConfigError, MailTransport};
use crate::crypto::{Keyring, Sealer, b64url_decode};
use crate::i18n::Catalog;
use crate::journey::Notifier;
use crate::journey::passkeys::RelyingParties;
use crate::mail::smtp::SmtpTransport;
use crate::mail::{Delivery, MailQueue};
use crate::oidc::keys::KeyError;
use crate::oidc::rotation::{self, Schedule};
use crate::oidc::{KeySet, LiveKeys};
use crate::store::{Store, StoreError};

/// Everything a request handler may need; cheap to clone.
/// What every request shares, behind one `Arc`: handlers and middleware take the
/// state by value, and cloning twenty fields' `Arc`s for each of them was 3% of a
/// sign-in's CPU.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub config: Arc<Config>,
    /// Public base URL, without a trailing slash (the OIDC issuer).
    pub issuer: Arc<str>,
    pub store: Arc<dyn Store>,
    pub brands: Arc<Brands>,
    /// Token signing keys, reloaded as they rotate.
    pub keys: Arc<LiveKeys>,
    /// Seals new signing keys.
    pub sealer: Arc<Sealer>,
    pub keyring: Keyring,
    pub delivery: Delivery,
    pub notifier: Notifier,
    pub widget: Arc<HashMap<String, Asset>>,
    /// WebAuthn relying parties, by brand.
    pub passkeys: Arc<RelyingParties>,
    pub clock: Clock,
    /// Turns true when the server is shutting down (ends event streams).
    pub shutdown: watch::Receiver<bool>,
    /// Password hashing: at most one per core at once, and so many waiting.
    pub hashing: Arc<Hashing>,
    /// Event streams open in this process, by client address and by flow.
    pub streams: Arc<Streams>,
    /// Rate-limit keys this process saw refused, until when (see `http::limit`).
    pub refused: Arc<Refused>,
    /// Makes system log events, each with the event hooks it is due for.
    pub events: crate::events::Recorder,
    /// The HTTP client for calls out (event hooks).
    pub outbound: crate::hooks::outbound::Outbound,
    /// Deliveries to the dev hook inbox (dev mode; see `http::dev_hooks`).
    pub dev_hooks: crate::http::dev_hooks::Inbox,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{} theme problem(s):\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Themes(Vec<ConfigError>),
    #[error("store {url}: {source}")]
    Store { url: String, source: StoreError },
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error("master key: {0}")]
    MasterKey(String),
    #[error("{0}")]
    Passkeys(String),
    #[error("mail: {0}")]
    Mail(#[from] crate::mail::smtp::SmtpSetupError),
}

/// The public URL of a custom domain: the issuer's scheme, the domain as browsers name it.
pub fn custom_domain_base(issuer: &str, host: &str) -> String {
    let scheme = if issuer.starts_with("https://") { "https" } else { "http" };
    format!("{scheme}://{host}")
}

impl AppState {
    /// Where a flow's browser reaches this server: its custom domain (same scheme as
    /// the issuer), else the issuer.
    pub fn base_of(&self, flow: &crate::engine::Flow) -> String {
        match &flow.requester.host {
            Some(host) => custom_domain_base(&self.issuer, host),
            None => self.issuer.to_string(),
        }
    }

    /// Opens the store, loads themes, keys and the widget bundle, starts mail delivery.
    pub async fn build(
        mut config: Config,
        issuer: String,
        clock: Clock,
        shutdown: watch::Receiver<bool>,
    ) -> Result<AppState, StartError> {
        if let Some(console) = config.console_app(&issuer) {
            config.apps.insert(console.client_id.clone(), console);
        }
        let brands = Brands::load(&config.themes_dir, Catalog::builtin().with_profile_labels(&config.engine.profile))
            .map_err(StartError::Themes)?;
        let master = master_key(&config)?;
        let store = crate::store::open_with(&config.store_url, &config.store_pool)
            .await
            .map_err(|source| StartError::Store { url: redact(&config.store_url), source })?;
        let sealer = Arc::new(Sealer::from_master(&master));
        let keys = load_keys(&config, store.as_ref(), &sealer, clock.now()).await?;
        let delivery = match &config.mail.transport {
            MailTransport::Outbox => Delivery::Outbox,
            MailTransport::Smtp(smtp) => Delivery::Smtp {
                queue: Arc::new(MailQueue::new(sealer.clone())),
                transport: Arc::new(SmtpTransport::new(smtp, &config.mail.from, crate::mail::worker::IN_FLIGHT)?),
            },
        };
        let passkeys = RelyingParties::build(&config, &issuer).map_err(StartError::Passkeys)?;
        let widget = load_widget(&config.widget_dir);
        let hashing = Hashing::new(
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            config.rate_limits.password_queue as usize,
        );
        if widget.is_empty() {
            tracing::warn!(dir = %config.widget_dir.display(), "no widget bundle found: /widget/* will answer 404 (build it with `cargo xtask build`)");
        }
        let events = crate::events::Recorder::new(crate::hooks::Subscriptions::new(&config.hooks));
        // Event streams here hear of changes other instances commit, at once.
        let notifier = Notifier::default();
        let heard = notifier.clone();
        store.watch_flows(Box::new(
            move |flow_id| {
                if flow_id.is_empty() { heard.anything() } else { heard.changed(flow_id) }
            },
        ));
        let outbound = crate::hooks::outbound::Outbound::new(config.hooks.allow_link_local, config.dev_mode);
        Ok(AppState(Arc::new(Shared {
            config: Arc::new(config),
            issuer: issuer.into(),
            store,
            brands: Arc::new(brands),
            keys: Arc::new(LiveKeys::new(keys)),
            sealer,
            keyring: Keyring::from_master(&master),
            delivery,
            notifier,
            widget: Arc::new(widget),
            passkeys: Arc::new(passkeys),
            clock,
            shutdown,
            hashing: Arc::new(hashing),
            streams: Arc::default(),
            refused: Arc::default(),
            dev_hooks: Default::default(),
            events,
            outbound,
            metrics: Arc::default(),
        })))
    }
}

/// Password hashing at once, at most one per core: argon2id takes memory (19 MiB each)
/// and CPU, so a flood of password answers waits instead of exhausting both — and only
/// so many wait: past that, the answer is refused at once (`503`, try again), so the
/// queue and the time spent in it stay bounded.
pub struct Hashing {
    running: tokio::sync::Semaphore,
    /// Answers running or waiting.
    admitted: std::sync::atomic::AtomicUsize,
    /// Most answers running or waiting at once.
    capacity: usize,
    cores: usize,
}

/// A place among the hashing answers: running once returned, released when dropped.
pub struct HashingTurn<'a> {
    _running: tokio::sync::SemaphorePermit<'a>,
    _admitted: Admitted<'a>,
}

/// Counts one answer running or waiting, until dropped (also when its request is
/// abandoned while it waits).
struct Admitted<'a>(&'a Hashing);

impl Hashing {
    pub fn new(cores: usize, queue: usize) -> Hashing {
        Hashing {
            running: tokio::sync::Semaphore::new(cores.max(1)),
            admitted: std::sync::atomic::AtomicUsize::new(0),
            capacity: cores.max(1) + queue,
            cores: cores.max(1),
        }
    }

    /// Answers waiting for a turn (not running).
    pub fn queued(&self) -> usize {
        let running = self.cores - self.running.available_permits();
        self.admitted.load(std::sync::atomic::Ordering::Acquire).saturating_sub(running)
    }

    /// Waits for a turn to hash, or `None` at once when too many already wait.
    pub async fn admit(&self) -> Option<HashingTurn<'_>> {
        use std::sync::atomic::Ordering;
        let admitted = Admitted(self);
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            return None;
        }
        let running = self.running.acquire().await.expect("the hashing semaphore is never closed");
        Some(HashingTurn { _running: running, _admitted: admitted })
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Rate-limit keys refused lately, until when: a memory in front of the store's counts.
/// Bounded: past [`Refused::CAPACITY`] keys, the ended ones are dropped, and when all
/// are live nothing more is remembered (the store still refuses them).
#[derive(Default)]
pub struct Refused {
    until: std::sync::Mutex<HashMap<crate::crypto::Digest, crate::engine::Timestamp>>,
}

impl Refused {
    pub const CAPACITY: usize = 100_000;

    /// While `key` is refused, until when.
    pub fn until(
        &self,
        key: &crate::crypto::Digest,
        now: crate::engine::Timestamp,
    ) -> Option<crate::engine::Timestamp> {
        let map = self.until.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).copied().filter(|t| *t > now)
    }

    pub fn remember(&self, key: crate::crypto::Digest, until: crate::engine::Timestamp, now: crate::engine::Timestamp) {
        let mut map = self.until.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Refused::CAPACITY {
            map.retain(|_, t| *t > now);
            if map.len() >= Refused::CAPACITY {
                return;
            }
        }
        map.insert(key, until);
    }
}

/// Counts of what is open in this process (event streams), by key.
#[derive(Default)]
pub struct Streams {
    open: std::sync::Mutex<HashMap<String, u32>>,
    total: std::sync::atomic::AtomicUsize,
}

/// One open stream, counted under its keys until dropped.
pub struct OpenStream {
    streams: Arc<Streams>,
    keys: Vec<String>,
}

impl Streams {
    /// Counts a new stream under each key, or `None` (nothing counted) when a key is at
    /// its limit; with `enforce` false, only counts.
    pub fn open<const N: usize>(self: &Arc<Self>, keys: [(String, u32); N], enforce: bool) -> Option<OpenStream> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if enforce && keys.iter().any(|(k, max)| open.get(k).copied().unwrap_or(0) >= *max) {
            return None;
        }
        for (k, _) in &keys {
            *open.entry(k.clone()).or_default() += 1;
        }
        self.total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(OpenStream { streams: self.clone(), keys: keys.into_iter().map(|(k, _)| k).collect() })
    }

    /// Streams open in this process.
    pub fn total(&self) -> usize {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Streams open under `key`.
    pub fn count(&self, key: &str) -> u32 {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).get(key).copied().unwrap_or(0)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.streams.total.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        let mut open = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        for k in &self.keys {
            // Keys with nothing open go, so the map holds only what is open.
            if let Some(n) = open.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    open.remove(k);
                }
            }
        }
    }
}

impl AppState {
    /// Creates the signing keys the schedule calls for and reloads them all (so keys
    /// made by another instance, or by `passway keys rotate`, are used too).
    pub async fn refresh_keys(&self) -> Result<(), KeyError> {
        let keys = load_keys(&self.config, self.store.as_ref(), &self.sealer, self.clock.now()).await?;
        self.keys.replace(keys);
        Ok(())
    }
}

/// The algorithms clients sign with: ES256 always, RS256 when an app asks for it.
pub fn signing_algs(config: &Config) -> Vec<SigningAlg> {
    let mut algs = vec![SigningAlg::Es256];
    if config.apps.values().any(|a| a.signing_alg == SigningAlg::Rs256) {
        algs.push(SigningAlg::Rs256);
    }
    algs
}

pub fn key_schedule(config: &Config) -> Schedule {
    Schedule { every: config.lifetimes.key_rotation, publish_ahead: config.lifetimes.key_publish_ahead }
}

/// `passway keys rotate`: a successor for every algorithm in use, published now and
/// signing after `keys.publish_ahead_hours` (running servers pick it up within a
/// minute). Returns the keys created, with the instant each starts signing.
pub async fn rotate_keys_now(config: &Config) -> Result<Vec<(String, crate::engine::Timestamp)>, StartError> {
    let (store, sealer) = open_key_store(config).await?;
    let now = Clock::System.now();
    let stored = store.signing_keys().await.map_err(KeyError::from)?;
    let changes = rotation::plan_now(&stored, &signing_algs(config), now, config.lifetimes.key_publish_ahead);
    let created = rotation::apply(store.as_ref(), &sealer, &changes, now).await?;
    let activations = changes.iter().filter_map(|c| match c {
        rotation::Change::Create { activates_at, .. } => Some(*activates_at),
        rotation::Change::Retire { .. } => None,
    });
    Ok(created.into_iter().zip(activations).collect())
}

/// The stored signing keys (`passway keys list`).
pub async fn stored_keys(config: &Config) -> Result<Vec<crate::store::StoredKey>, StartError> {
    let (store, _) = open_key_store(config).await?;
    Ok(store.signing_keys().await.map_err(KeyError::from)?)
}

async fn open_key_store(config: &Config) -> Result<(Arc<dyn Store>, Sealer), StartError> {
    let master = master_key(config)?;
    let store = crate::store::open_with(&config.store_url, &config.store_pool)
        .await
        .map_err(|source| StartError::Store { url: redact(&config.store_url), source })?;
    Ok((store, Sealer::from_master(&master)))
}

async fn load_keys(
    config: &Config,
    store: &dyn Store,
    sealer: &Sealer,
    now: crate::engine::Timestamp,
) -> Result<KeySet, KeyError> {
    let created = rotation::ensure(store, sealer, &signing_algs(config), now, key_schedule(config)).await?;
    for kid in created {
        tracing::info!(%kid, "created a signing key");
    }
    let lifetimes = &config.lifetimes;
    KeySet::load(store, sealer, lifetimes.access_token.max(lifetimes.id_token)).await
}

/// The 32-byte master key, from `PASSWAY_MASTER_KEY`, `master_key_file`, or — in dev
/// mode only — a file created in the data folder.
pub fn master_key(config: &Config) -> Result<[u8; 32], StartError> {
    let decode = |text: &str, from: &str| -> Result<[u8; 32], StartError> {
        b64url_decode(text.trim().trim_end_matches('='))
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| StartError::MasterKey(format!("{from} must hold 32 bytes in base64url")))
    };
    if let Ok(text) = std::env::var("PASSWAY_MASTER_KEY") {
        return decode(&text, "PASSWAY_MASTER_KEY");
    }
    if let Some(file) = &config.master_key_file {
        let text =
            std::fs::read_to_string(file).map_err(|e| StartError::MasterKey(format!("{}: {e}", file.display())))?;
        return decode(&text, &file.display().to_string());
    }
    if !config.dev_mode {
        return Err(StartError::MasterKey(
            "none configured: set PASSWAY_MASTER_KEY or master_key_file (generate one with `passway master-key`)"
                .into(),
        ));
    }
    let file = config.data_dir.join("master.key");
    match std::fs::read_to_string(&file) {
        Ok(text) => decode(&text, &file.display().to_string()),
        Err(_) => {
            let mut key = [0u8; 32];
            aws_lc_rs::rand::fill(&mut key).map_err(|_| StartError::MasterKey("system random source failed".into()))?;
            std::fs::create_dir_all(&config.data_dir)
                .map_err(|e| StartError::MasterKey(format!("{}: {e}", config.data_dir.display())))?;
            write_private(&file, &crate::crypto::b64url(&key))
                .map_err(|e| StartError::MasterKey(format!("{}: {e}", file.display())))?;
            tracing::warn!(file = %file.display(), "dev mode: created a master key file");
            Ok(key)
        }
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Every file under the widget folder, by path relative to it, with the brotli copy
/// the build made beside it (`name.br`, see `assets`) when there is one.
pub fn load_widget(dir: &Path) -> HashMap<String, Asset> {
    let mut files = HashMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let (Ok(rel), Ok(bytes)) = (path.strip_prefix(dir), std::fs::read(&path)) {
                let name = rel.to_string_lossy().replace('\\', "/");
                if name.ends_with(".html") || name.ends_with(".br") {
                    continue;
                }
                let mut compressed = path.into_os_string();
                compressed.push(".br");
                let precompressed = std::fs::read(compressed).ok();
                files.insert(name.clone(), Asset::with_precompressed(content_type_for(&name), bytes, precompressed));
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;

    use super::*;

    #[test]
    fn the_widget_folder_serves_its_files_with_the_brotli_copies_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let script = "console.log('passway');\n".repeat(50);
        let mut copy = vec![];
        std::io::Write::write_all(&mut brotli::CompressorWriter::new(&mut copy, 4096, 1, 10), script.as_bytes())
            .unwrap();
        std::fs::write(dir.path().join("passway.js"), &script).unwrap();
        std::fs::write(dir.path().join("passway.js.br"), &copy).unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>").unwrap();
        let files = load_widget(dir.path());
        let mut names: Vec<_> = files.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["passway.js"], "the copy and the page are not files of their own");
        assert_eq!(files["passway.js"].brotli.as_deref(), Some(&copy[..]));
    }

    #[tokio::test]
    async fn hashing_admits_only_so_many_and_frees_places_when_answers_go() {
        let h = Hashing::new(1, 2);
        let running = h.admit().await.expect("a core is free");
        // Two may wait (their futures pending); a fourth is refused at once.
        let mut waiting: Vec<_> = (0..2).map(|_| Box::pin(h.admit())).collect();
        for w in &mut waiting {
            assert!(w.as_mut().now_or_never().is_none());
        }
        assert!(h.admit().await.is_none(), "the queue is full");
        // An abandoned wait frees its place.
        waiting.pop();
        let mut again = Box::pin(h.admit());
        assert!(again.as_mut().now_or_never().is_none());
        drop(running);
        assert!(waiting.remove(0).await.is_some(), "the first in line runs once the core is free");
    }
}
