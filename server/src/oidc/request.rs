//! Checks an authorization request, from `/oauth2/v1/authorize` or the flow API.
//!
//! The order matters (RFC 6749 §4.1.2.1): until the client and its redirect URI are
//! known good, an error must not be redirected anywhere; after, it is sent back to
//! the client.

use crate::config::{App, Config, GrantType};
use crate::engine::{AuthRequest, Prompt};

use super::{SUPPORTED_SCOPES, pkce};

/// The parameters, as received.
#[derive(Debug, Clone, Default)]
pub struct Params<'a> {
    pub client_id: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    /// `Some` only for `/authorize`; the flow API implies `code`.
    pub response_type: Option<&'a str>,
    pub response_mode: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub state: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub login_hint: Option<&'a str>,
    pub prompt: Option<&'a str>,
    pub max_age: Option<&'a str>,
    pub acr_values: Option<&'a str>,
    pub ui_locales: Option<&'a str>,
    /// RFC 8707: the API the access token is for.
    pub resource: Option<&'a str>,
    /// Request objects are not supported; their presence is an error.
    pub request: Option<&'a str>,
    pub request_uri: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// Shown to the person; never redirected.
    UnknownClient,
    /// Shown to the person; never redirected.
    BadRedirectUri,
    /// Sent back to the client's redirect URI with `error` and `state`.
    Redirect { error: &'static str, description: String },
}

impl RequestError {
    fn redirect(error: &'static str, description: impl Into<String>) -> RequestError {
        RequestError::Redirect { error, description: description.into() }
    }
}

/// A valid authorization request.
#[derive(Debug, Clone)]
pub struct Authorization<'c> {
    pub app: &'c App,
    pub request: AuthRequest,
    /// `prompt=none`: answer from the session or with an error, never with UI.
    pub no_prompt: bool,
    /// Preferred interface languages, best first (`ui_locales`).
    pub ui_locales: Vec<String>,
}

/// Longest `state`, `nonce`, `login_hint`, `acr_values` or `ui_locales` accepted.
const MAX_PARAM: usize = 1024;

pub fn validate<'c>(config: &'c Config, p: &Params<'_>) -> Result<Authorization<'c>, RequestError> {
    let app = p.client_id.and_then(|id| config.app(id)).ok_or(RequestError::UnknownClient)?;
    let redirect_uri =
        p.redirect_uri.filter(|r| app.redirect_uris.iter().any(|u| u == r)).ok_or(RequestError::BadRedirectUri)?;
    if let Some(rt) = p.response_type
        && rt != "code"
    {
        return Err(RequestError::redirect("unsupported_response_type", "only response_type=code is supported"));
    }
    if !app.allows(GrantType::AuthorizationCode) {
        return Err(RequestError::redirect(
            "unauthorized_client",
            "this client may not use the authorization code grant",
        ));
    }
    if p.response_mode.is_some_and(|m| m != "query") {
        return Err(RequestError::redirect("invalid_request", "only response_mode=query is supported"));
    }
    if p.request.is_some() {
        return Err(RequestError::redirect("request_not_supported", "request objects are not supported"));
    }
    if p.request_uri.is_some() {
        return Err(RequestError::redirect("request_uri_not_supported", "request_uri is not supported"));
    }
    let scopes = scopes(p.scope.unwrap_or("openid"))?;
    let code_challenge = pkce_challenge(app, p)?;
    let resource = match p.resource.filter(|r| !r.is_empty()) {
        None => None,
        Some(r) if config.resource_server(r).is_some() => Some(r.to_owned()),
        Some(r) => return Err(RequestError::redirect("invalid_target", format!("no API has the resource {r:?}"))),
    };
    for (name, value) in [
        ("state", p.state),
        ("nonce", p.nonce),
        ("login_hint", p.login_hint),
        ("acr_values", p.acr_values),
        ("ui_locales", p.ui_locales),
    ] {
        if value.is_some_and(|v| v.len() > MAX_PARAM) {
            return Err(RequestError::redirect("invalid_request", format!("{name} is longer than {MAX_PARAM} bytes")));
        }
    }
    let (prompt, no_prompt) = prompt(p.prompt)?;
    let max_age = match p.max_age {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| RequestError::redirect("invalid_request", "max_age must be a whole number of seconds"))?,
        ),
    };
    let non_empty = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(Authorization {
        app,
        request: AuthRequest {
            redirect_uri: redirect_uri.to_owned(),
            scope: scopes.join(" "),
            state: non_empty(p.state),
            nonce: non_empty(p.nonce),
            code_challenge,
            login_hint: non_empty(p.login_hint),
            prompt,
            max_age,
            acr_values: non_empty(p.acr_values),
            ui_locale: None,
            resource,
        },
        no_prompt,
        ui_locales: p.ui_locales.unwrap_or("").split(' ').filter(|l| !l.is_empty()).map(str::to_owned).collect(),
    })
}

/// The requested scopes, deduplicated, in order; `openid` is required.
fn scopes(scope: &str) -> Result<Vec<&str>, RequestError> {
    let mut scopes: Vec<&str> = vec![];
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !SUPPORTED_SCOPES.contains(&s) {
            return Err(RequestError::redirect(
                "invalid_scope",
                format!("unknown scope {s:?}; supported: {}", SUPPORTED_SCOPES.join(" ")),
            ));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if !scopes.contains(&"openid") {
        return Err(RequestError::redirect("invalid_scope", "scope must include openid"));
    }
    Ok(scopes)
}

/// PKCE: S256 only; required of every app, unless a confidential one opted out
/// (`require_pkce = false`; RFC 9700 §2.1.1).
fn pkce_challenge(app: &App, p: &Params<'_>) -> Result<Option<String>, RequestError> {
    let Some(challenge) = p.code_challenge else {
        if !app.require_pkce {
            return Ok(None);
        }
        return Err(RequestError::redirect("invalid_request", "code_challenge is required (PKCE with S256)"));
    };
    match p.code_challenge_method {
        Some("S256") => {}
        Some("plain") | None => {
            return Err(RequestError::redirect(
                "invalid_request",
                "code_challenge_method must be S256; plain is not allowed",
            ));
        }
        Some(other) => {
            return Err(RequestError::redirect("invalid_request", format!("unknown code_challenge_method {other:?}")));
        }
    }
    if !pkce::valid_challenge(challenge) {
        return Err(RequestError::redirect(
            "invalid_request",
            "code_challenge must be the 43-character base64url SHA-256 of the verifier",
        ));
    }
    Ok(Some(challenge.to_owned()))
}

/// `prompt` (OIDC Core §3.1.2.1): `none` alone, or any of `login`, `consent`,
/// `select_account` (one account per session here, so it changes nothing).
fn prompt(value: Option<&str>) -> Result<(Prompt, bool), RequestError> {
    let mut prompt = Prompt::default();
    let mut none = false;
    let values: Vec<&str> = value.unwrap_or("").split(' ').filter(|v| !v.is_empty()).collect();
    for v in &values {
        match *v {
            "none" => none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            other => return Err(RequestError::redirect("invalid_request", format!("unknown prompt value {other:?}"))),
        }
    }
    if none && values.len() > 1 {
        return Err(RequestError::redirect("invalid_request", "prompt=none cannot be combined with other values"));
    }
    Ok((prompt, none))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config() -> Config {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../passway.toml");
        Config::parse(
            "dev_mode = true\n[themes]\ndir = \"themes\"\n[[apps]]\nclient_id = \"shop\"\nredirect_uris = [\"https://shop.example/cb\"]\n\
             [[apps]]\nclient_id = \"backend\"\nredirect_uris = [\"https://b.example/cb\"]\n\
             client_secret_hashes = [\"sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\"]\n\
             [[apps]]\nclient_id = \"legacy\"\nredirect_uris = [\"https://l.example/cb\"]\nrequire_pkce = false\n\
             client_secret_hashes = [\"sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\"]\n\
             [[apps]]\nclient_id = \"machine\"\nredirect_uris = [\"https://m.example/cb\"]\ngrant_types = [\"client_credentials\"]\n\
             client_secret_hashes = [\"sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\"]\n",
            &dir,
        )
        .unwrap()
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params() -> Params<'static> {
        Params {
            client_id: Some("shop"),
            redirect_uri: Some("https://shop.example/cb"),
            response_type: Some("code"),
            scope: Some("openid email openid"),
            state: Some("s"),
            nonce: Some(""),
            code_challenge: Some(CHALLENGE),
            code_challenge_method: Some("S256"),
            ..Params::default()
        }
    }

    fn check(edit: impl FnOnce(&mut Params<'static>), expected: Result<&str, RequestError>) {
        let config = config();
        let mut p = params();
        edit(&mut p);
        let got = validate(&config, &p).map(|a| a.request.scope);
        assert_eq!(got.as_deref().map_err(Clone::clone), expected);
    }

    /// The OIDC extras, summarised: prompt, max_age, PKCE, locales.
    fn check_extras(edit: impl FnOnce(&mut Params<'static>), expected: Result<&str, RequestError>) {
        let config = config();
        let mut p = params();
        edit(&mut p);
        let got = validate(&config, &p).map(|a| {
            let r = &a.request;
            format!(
                "login={} consent={} none={} max_age={:?} pkce={} acr={:?} locales={:?}",
                r.prompt.login,
                r.prompt.consent,
                a.no_prompt,
                r.max_age,
                r.code_challenge.is_some(),
                r.acr_values,
                a.ui_locales
            )
        });
        assert_eq!(got.as_deref().map_err(Clone::clone), expected);
    }

    #[test]
    fn oidc_parameters() {
        let plain = "login=false consent=false none=false max_age=None pkce=true acr=None locales=[]";
        check_extras(|_| {}, Ok(plain));
        check_extras(
            |p| {
                p.prompt = Some("login consent");
                p.max_age = Some("300");
                p.acr_values = Some("urn:passway:phr");
                p.ui_locales = Some("fr-CA fr en");
            },
            Ok(
                "login=true consent=true none=false max_age=Some(300) pkce=true acr=Some(\"urn:passway:phr\") locales=[\"fr-CA\", \"fr\", \"en\"]",
            ),
        );
        check_extras(
            |p| p.prompt = Some("none"),
            Ok("login=false consent=false none=true max_age=None pkce=true acr=None locales=[]"),
        );
        check_extras(|p| p.prompt = Some("select_account"), Ok(plain));
        check_extras(
            |p| p.prompt = Some("none login"),
            Err(redirect("invalid_request", "prompt=none cannot be combined with other values")),
        );
        check_extras(|p| p.prompt = Some("bogus"), Err(redirect("invalid_request", "unknown prompt value \"bogus\"")));
        check_extras(
            |p| p.max_age = Some("-1"),
            Err(redirect("invalid_request", "max_age must be a whole number of seconds")),
        );
        // PKCE is required of every client, a confidential one too, unless it opted out.
        check_extras(
            |p| {
                p.client_id = Some("backend");
                p.redirect_uri = Some("https://b.example/cb");
                p.code_challenge = None;
            },
            Err(redirect("invalid_request", "code_challenge is required (PKCE with S256)")),
        );
        check_extras(
            |p| {
                p.client_id = Some("legacy");
                p.redirect_uri = Some("https://l.example/cb");
                p.code_challenge = None;
            },
            Ok("login=false consent=false none=false max_age=None pkce=false acr=None locales=[]"),
        );
        check_extras(
            |p| {
                p.client_id = Some("machine");
                p.redirect_uri = Some("https://m.example/cb");
            },
            Err(redirect("unauthorized_client", "this client may not use the authorization code grant")),
        );
        check_extras(
            |p| p.response_mode = Some("fragment"),
            Err(redirect("invalid_request", "only response_mode=query is supported")),
        );
        check_extras(
            |p| p.request = Some("eyJ..."),
            Err(redirect("request_not_supported", "request objects are not supported")),
        );
    }

    fn redirect(error: &'static str, description: &str) -> RequestError {
        RequestError::Redirect { error, description: description.into() }
    }

    #[test]
    fn checks_in_order() {
        check(|_| {}, Ok("openid email"));
        check(|p| p.client_id = Some("nope"), Err(RequestError::UnknownClient));
        check(|p| p.client_id = None, Err(RequestError::UnknownClient));
        check(|p| p.redirect_uri = Some("https://shop.example/cb/"), Err(RequestError::BadRedirectUri));
        check(
            |p| {
                p.redirect_uri = Some("https://evil.example/cb");
                p.response_type = Some("token")
            },
            Err(RequestError::BadRedirectUri),
        );
        check(
            |p| p.response_type = Some("token"),
            Err(redirect("unsupported_response_type", "only response_type=code is supported")),
        );
        check(|p| p.scope = Some("email"), Err(redirect("invalid_scope", "scope must include openid")));
        check(
            |p| p.scope = Some("openid admin"),
            Err(redirect(
                "invalid_scope",
                "unknown scope \"admin\"; supported: openid profile email offline_access groups",
            )),
        );
        check(
            |p| p.code_challenge = None,
            Err(redirect("invalid_request", "code_challenge is required (PKCE with S256)")),
        );
        check(
            |p| p.code_challenge_method = Some("plain"),
            Err(redirect("invalid_request", "code_challenge_method must be S256; plain is not allowed")),
        );
        check(
            |p| p.code_challenge = Some("short"),
            Err(redirect(
                "invalid_request",
                "code_challenge must be the 43-character base64url SHA-256 of the verifier",
            )),
        );
        check(|p| p.scope = None, Ok("openid"));
    }
}
