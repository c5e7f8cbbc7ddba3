//! Serves in-memory [`Asset`]s: ETag revalidation, brotli when accepted, and CORS
//! open to every origin (the widget is loaded as a cross-origin ES module).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use crate::app::AppState;
use crate::assets::Asset;

pub fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let mut response = if request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| etag_matches(v, &asset.etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accepts_br = request
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.split(';').next().unwrap_or("").trim() == "br"));
        match (&asset.brotli, accepts_br) {
            (Some(br), true) => {
                let mut r = Response::new(Body::from(br.clone()));
                r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
                r
            }
            _ => Response::new(Body::from(asset.bytes.clone())),
        }
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    if let Ok(v) = HeaderValue::from_str(&asset.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300, must-revalidate"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

/// `/widget/{*path}`: the widget bundle.
pub async fn widget(
    State(app): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    match app.widget.get(&path) {
        Some(asset) => Ok(serve(asset, &headers)),
        None if app.widget.is_empty() => {
            Err(AppError::not_found("the widget bundle is not built: run `cargo xtask build`"))
        }
        None => Err(AppError::not_found(format!("no widget file {path:?}"))),
    }
}

/// `/themes/{brand}/{file}`: a brand's compiled CSS and logo.
pub async fn theme(
    State(app): State<AppState>,
    Path((brand, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let brand = app.brands.get(&brand).ok_or_else(|| AppError::not_found(format!("no brand {brand:?}")))?;
    if file == "theme.css" {
        Ok(serve(&brand.css, &headers))
    } else if file == brand.logo_file {
        Ok(logo(&brand.logo, &headers))
    } else {
        Err(AppError::not_found(format!("brand {:?} has no file {file:?}", brand.id)))
    }
}

/// A logo, opened on its own, is a document of Passway's origin: it gets a CSP that
/// runs nothing and loads nothing (its SVG was checked when the theme loaded, too).
fn logo(asset: &Asset, request: &HeaderMap) -> Response {
    let mut response = serve(asset, request);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"),
    );
    response
}

/// `/favicon.ico`: the default brand's logo.
pub async fn favicon(State(app): State<AppState>, headers: HeaderMap) -> Response {
    match app.brands.get(crate::branding::DEFAULT_BRAND) {
        Some(brand) => logo(&brand.logo, &headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn etags() {
        assert!(super::etag_matches("\"a\", \"b\"", "\"b\""));
        assert!(super::etag_matches("W/\"b\"", "\"b\""));
        assert!(super::etag_matches("*", "\"b\""));
        assert!(!super::etag_matches("\"c\"", "\"b\""));
    }
}
