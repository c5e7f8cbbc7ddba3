use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::file::{self, File};
use super::{
    App, Config, ConfigError, GrantType, Lifetimes, MailConfig, MailTransport, RelyingParty, SigningAlg, SmtpConfig,
    SmtpSecurity, resolve_relative,
};
use crate::crypto::Digest;
use crate::engine::{AppAttribute, Attribute, AttributeKind, EngineSettings, EnrollmentPolicy, Pattern, ProfileSchema};
use crate::policy::SignOnPolicy;

pub(super) struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    pub(super) fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<T, ConfigError> {
        Err(ConfigError::at(self.path, self.text, span.start, key, message))
    }
}

pub fn validate(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let c = Checker { path, text };
    let file: File = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let mut message = e.message().trim_end().to_owned();
        if message == "duplicate key" {
            message = format!("duplicate key `{}`", text.get(span.clone()).unwrap_or("").trim());
        }
        ConfigError::at(path, text, span.start, "", message)
    })?;

    let listen = match &file.listen {
        None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        Some(s) => match s.get_ref().parse() {
            Ok(a) => a,
            Err(_) => {
                return c.err(
                    s.span(),
                    "listen",
                    format!("expected an address like \"127.0.0.1:8080\", found {:?}", s.get_ref()),
                );
            }
        },
    };

    let issuer = match &file.issuer {
        None => None,
        Some(s) => Some(base_url(&c, s, "issuer")?),
    };
    let lifetimes = lifetimes(&c, &file)?;
    let store_pool = store_pool(&c, &file.store)?;
    let telemetry = match &file.telemetry {
        None => None,
        Some(t) => match url::Url::parse(t.otlp_endpoint.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(super::Telemetry {
                otlp_endpoint: t.otlp_endpoint.get_ref().trim_end_matches('/').to_owned(),
                service_name: t.service_name.clone().unwrap_or_else(|| "passway".into()),
            }),
            _ => {
                return c.err(
                    t.otlp_endpoint.span(),
                    "telemetry.otlp_endpoint",
                    format!(
                        "expected an http(s) URL like \"http://collector:4318\", found {:?}",
                        t.otlp_endpoint.get_ref()
                    ),
                );
            }
        },
    };
    let metrics_listen = match &file.metrics {
        None => None,
        Some(m) => match m.listen.get_ref().parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                return c.err(
                    m.listen.span(),
                    "metrics.listen",
                    format!("expected an address like \"127.0.0.1:9464\", found {:?}", m.listen.get_ref()),
                );
            }
        },
    };
    let data_dir = resolve_relative(path, Path::new(file.data_dir.as_deref().unwrap_or(".passway")));
    let store_url = match &file.store.url {
        None => format!("sqlite://{}", data_dir.join("passway.db").display()),
        Some(s) => {
            let v = s.get_ref();
            if let Some(file_path) = v.strip_prefix("sqlite://") {
                // A relative SQLite path is relative to this file, like every other path in it.
                let (file_path, query) = file_path.split_once('?').map_or((file_path, None), |(p, q)| (p, Some(q)));
                let resolved = resolve_relative(path, Path::new(file_path));
                format!("sqlite://{}{}", resolved.display(), query.map(|q| format!("?{q}")).unwrap_or_default())
            } else if v.starts_with("postgres://") || v.starts_with("postgresql://") {
                v.clone()
            } else {
                return c.err(
                    s.span(),
                    "store.url",
                    format!("expected \"sqlite://FILE\" or \"postgres://…\", found {v:?}"),
                );
            }
        }
    };

    let mail = mail(&c, file.mail.as_ref(), file.dev_mode)?;
    // Production guard rails: tokens, cookies and links over plain http only in dev mode,
    // and dev mode (a mailbox anyone can read, a master key on disk) only on this machine.
    if !file.dev_mode {
        match (&file.issuer, &issuer) {
            (Some(s), Some(url)) if url.starts_with("http://") => {
                return c.err(
                    s.span(),
                    "issuer",
                    "must be https:// outside dev mode (cookies, tokens and links travel over it)",
                );
            }
            (None, _) => {
                return Err(ConfigError {
                    path: path.to_owned(),
                    position: None,
                    key: "issuer".into(),
                    message: "missing: outside dev mode, set the public https:// URL Passway is served at".into(),
                });
            }
            _ => {}
        }
    }
    if file.dev_mode
        && !listen.ip().is_loopback()
        && let Some(l) = &file.listen
    {
        return c.err(
            l.span(),
            "listen",
            format!("dev mode serves a mailbox anyone could read: it listens on loopback only (127.0.0.1 or [::1]), not {listen}"),
        );
    }

    let mut engine = EngineSettings::default();
    if let Some(m) = &file.flows.lifetime_minutes {
        if !(1..=24 * 60).contains(m.get_ref()) {
            return c.err(m.span(), "flows.lifetime_minutes", "expected a number of minutes between 1 and 1440");
        }
        engine.flow_lifetime = Duration::from_secs(u64::from(*m.get_ref()) * 60);
    }
    engine.profile = profile(&c, &file.profile)?;
    engine.zones = super::policy::zones(&c, &file.zones)?;
    engine.groups = super::policy::groups(&c, &file.groups)?;
    engine.passwords = super::authenticators::passwords(&c, &file.passwords)?;
    engine.lockout = super::authenticators::lockout(&c, &file.lockout)?;
    engine.recovery = super::authenticators::recovery(&c, &file.recovery)?;
    engine.sessions = super::policy::sessions(
        &c,
        &file.sessions,
        lifetimes.session,
        lifetimes.session_idle,
        &engine.zones,
        &engine.groups,
    )?;

    let themes_dir = resolve_relative(path, Path::new(file.themes.dir.as_deref().unwrap_or("themes")));
    let brand_exists = |b: &str| themes_dir.join(b).join("theme.toml").is_file();
    let mut hostnames = BTreeMap::new();
    for (host, brand) in &file.themes.hostnames {
        if !brand_exists(brand.get_ref()) {
            return c.err(brand.span(), format!("themes.hostnames.{host:?}"), no_theme(brand.get_ref(), &themes_dir));
        }
        hostnames.insert(host.to_lowercase(), brand.get_ref().clone());
    }

    let passkeys = match &file.passkeys {
        None => BTreeMap::new(),
        Some(p) => relying_parties(&c, p, &themes_dir)?,
    };

    let mut apps = BTreeMap::new();
    for (i, entry) in file.apps.iter().enumerate() {
        let mut app = app(&c, i, entry, &brand_exists, &themes_dir, file.dev_mode)?;
        app.sign_on =
            super::policy::sign_on(&c, &format!("apps[{i}]"), &entry.get_ref().sign_on, &engine.zones, &engine.groups)?;
        app.profile_update = app_profile(&c, i, &entry.get_ref().profile, &engine.profile)?;
        let has_party = passkeys.contains_key(&app.brand);
        app.enrollment = super::authenticators::enrollment(
            &c,
            &format!("apps[{i}]"),
            entry.get_ref(),
            &app.brand,
            has_party,
            &engine.groups,
        )?;
        if apps.contains_key(&app.client_id) {
            return c.err(
                entry.get_ref().client_id.span(),
                format!("apps[{i}].client_id"),
                format!("{:?} is used by another app", app.client_id),
            );
        }
        apps.insert(app.client_id.clone(), app);
    }
    resources(&c, &file.apps, &apps)?;

    engine.totp_in_use = engine.recovery.authenticators.contains(&crate::authenticators::AuthenticatorKind::Totp)
        || apps.values().any(|a: &App| a.enrollment.uses(crate::authenticators::AuthenticatorKind::Totp));
    // Browsers are remembered when a rule or a "new browser" notice needs to know them.
    engine.remember_devices = apps.values().any(|a: &App| {
        a.sign_on.rules.iter().any(|r| r.when.device.is_some()) || a.emails.iter().any(|e| e == "new_device")
    });
    let admin_tokens = secret_hashes(&c, &file.admin.token_hashes, "admin.token_hashes")?;
    let console_group = match &file.admin.console_group {
        Some(g) if !engine.groups.0.contains_key(g.get_ref()) => {
            return c.err(
                g.span(),
                "admin.console_group",
                format!("declare the group first: [groups.{}] (its members may be kept in the store)", g.get_ref()),
            );
        }
        Some(g) if apps.contains_key(crate::config::CONSOLE_CLIENT_ID) => {
            return c.err(g.span(), "admin.console_group", "an app's client_id is passway-console: choose another");
        }
        g => g.as_ref().map(|g| g.get_ref().clone()),
    };
    let rate_limits = super::limits::rate_limits(&c, &file.rate_limits, engine.flow_lifetime)?;
    let trusted_proxies = super::limits::trusted_proxies(&c, &file)?;
    let events_retention = super::limits::events_retention(&c, &file.events)?;
    let hooks = super::hooks::hooks(&c, &file.hooks, path, file.dev_mode)?;
    let client_ids: Vec<String> = apps.keys().cloned().collect();
    for (client_id, points) in super::hooks::app_hooks(&c, &file.hooks, &hooks.inline, &client_ids)? {
        if let Some(app) = apps.get_mut(&client_id) {
            app.inline_hooks = points;
        }
    }

    Ok(Config {
        admin_tokens,
        console_group,
        source: path.to_owned(),
        listen,
        issuer,
        dev_mode: file.dev_mode,
        master_key_file: file.master_key_file.map(|p| resolve_relative(path, Path::new(&p))),
        data_dir,
        store_url,
        store_pool,
        metrics_listen,
        telemetry,
        mail,
        engine,
        apps,
        themes_dir,
        hostnames,
        widget_dir: resolve_relative(path, Path::new(file.widget.dir.as_deref().unwrap_or("dist/widget"))),
        demo_dir: file.demo.map(|d| resolve_relative(path, Path::new(&d.dir))),
        passkeys,
        lifetimes,
        rate_limits,
        trusted_proxies,
        events_retention,
        hooks,
    })
}

/// `[store]`'s pool settings (PostgreSQL), each within sane bounds.
fn store_pool(c: &Checker<'_>, store: &super::file::Store) -> Result<crate::store::PoolSettings, ConfigError> {
    use std::time::Duration;
    let defaults = crate::store::PoolSettings::default();
    let within = |v: &Option<toml::Spanned<u32>>, key: &str, min: u32, max: u32| -> Result<Option<u32>, ConfigError> {
        match v {
            None => Ok(None),
            Some(s) if (min..=max).contains(s.get_ref()) => Ok(Some(*s.get_ref())),
            Some(s) => {
                c.err(s.span(), format!("store.{key}"), format!("expected {min} to {max}, found {}", s.get_ref()))
            }
        }
    };
    let max = within(&store.max_connections, "max_connections", 1, 1000)?.unwrap_or(defaults.max_connections);
    let min = within(&store.min_connections, "min_connections", 0, 1000)?.unwrap_or(defaults.min_connections);
    if min > max {
        let span = store.min_connections.as_ref().map(|s| s.span()).unwrap_or_default();
        return c.err(span, "store.min_connections", format!("{min} is more than max_connections ({max})"));
    }
    let secs = |v: Option<u32>, d: Duration| v.map_or(d, |s| Duration::from_secs(u64::from(s)));
    Ok(crate::store::PoolSettings {
        max_connections: max,
        min_connections: min,
        acquire_timeout: secs(
            within(&store.acquire_timeout_seconds, "acquire_timeout_seconds", 1, 300)?,
            defaults.acquire_timeout,
        ),
        idle_timeout: secs(
            within(&store.idle_timeout_seconds, "idle_timeout_seconds", 1, 86_400)?,
            defaults.idle_timeout,
        ),
    })
}

/// The attributes an app asks for once signed in: each of the schema, once, not `email`.
fn app_profile(
    c: &Checker<'_>,
    i: usize,
    entries: &[Spanned<file::AppAttributeEntry>],
    schema: &ProfileSchema,
) -> Result<Vec<AppAttribute>, ConfigError> {
    let mut out: Vec<AppAttribute> = vec![];
    for (j, entry) in entries.iter().enumerate() {
        let name = entry.get_ref().attribute.get_ref();
        let key = format!("apps[{i}].profile[{j}].attribute");
        let span = entry.get_ref().attribute.span();
        if name == "email" {
            return c.err(span, key, "\"email\" is always known: every account has a proven email");
        }
        if !schema.attributes.iter().any(|a| &a.name == name) {
            let known: Vec<&str> = schema.attributes.iter().skip(1).map(|a| a.name.as_str()).collect();
            return c.err(
                span,
                key,
                format!(
                    "no profile attribute {name:?}: define it in [[profile.attributes]] (defined: {})",
                    known.join(", ")
                ),
            );
        }
        if out.iter().any(|a| &a.name == name) {
            return c.err(span, key, format!("{name:?} is listed twice"));
        }
        out.push(AppAttribute { name: name.clone(), required: entry.get_ref().required });
    }
    Ok(out)
}

/// Digests of secrets, as printed by `passway client-secret`.
fn secret_hashes(c: &Checker<'_>, hashes: &[Spanned<String>], key: &str) -> Result<Vec<Digest>, ConfigError> {
    let mut digests = vec![];
    for (j, h) in hashes.iter().enumerate() {
        let digest = h
            .get_ref()
            .strip_prefix("sha256:")
            .and_then(crate::crypto::b64url_decode)
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        match digest {
            Some(d) => digests.push(Digest(d)),
            None => {
                return c.err(
                    h.span(),
                    format!("{key}[{j}]"),
                    "expected \"sha256:…\" as printed by `passway client-secret`",
                );
            }
        }
    }
    Ok(digests)
}

/// Each API's identifier names one app; each app's `audience` names an API.
fn resources(
    c: &Checker<'_>,
    entries: &[Spanned<file::AppEntry>],
    apps: &BTreeMap<String, App>,
) -> Result<(), ConfigError> {
    let declared: Vec<&str> = apps.values().filter_map(|a| a.resource.as_deref()).collect();
    for (i, entry) in entries.iter().enumerate() {
        let e = entry.get_ref();
        if let Some(r) = &e.resource
            && declared.iter().filter(|d| **d == r.get_ref()).count() > 1
        {
            return c.err(
                r.span(),
                format!("apps[{i}].resource"),
                format!("{:?} is another app's resource too", r.get_ref()),
            );
        }
        if let Some(a) = &e.audience
            && !declared.contains(&a.get_ref().as_str())
        {
            return c.err(
                a.span(),
                format!("apps[{i}].audience"),
                format!("no app has resource = {:?} (declared: {})", a.get_ref(), declared.join(", ")),
            );
        }
    }
    Ok(())
}

/// `localhost`, `127.0.0.0/8` or `[::1]`: a redirect that never leaves the machine.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// An absolute URI naming a resource (RFC 8707: no fragment).
fn absolute_uri(c: &Checker<'_>, value: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
    match url::Url::parse(value.get_ref()) {
        Ok(url) if url.fragment().is_none() => Ok(value.get_ref().clone()),
        _ => c.err(
            value.span(),
            key,
            format!(
                "expected an absolute URI without a fragment, like \"https://api.example.com\", found {:?}",
                value.get_ref()
            ),
        ),
    }
}

fn no_theme(brand: &str, dir: &Path) -> String {
    format!("no theme {brand:?}: expected a folder {} with a theme.toml", dir.join(brand).display())
}

fn mail(c: &Checker<'_>, mail: Option<&Spanned<file::Mail>>, dev_mode: bool) -> Result<MailConfig, ConfigError> {
    let Some(spanned) = mail else {
        if dev_mode {
            return Ok(MailConfig { from: default_from(), transport: MailTransport::Outbox });
        }
        return Err(ConfigError {
            path: c.path.to_owned(),
            position: None,
            key: "mail".into(),
            message:
                "missing: outside dev mode, [mail] must say how to send email (transport = \"smtp\" with [mail.smtp])"
                    .into(),
        });
    };
    let m = spanned.get_ref();
    let from = match &m.from {
        None => default_from(),
        Some(f) if f.get_ref().parse::<lettre::message::Mailbox>().is_ok() => f.get_ref().clone(),
        Some(f) => {
            return c.err(
                f.span(),
                "mail.from",
                format!("expected a mailbox like \"Passway <no-reply@example.com>\", found {:?}", f.get_ref()),
            );
        }
    };
    let transport = match m.transport.get_ref().as_str() {
        "outbox" if dev_mode => MailTransport::Outbox,
        "outbox" => {
            return c.err(
                m.transport.span(),
                "mail.transport",
                "\"outbox\" keeps emails in the store for /dev/mailbox and needs dev_mode = true",
            );
        }
        "smtp" => {
            let Some(smtp) = &m.smtp else {
                return c.err(
                    spanned.span(),
                    "mail.smtp",
                    "missing: transport = \"smtp\" needs a [mail.smtp] table with at least `host`",
                );
            };
            let s = smtp.get_ref();
            let security = match s.security.as_ref().map(|v| (v, v.get_ref().as_str())) {
                None => SmtpSecurity::StartTls,
                Some((_, "starttls")) => SmtpSecurity::StartTls,
                Some((_, "tls")) => SmtpSecurity::Tls,
                Some((_, "none")) => SmtpSecurity::None,
                Some((v, other)) => {
                    return c.err(
                        v.span(),
                        "mail.smtp.security",
                        format!("expected \"starttls\", \"tls\" or \"none\", found {other:?}"),
                    );
                }
            };
            let port = s.port.unwrap_or(match security {
                SmtpSecurity::Tls => 465,
                SmtpSecurity::StartTls => 587,
                SmtpSecurity::None => 25,
            });
            MailTransport::Smtp(SmtpConfig {
                host: s.host.get_ref().clone(),
                port,
                security,
                username: s.username.clone(),
                password_env: s.password_env.clone(),
            })
        }
        other => {
            return c.err(
                m.transport.span(),
                "mail.transport",
                format!("expected \"smtp\" or \"outbox\", found {other:?}"),
            );
        }
    };
    Ok(MailConfig { from, transport })
}

fn default_from() -> String {
    "Passway <no-reply@passway.localhost>".to_owned()
}

/// Claim names a profile attribute may not take: it would be released in tokens beside
/// (or over) the claim the server sets — RFC 7519's registered claims, OpenID Connect's
/// protocol claims, RFC 9068's and Passway's own. (`email`, always first, is built in.)
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "s_hash",
    "sid",
    "email_verified",
    "phone_number_verified",
    "updated_at",
    "scope",
    "client_id",
    "cnf",
    "act",
    "may_act",
    "groups",
    "roles",
    "entitlements",
    "typ",
    "fam",
    "events",
    "sub_jwk",
    "_claim_names",
    "_claim_sources",
];

fn profile(c: &Checker<'_>, p: &file::Profile) -> Result<ProfileSchema, ConfigError> {
    if let Some(v) = p.email_verification.as_ref().filter(|v| !*v.get_ref()) {
        return c.err(
            v.span(),
            "profile.email_verification",
            "cannot be false: an account is created only once its email is proven (so a known and an unknown address look the same, and every email_verified claim is true)",
        );
    }
    let mut schema = ProfileSchema::default();
    for (i, entry) in p.attributes.iter().enumerate() {
        let a = entry.get_ref();
        let key = format!("profile.attributes[{i}]");
        let name = a.name.get_ref();
        let valid_name = name.chars().next().is_some_and(|ch| ch.is_ascii_lowercase())
            && name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !valid_name {
            return c.err(
                a.name.span(),
                format!("{key}.name"),
                format!("expected a lower-case name like \"given_name\", found {name:?}"),
            );
        }
        if RESERVED_CLAIMS.contains(&name.as_str()) {
            return c.err(
                a.name.span(),
                format!("{key}.name"),
                format!("{name:?} is a claim the server sets itself (JWT, OpenID Connect or Passway's own): choose another name"),
            );
        }
        if schema.attributes.iter().any(|x| &x.name == name) {
            let why = if name == "email" { "is built in (always first, always required)" } else { "is defined twice" };
            return c.err(a.name.span(), format!("{key}.name"), format!("{name:?} {why}"));
        }
        let kind = match a.kind.as_ref().map(|k| (k, k.get_ref().as_str())) {
            None | Some((_, "text")) => AttributeKind::Text,
            Some((_, "boolean")) => AttributeKind::Boolean,
            Some((_, "email")) => AttributeKind::Email,
            Some((_, "consent")) => AttributeKind::Consent,
            Some((k, "select")) => {
                if a.options.is_empty() {
                    return c.err(
                        k.span(),
                        format!("{key}.options"),
                        "a select attribute needs a non-empty `options` list",
                    );
                }
                AttributeKind::Select(a.options.clone())
            }
            Some((k, other)) => {
                return c.err(
                    k.span(),
                    format!("{key}.type"),
                    format!("expected \"text\", \"email\", \"boolean\", \"select\" or \"consent\", found {other:?}"),
                );
            }
        };
        let label = a.label.clone().unwrap_or_else(|| humanise(name));
        if a.required && !a.at_registration {
            return c.err(
                entry.span(),
                key,
                format!("{name:?} is required at registration but at_registration = false: drop one of them"),
            );
        }
        let max_length = a.max_length.unwrap_or(200);
        let min_length = match &a.min_length {
            None => 0,
            Some(n) if *n.get_ref() <= max_length => *n.get_ref(),
            Some(n) => {
                return c.err(n.span(), format!("{key}.min_length"), format!("is more than max_length ({max_length})"));
            }
        };
        let pattern = match &a.pattern {
            None => None,
            Some(p) if kind != AttributeKind::Text => {
                return c.err(p.span(), format!("{key}.pattern"), "only a text attribute can have a pattern");
            }
            Some(p) => match Pattern::new(p.get_ref()) {
                Ok(pattern) => Some(pattern),
                Err(why) => {
                    return c.err(p.span(), format!("{key}.pattern"), format!("not a valid regular expression: {why}"));
                }
            },
        };
        let mut labels = BTreeMap::new();
        for (locale, label) in &a.labels {
            let valid = locale.len() >= 2
                && locale.split('-').all(|part| !part.is_empty() && part.chars().all(|ch| ch.is_ascii_alphanumeric()));
            if !valid {
                return c.err(
                    label.span(),
                    format!("{key}.labels.{locale}"),
                    format!("expected a language tag like \"fr\" or \"pt-BR\", found {locale:?}"),
                );
            }
            labels.insert(locale.to_lowercase(), label.get_ref().clone());
        }
        schema.attributes.push(Attribute {
            name: name.clone(),
            label,
            kind,
            required: a.required,
            min_length,
            max_length,
            pattern,
            labels,
            at_registration: a.at_registration,
        });
    }
    Ok(schema)
}

/// `given_name` → `Given name`.
fn humanise(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|f| f.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn app(
    c: &Checker<'_>,
    i: usize,
    entry: &Spanned<file::AppEntry>,
    brand_exists: &dyn Fn(&str) -> bool,
    themes_dir: &Path,
    dev_mode: bool,
) -> Result<App, ConfigError> {
    let a = entry.get_ref();
    let key = format!("apps[{i}]");
    let id = a.client_id.get_ref();
    if id.is_empty() || !id.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)) {
        return c.err(
            a.client_id.span(),
            format!("{key}.client_id"),
            format!("expected letters, digits, '-', '_' or '.', found {id:?}"),
        );
    }
    let brand = match &a.brand {
        None => "default".to_owned(),
        Some(b) if brand_exists(b.get_ref()) => b.get_ref().clone(),
        Some(b) => return c.err(b.span(), format!("{key}.brand"), no_theme(b.get_ref(), themes_dir)),
    };
    let mut redirect_uris = vec![];
    for (j, u) in a.redirect_uris.iter().enumerate() {
        match url::Url::parse(u.get_ref()) {
            // RFC 9700 §4.1.3 / RFC 8252 §8.3: plain http only to this machine (in dev
            // mode, which serves on loopback anyway, to test host names too).
            Ok(url) if url.scheme() == "http" && !is_loopback(&url) && !dev_mode => {
                return c.err(
                    u.span(),
                    format!("{key}.redirect_uris[{j}]"),
                    format!(
                        "http is allowed only for loopback (localhost, 127.0.0.1, [::1]); use https for {:?}",
                        u.get_ref()
                    ),
                );
            }
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.fragment().is_none() && url.host().is_some() => {
                redirect_uris.push(u.get_ref().clone())
            }
            _ => {
                return c.err(
                    u.span(),
                    format!("{key}.redirect_uris[{j}]"),
                    format!("expected an absolute http(s) URL without a fragment, found {:?}", u.get_ref()),
                );
            }
        }
    }
    let mut allowed_origins = vec![];
    for (j, o) in a.allowed_origins.iter().enumerate() {
        allowed_origins.push(origin(c, o, &format!("{key}.allowed_origins[{j}]"))?);
    }
    let client_secrets = secret_hashes(c, &a.client_secret_hashes, &format!("{key}.client_secret_hashes"))?;
    let mut emails = vec![];
    for (j, e) in a.emails.iter().enumerate() {
        let known = crate::mail::template::SENT_NOTICES;
        if !known.contains(&e.get_ref().as_str()) {
            return c.err(
                e.span(),
                format!("{key}.emails[{j}]"),
                format!("expected one of {}, found {:?}", known.join(", "), e.get_ref()),
            );
        }
        emails.push(e.get_ref().clone());
    }
    let grant_types = match &a.grant_types {
        None if client_secrets.is_empty() => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        None => vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials],
        Some(list) => {
            let mut grants = vec![];
            for (j, g) in list.iter().enumerate() {
                let grant = match g.get_ref().as_str() {
                    "authorization_code" => GrantType::AuthorizationCode,
                    "refresh_token" => GrantType::RefreshToken,
                    "client_credentials" => GrantType::ClientCredentials,
                    other => {
                        return c.err(g.span(), format!("{key}.grant_types[{j}]"), format!("expected \"authorization_code\", \"refresh_token\" or \"client_credentials\", found {other:?}"));
                    }
                };
                if grant == GrantType::ClientCredentials && client_secrets.is_empty() {
                    return c.err(
                        g.span(),
                        format!("{key}.grant_types[{j}]"),
                        "client_credentials needs a confidential client: add client_secret_hashes",
                    );
                }
                grants.push(grant);
            }
            grants
        }
    };
    if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return c.err(
            entry.span(),
            format!("{key}.redirect_uris"),
            "missing: an app that signs people in needs at least one redirect URI",
        );
    }
    let signing_alg = match &a.signing_alg {
        None => SigningAlg::Es256,
        Some(s) => match SigningAlg::parse(s.get_ref()) {
            Some(alg) => alg,
            None => {
                return c.err(
                    s.span(),
                    format!("{key}.signing_alg"),
                    format!("expected \"ES256\" or \"RS256\", found {:?}", s.get_ref()),
                );
            }
        },
    };
    let mut post_logout_redirect_uris = vec![];
    for (j, u) in a.post_logout_redirect_uris.iter().enumerate() {
        match url::Url::parse(u.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.fragment().is_none() => {
                post_logout_redirect_uris.push(u.get_ref().clone())
            }
            _ => {
                return c.err(
                    u.span(),
                    format!("{key}.post_logout_redirect_uris[{j}]"),
                    format!("expected an absolute http(s) URL without a fragment, found {:?}", u.get_ref()),
                );
            }
        }
    }
    let resource = match &a.resource {
        None => None,
        Some(r) if client_secrets.is_empty() => {
            return c.err(
                r.span(),
                format!("{key}.resource"),
                "an API (resource server) must be a confidential app: add client_secret_hashes",
            );
        }
        Some(r) => Some(absolute_uri(c, r, &format!("{key}.resource"))?),
    };
    let audience = a.audience.as_ref().map(|r| absolute_uri(c, r, &format!("{key}.audience"))).transpose()?;
    let require_pkce = match &a.require_pkce {
        Some(off) if !*off.get_ref() && client_secrets.is_empty() => {
            return c.err(
                off.span(),
                format!("{key}.require_pkce"),
                "only a confidential app (with client_secret_hashes) may go without PKCE",
            );
        }
        Some(v) => *v.get_ref(),
        None => true,
    };
    if let Some(unknown) =
        a.api_scopes.iter().find(|s| s.starts_with("passway.") && !crate::oidc::admin_api::is_admin_scope(s))
    {
        let known: Vec<&str> = crate::oidc::admin_api::Scope::ALL.iter().map(|s| s.name()).collect();
        return c.err(
            entry.span(),
            format!("{key}.api_scopes"),
            format!("{unknown:?} is not an admin API scope; they are {}", known.join(", ")),
        );
    }
    if a.api_scopes.iter().any(|s| crate::oidc::admin_api::is_admin_scope(s)) && client_secrets.is_empty() {
        return c.err(
            entry.span(),
            format!("{key}.api_scopes"),
            "admin API scopes are for a confidential app (client_credentials): add client_secret_hashes",
        );
    }
    Ok(App {
        resource,
        audience,
        require_pkce,
        sign_on: SignOnPolicy::default(),
        profile_update: vec![],
        inline_hooks: Default::default(),
        client_id: id.clone(),
        name: a.name.clone().unwrap_or_else(|| id.clone()),
        brand,
        redirect_uris,
        allowed_origins,
        self_registration: a.self_registration,
        enrollment: EnrollmentPolicy::default(),
        client_secrets,
        grant_types,
        signing_alg,
        consent: a.consent,
        post_logout_redirect_uris,
        api_scopes: a.api_scopes.clone(),
        emails,
    })
}

fn lifetimes(c: &Checker<'_>, file: &File) -> Result<Lifetimes, ConfigError> {
    let mut l = Lifetimes::default();
    let minutes = |v: &Option<Spanned<u32>>, key: &str, max: u32, unit: u64| -> Result<Option<Duration>, ConfigError> {
        match v {
            None => Ok(None),
            Some(n) if (1..=max).contains(n.get_ref()) => Ok(Some(Duration::from_secs(u64::from(*n.get_ref()) * unit))),
            Some(n) => c.err(n.span(), key, format!("expected a number between 1 and {max}")),
        }
    };
    if let Some(d) = minutes(&file.tokens.access_token_minutes, "tokens.access_token_minutes", 24 * 60, 60)? {
        l.access_token = d;
    }
    if let Some(d) = minutes(&file.tokens.id_token_minutes, "tokens.id_token_minutes", 24 * 60, 60)? {
        l.id_token = d;
    }
    if let Some(d) = minutes(&file.tokens.refresh_token_days, "tokens.refresh_token_days", 365, 86400)? {
        l.refresh_token = d;
    }
    if let Some(d) = minutes(&file.tokens.refresh_token_max_days, "tokens.refresh_token_max_days", 3650, 86400)? {
        l.refresh_token_max = d;
    }
    if l.refresh_token > l.refresh_token_max {
        let span = file.tokens.refresh_token_days.as_ref().map_or(0..0, Spanned::span);
        return c.err(
            span,
            "tokens.refresh_token_days",
            format!(
                "is longer than tokens.refresh_token_max_days ({} days): a refresh token cannot outlive its sign-in",
                l.refresh_token_max.as_secs() / 86400
            ),
        );
    }
    if let Some(d) = minutes(&file.sessions.lifetime_hours, "sessions.lifetime_hours", 24 * 90, 3600)? {
        l.session = d;
    }
    if let Some(d) = minutes(&file.sessions.idle_minutes, "sessions.idle_minutes", 24 * 60 * 90, 60)? {
        l.session_idle = d;
    }
    if let Some(d) = minutes(&file.keys.rotate_every_days, "keys.rotate_every_days", 3650, 86400)? {
        l.key_rotation = d;
    }
    if let Some(d) = minutes(&file.keys.publish_ahead_hours, "keys.publish_ahead_hours", 24 * 30, 3600)? {
        l.key_publish_ahead = d;
    }
    Ok(l)
}

/// The relying party of every brand: the `[passkeys]` one unless `[passkeys.brands.X]`
/// overrides it.
fn relying_parties(
    c: &Checker<'_>,
    p: &Spanned<file::Passkeys>,
    themes_dir: &Path,
) -> Result<BTreeMap<String, RelyingParty>, ConfigError> {
    let p = p.get_ref();
    let party = file::RelyingParty { rp_id: p.rp_id.clone(), rp_name: p.rp_name.clone(), origins: p.origins.clone() };
    let default = relying_party(c, &party, "passkeys")?;
    let brands: Vec<String> = std::fs::read_dir(themes_dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().join("theme.toml").is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut parties: BTreeMap<String, RelyingParty> = brands.into_iter().map(|b| (b, default.clone())).collect();
    for (brand, party) in &p.brands {
        if !parties.contains_key(brand) {
            return c.err(party.span(), format!("passkeys.brands.{brand}"), no_theme(brand, themes_dir));
        }
        parties.insert(brand.clone(), relying_party(c, party.get_ref(), &format!("passkeys.brands.{brand}"))?);
    }
    Ok(parties)
}

fn relying_party(c: &Checker<'_>, p: &file::RelyingParty, key: &str) -> Result<RelyingParty, ConfigError> {
    let rp_id = p.rp_id.get_ref();
    let is_domain = !rp_id.is_empty()
        && rp_id.split('.').all(|l| !l.is_empty() && l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
        && !rp_id.split('.').all(|l| l.chars().all(|ch| ch.is_ascii_digit()));
    if !is_domain {
        return c.err(
            p.rp_id.span(),
            format!("{key}.rp_id"),
            format!("expected a domain name such as \"example.com\" (WebAuthn refuses IP addresses), found {rp_id:?}"),
        );
    }
    let mut origins = vec![];
    for (j, o) in p.origins.iter().enumerate() {
        origins.push(origin(c, o, &format!("{key}.origins[{j}]"))?);
    }
    Ok(RelyingParty {
        rp_id: rp_id.to_lowercase(),
        rp_name: p.rp_name.clone().unwrap_or_else(|| rp_id.clone()),
        origins,
    })
}

/// An http(s) URL with no path, query or fragment, returned without a trailing slash.
fn base_url(c: &Checker<'_>, s: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
    let v = s.get_ref().trim_end_matches('/');
    match url::Url::parse(v) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.query().is_none()
                && u.fragment().is_none() =>
        {
            Ok(v.to_owned())
        }
        _ => c.err(
            s.span(),
            key,
            format!("expected an absolute http(s) URL such as \"https://auth.example.com\", found {:?}", s.get_ref()),
        ),
    }
}

/// A web origin: `scheme://host[:port]`.
fn origin(c: &Checker<'_>, s: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
    match url::Url::parse(s.get_ref()) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.path() == "/"
                && u.query().is_none()
                && !s.get_ref().ends_with('/') =>
        {
            Ok(u.origin().ascii_serialization())
        }
        _ => c.err(
            s.span(),
            key,
            format!(
                "expected an origin like \"https://shop.example.com\" (no path, no trailing slash), found {:?}",
                s.get_ref()
            ),
        ),
    }
}
