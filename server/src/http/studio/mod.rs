//! The theme studio: every step, page and email of the [`gallery`], in any brand,
//! locale and colour scheme, rendered by the real widget and the real page and email
//! templates, and updated in place when a theme file is saved.
//!
//! It serves itself (`passway studio`, no store needed) or beside a server: in dev mode
//! at `/studio`, otherwise for admins only ([`gate`]). The widget in each frame talks to a stand-in of the flow API under
//! `/studio/s/{brand}/{locale}/{scheme}/{app}`: it answers a gallery entry's flow
//! response for its handle (every submission answers the same step), and the brand's
//! CSS with the colour scheme fixed, so light and dark show side by side whatever the
//! designer's system prefers. Nothing of the studio is in the widget bundle.
//!
//! The brands are watched (`branding::watch`: the server's own beside a server); a
//! theme that fails its checks keeps its last good version, and its problems
//! (file:line:column) go to the page and the log.

pub mod gallery;
mod gate;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use serde_json::json;

use self::gallery::{ENTRIES, PageExtra, Sample, Show};
use super::error::AppError;
use super::pages::{self, Page};
use crate::assets::Asset;
use crate::branding::Brands;
use crate::engine::{Attribute, AttributeKind, EngineSettings, Texts};
use crate::html::escape;
use crate::i18n::Catalog;
use crate::mail::template::{ChallengeEmail, NoticeEmail, render_challenge, render_notice};

/// The studio's state: the brands it shows (the server's own, beside a server), and
/// the profile schema and password rules the steps show.
pub struct Studio {
    settings: EngineSettings,
    brands: Arc<Brands>,
}

pub type Shared = Arc<Studio>;

impl Studio {
    /// Shows `brands`, which someone keeps up to date ([`crate::branding::watch`]).
    pub fn new(brands: Arc<Brands>, settings: EngineSettings) -> Shared {
        Arc::new(Studio { settings, brands })
    }

    /// On its own: loads the themes of `themes_dir` (those that pass their checks; the
    /// others' problems are shown) and watches the folder while the process runs.
    pub fn watching(themes_dir: PathBuf, catalog: Catalog, settings: EngineSettings) -> Shared {
        let brands = Arc::new(Brands::empty(catalog));
        brands.reload(&themes_dir);
        tokio::spawn(crate::branding::watch(brands.clone(), themes_dir, Duration::from_millis(200)));
        Studio::new(brands, settings)
    }

    fn brands(&self) -> Arc<Brands> {
        self.brands.clone()
    }
}

/// A profile schema for a studio run without a configuration: names, so the
/// registration and profile steps have something to show.
pub fn sample_settings() -> EngineSettings {
    let text = |name: &str, label: &str, required| Attribute {
        name: name.into(),
        label: label.into(),
        kind: AttributeKind::Text,
        required,
        min_length: 0,
        max_length: 50,
        pattern: None,
        labels: Default::default(),
        at_registration: true,
    };
    let mut settings = EngineSettings::default();
    settings
        .profile
        .attributes
        .extend([text("given_name", "Given name", true), text("family_name", "Family name", false)]);
    settings
}

/// The studio's routes, all under `/studio`. The widget's own files (`/widget/…`)
/// come from the server it runs beside, or [`standalone`].
pub fn router<S: Clone + Send + Sync + 'static>(studio: Shared) -> Router<S> {
    Router::new()
        .route("/studio", get(page))
        .route(
            "/studio/studio.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("studio.js")) }),
        )
        .route("/studio/frame.js", get(|| async { asset("text/javascript; charset=utf-8", include_str!("frame.js")) }))
        .route("/studio/studio.css", get(|| async { asset("text/css; charset=utf-8", include_str!("studio.css")) }))
        .route("/studio/gallery.json", get(gallery_json))
        .route("/studio/events", get(events))
        .route("/studio/frame/{brand}/{locale}/{scheme}/{app}/{entry}", get(frame))
        .route("/studio/s/{brand}/{locale}/{scheme}/{app}/api/v1/flows/{entry}", get(flow))
        .route("/studio/s/{brand}/{locale}/{scheme}/{app}/api/v1/flows/{entry}/events", get(flow_events))
        .route(
            "/studio/s/{brand}/{locale}/{scheme}/{app}/api/v1/flows/{entry}/{remediation}",
            axum::routing::post(submit),
        )
        .route("/studio/s/{brand}/{locale}/{scheme}/{app}/themes/{theme}/{file}", get(theme_file))
        .route("/studio/s/{brand}/{locale}/{scheme}/{app}/oauth2/v1/token", axum::routing::post(token))
        .route("/studio/email/{brand}/{locale}/{app}/{entry}/{part}", get(email))
        .with_state(studio)
}

/// The studio beside a server outside dev mode: for admins only ([`gate`]).
pub fn gated(studio: Shared, app: crate::app::AppState) -> Router<crate::app::AppState> {
    router(studio)
        .route("/studio/sign-in", get(gate::form).post(gate::sign_in))
        .layer(axum::middleware::from_fn_with_state(app, gate::check))
}

/// The studio on its own: its routes, the widget bundle, and `/` leading to it.
pub fn standalone(studio: Shared, widget: Arc<HashMap<String, Asset>>) -> Router {
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/studio") }))
        .route(
            "/widget/{*path}",
            get(move |Path(path): Path<String>, headers: HeaderMap| {
                let widget = widget.clone();
                async move {
                    match widget.get(&path) {
                        Some(a) => super::static_files::serve(a, &headers),
                        None => AppError::not_found("the widget bundle is not built: run `cargo xtask build`")
                            .into_response(),
                    }
                }
            }),
        )
        .merge(router(studio))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// Pages of the studio may frame each other, and nothing else may frame them.
const FRAME_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

fn html(csp: &'static str, body: String) -> Response {
    let mut r = axum::response::Html(body).into_response();
    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn page() -> Response {
    html(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        include_str!("studio.html").to_owned(),
    )
}

async fn gallery_json(State(studio): State<Shared>) -> Response {
    let brands = studio.brands();
    let entries: Vec<_> = ENTRIES
        .iter()
        .map(|e| {
            let kind = match e.show {
                Show::Email(_) | Show::Notice(_) => "email",
                Show::Page(_) | Show::HostedPage => "page",
                Show::Step(_) | Show::RateLimited => "step",
            };
            json!({ "name": e.name, "title": e.title, "group": e.group, "kind": kind })
        })
        .collect();
    let body = json!({
        "entries": entries,
        "brands": brands.ids().into_iter().collect::<Vec<_>>(),
        "locales": brands.catalog.locales().collect::<Vec<_>>(),
        "version": brands.version(),
        "problems": brands.problems(),
    });
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

/// `themes` events: a version and the problems, each time the themes were loaded again.
async fn events(State(studio): State<Shared>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = tokio_stream::wrappers::BroadcastStream::new(studio.brands.changes());
    let stream = futures_util::StreamExt::map(changes, move |version| {
        let version = version.unwrap_or_else(|_| studio.brands.version());
        let problems = studio.brands.problems();
        Ok(Event::default().event("themes").data(json!({ "version": version, "problems": problems }).to_string()))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// What a studio URL names: the brand, locale, scheme and app name a frame shows,
/// and (by route) the entry, the remediation or the theme file.
/// The success step's code exchange: tokens that are only words.
async fn token() -> Response {
    let tokens = json!({ "access_token": "studio", "token_type": "Bearer", "expires_in": 3600, "id_token": "studio" });
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(tokens)).into_response()
}

#[derive(serde::Deserialize)]
struct StudioPath {
    brand: String,
    locale: String,
    #[serde(default = "light")]
    scheme: String,
    app: String,
    entry: Option<String>,
    theme: Option<String>,
    file: Option<String>,
    part: Option<String>,
}

fn light() -> String {
    "light".into()
}

impl StudioPath {
    fn shown(&self) -> Shown {
        Shown {
            brand: self.brand.clone(),
            locale: self.locale.clone(),
            scheme: self.scheme.clone(),
            app: self.app.clone(),
        }
    }

    fn entry(&self) -> Result<&'static gallery::Entry, AppError> {
        let name = self.entry.as_deref().unwrap_or_default();
        gallery::entry(name).ok_or_else(|| AppError::not_found(format!("no gallery entry {name:?}")))
    }
}

/// Where a frame's widget finds its flow and its theme.
struct Shown {
    brand: String,
    locale: String,
    scheme: String,
    app: String,
}

impl Shown {
    fn base(&self) -> String {
        format!(
            "/studio/s/{}/{}/{}/{}",
            self.brand,
            self.locale,
            self.scheme,
            percent_encoding::utf8_percent_encode(&self.app, percent_encoding::NON_ALPHANUMERIC)
        )
    }

    fn check(&self, brands: &Brands) -> Result<(), AppError> {
        if brands.get(&self.brand).is_none() {
            return Err(AppError::not_found(format!("no brand {:?}", self.brand)));
        }
        if !matches!(self.scheme.as_str(), "light" | "dark") {
            return Err(AppError::not_found("the scheme is light or dark"));
        }
        if !brands.catalog.locales().any(|l| l == self.locale) {
            return Err(AppError::not_found(format!("no locale {:?}", self.locale)));
        }
        Ok(())
    }
}

/// What a studio URL names, checked.
struct Resolved {
    brands: Arc<Brands>,
    shown: Shown,
    entry: &'static gallery::Entry,
    brand: Arc<crate::branding::Brand>,
}

fn resolve(studio: &Studio, p: &StudioPath) -> Result<Resolved, AppError> {
    let brands = studio.brands();
    let shown = p.shown();
    shown.check(&brands)?;
    let entry = p.entry()?;
    let brand = brands.get(&shown.brand).expect("checked");
    Ok(Resolved { brands, shown, entry, brand })
}

/// A gallery entry on a page of its own, as the browser would show it.
async fn frame(State(studio): State<Shared>, Path(p): Path<StudioPath>) -> Result<Response, AppError> {
    let Resolved { brands, shown, entry, brand } = resolve(&studio, &p)?;
    let texts = brands.texts(&brand.id, &shown.locale);
    let base = shown.base();
    let app = &shown.app;
    let params = [("app", app.clone()), ("browser", "Firefox on Windows".to_owned())];
    let t = |key: &str| texts.fill(&texts.get(key).unwrap_or_default(), &params);
    let (title, body, scripts): (String, String, &[&str]) = match &entry.show {
        Show::Step(_) | Show::RateLimited | Show::HostedPage => {
            let noscript = texts.get("hosted.noscript").unwrap_or_default();
            let body = super::hosted::body(app, entry.name, &base, &brand.id, &noscript);
            (app.clone(), body, &["/studio/frame.js", "/widget/passway.js"])
        }
        Show::Page(shown) => {
            let title = t(&format!("{}.title", shown.key));
            let extra = match shown.extra {
                PageExtra::None => String::new(),
                PageExtra::Code => super::link::code_block(gallery::OTHER_DEVICE_CODE),
                PageExtra::SignOutButton => format!(
                    "<form class=\"pw-form\"><button type=\"button\" class=\"pw-button pw-button--primary\">{}</button></form>",
                    escape(&t("hosted.logout.confirm"))
                ),
            };
            let body = pages::card(&brand, &title, &t(&format!("{}.body", shown.key)), &extra);
            (title, body, &[])
        }
        Show::Email(_) | Show::Notice(_) => return Err(AppError::not_found("an email is at /studio/email/…")),
    };
    let document = pages::html(&Page { brand: &brand, lang: &shown.locale, title: &title, body, scripts });
    // The page's stylesheet and logo: the studio's, in the scheme shown.
    Ok(html(FRAME_CSP, document.replace("\"/themes/", &format!("\"{base}/themes/"))))
}

/// The flow API's answer for a gallery entry (the handle is the entry's name).
async fn flow(State(studio): State<Shared>, Path(p): Path<StudioPath>) -> Result<Response, AppError> {
    let Resolved { brands, shown, entry, brand } = resolve(&studio, &p)?;
    let texts = brands.texts(&brand.id, &shown.locale);
    let scene = match entry.show {
        Show::Step(build) => build,
        // The hosted page, at its first step.
        Show::HostedPage => gallery::first_step(),
        Show::RateLimited => {
            let text = texts.get("widget.error.rate_limited").unwrap_or_default();
            let message = texts.fill(&text, &[("minutes", "5".to_owned())]);
            return Err(AppError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
                .retry_after(Duration::from_secs(300)));
        }
        Show::Page(_) | Show::Email(_) | Show::Notice(_) => {
            return Err(AppError::not_found("not a step of the widget"));
        }
    };
    let sample = Sample::new(&shown.app, studio.settings.clone());
    let base = shown.base();
    let info = passway_protocol::AppInfo {
        id: sample.app.client_id.clone(),
        name: shown.app.clone(),
        brand: brand.id.clone(),
        logo_url: Some(format!("{base}/themes/{}/{}", brand.id, brand.logo_file)),
    };
    let response = gallery::present(&scene(&sample), &sample, &base, entry.name, info, &texts);
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(response)).into_response())
}

/// A submission changes nothing: the step is shown again.
async fn submit(state: State<Shared>, path: Path<StudioPath>) -> Result<Response, AppError> {
    flow(state, path).await
}

/// The email step's event stream: open, and quiet (nothing happens in the studio).
async fn flow_events() -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(futures_util::stream::pending()).keep_alive(KeepAlive::default())
}

/// A brand's CSS with the colour scheme fixed, or its logo.
async fn theme_file(State(studio): State<Shared>, Path(p): Path<StudioPath>) -> Result<Response, AppError> {
    let brands = studio.brands();
    let theme = p.theme.as_deref().unwrap_or_default();
    let file = p.file.as_deref().unwrap_or_default();
    let brand = brands.get(theme).ok_or_else(|| AppError::not_found(format!("no brand {theme:?}")))?;
    let headers = [(header::CACHE_CONTROL, "no-store")];
    if file == "theme.css" {
        let css = String::from_utf8_lossy(&brand.css.bytes);
        let forced = if p.scheme == "dark" { "@media all" } else { "@media not all" };
        let css = css.replace("@media (prefers-color-scheme: dark)", forced);
        Ok((headers, [(header::CONTENT_TYPE, "text/css; charset=utf-8")], css).into_response())
    } else if file == brand.logo_file {
        let mut r = Response::new(Body::from(brand.logo.bytes.clone()));
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(brand.logo.content_type));
        r.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
        Ok(r)
    } else {
        Err(AppError::not_found(format!("brand {:?} has no file {file:?}", brand.id)))
    }
}

/// An email of the gallery: `html` or `text`.
async fn email(State(studio): State<Shared>, Path(p): Path<StudioPath>) -> Result<Response, AppError> {
    let Resolved { brands, shown, entry, brand } = resolve(&studio, &p)?;
    let logo = format!("{}/themes/{}/{}", shown.base(), brand.id, brand.logo_file);
    let texts = brands.texts(&brand.id, &shown.locale);
    let rendered = match entry.show {
        Show::Email(purpose) => {
            let email = ChallengeEmail {
                to: "ada.lovelace@example.com",
                app_name: &shown.app,
                purpose,
                code: "428913",
                link: "https://id.example/email/verify?t=studio",
                logo_url: &logo,
                locale: &shown.locale,
            };
            render_challenge(&email, &brand, &texts)
        }
        Show::Notice(notice) => {
            let email = NoticeEmail {
                to: "ada.lovelace@example.com",
                app_name: &shown.app,
                logo_url: &logo,
                locale: &shown.locale,
                time: "2030-03-17 17:46 UTC",
                notice: notice(),
            };
            render_notice(&email, &brand, &texts)
        }
        _ => return Err(AppError::not_found("not an email")),
    };
    match p.part.as_deref().unwrap_or_default() {
        "html" => Ok(html(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'",
            rendered.html,
        )),
        "text" => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
            format!("Subject: {}\n\n{}", rendered.subject, rendered.text),
        )
            .into_response()),
        _ => Err(AppError::not_found("an email part is html or text")),
    }
}

#[cfg(test)]
mod tests;
