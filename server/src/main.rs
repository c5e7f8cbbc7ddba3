//! `passway`: the command line. Errors end here, as `anyhow`, with the message only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use passway_server::app::AppState;
use passway_server::clock::Clock;
use passway_server::config::Config;

/// mimalloc, not glibc's malloc: under load the server spent a tenth of its CPU in
/// malloc, free and the futexes of glibc's arena locks (perf); mimalloc's per-thread
/// heaps take no lock on the hot path (see README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "passway", version, about = "Passway identity engine")]
struct Cli {
    /// Configuration file.
    #[arg(long, short, global = true, default_value = "passway.toml", env = "PASSWAY_CONFIG")]
    config: PathBuf,
    /// Log lines as text, or as one JSON object per line (with the request's span).
    #[arg(long, global = true, default_value = "text", env = "PASSWAY_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (the default).
    Serve {
        /// Listen here instead of the configured address (`127.0.0.1:0` picks a free port).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Stop when standard input closes (for test harnesses: the server cannot outlive them).
        #[arg(long)]
        stop_on_stdin_eof: bool,
    },
    /// Check the configuration and the themes, then exit.
    CheckConfig,
    /// Print a new random master key (base64url), for PASSWAY_MASTER_KEY.
    MasterKey,
    /// Print the flow API's OpenAPI document.
    Openapi,
    /// Print a new client secret, and the digest to put in the app's
    /// `client_secret_hashes` (only the digest is ever configured).
    ClientSecret,
    /// Print a new event hook secret (`whsec_…`, Standard Webhooks), to keep in a file
    /// or an environment variable the hook's `secret` names.
    HookSecret,
    /// Signing keys: list them, or rotate now.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// The system log, one event per line (or JSON), oldest first.
    Logs {
        /// From: a duration before now (`30m`, `1h`, `2d`) or an RFC 3339 instant.
        #[arg(long, default_value = "1h")]
        since: String,
        /// Okta's SCIM filter subset, e.g. `eventType eq "user.session.start"`.
        #[arg(long)]
        filter: Option<String>,
        /// Keywords every event shown must contain.
        #[arg(long)]
        q: Option<String>,
        /// Keep printing events as they arrive (a couple of seconds behind).
        #[arg(long, short)]
        follow: bool,
        /// Print each LogEvent as JSON (one per line).
        #[arg(long)]
        json: bool,
    },
    /// Event hooks: their health, their deliveries, a retry now.
    Hooks {
        #[command(subcommand)]
        action: HooksAction,
    },
    /// Themes: check them on their own (exit 0: fine, 1: problems, listed with
    /// file:line; 2: could not run).
    Theme {
        #[command(subcommand)]
        action: ThemeAction,
    },
    /// The theme studio: every step, page and email in every brand and language,
    /// updated as theme files are saved. Needs no database.
    Studio {
        /// The themes folder (default: the configuration's, else `./themes`).
        #[arg(long)]
        themes: Option<PathBuf>,
        /// Where to listen (`127.0.0.1:0` picks a free port).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// Stop when standard input closes (for test harnesses).
        #[arg(long)]
        stop_on_stdin_eof: bool,
    },
    /// Groups kept in the store: list, create, delete, members, add, remove.
    Groups {
        #[command(subcommand)]
        action: GroupsAction,
    },
    /// Accounts: import them from another system.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Sign-on policies.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
}

#[derive(Subcommand)]
enum PolicyAction {
    /// Which rule applies to a person signing in to an app, and the steps the engine
    /// would ask for, and why (a dry run of the engine; nothing is written).
    Explain {
        /// The app's client_id.
        #[arg(long)]
        app: String,
        /// The person's email (their account, if it exists, is read from the store).
        #[arg(long)]
        user: String,
        /// Assume the person is in this group too (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// The address the request comes from.
        #[arg(long)]
        ip: Option<String>,
        /// windows, macos, linux, chromeos, ios, android or other.
        #[arg(long)]
        platform: Option<String>,
        /// A browser that never signed this person in.
        #[arg(long, conflicts_with = "known_device")]
        new_device: bool,
        /// A browser that signed this person in before.
        #[arg(long)]
        known_device: bool,
        /// Authenticators proven in a live SSO session, e.g. `email` or `email,passkey`.
        #[arg(long)]
        session: Option<String>,
        /// As the app would send them to /authorize.
        #[arg(long)]
        acr_values: Option<String>,
        /// The request's risk: low (the default), medium or high.
        #[arg(long)]
        risk: Option<String>,
    },
}

#[derive(Subcommand)]
enum ThemeAction {
    /// Check every theme of DIR (default: the configuration's `[themes] dir`, or
    /// ./themes without a configuration): colours and contrast, strings, logo, CSS values.
    Check { dir: Option<PathBuf> },
    /// Write a new brand NAME (a folder of DIR, default as for `check`) from one colour:
    /// light and dark palettes that pass WCAG AA by construction, and a placeholder logo.
    New {
        name: String,
        /// The brand colour, `#RRGGBB`.
        #[arg(long)]
        primary: String,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum GroupsAction {
    /// Every store group, with its member count.
    List,
    /// A new group (sign-on rules name groups declared in the config file as `[groups.NAME]`).
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Deletes a group and its memberships.
    Delete { name: String },
    /// The accounts in a group.
    Members { name: String },
    /// Puts the account with this address in the group.
    Add { name: String, email: String },
    /// Takes the account with this address out of the group.
    Remove { name: String, email: String },
}

#[derive(Subcommand)]
enum UsersAction {
    /// Create accounts from a file of JSON lines: {"email", "profile", "password_hash"}.
    /// Without password_hash, the first sign-in with a password asks the
    /// password_import inline hook, then stores Passway's own hash.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum HooksAction {
    /// Each configured hook: verified or not, its backlog, its failures.
    List,
    /// A hook's latest delivery attempts, newest first.
    Deliveries { name: String },
    /// Try a hook's waiting batch (by hook name or webhook-id) now.
    Retry { name_or_webhook_id: String },
}

#[derive(Subcommand)]
enum KeysAction {
    /// List the stored keys and what each does now.
    List,
    /// Publish a successor for every algorithm in use; it signs after
    /// `keys.publish_ahead_hours` (running servers pick it up within a minute).
    Rotate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Theme { action: ThemeAction::Check { dir } }) => return theme_check(&cli.config, dir.as_deref()),
        Some(Command::Theme { action: ThemeAction::New { name, primary, dir } }) => {
            return match theme_new(&cli.config, name, primary, dir.as_deref()) {
                Ok(folder) => {
                    println!("{}: written (theme.toml, logo.svg); `passway theme check` checks it", folder.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("passway: error: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("passway: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The themes folder: given, else the configuration's, else `./themes`.
fn themes_dir(config: &std::path::Path, dir: Option<&std::path::Path>) -> anyhow::Result<PathBuf> {
    Ok(match dir {
        Some(d) => d.to_owned(),
        None if config.is_file() => Config::load(config)?.themes_dir,
        None => PathBuf::from("themes"),
    })
}

/// `passway theme new`: a brand folder from one colour (see `branding::palette`).
fn theme_new(
    config: &std::path::Path,
    name: &str,
    primary: &str,
    dir: Option<&std::path::Path>,
) -> anyhow::Result<PathBuf> {
    use passway_server::branding::{Rgb, palette};
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        anyhow::bail!("a brand name may only hold letters, digits, '-' and '_', found {name:?}");
    }
    let colour = Rgb::parse(primary)
        .filter(|_| primary.len() == 7)
        .with_context(|| format!("--primary: expected #RRGGBB, found {primary:?}"))?;
    let folder = themes_dir(config, dir)?.join(name);
    if folder.exists() {
        anyhow::bail!("{} exists already: choose another name, or edit it", folder.display());
    }
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    std::fs::write(folder.join("theme.toml"), palette::theme_toml(name, colour))?;
    std::fs::write(folder.join("logo.svg"), palette::logo_svg(name, colour))?;
    Ok(folder)
}

/// `passway studio`: the studio on its own, with the configuration's profile schema
/// and widget folder when there is a configuration.
async fn studio(
    config: &std::path::Path,
    themes: Option<&std::path::Path>,
    listen: SocketAddr,
    stop_on_stdin_eof: bool,
) -> anyhow::Result<()> {
    use passway_server::http::studio;
    let loaded = if config.is_file() { Some(Config::load(config)?) } else { None };
    let themes = match (themes, &loaded) {
        (Some(t), _) => t.to_owned(),
        (None, Some(c)) => c.themes_dir.clone(),
        (None, None) => PathBuf::from("themes"),
    };
    anyhow::ensure!(themes.join("default").is_dir(), "{} has no default theme: give --themes DIR", themes.display());
    let (settings, widget_dir) = match &loaded {
        Some(c) => (c.engine.clone(), c.widget_dir.clone()),
        None => (studio::sample_settings(), PathBuf::from("dist/widget")),
    };
    let catalog = passway_server::i18n::Catalog::builtin().with_profile_labels(&settings.profile);
    let widget = passway_server::app::load_widget(&widget_dir);
    if widget.is_empty() {
        tracing::warn!(dir = %widget_dir.display(), "no widget bundle: build it with `cargo xtask build`");
    }
    let router =
        studio::standalone(studio::Studio::watching(themes.clone(), catalog, settings), std::sync::Arc::new(widget));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("Passway studio for {}: http://{addr}/studio", themes.display());
    let stop = async move {
        if stop_on_stdin_eof {
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
    };
    axum::serve(listener, router).with_graceful_shutdown(stop).await?;
    Ok(())
}

/// `passway theme check`: every problem of every theme, then an exit code CI can use.
fn theme_check(config: &std::path::Path, dir: Option<&std::path::Path>) -> ExitCode {
    let (dir, catalog) = match dir {
        Some(d) => (d.to_owned(), passway_server::i18n::Catalog::builtin()),
        None if config.is_file() => match Config::load(config) {
            Ok(c) => {
                let catalog = passway_server::i18n::Catalog::builtin().with_profile_labels(&c.engine.profile);
                (c.themes_dir, catalog)
            }
            Err(e) => {
                eprintln!("passway: error: {e}");
                return ExitCode::from(2);
            }
        },
        None => (PathBuf::from("themes"), passway_server::i18n::Catalog::builtin()),
    };
    if !dir.is_dir() {
        eprintln!("passway: error: {} is not a folder of themes", dir.display());
        return ExitCode::from(2);
    }
    match passway_server::branding::Brands::load(&dir, catalog) {
        Ok(brands) => {
            let ids = brands.ids();
            println!("{}: OK ({} themes: {})", dir.display(), ids.len(), ids.join(", "));
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                println!("{p}");
            }
            eprintln!("{} problem(s) in {}", problems.len(), dir.display());
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve { listen: None, stop_on_stdin_eof: false }) {
        Command::MasterKey => {
            let mut key = [0u8; 32];
            aws_lc_rs::rand::fill(&mut key).map_err(|_| anyhow::anyhow!("the system random source failed"))?;
            println!("{}", passway_server::crypto::b64url(&key));
            Ok(())
        }
        Command::Openapi => {
            println!("{}", passway_server::http::openapi::json());
            Ok(())
        }
        Command::ClientSecret => {
            let mut random = [0u8; 32];
            aws_lc_rs::rand::fill(&mut random).map_err(|_| anyhow::anyhow!("the system random source failed"))?;
            let (secret, hash) = passway_server::oidc::client_auth::new_secret(&random);
            println!("client_secret: {secret}");
            println!("  (give it to the app; it is not stored anywhere)");
            println!("client_secret_hashes = [\"{hash}\"]");
            println!("  (put this in the app's [[apps]] entry)");
            Ok(())
        }
        Command::Keys { action } => keys(&cli.config, action).await,
        Command::HookSecret => {
            println!("{}", passway_server::hooks::signature::new_secret());
            Ok(())
        }
        Command::Logs { since, filter, q, follow, json } => {
            logs(&cli.config, &since, filter.as_deref(), q.as_deref(), follow, json).await
        }
        Command::Hooks { action } => hooks(&cli.config, action).await,
        Command::Theme { .. } => unreachable!("answered in main, with its own exit codes"),
        Command::Studio { themes, listen, stop_on_stdin_eof } => {
            init_logging(cli.log_format, None);
            studio(&cli.config, themes.as_deref(), listen, stop_on_stdin_eof).await
        }
        Command::Groups { action } => {
            use passway_server::groups::GroupCommand;
            let config = Config::load(&cli.config)?;
            let store = passway_server::store::open(&config.store_url).await?;
            let recorder =
                passway_server::events::Recorder::new(passway_server::hooks::Subscriptions::new(&config.hooks));
            let command = match action {
                GroupsAction::List => GroupCommand::List,
                GroupsAction::Create { name, description } => GroupCommand::Create { name, description },
                GroupsAction::Delete { name } => GroupCommand::Delete { name },
                GroupsAction::Members { name } => GroupCommand::Members { name },
                GroupsAction::Add { name, email } => GroupCommand::Add { name, email },
                GroupsAction::Remove { name, email } => GroupCommand::Remove { name, email },
            };
            let now = passway_server::clock::Clock::System.now();
            print!("{}", passway_server::groups::run(store.as_ref(), &recorder, command, now).await?);
            Ok(())
        }
        Command::Users { action: UsersAction::Import { file } } => {
            let config = Config::load(&cli.config)?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let store = passway_server::store::open(&config.store_url).await?;
            let now = passway_server::clock::Clock::System.now();
            let summary = passway_server::import::import(
                store.as_ref(),
                &config.engine.profile,
                &text,
                now,
                &mut passway_server::crypto::SystemEntropy,
            )
            .await?;
            println!("{} account(s) created", summary.created);
            for email in summary.skipped {
                println!("{email}: already has an account, left as it is");
            }
            Ok(())
        }
        Command::Policy {
            action:
                PolicyAction::Explain {
                    app,
                    user,
                    groups,
                    ip,
                    platform,
                    new_device,
                    known_device,
                    session,
                    acr_values,
                    risk,
                },
        } => {
            let config = Config::load(&cli.config)?;
            let store = passway_server::store::open(&config.store_url).await?;
            let ask = passway_server::journey::explain::Ask {
                app,
                user,
                groups,
                ip,
                platform,
                new_device: if new_device {
                    Some(true)
                } else if known_device {
                    Some(false)
                } else {
                    None
                },
                session,
                acr_values,
                risk,
            };
            let explanation =
                passway_server::journey::explain::explain(&*store, &config, &ask, Clock::System.now()).await?;
            print!("{explanation}");
            println!("outcome: {}", explanation.outcome);
            Ok(())
        }
        Command::CheckConfig => {
            let config = Config::load(&cli.config)?;
            passway_server::branding::Brands::load(
                &config.themes_dir,
                passway_server::i18n::Catalog::builtin().with_profile_labels(&config.engine.profile),
            )
            .map_err(passway_server::app::StartError::Themes)?;
            for warning in config.warnings() {
                println!("warning: {warning}");
            }
            println!("{}: OK ({} apps)", cli.config.display(), config.apps.len());
            Ok(())
        }
        Command::Serve { listen, stop_on_stdin_eof } => {
            serve(&cli.config, listen, stop_on_stdin_eof, cli.log_format).await
        }
    }
}

async fn logs(
    path: &std::path::Path,
    since: &str,
    filter: Option<&str>,
    q: Option<&str>,
    follow: bool,
    json: bool,
) -> anyhow::Result<()> {
    use passway_server::events::{filter::Filter, line::one_line, query};
    let config = Config::load(path)?;
    let store = passway_server::store::open(&config.store_url).await?;
    let now = Clock::System.now();
    let mut ask = query::LogQuery {
        since: Some(query::parse_instant(since, now).map_err(anyhow::Error::msg).context("--since")?),
        // Without --follow, the log up to now, all of it.
        until: (!follow).then_some(now),
        limit: query::MAX_LIMIT,
        filter: filter.map(Filter::parse).transpose().context("--filter")?,
        keywords: q.unwrap_or("").split_whitespace().map(str::to_owned).collect(),
        ..query::LogQuery::default()
    };
    loop {
        let page = query::page(&*store, &ask, Clock::System.now()).await?;
        for (_, body) in &page.events {
            if json {
                println!("{body}");
            } else {
                println!("{}", one_line(&serde_json::from_str(body)?));
            }
        }
        match page.next {
            Some(next) => ask.after = Some(next),
            None if follow => {}
            None => return Ok(()),
        }
        if follow && page.events.is_empty() {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

async fn hooks(path: &std::path::Path, action: HooksAction) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    let store = passway_server::store::open(&config.store_url).await?;
    let known = |name: &str| {
        config
            .hooks
            .events
            .iter()
            .any(|h| h.name == name)
            .then_some(())
            .with_context(|| format!("no event hook is named {name:?}"))
    };
    match action {
        HooksAction::List => {
            let stored = store.hooks().await?;
            for hook in &config.hooks.events {
                let Some(s) = stored.iter().find(|s| s.name == hook.name) else {
                    println!("{} {} unverified (no server has started its delivery yet)", hook.name, hook.url);
                    continue;
                };
                print!("{} {} {} pending={} attempts={}", s.name, s.url, s.status, s.pending, s.attempts);
                if let Some(reason) = &s.reason {
                    print!(" reason={reason:?}");
                }
                if s.attempts > 0 {
                    print!(" next_attempt={}", s.next_attempt_at.rfc3339());
                }
                println!();
            }
            for hook in &config.hooks.inline {
                let apps = hook.apps.as_ref().map_or("every app".to_owned(), |a| a.join(", "));
                println!(
                    "{} {} inline {} on_failure={} timeout={}s apps: {apps}",
                    hook.name,
                    hook.url,
                    hook.point.name(),
                    hook.on_failure.name(),
                    hook.timeout.as_secs()
                );
            }
            Ok(())
        }
        HooksAction::Deliveries { name } => {
            known(&name)?;
            for a in store.hook_attempts(&name, 50).await? {
                let status = a.status.map_or("-".to_owned(), |s| s.to_string());
                let error = a.error.map(|e| format!(" error={e:?}")).unwrap_or_default();
                println!(
                    "{} {} events={} status={status} {} ms{error}",
                    a.at.rfc3339(),
                    a.webhook_id,
                    a.events,
                    a.latency_ms
                );
            }
            Ok(())
        }
        HooksAction::Retry { name_or_webhook_id } => {
            if store.hook_retry_now(&name_or_webhook_id).await? {
                println!("{name_or_webhook_id}: tried again within a second by the instance delivering it");
                Ok(())
            } else {
                anyhow::bail!(
                    "{name_or_webhook_id:?}: no hook by that name and no batch with that webhook-id is waiting"
                )
            }
        }
    }
}

async fn keys(path: &std::path::Path, action: KeysAction) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    match action {
        KeysAction::Rotate => {
            let created = passway_server::app::rotate_keys_now(&config).await?;
            if created.is_empty() {
                println!("a successor is already published for every algorithm; nothing to do");
            }
            for (kid, at) in created {
                println!("published {kid}; it signs from {}", at.rfc3339());
            }
        }
        KeysAction::List => {
            let now = Clock::System.now();
            for k in passway_server::app::stored_keys(&config).await? {
                let state = match k.retires_at {
                    _ if k.activates_at > now => "next",
                    Some(r) if r <= now => "retired",
                    _ => "signing",
                };
                let retires = k.retires_at.map(|r| format!(", retires {}", r.rfc3339())).unwrap_or_default();
                println!("{}  {}  {state}  (signs from {}{retires})", k.kid, k.alg, k.activates_at.rfc3339());
            }
        }
    }
    Ok(())
}

/// A warning nobody should miss: a box of stars in text, one warning line in JSON (so
/// that every line of standard error stays JSON).
fn loudly(format: LogFormat, lines: &[&str]) {
    match format {
        LogFormat::Text => {
            let stars = "*".repeat(60);
            let body: String = lines.iter().map(|l| format!("  *  {l}\n")).collect();
            eprintln!("\n  {stars}\n{body}  {stars}\n");
        }
        LogFormat::Json => tracing::warn!("{}", lines.join(" ")),
    }
}

/// Log lines to standard error, `RUST_LOG` deciding which; and, when given, spans to
/// an OTLP exporter (with their debug-level children: store calls, argon2, hooks).
fn init_logging(format: LogFormat, otlp: Option<passway_server::telemetry::OtlpLayer>) {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "passway_server=info,warn".into());
    let lines = match format {
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => {
            fmt::layer().json().with_current_span(true).with_span_list(false).with_writer(std::io::stderr).boxed()
        }
    };
    let otlp = otlp.map(|layer| layer.with_filter(EnvFilter::new("passway_server=debug,warn")));
    tracing_subscriber::registry().with(lines.with_filter(filter)).with(otlp).init();
}

async fn serve(
    path: &std::path::Path,
    listen: Option<SocketAddr>,
    stop_on_stdin_eof: bool,
    log_format: LogFormat,
) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    match &config.telemetry {
        Some(t) => {
            let (layer, spans) = passway_server::telemetry::OtlpLayer::new();
            init_logging(log_format, Some(layer));
            tokio::spawn(passway_server::telemetry::export(spans, t.otlp_endpoint.clone(), t.service_name.clone()));
        }
        None => init_logging(log_format, None),
    }
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let address = listen.unwrap_or(config.listen);
    if config.dev_mode && !address.ip().is_loopback() {
        anyhow::bail!(
            "dev mode serves a mailbox anyone could read: it listens on loopback only (127.0.0.1 or [::1]), not {address}"
        );
    }
    let listener =
        tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    let bound = listener.local_addr()?;
    let issuer = config.issuer.clone().unwrap_or_else(|| format!("http://{bound}"));
    let dev_mode = config.dev_mode;
    let demo = config.demo_dir.is_some();
    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    let app = AppState::build(config, issuer.clone(), Clock::System, shutdown_rx).await?;
    if dev_mode {
        loudly(
            log_format,
            &[
                &format!("DEV MODE: emails go to {issuer}/dev/mailbox"),
                "and the master key is kept in the data folder.",
                "Never run dev mode in production.",
            ],
        );
    }
    if !app.config.rate_limits.enabled {
        loudly(
            log_format,
            &[
                "RATE LIMITS ARE OFF ([rate_limits] enabled = false):",
                "nothing stops floods, guessing or email bombing.",
                "For benchmarks only.",
            ],
        );
    }
    println!("passway: listening on {issuer} (store: {})", app.store.backend());
    if let Some(addr) = app.config.metrics_listen {
        let metrics = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (metrics.listen)"))?;
        println!("passway: metrics on http://{}/metrics", metrics.local_addr()?);
        tokio::spawn(passway_server::metrics::serve(metrics, app.clone()));
    }
    if demo {
        println!("passway: demo at {issuer}/demo/");
    }
    let stop = async move {
        let stdin_closed = async {
            if stop_on_stdin_eof {
                // A plain thread, not tokio's stdin: a blocking read in the runtime's pool
                // would keep the process alive after a signal stopped the server.
                let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
                std::thread::spawn(move || {
                    let mut sink = [0u8; 64];
                    while matches!(std::io::Read::read(&mut std::io::stdin(), &mut sink), Ok(n) if n > 0) {}
                    let _ = closed.send(());
                });
                let _ = on_close.await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let terminate = async {
            #[cfg(unix)]
            if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                s.recv().await;
                return;
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
            _ = stdin_closed => {}
        }
        match log_format {
            LogFormat::Text => eprintln!("passway: stopping"),
            LogFormat::Json => tracing::info!("stopping"),
        }
    };
    passway_server::serve::serve(listener, app, shutdown, stop).await?;
    Ok(())
}
