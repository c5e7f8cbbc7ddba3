use std::path::Path;

use super::*;

/// Validates `toml` as `DIR/passway.toml`, where DIR has the themes `default` and `acme`.
fn load(toml: &str) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    for brand in ["default", "acme"] {
        std::fs::create_dir_all(dir.path().join("themes").join(brand)).unwrap();
        std::fs::write(dir.path().join("themes").join(brand).join("theme.toml"), "").unwrap();
    }
    let path = dir.path().join("passway.toml");
    Config::parse(toml, &path).map_err(|e| e.to_string().replace(&dir.path().display().to_string(), "DIR"))
}

/// The error for `toml`, which must be refused.
fn check_err(toml: &str, expected: &str) {
    match load(toml) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => assert_eq!(e, expected),
    }
}

const APP: &str = r#"
[[apps]]
client_id = "shop"
redirect_uris = ["https://shop.example/cb"]
"#;

#[test]
fn minimal_dev_config() {
    let c = load(&format!("dev_mode = true\n{APP}")).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.mail.transport, MailTransport::Outbox);
    let app = c.app("shop").unwrap();
    assert_eq!(app.brand, "default");
    assert!(app.self_registration);
    assert_eq!(c.engine.profile.attributes[0].name, "email");
    assert!(c.store_url.starts_with("sqlite://") && c.store_url.ends_with("/.passway/passway.db"), "{}", c.store_url);
    let c = load(&format!("dev_mode = true\n[store]\nurl = \"sqlite://data/x.db?mode=rwc\"\n{APP}")).unwrap();
    assert!(
        c.store_url.starts_with("sqlite:///") && c.store_url.ends_with("/data/x.db?mode=rwc"),
        "relative to the file: {}",
        c.store_url
    );
}

#[test]
fn full_config() {
    let c = load(
        r#"
listen = "0.0.0.0:9000"
issuer = "https://auth.example.com/"
[store]
url = "postgres://u@db/passway"
[mail]
from = "Acme <hi@acme.test>"
transport = "smtp"
[mail.smtp]
host = "smtp.acme.test"
security = "tls"
username = "me"
password_env = "SMTP_PASSWORD"
[flows]
lifetime_minutes = 15
[[profile.attributes]]
name = "given_name"
required = true
[[profile.attributes]]
name = "plan"
type = "select"
options = ["free", "pro"]
[themes.hostnames]
"Login.Acme.test" = "acme"
[[apps]]
client_id = "shop"
name = "Acme Shop"
brand = "acme"
redirect_uris = ["https://shop.example/cb"]
allowed_origins = ["https://shop.example"]
self_registration = false
"#,
    )
    .unwrap();
    assert_eq!(c.issuer.as_deref(), Some("https://auth.example.com"));
    assert_eq!(c.engine.flow_lifetime.as_secs(), 900);
    let MailTransport::Smtp(smtp) = &c.mail.transport else { panic!() };
    assert_eq!((smtp.port, smtp.security), (465, SmtpSecurity::Tls));
    let attrs: Vec<_> =
        c.engine.profile.attributes.iter().map(|a| (a.name.as_str(), a.label.as_str(), a.required)).collect();
    assert_eq!(attrs, [("email", "Email", true), ("given_name", "Given name", true), ("plan", "Plan", false)]);
    assert_eq!(c.hostnames["login.acme.test"], "acme");
    let app = c.app("shop").unwrap();
    assert_eq!((app.brand.as_str(), app.self_registration), ("acme", false));
    assert_eq!(app.allowed_origins, ["https://shop.example"]);
    assert!(c.resolve(Path::new("x")).ends_with("x"));
}

#[test]
fn errors_name_file_line_key_and_expectation() {
    check_err(
        "dev_mode = true\nlisten = \"nowhere\"\n",
        "DIR/passway.toml:2:10: listen: expected an address like \"127.0.0.1:8080\", found \"nowhere\"",
    );
    check_err(
        &format!("dev_mode = true\n{APP}redirect_uris = []\n"),
        "DIR/passway.toml:6:1: duplicate key `redirect_uris`",
    );
    check_err(
        "dev_mode = true\n[[apps]]\nclient_id = \"shop\"\nredirect_uris = [\"https://ok/cb\", \"/relative\"]\n",
        "DIR/passway.toml:4:35: apps[0].redirect_uris[1]: expected an absolute http(s) URL without a fragment, found \"/relative\"",
    );
    check_err(
        &format!("dev_mode = true\n{APP}brand = \"nope\"\n"),
        "DIR/passway.toml:6:9: apps[0].brand: no theme \"nope\": expected a folder DIR/themes/nope with a theme.toml",
    );
    check_err(
        &format!("dev_mode = true\n{APP}{APP}"),
        "DIR/passway.toml:8:13: apps[1].client_id: \"shop\" is used by another app",
    );
    check_err(
        &format!("dev_mode = true\n{APP}allowed_origins = [\"https://shop.example/\"]\n"),
        "DIR/passway.toml:6:20: apps[0].allowed_origins[0]: expected an origin like \"https://shop.example.com\" (no path, no trailing slash), found \"https://shop.example/\"",
    );
    check_err(
        APP,
        "DIR/passway.toml: mail: missing: outside dev mode, [mail] must say how to send email (transport = \"smtp\" with [mail.smtp])",
    );
    let smtp = "[mail]\ntransport = \"smtp\"\n[mail.smtp]\nhost = \"smtp.example\"\n";
    check_err(
        &format!("issuer = \"http://auth.example\"\n{smtp}"),
        "DIR/passway.toml:1:10: issuer: must be https:// outside dev mode (cookies, tokens and links travel over it)",
    );
    check_err(
        smtp,
        "DIR/passway.toml: issuer: missing: outside dev mode, set the public https:// URL Passway is served at",
    );
    assert!(load(&format!("issuer = \"https://auth.example\"\n{smtp}")).is_ok());
    check_err(
        "dev_mode = true\nlisten = \"0.0.0.0:8080\"\n",
        "DIR/passway.toml:2:10: listen: dev mode serves a mailbox anyone could read: it listens on loopback only (127.0.0.1 or [::1]), not 0.0.0.0:8080",
    );
    check_err(
        &format!(
            "issuer = \"https://auth.example\"\n{smtp}[[apps]]\nclient_id = \"shop\"\nredirect_uris = [\"http://shop.example/cb\"]\n"
        ),
        "DIR/passway.toml:8:18: apps[0].redirect_uris[0]: http is allowed only for loopback (localhost, 127.0.0.1, [::1]); use https for \"http://shop.example/cb\"",
    );
    for loopback in ["http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8/cb"] {
        let apps = format!(
            "issuer = \"https://auth.example\"\n{smtp}[[apps]]\nclient_id = \"cli\"\nredirect_uris = [\"{loopback}\"]\n"
        );
        assert!(load(&apps).is_ok(), "{loopback}");
    }
    check_err(
        "dev_mode = true\n[[profile.attributes]]\nname = \"sub\"\n",
        "DIR/passway.toml:3:8: profile.attributes[0].name: \"sub\" is a claim the server sets itself (JWT, OpenID Connect or Passway's own): choose another name",
    );
    check_err(
        "dev_mode = true\n[[profile.attributes]]\nname = \"email_verified\"\ntype = \"boolean\"\n",
        "DIR/passway.toml:3:8: profile.attributes[0].name: \"email_verified\" is a claim the server sets itself (JWT, OpenID Connect or Passway's own): choose another name",
    );
    check_err(
        &format!("dev_mode = true\n{APP}require_pkce = false\n"),
        "DIR/passway.toml:6:16: apps[0].require_pkce: only a confidential app (with client_secret_hashes) may go without PKCE",
    );
    check_err(
        &format!("dev_mode = true\n{APP}audience = \"https://api.example\"\n"),
        "DIR/passway.toml:6:12: apps[0].audience: no app has resource = \"https://api.example\" (declared: )",
    );
    check_err(
        &format!("dev_mode = true\n{APP}resource = \"https://api.example\"\n"),
        "DIR/passway.toml:6:12: apps[0].resource: an API (resource server) must be a confidential app: add client_secret_hashes",
    );
    check_err(
        "dev_mode = true\n[tokens]\nrefresh_token_days = 100\n",
        "DIR/passway.toml:3:22: tokens.refresh_token_days: is longer than tokens.refresh_token_max_days (90 days): a refresh token cannot outlive its sign-in",
    );
    check_err(
        "dev_mode = true\ntrusted_proxies = [\"10.0.0.0/33\"]\n",
        "DIR/passway.toml:2:20: trusted_proxies[0]: `10.0.0.0/33`: the prefix length must be 0 to 32",
    );
    check_err(
        "dev_mode = true\ntrusted_proxies = []\n[rate_limits]\ntrusted_proxies = []\n",
        "DIR/passway.toml:4:19: rate_limits.trusted_proxies: trusted_proxies is set at the top level already: keep one of them",
    );
    check_err(
        "dev_mode = true\n[rate_limits]\nflow_starts_per_minute = 0\n",
        "DIR/passway.toml:3:26: rate_limits.flow_starts_per_minute: expected 1 to 100000000, found 0",
    );
    check_err(
        "dev_mode = true\n[events]\nretention_days = 0\n",
        "DIR/passway.toml:3:18: events.retention_days: expected 1 to 3650, found 0",
    );
    check_err(
        "[mail]\ntransport = \"outbox\"\n",
        "DIR/passway.toml:2:13: mail.transport: \"outbox\" keeps emails in the store for /dev/mailbox and needs dev_mode = true",
    );
    check_err(
        "dev_mode = true\n[[profile.attributes]]\nname = \"email\"\n",
        "DIR/passway.toml:3:8: profile.attributes[0].name: \"email\" is built in (always first, always required)",
    );
    check_err(
        "dev_mode = true\n[[profile.attributes]]\nname = \"plan\"\ntype = \"select\"\n",
        "DIR/passway.toml:4:8: profile.attributes[0].options: a select attribute needs a non-empty `options` list",
    );
    check_err(
        "dev_mode = true\n[store]\nurl = \"mysql://x\"\n",
        "DIR/passway.toml:3:7: store.url: expected \"sqlite://FILE\" or \"postgres://…\", found \"mysql://x\"",
    );
}

#[test]
fn unknown_keys_are_refused() {
    let e = load("dev_mode = true\nlisten_on = \"x\"\n").unwrap_err();
    assert!(e.starts_with("DIR/passway.toml:2:1: unknown field `listen_on`, expected one of"), "{e}");
}

/// `text` with its first `from` replaced by `to` (which must be there).
fn edited(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

#[test]
fn sign_on_policies() {
    let policy = r#"
dev_mode = true
[zones]
office = ["10.0.0.0/8"]
[groups.staff]
emails = ["Ada@Example.com"]
domains = ["example.com"]
[[apps]]
client_id = "vault"
redirect_uris = ["https://vault.example/cb"]
[[apps.sign_on]]
name = "Outside"
not_zones = ["office"]
access = "deny"
[[apps.sign_on]]
name = "Staff on phones"
groups = ["staff"]
platforms = ["ios", "android"]
factors = 2
reauthenticate_minutes = 60
[[apps.sign_on]]
name = "Everyone"
phishing_resistant = true
"#;
    let c = load(policy).unwrap();
    let rules = &c.app("vault").unwrap().sign_on.rules;
    assert_eq!(rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Outside", "Staff on phones", "Everyone"]);
    assert_eq!(rules[0].access, crate::policy::Access::Deny);
    let crate::policy::Access::Allow(a) = &rules[1].access else { panic!("allow") };
    assert_eq!((a.factors, a.reauthenticate_after), (2, Some(Duration::from_secs(3600))));
    assert_eq!(c.engine.groups.of("ada@example.com").len(), 1);
    // Browsers are remembered only when some rule asks about them.
    assert!(!c.engine.remember_devices);
    assert!(
        load(&policy.replacen("platforms = [\"ios\", \"android\"]", "device = \"new\"", 1))
            .unwrap()
            .engine
            .remember_devices
    );
    // An app without rules: anyone, one factor.
    assert_eq!(load(&format!("dev_mode = true\n{APP}")).unwrap().app("shop").unwrap().sign_on, Default::default());

    let broken = |from: &str, to: &str| edited(policy, from, to);
    check_err(
        &broken("\"10.0.0.0/8\"", "\"10.0.0.0/40\""),
        "DIR/passway.toml:4:11: zones.office[0]: expected a CIDR block like \"10.0.0.0/8\": `10.0.0.0/40`: the prefix length must be 0 to 32",
    );
    check_err(
        &broken("not_zones = [\"office\"]", "not_zones = [\"ofice\"]"),
        "DIR/passway.toml:13:14: apps[0].sign_on[0].not_zones[0]: no zone \"ofice\" is defined",
    );
    check_err(
        &broken("groups = [\"staff\"]", "groups = [\"admins\"]"),
        "DIR/passway.toml:17:11: apps[0].sign_on[1].groups[0]: no group \"admins\" is defined",
    );
    check_err(
        &broken("\"ios\", \"android\"", "\"iphone\""),
        "DIR/passway.toml:18:14: apps[0].sign_on[1].platforms[0]: expected one of windows, macos, linux, chromeos, ios, android, other, found \"iphone\"",
    );
    check_err(
        &broken("factors = 2", "factors = 3"),
        "DIR/passway.toml:19:11: apps[0].sign_on[1].factors: expected 1 or 2, found 3",
    );
    check_err(
        &broken("access = \"deny\"", "access = \"deny\"\nfactors = 2"),
        "DIR/passway.toml:11:1: apps[0].sign_on[0]: a rule with access = \"deny\" cannot also set factors, factor_types, phishing_resistant, user_verification, reauthenticate_minutes or inactivity_minutes",
    );
    check_err(
        &broken("name = \"Everyone\"", "name = \"Everyone\"\nzones = [\"office\"]"),
        "DIR/passway.toml:21:1: apps[0].sign_on[2]: the last rule must have no conditions (the catch-all that decides when no other rule applies); \"Everyone\" has some",
    );
    check_err(
        &broken("not_zones = [\"office\"]\n", ""),
        "DIR/passway.toml:11:1: apps[0].sign_on[0]: rule \"Outside\" has no conditions, so the rules after it could never apply: put it last",
    );
}

#[test]
fn progressive_profiling() {
    let text = r#"
dev_mode = true
[[profile.attributes]]
name = "street_address"
at_registration = false
[[apps]]
client_id = "checkout"
redirect_uris = ["https://shop.example/cb"]
[[apps.profile]]
attribute = "street_address"
required = true
"#;
    let c = load(text).unwrap();
    let app = c.app("checkout").unwrap();
    assert_eq!(app.profile_update, [crate::engine::AppAttribute { name: "street_address".into(), required: true }]);
    assert!(!c.engine.profile.attributes[1].at_registration);
    let broken = |from: &str, to: &str| edited(text, from, to);
    check_err(
        &broken("attribute = \"street_address\"", "attribute = \"street\""),
        "DIR/passway.toml:10:13: apps[0].profile[0].attribute: no profile attribute \"street\": define it in [[profile.attributes]] (defined: street_address)",
    );
    check_err(
        &broken("attribute = \"street_address\"", "attribute = \"email\""),
        "DIR/passway.toml:10:13: apps[0].profile[0].attribute: \"email\" is always known: every account has a proven email",
    );
    check_err(
        &broken("at_registration = false", "at_registration = false\nrequired = true"),
        "DIR/passway.toml:3:1: profile.attributes[0]: \"street_address\" is required at registration but at_registration = false: drop one of them",
    );
}

#[test]
fn authenticator_policies() {
    use crate::authenticators::AuthenticatorKind::{Email, Passkey, Totp};
    use crate::engine::Enrollment::{Off, Optional, Required};
    let text = r#"
dev_mode = true
[passwords]
min_length = 10
require = ["digit"]
[lockout]
attempts = 5
minutes = 30
[recovery]
authenticators = ["email", "totp"]
factors = 2
[groups.staff]
domains = ["example.com"]
[[apps]]
client_id = "portal"
redirect_uris = ["https://portal.example/cb"]
passwords = "optional"
totp = "optional"
skip_limit = 3
[[apps.enrollment]]
groups = ["staff"]
totp = "required"
"#;
    let c = load(text).unwrap();
    assert_eq!((c.engine.passwords.min_length, c.engine.passwords.require.len()), (10, 1));
    assert_eq!((c.engine.lockout.attempts, c.engine.lockout.duration), (5, Duration::from_secs(1800)));
    assert_eq!((c.engine.recovery.authenticators.as_slice(), c.engine.recovery.factors), (&[Email, Totp][..], 2));
    let e = &c.app("portal").unwrap().enrollment;
    assert_eq!(
        (e.default.passkey, e.default.password, e.default.totp, e.skip_limit),
        (Off, Optional, Optional, Some(3))
    );
    let staff = e.for_groups(&c.engine.groups.of("ada@example.com"));
    assert_eq!((staff.password, staff.totp), (Optional, Required), "a group entry overrides only what it sets");
    assert_eq!(e.for_groups(&c.engine.groups.of("bob@else.org")).totp, Optional);
    let _ = Passkey;
    assert!(c.engine.totp_in_use, "authenticator apps are loaded only when some app or recovery uses them");
    assert!(!load(&format!("dev_mode = true\n{APP}")).unwrap().engine.totp_in_use);

    let broken = |from: &str, to: &str| edited(text, from, to);
    check_err(
        &broken("min_length = 10", "min_length = 6"),
        "DIR/passway.toml:4:14: passwords.min_length: expected at least 8 (NIST SP 800-63B), found 6",
    );
    check_err(
        &broken("require = [\"digit\"]", "require = [\"emoji\"]"),
        "DIR/passway.toml:5:12: passwords.require[0]: expected one of lowercase, uppercase, digit, symbol, found \"emoji\"",
    );
    check_err(
        &broken("authenticators = [\"email\", \"totp\"]", "authenticators = [\"email\", \"password\"]"),
        "DIR/passway.toml:10:28: recovery.authenticators[1]: a password cannot recover an account: recovery is for a forgotten password",
    );
    check_err(
        &broken("factors = 2", "factors = 3"),
        "DIR/passway.toml:11:11: recovery.factors: expected 1 to 2 (the number of recovery authenticators), found 3",
    );
    check_err(
        &broken("totp = \"optional\"", "totp = \"sometimes\""),
        "DIR/passway.toml:18:8: apps[0].totp: expected \"required\", \"optional\" or \"off\", found \"sometimes\"",
    );
    check_err(
        &broken("groups = [\"staff\"]", "groups = [\"admins\"]"),
        "DIR/passway.toml:21:11: apps[0].enrollment[0].groups[0]: no group \"admins\" is defined",
    );
    check_err(
        &broken("[[apps.enrollment]]", "passkeys = \"required\"\n[[apps.enrollment]]"),
        "DIR/passway.toml:20:12: apps[0].passkeys: brand \"default\" has no passkey relying party: add a [passkeys] section",
    );
}

#[test]
fn session_policies_and_risk() {
    let text = r#"
dev_mode = true
[sessions]
lifetime_hours = 24
establish_with = ["passkey", "password"]
[[sessions.rules]]
name = "Risky"
risk = ["high"]
lifetime_hours = 1
idle_minutes = 5
[[apps]]
client_id = "portal"
redirect_uris = ["https://portal.example/cb"]
[[apps.sign_on]]
name = "Risky"
risk = ["medium", "high"]
factors = 2
inactivity_minutes = 15
[[apps.sign_on]]
name = "Everyone"
"#;
    let c = load(text).unwrap();
    let rules = &c.engine.sessions.rules;
    assert_eq!(rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Risky", "Default"]);
    assert_eq!((rules[0].lifetime, rules[0].idle), (Duration::from_secs(3600), Duration::from_secs(300)));
    assert_eq!(rules[0].establish_with, rules[1].establish_with, "inherited from [sessions]");
    assert_eq!(rules[1].lifetime, Duration::from_secs(24 * 3600));
    assert_eq!(c.engine.sessions.longest(), Duration::from_secs(24 * 3600));
    let crate::policy::Access::Allow(a) = &c.app("portal").unwrap().sign_on.rules[0].access else { panic!() };
    assert_eq!(a.inactivity, Some(Duration::from_secs(900)));

    let broken = |from: &str, to: &str| edited(text, from, to);
    check_err(
        &broken("risk = [\"high\"]", "risk = [\"extreme\"]"),
        "DIR/passway.toml:8:9: sessions.rules[0].risk[0]: expected \"low\", \"medium\" or \"high\", found \"extreme\"",
    );
    check_err(
        &broken("establish_with = [\"passkey\", \"password\"]", "establish_with = [\"sms\"]"),
        "DIR/passway.toml:5:19: sessions.establish_with[0]: expected \"email\", \"passkey\", \"password\" or \"totp\", found \"sms\"",
    );
    check_err(
        &broken("risk = [\"high\"]\n", ""),
        "DIR/passway.toml:6:1: sessions.rules[0]: rule \"Risky\" has no conditions: set what it applies to, or change [sessions] itself",
    );
}

#[test]
fn profile_schema_validation_and_labels() {
    let text = r#"
dev_mode = true
[[profile.attributes]]
name = "postal_code"
min_length = 4
max_length = 10
pattern = "[0-9]{4,5}"
labels = { fr = "Code postal" }
[[profile.attributes]]
name = "privacy_consent"
type = "consent"
required = true
label = "I agree that my data is stored"
[[apps]]
client_id = "shop"
redirect_uris = ["https://shop.example/cb"]
"#;
    let c = load(text).unwrap();
    let postal = &c.engine.profile.attributes[1];
    assert_eq!((postal.min_length, postal.max_length), (4, 10));
    assert!(postal.pattern.as_ref().unwrap().matches("75001") && !postal.pattern.as_ref().unwrap().matches("750011"));
    let catalog = crate::i18n::Catalog::builtin().with_profile_labels(&c.engine.profile);
    assert_eq!(catalog.get("fr", "profile.postal_code"), Some("Code postal"));
    assert_eq!(catalog.get("en", "profile.postal_code"), Some("Postal code"));
    assert_eq!(catalog.get("en", "profile.privacy_consent"), Some("I agree that my data is stored"));
    assert_eq!(c.engine.profile.attributes[2].kind, crate::engine::AttributeKind::Consent);

    let broken = |from: &str, to: &str| edited(text, from, to);
    check_err(
        &broken("pattern = \"[0-9]{4,5}\"", "pattern = \"[0-9\""),
        "DIR/passway.toml:7:11: profile.attributes[0].pattern: not a valid regular expression: regex parse error:\n    ^(?:[0-9)$\n        ^\nerror: unclosed character class",
    );
    check_err(
        &broken("dev_mode = true", "dev_mode = true\n[profile]\nemail_verification = false"),
        "DIR/passway.toml:4:22: profile.email_verification: cannot be false: an account is created only once its email is proven (so a known and an unknown address look the same, and every email_verified claim is true)",
    );
    check_err(
        &broken("min_length = 4", "min_length = 40"),
        "DIR/passway.toml:5:14: profile.attributes[0].min_length: is more than max_length (10)",
    );
    check_err(
        &broken("labels = { fr = \"Code postal\" }", "labels = { \"f r\" = \"Code postal\" }"),
        "DIR/passway.toml:8:20: profile.attributes[0].labels.f r: expected a language tag like \"fr\" or \"pt-BR\", found \"f r\"",
    );
}

#[test]
fn rate_limits_proxies_and_retention() {
    let c = load("dev_mode = true\n").unwrap();
    assert_eq!(c.rate_limits, crate::limits::RateLimits::default(), "on out of the box");
    assert!(c.rate_limits.enabled && c.trusted_proxies.is_empty());
    assert_eq!(c.events_retention, std::time::Duration::from_secs(90 * 24 * 3600));
    let c = load(
        "dev_mode = true\ntrusted_proxies = [\"10.0.0.0/8\", \"2001:db8::1\"]\n[rate_limits]\nenabled = false\nflow_starts_per_minute = 7\nemails_per_hour = 3\nlive_flows = 9\n[events]\nretention_days = 30\n[flows]\nlifetime_minutes = 20\n",
    )
    .unwrap();
    assert!(!c.rate_limits.enabled);
    assert_eq!(c.rate_limits.flow_starts, crate::limits::Limit::per_minute(7));
    assert_eq!(c.rate_limits.emails, crate::limits::Limit::per_hour(3));
    assert_eq!(
        c.rate_limits.live_flows,
        crate::limits::Limit { max: 9, window: std::time::Duration::from_secs(20 * 60) },
        "counted over one flow lifetime"
    );
    assert_eq!(
        c.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["10.0.0.0/8", "2001:db8::1/128"]
    );
    assert_eq!(c.events_retention, std::time::Duration::from_secs(30 * 24 * 3600));
    let c = load("dev_mode = true\n[rate_limits]\ntrusted_proxies = [\"127.0.0.1\"]\n").unwrap();
    assert_eq!(c.trusted_proxies.len(), 1, "also accepted in [rate_limits]");
}

#[test]
fn hooks_are_refused_with_file_line_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("hook.secret");
    std::fs::write(&secret, crate::hooks::signature::new_secret()).unwrap();
    let secret = format!("{{ file = \"{}\" }}", secret.display());
    let event = |url: &str, events: &str, secret: &str| {
        format!("[[hooks.events]]\nname = \"siem\"\nurl = \"{url}\"\nevents = [{events}]\nsecret = {secret}\n")
    };
    let inline = |name: &str, point: &str, url: &str, on_failure: &str, more: &str| {
        format!(
            "[[hooks.inline]]\nname = \"{name}\"\ntype = \"{point}\"\nurl = \"{url}\"\nsecret = {secret}\non_failure = \"{on_failure}\"\n{more}"
        )
    };
    let ok = event("https://siem.example/in", "\"user.session.start\"", &secret);
    let dev = format!("dev_mode = true\n{APP}");
    assert_eq!(load(&format!("{dev}{ok}")).unwrap().hooks.events.len(), 1);
    check_err(
        &format!("{dev}{}", event("https://siem.example/in", "\"user.session.start\"", "\"whsec_abc\"")),
        "DIR/passway.toml:10:10: hooks.events[0].secret: a secret may not be written in the config: write { env = \"NAME\" } or { file = \"PATH\" } and keep the secret there",
    );
    check_err(
        &format!("{dev}{}", event("https://siem.example/in", "\"user.sesion.start\"", &secret)),
        "DIR/passway.toml:9:11: hooks.events[0].events: unknown event type \"user.sesion.start\" (the README lists them, under \"The system log\")",
    );
    check_err(
        &format!("{dev}{}", event("http://siem.example/in", "\"user.session.start\"", &secret)),
        "DIR/passway.toml:8:7: hooks.events[0].url: plain http is only for loopback addresses in dev mode: use https",
    );

    let registration = inline("signup-check", "registration", "https://crm.example/check", "deny", "");
    let c = load(&format!("{dev}{registration}")).unwrap();
    let rule = &c.app("shop").unwrap().inline_hooks[&crate::engine::hook::HookPoint::Registration];
    assert_eq!((rule.name.as_str(), rule.on_failure), ("signup-check", crate::engine::hook::OnFailure::Deny));
    assert_eq!(c.hooks.inline[0].timeout, std::time::Duration::from_secs(3), "3 s unless configured");
    check_err(
        &format!("{dev}{}", inline("x", "pre-registration", "https://crm.example/check", "deny", "")),
        "DIR/passway.toml:8:8: hooks.inline[0].type: unknown hook point \"pre-registration\": expected one of registration, progressive_profile, sign_in, password_import, token",
    );
    check_err(
        &format!("{dev}{}", inline("x", "registration", "http://crm.example/check", "deny", "")),
        "DIR/passway.toml:9:7: hooks.inline[0].url: plain http is only for loopback addresses in dev mode: use https",
    );
    check_err(
        &format!("{dev}{}", inline("x", "registration", "https://crm.example/check", "maybe", "")),
        "DIR/passway.toml:11:14: hooks.inline[0].on_failure: expected \"allow\" or \"deny\", found \"maybe\"",
    );
    check_err(
        &format!("{dev}{}", inline("x", "password_import", "https://old.example/check", "allow", "")),
        "DIR/passway.toml:11:14: hooks.inline[0].on_failure: a password import hook that fails cannot let a password in: write on_failure = \"deny\"",
    );
    check_err(
        &format!("{dev}{}", inline("x", "registration", "https://crm.example/check", "deny", "timeout_seconds = 60\n")),
        "DIR/passway.toml:12:19: hooks.inline[0].timeout_seconds: expected 1 to 10, found 60",
    );
    check_err(
        &format!("{dev}{}", inline("x", "registration", "https://crm.example/check", "deny", "apps = [\"shpo\"]\n")),
        "DIR/passway.toml:12:9: hooks.inline[0].apps: no app has client_id \"shpo\"",
    );
    check_err(
        &format!("{dev}{registration}{}", inline("other", "registration", "https://crm.example/b", "allow", "")),
        "DIR/passway.toml:13:8: hooks.inline[1]: the app \"shop\" already calls \"signup-check\" as its registration hook: one hook per point and app",
    );
}

/// Notice emails are named; an unknown one is refused where it is written.
#[test]
fn notice_emails_are_named() {
    let with = |emails: &str| format!("dev_mode = true\n{}emails = [{emails}]\n", APP);
    let c = load(&with("\"welcome\", \"new_device\", \"locked\"")).unwrap();
    assert_eq!(c.apps.values().next().unwrap().emails, ["welcome", "new_device", "locked"]);
    assert!(c.engine.remember_devices, "the new-browser notice needs browsers remembered");
    check_err(
        &with("\"welcome\", \"birthday\""),
        "DIR/passway.toml:6:22: apps[0].emails[1]: expected one of welcome, new_device, password_changed, authenticator_added, authenticator_removed, locked, found \"birthday\"",
    );
}

#[test]
fn pool_and_metrics_settings_are_checked() {
    let c = load(&format!(
        "dev_mode = true\n[store]\nmax_connections = 40\nacquire_timeout_seconds = 2\n[metrics]\nlisten = \"127.0.0.1:9464\"\n{APP}"
    ))
    .unwrap();
    assert_eq!(c.store_pool.max_connections, 40);
    assert_eq!(c.store_pool.acquire_timeout, std::time::Duration::from_secs(2));
    assert_eq!(c.metrics_listen, Some("127.0.0.1:9464".parse().unwrap()));
    assert_eq!(load(&format!("dev_mode = true\n{APP}")).unwrap().metrics_listen, None, "off unless asked");
    check_err(
        "dev_mode = true\n[store]\nmax_connections = 0\n",
        "DIR/passway.toml:3:19: store.max_connections: expected 1 to 1000, found 0",
    );
    check_err(
        "dev_mode = true\n[store]\nmax_connections = 4\nmin_connections = 5\n",
        "DIR/passway.toml:4:19: store.min_connections: 5 is more than max_connections (4)",
    );
    check_err(
        "dev_mode = true\n[telemetry]\notlp_endpoint = \"collector:4318\"\n",
        "DIR/passway.toml:3:17: telemetry.otlp_endpoint: expected an http(s) URL like \"http://collector:4318\", found \"collector:4318\"",
    );
    check_err(
        "dev_mode = true\n[metrics]\nlisten = \"everywhere\"\n",
        "DIR/passway.toml:3:10: metrics.listen: expected an address like \"127.0.0.1:9464\", found \"everywhere\"",
    );
}
