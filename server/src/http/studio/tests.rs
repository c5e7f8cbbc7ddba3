//! The studio's routes, through the router (`oneshot`), over a copy of the shipped
//! themes.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

fn themes() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for f in std::fs::read_dir(from).unwrap().flatten() {
            if f.path().is_dir() {
                copy(&f.path(), &to.join(f.file_name()));
            } else {
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        }
    }
    for brand in ["default", "acme", "globex"] {
        copy(&shipped.join(brand), &dir.path().join(brand));
    }
    dir
}

fn studio(dir: &std::path::Path) -> Shared {
    let settings = sample_settings();
    let brands = Arc::new(Brands::empty(Catalog::builtin().with_profile_labels(&settings.profile)));
    brands.reload(dir);
    Studio::new(brands, settings)
}

async fn get(studio: &Shared, uri: &str) -> (StatusCode, String) {
    let r = router::<()>(studio.clone()).oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = r.status();
    (status, String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
}

/// Every entry has a page in every shipped brand; a widget step's page mounts the
/// widget on the studio's stand-in API, a server page is the card itself.
#[tokio::test]
async fn every_entry_has_a_frame() {
    let dir = themes();
    let s = studio(dir.path());
    let (status, json) = get(&s, "/studio/gallery.json").await;
    assert_eq!(status, StatusCode::OK);
    let listed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(listed["entries"].as_array().unwrap().len(), ENTRIES.len());
    assert_eq!(listed["brands"], json!(["acme", "default", "globex"]));
    for entry in ENTRIES {
        let (status, body) = match entry.show {
            Show::Email(_) | Show::Notice(_) => {
                get(&s, &format!("/studio/email/acme/ar/Acme%20Shop/{}/html", entry.name)).await
            }
            _ => get(&s, &format!("/studio/frame/acme/ar/dark/Acme%20Shop/{}", entry.name)).await,
        };
        assert_eq!(status, StatusCode::OK, "{}: {body}", entry.name);
        assert!(body.contains("dir=\"rtl\""), "{}: Arabic reads right to left", entry.name);
        match entry.show {
            Show::Step(_) | Show::RateLimited | Show::HostedPage => assert!(
                body.contains("<passway-signin flow=\"")
                    && body.contains("base-url=\"/studio/s/acme/ar/dark/Acme%20Shop\""),
                "{}: {body}",
                entry.name
            ),
            Show::Page(_) => {
                assert!(body.contains("href=\"/studio/s/acme/ar/dark/Acme%20Shop/themes/acme/theme.css"), "{body}")
            }
            Show::Email(_) | Show::Notice(_) => assert!(body.contains("Acme Shop"), "{body}"),
        }
    }
    let (status, _) = get(&s, "/studio/frame/nobody/en/light/A/identify").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&s, "/studio/frame/acme/en/light/A/no-such-step").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The stand-in flow API answers what the engine presents, in the language asked, and
/// the same step again for any submission.
#[tokio::test]
async fn steps_are_the_engines_presentation() {
    let dir = themes();
    let s = studio(dir.path());
    let base = "/studio/s/globex/pl/light/Globex";
    let (status, body) = get(&s, &format!("{base}/api/v1/flows/email-code-wrong")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let flow: passway_protocol::FlowResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(flow.locale.as_deref(), Some("pl"));
    assert_eq!(flow.app.brand, "globex");
    assert!(flow.remediation("challenge-authenticator").unwrap().href.starts_with(base), "{body}");
    let wrong = &flow.messages[0];
    assert_eq!(wrong.key, "email.code.wrong");
    assert!(wrong.text.contains('2') && !wrong.text.contains('{'), "{}", wrong.text);

    let r = router::<()>(s.clone())
        .oneshot(
            Request::post(format!("{base}/api/v1/flows/email-code-wrong/challenge-authenticator"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let (status, body) = get(&s, &format!("{base}/api/v1/flows/rate-limited")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("rate_limited"), "{body}");
}

/// The scheme shown is fixed in the CSS the studio serves, whatever the browser prefers.
#[tokio::test]
async fn the_scheme_is_fixed_in_the_css() {
    let dir = themes();
    let s = studio(dir.path());
    let (_, dark) = get(&s, "/studio/s/acme/en/dark/A/themes/acme/theme.css").await;
    let (_, light) = get(&s, "/studio/s/acme/en/light/A/themes/acme/theme.css").await;
    assert!(dark.contains("@media all") && !dark.contains("prefers-color-scheme: dark"), "{dark}");
    assert!(light.contains("@media not all"), "{light}");
}

/// A theme saved broken keeps its last good version; its problems are located; fixed,
/// it is served again; the others change meanwhile.
#[tokio::test]
async fn a_broken_theme_keeps_its_last_good_version() {
    let dir = themes();
    let s = studio(dir.path());
    let css = |s: &Shared, brand: &str| String::from_utf8_lossy(&s.brands().get(brand).unwrap().css.bytes).into_owned();
    let acme = dir.path().join("acme/theme.toml");
    let good = std::fs::read_to_string(&acme).unwrap();
    let before = css(&s, "acme");

    std::fs::write(&acme, format!("{good}\n[colors]\nnot_a_colour_key = 1\n")).unwrap();
    let globex = dir.path().join("globex/theme.toml");
    let globex_text = std::fs::read_to_string(&globex).unwrap();
    let renamed: String = globex_text
        .lines()
        .map(|l| if l.starts_with("name = ") { "name = \"Globex Two\"".to_owned() } else { l.to_owned() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&globex, renamed).unwrap();
    s.brands.reload(dir.path());
    let problems = s.brands.problems();
    assert!(!problems.is_empty() && problems.iter().all(|p| p.contains("acme/theme.toml:")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.split(':').nth(1).is_some_and(|line| line.parse::<u32>().is_ok())),
        "{problems:?}"
    );
    assert_eq!(css(&s, "acme"), before, "acme keeps its last good version");
    assert_eq!(s.brands().get("globex").unwrap().display_name, "Globex Two", "the others are reloaded");

    std::fs::write(&acme, &good).unwrap();
    s.brands.reload(dir.path());
    assert!(s.brands.problems().is_empty());
    assert_eq!(s.brands.version(), 4, "loaded, broken, fixed");
}
