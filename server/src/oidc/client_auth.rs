//! Client authentication at the token, revocation and introspection endpoints:
//! `client_secret_basic`, `client_secret_post`, or none for a public client
//! (RFC 6749 §2.3, OIDC Core §9).
//!
//! Client secrets are 256-bit random strings made by `passway client-secret`; only
//! their SHA-256 is configured. A fast hash suits them: unlike passwords they cannot
//! be guessed, so there is nothing for a slow hash to slow down.

use crate::config::{App, Config};
use crate::crypto::{b64url, sha256};

use super::OAuthError;

/// How the client presented itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Authorization: Basic`.
    Basic { client_id: String, secret: String },
    /// `client_id` and `client_secret` in the form.
    Post { client_id: String, secret: String },
    /// Only `client_id` in the form: a public client.
    Public { client_id: String },
}

impl Credentials {
    pub fn client_id(&self) -> &str {
        match self {
            Credentials::Basic { client_id, .. }
            | Credentials::Post { client_id, .. }
            | Credentials::Public { client_id } => client_id,
        }
    }

    /// Whether a 401 should carry `WWW-Authenticate: Basic`.
    pub fn used_basic(&self) -> bool {
        matches!(self, Credentials::Basic { .. })
    }
}

/// Reads the credentials from the `Authorization` header and the form fields.
pub fn credentials(
    authorization: Option<&str>,
    form_client_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Credentials, OAuthError> {
    let basic = authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, value)| value.trim());
    match (basic, form_secret) {
        (Some(_), Some(_)) => {
            Err(OAuthError::invalid_request("use one client authentication method, not Basic and client_secret"))
        }
        (Some(value), None) => {
            let decoded = b64_standard(value)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| OAuthError::invalid_client("the Basic credentials are not valid base64"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::invalid_client("the Basic credentials lack a ':'"))?;
            // RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
            let (client_id, secret) = (form_decode(id), form_decode(secret));
            if form_client_id.is_some_and(|f| f != client_id) {
                return Err(OAuthError::invalid_request("client_id differs from the Basic credentials"));
            }
            Ok(Credentials::Basic { client_id, secret })
        }
        (None, Some(secret)) => {
            let client_id = form_client_id.ok_or_else(|| OAuthError::invalid_client("client_id is required"))?;
            Ok(Credentials::Post { client_id: client_id.to_owned(), secret: secret.to_owned() })
        }
        (None, None) => match form_client_id {
            Some(client_id) => Ok(Credentials::Public { client_id: client_id.to_owned() }),
            None => Err(OAuthError::invalid_client("client authentication is required")),
        },
    }
}

/// The app the credentials prove, or `invalid_client`.
pub fn authenticate<'c>(config: &'c Config, credentials: &Credentials) -> Result<&'c App, OAuthError> {
    let fail = |why: &str| OAuthError::invalid_client(why).basic(credentials.used_basic());
    let app = config.app(credentials.client_id()).ok_or_else(|| fail("unknown client"))?;
    match credentials {
        Credentials::Basic { secret, .. } | Credentials::Post { secret, .. } => {
            if !app.is_confidential() {
                return Err(fail("this client is public: it has no secret to send"));
            }
            let presented = sha256(secret.as_bytes());
            if presented.matches_any(&app.client_secrets) { Ok(app) } else { Err(fail("wrong client secret")) }
        }
        Credentials::Public { .. } if app.is_confidential() => {
            Err(fail("this client is confidential: authenticate with its secret"))
        }
        Credentials::Public { .. } => Ok(app),
    }
}

/// A new client secret and the line to configure its digest.
pub fn new_secret(random: &[u8; 32]) -> (String, String) {
    let secret = b64url(random);
    let hash = format!("sha256:{}", b64url(&sha256(secret.as_bytes()).0));
    (secret, hash)
}

fn b64_standard(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(hash: &str) -> Config {
        let text = format!(
            "dev_mode = true\n[themes]\ndir = \"themes\"\n\
             [[apps]]\nclient_id = \"spa\"\nredirect_uris = [\"https://spa.example/cb\"]\n\
             [[apps]]\nclient_id = \"web.app\"\nredirect_uris = [\"https://w.example/cb\"]\n\
             client_secret_hashes = [\"sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", \"{hash}\"]\n"
        );
        Config::parse(&text, &Path::new(env!("CARGO_MANIFEST_DIR")).join("../passway.toml")).unwrap()
    }

    fn basic(id: &str, secret: &str) -> String {
        use base64::Engine as _;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
    }

    /// Authenticates and summarises: the client, or the error.
    fn check(config: &Config, auth: Option<&str>, id: Option<&str>, secret: Option<&str>, expected: &str) {
        let got = credentials(auth, id, secret).and_then(|c| authenticate(config, &c).map(|a| a.client_id.clone()));
        let got = match got {
            Ok(client) => format!("ok {client}"),
            Err(e) => format!("{} {}{}", e.status, e, if e.www_authenticate { " (Basic)" } else { "" }),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn secrets_are_made_and_checked() {
        let (secret, hash) = new_secret(&[7; 32]);
        assert_eq!(secret.len(), 43, "256 bits, base64url");
        let c = config(&hash);
        check(&c, Some(&basic("web.app", &secret)), None, None, "ok web.app");
        // Both halves are form-urlencoded before base64 (RFC 6749 §2.3.1).
        check(&c, Some(&basic("web%2Eapp", &secret)), Some("web.app"), None, "ok web.app");
        check(&c, None, Some("web.app"), Some(&secret), "ok web.app");
        check(&c, Some(&basic("web.app", "nope")), None, None, "401 invalid_client: wrong client secret (Basic)");
        check(&c, Some(&basic("web.app", "no+pe")), None, None, "401 invalid_client: wrong client secret (Basic)");
        check(&c, None, Some("web.app"), Some("nope"), "401 invalid_client: wrong client secret");
        check(
            &c,
            None,
            Some("web.app"),
            None,
            "401 invalid_client: this client is confidential: authenticate with its secret",
        );
        check(&c, None, Some("spa"), None, "ok spa");
        check(&c, None, Some("spa"), Some("x"), "401 invalid_client: this client is public: it has no secret to send");
        check(&c, None, Some("ghost"), None, "401 invalid_client: unknown client");
        check(&c, None, None, None, "401 invalid_client: client authentication is required");
        check(
            &c,
            Some(&basic("web.app", &secret)),
            Some("web.app"),
            Some(&secret),
            "400 invalid_request: use one client authentication method, not Basic and client_secret",
        );
        check(
            &c,
            Some(&basic("web.app", &secret)),
            Some("spa"),
            None,
            "400 invalid_request: client_id differs from the Basic credentials",
        );
        check(&c, Some("Basic !!!"), None, None, "401 invalid_client: the Basic credentials are not valid base64");
    }
}
