//! Authorization request parameters (`/authorize`, the flow API): any values are
//! checked in order and refused or accepted, never a panic; an accepted request always
//! names a registered redirect URI.

use std::sync::LazyLock;

use passway_server::config::Config;
use passway_server::oidc::request::{Params, validate};

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let themes = concat!(env!("CARGO_MANIFEST_DIR"), "/../../themes");
    let text = format!(
        "dev_mode = true\n[themes]\ndir = \"{themes}\"\n[[apps]]\nclient_id = \"shop\"\nredirect_uris = [\"https://shop.example/cb\"]\n\
         [[apps]]\nclient_id = \"backend\"\nredirect_uris = [\"https://b.example/cb\"]\nrequire_pkce = false\n\
         client_secret_hashes = [\"sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\"]\n\
         [[apps]]\nclient_id = \"api\"\ngrant_types = [\"client_credentials\"]\nresource = \"https://api.example\"\n\
         client_secret_hashes = [\"sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\"]\n"
    );
    Config::parse(&text, std::path::Path::new("/nonexistent/passway.toml")).expect("the fuzz config is valid")
});

/// One input: returns normally or panics (a finding).
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Fields separated by NUL, in this order; an empty field is an absent parameter.
    let mut f = text.split('\0').map(|s| if s.is_empty() { None } else { Some(s) });
    let mut next = || f.next().flatten();
    let params = Params {
        client_id: next(),
        redirect_uri: next(),
        response_type: next(),
        response_mode: next(),
        scope: next(),
        state: next(),
        nonce: next(),
        code_challenge: next(),
        code_challenge_method: next(),
        login_hint: next(),
        prompt: next(),
        max_age: next(),
        acr_values: next(),
        ui_locales: next(),
        resource: next(),
        request: next(),
        request_uri: next(),
    };
    if let Ok(a) = validate(&CONFIG, &params) {
        assert!(a.app.redirect_uris.contains(&a.request.redirect_uri), "an unregistered redirect_uri was accepted");
        assert!(a.request.scope.split(' ').any(|s| s == "openid"));
    }
}
