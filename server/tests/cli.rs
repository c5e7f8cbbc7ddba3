//! The `passway` command line: client secrets and key rotation, run as a user would.

use std::path::Path;
use std::process::Command;

fn passway(config: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_passway"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("PASSWAY_MASTER_KEY")
        .output()
        .expect("run passway");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "passway {args:?} failed: {stderr}");
    stdout.into_owned()
}

fn config(dir: &Path, apps: &str) -> std::path::PathBuf {
    let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let path = dir.join("passway.toml");
    let text = format!(
        "dev_mode = true\ndata_dir = \"{}\"\n[themes]\ndir = \"{}\"\n{apps}",
        dir.join("data").display(),
        themes.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn client_secret_prints_a_secret_and_only_its_digest_for_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = passway(&config(dir.path(), ""), &["client-secret"]);
    let secret = out.lines().find_map(|l| l.strip_prefix("client_secret: ")).expect("a secret").to_owned();
    let line = out.lines().find(|l| l.starts_with("client_secret_hashes")).expect("a config line").to_owned();
    assert_eq!(secret.len(), 43);
    assert!(!line.contains(&secret), "the digest, not the secret");
    // The printed line is valid configuration, and the secret authenticates against it.
    let apps = format!("[[apps]]\nclient_id = \"svc\"\ngrant_types = [\"client_credentials\"]\n{line}\n");
    let path = config(dir.path(), &apps);
    assert!(passway(&path, &["check-config"]).contains("OK (1 apps)"));
    let config = passway_server::config::Config::load(&path).unwrap();
    let credentials = passway_server::oidc::client_auth::credentials(None, Some("svc"), Some(&secret)).unwrap();
    passway_server::oidc::client_auth::authenticate(&config, &credentials).expect("the secret matches its digest");
    let again = passway(&path, &["client-secret"]);
    assert!(!again.contains(&secret), "every secret is new");
}

#[test]
fn keys_rotate_publishes_a_successor_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        "[[apps]]\nclient_id = \"web\"\nredirect_uris = [\"https://w.example/cb\"]\nsigning_alg = \"RS256\"\n",
    );
    // On an empty store the first keys sign at once.
    let first = passway(&path, &["keys", "rotate"]);
    assert_eq!(first.lines().filter(|l| l.starts_with("published ")).count(), 2, "{first}");
    let listed = passway(&path, &["keys", "list"]);
    assert_eq!(listed.matches(" signing ").count(), 2, "{listed}");
    assert!(listed.contains("ES256") && listed.contains("RS256"));
    // Then a successor per algorithm, published ahead.
    let second = passway(&path, &["keys", "rotate"]);
    assert_eq!(second.lines().filter(|l| l.starts_with("published ")).count(), 2, "{second}");
    let listed = passway(&path, &["keys", "list"]);
    assert_eq!((listed.matches(" signing ").count(), listed.matches(" next ").count()), (2, 2), "{listed}");
    assert!(listed.contains("retires "), "{listed}");
    assert!(passway(&path, &["keys", "rotate"]).contains("nothing to do"));
}

#[test]
fn dev_mode_refuses_to_listen_beyond_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let out = Command::new(env!("CARGO_BIN_EXE_passway"))
        .arg("--config")
        .arg(&path)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run passway");
    assert!(!out.status.success(), "it must refuse, not serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("listens on loopback only"), "{stderr}");
}

#[test]
fn logs_prints_the_system_log_one_event_per_line_or_as_json() {
    use passway_server::engine::{EventType, LogEntry, LogOutcome};
    use passway_server::events::{ClientInfo, Context, Recorder};
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let config = passway_server::config::Config::load(&path).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = passway_server::store::open(&config.store_url).await.unwrap();
        let client = ClientInfo { ip: "203.0.113.9".into(), ..ClientInfo::default() };
        let now = passway_server::clock::Clock::System.now();
        let events = [
            LogEntry::new(EventType::UserSessionStart, LogOutcome::Success, "User signed in")
                .actor("u-1", "ada@example.com"),
            LogEntry::new(EventType::UserAccountLock, LogOutcome::Failure, "Password locked")
                .actor("u-2", "bob@example.com")
                .reason("5 wrong answers"),
        ]
        .map(|e| Recorder::default().record(&e, &Context::request(&client), now));
        let commit = passway_server::store::Commit { events: events.into(), ..Default::default() };
        store.commit(commit).await.unwrap();
    });

    let lines = passway(&path, &["logs", "--since", "10m"]);
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(
        lines.contains(" INFO  user.session.start SUCCESS ada@example.com 203.0.113.9 \"User signed in\""),
        "{lines}"
    );
    let locked = passway(&path, &["logs", "--json", "--filter", r#"eventType eq "user.account.lock""#]);
    let event: serde_json::Value = serde_json::from_str(locked.trim()).expect("one LogEvent");
    assert_eq!(event["outcome"]["reason"], "5 wrong answers");
    assert!(passway(&path, &["logs", "--q", "carol"]).is_empty());

    let out = Command::new(env!("CARGO_BIN_EXE_passway"))
        .arg("--config")
        .arg(&path)
        .args(["logs", "--filter", "eventType eq"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at character"), "{stderr}");
}

/// Copies the shipped `default` theme (every theme inherits from it) into `dir`.
fn shipped_default_theme_in(dir: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default");
    std::fs::create_dir_all(dir.join("default")).unwrap();
    for f in ["theme.toml", "logo.svg"] {
        std::fs::copy(shipped.join(f), dir.join("default").join(f)).unwrap();
    }
}

/// `passway theme check`: 0 for good themes, 1 with each problem at file:line, 2 when
/// there is nothing to check.
#[test]
fn theme_check_lists_problems_with_exit_codes_ci_can_use() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_passway")).args(args).output().expect("run passway");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let (code, out) = run(&["theme", "check", themes.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("OK (3 themes: acme, default, globex)"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    shipped_default_theme_in(dir.path());
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("theme.toml"), "name = \"Bad\"\n[colors]\nprimry = \"#000000\"\n").unwrap();
    let (code, out) = run(&["theme", "check", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("bad/theme.toml:3:10: colors.primry: unknown"), "{out}");

    let (code, _) = run(&["theme", "check", dir.path().join("nowhere").to_str().unwrap()]);
    assert_eq!(code, Some(2));
}

/// `passway theme new` writes a brand from one colour that `passway theme check` accepts,
/// and refuses to overwrite one or to take something that is not a colour.
#[test]
fn theme_new_writes_a_brand_that_passes_its_checks() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_passway")).args(args).output().expect("run passway");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let dir = tempfile::tempdir().unwrap();
    let themes = dir.path().to_str().unwrap();
    shipped_default_theme_in(dir.path());
    let (code, out) = run(&["theme", "new", "sunny", "--primary", "#ffd700", "--dir", themes]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(&["theme", "check", themes]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("OK (2 themes: default, sunny)"), "{out}");
    let (code, out) = run(&["theme", "new", "sunny", "--primary", "#ffd700", "--dir", themes]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("exists already"), "{out}");
    let (code, out) = run(&["theme", "new", "other", "--primary", "gold", "--dir", themes]);
    assert_eq!((code, out.contains("expected #RRGGBB")), (Some(2), true), "{out}");
}

#[test]
fn groups_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let people = dir.path().join("people.jsonl");
    std::fs::write(&people, "{\"email\": \"ada@example.com\"}\n{\"email\": \"bob@example.com\"}\n").unwrap();
    passway(&path, &["users", "import", people.to_str().unwrap()]);

    assert_eq!(passway(&path, &["groups", "create", "admins", "--description", "Operators"]), "group admins created\n");
    passway(&path, &["groups", "add", "admins", "Ada@Example.com"]);
    passway(&path, &["groups", "add", "admins", "bob@example.com"]);
    assert_eq!(passway(&path, &["groups", "list"]), "admins\t2 member(s)\tOperators\n");
    passway(&path, &["groups", "remove", "admins", "bob@example.com"]);
    assert_eq!(passway(&path, &["groups", "members", "admins"]), "ada@example.com\tactive\n");
    let logged = passway(&path, &["logs", "--filter", r#"eventType sw "group.""#]);
    assert_eq!(logged.lines().count(), 4, "{logged}");

    let refused = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_passway")).arg("--config").arg(&path).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(refused(&["groups", "add", "admins", "carol@example.com"]).contains("no account has the address"));
    assert!(refused(&["groups", "create", "no spaces"]).contains("1 to 64 letters"));
    assert!(refused(&["groups", "create", "admins"]).contains("already exists"));
    passway(&path, &["groups", "delete", "admins"]);
    assert!(refused(&["groups", "delete", "admins"]).contains("no such group"));
}

#[test]
fn check_config_warns_when_email_alone_would_recover_a_phishing_resistant_app() {
    let dir = tempfile::tempdir().unwrap();
    let app = "[[apps]]\nclient_id = \"vault\"\nredirect_uris = [\"https://vault.example/cb\"]\n\
               [[apps.sign_on]]\nname = \"Passkeys only\"\nphishing_resistant = true\n";
    let out = passway(&config(dir.path(), app), &["check-config"]);
    assert!(out.contains("warning: app \"vault\" requires phishing resistance"), "{out}");
    let allowed = format!("{app}[recovery]\nemail_alone_for_phishing_resistant_apps = true\n");
    let out = passway(&config(dir.path(), &allowed), &["check-config"]);
    assert!(!out.contains("warning"), "said explicitly: {out}");
}
