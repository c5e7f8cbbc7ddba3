//! The token service: the token endpoint's grants (one file each), and the endpoints
//! that read or end tokens (userinfo, introspection, revocation). This is the shell
//! around `oidc`'s pure checks: it authenticates the client, reads and writes the
//! store, signs, and logs. HTTP handlers only parse and present.
//!
//! Invariants:
//! - a refresh token, a code and a client secret are stored only as SHA-256 digests;
//! - everything one authorization code led to is one token family, revoked together
//!   when the code is replayed or a used refresh token comes back;
//! - `client_credentials` touches no store: it is checked and signed in memory.

pub mod access;
mod authorization_code;
mod client_credentials;
mod hook;
mod introspection;
mod refresh_token;
mod revocation;
mod userinfo;

pub use access::{AccessToken, Audience, verify_access_token};
pub use introspection::introspect;
pub use revocation::revoke;
pub use userinfo::{UserinfoError, userinfo};

use crate::app::AppState;
use crate::config::{App, GrantType};
use crate::crypto::{SystemEntropy, random_token};
use crate::engine::{EventType, Grant, LogEntry, LogOutcome, Timestamp, User};
use crate::events::{self, ClientInfo};
use crate::oidc::claims::{self, AccessTokenInput, IdTokenInput};
use crate::oidc::client_auth::{self, Credentials};
use crate::oidc::token::{TokenRequest, TokenResponse};
use crate::oidc::{OAuthError, claims::ACCESS_TOKEN_TYP};
use crate::store::{StoreError, StoredEvent};

/// Who is calling, for checks and the system log.
pub struct Caller<'a> {
    pub client: &'a ClientInfo,
    /// The browser's `Origin`, when a web page calls.
    pub origin: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
}

/// `POST /oauth2/v1/token`.
pub async fn token(app: &AppState, caller: &Caller<'_>, req: TokenRequest) -> Result<TokenResponse, OAuthError> {
    let grant_type = req.grant_type.as_deref().ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let grant = match grant_type {
        "authorization_code" => GrantType::AuthorizationCode,
        "refresh_token" => GrantType::RefreshToken,
        "client_credentials" => GrantType::ClientCredentials,
        other => {
            return Err(OAuthError::new("unsupported_grant_type", format!("grant_type {other:?} is not supported")));
        }
    };
    let client = authenticate(app, caller, req.client_id.as_deref(), req.client_secret.as_deref())?;
    if !client.allows(grant) {
        return Err(OAuthError::unauthorized_client(format!("this client may not use the {} grant", grant.name())));
    }
    match grant {
        GrantType::AuthorizationCode => authorization_code::exchange(app, caller, client, &req).await,
        GrantType::RefreshToken => refresh_token::exchange(app, caller, client, &req).await,
        GrantType::ClientCredentials => client_credentials::exchange(app, client, &req),
    }
}

/// The client the request authenticates, from a web origin it allows.
pub fn authenticate<'a>(
    app: &'a AppState,
    caller: &Caller<'_>,
    client_id: Option<&str>,
    secret: Option<&str>,
) -> Result<&'a App, OAuthError> {
    let credentials: Credentials = client_auth::credentials(caller.authorization, client_id, secret)?;
    let client = client_auth::authenticate(&app.config, &credentials)?;
    if let Some(origin) = caller.origin
        && !client.allows_origin(origin, &app.issuer)
    {
        return Err(OAuthError::invalid_request("this web origin is not allowed for the client"));
    }
    Ok(client)
}

/// The groups an account is in (the config file's by address, the store's), looked up
/// only when `scope` asks for them.
pub(crate) async fn groups_claim(app: &AppState, scope: &str, user: &User) -> Result<Vec<String>, OAuthError> {
    if !scope.split(' ').any(|s| s == "groups") || user.email.is_empty() {
        return Ok(vec![]);
    }
    let mut groups = app.config.engine.groups.of(&user.email);
    groups.extend(app.store.standing(&user.id).await.map_err(store_error)?.1);
    Ok(groups.into_iter().collect())
}

/// What an account's tokens are made of.
struct UserTokens<'a> {
    client: &'a App,
    /// The access token's `aud` (see `oidc::token::user_audience`).
    audience: &'a [String],
    grant: &'a Grant,
    user: &'a User,
    /// Its groups, when the `groups` scope was granted (see [`groups_claim`]).
    groups: &'a [String],
    family: &'a str,
    refresh_token: Option<String>,
    /// Only the answer to the authorization request repeats its `nonce`.
    with_nonce: bool,
    now: Timestamp,
    /// Claims the app's token hook added.
    extra: &'a hook::ExtraClaims,
}

fn sign_user_tokens(app: &AppState, t: UserTokens<'_>) -> TokenResponse {
    let keys = app.keys.get();
    let lifetimes = &app.config.lifetimes;
    let alg = t.client.signing_alg;
    let jti = random_token(&mut SystemEntropy, 16);
    let access = AccessTokenInput {
        issuer: &app.issuer,
        audience: t.audience,
        subject: &t.user.id,
        client_id: &t.client.client_id,
        scope: &t.grant.scope,
        now: t.now,
        lifetime: lifetimes.access_token,
        jti: &jti,
        auth_time: Some(t.grant.auth_time),
        family: Some(t.family),
    };
    let mut access_claims = claims::access_token(&access);
    crate::hooks::inline::add_claims(&mut access_claims, &t.extra.access_token);
    let access_token = keys.sign(alg, t.now, ACCESS_TOKEN_TYP, &access_claims);
    let id = IdTokenInput {
        issuer: &app.issuer,
        grant: t.grant,
        user: t.user,
        groups: t.groups,
        now: t.now,
        lifetime: lifetimes.id_token,
        access_token: &access_token,
        with_nonce: t.with_nonce,
    };
    let mut id_claims = claims::id_token(&id);
    crate::hooks::inline::add_claims(&mut id_claims, &t.extra.id_token);
    let id_token = keys.sign(alg, t.now, "JWT", &id_claims);
    TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: lifetimes.access_token.as_secs(),
        id_token: Some(id_token),
        refresh_token: t.refresh_token,
        scope: t.grant.scope.clone(),
    }
}

/// The userinfo endpoint: in the `aud` of every access token of an OpenID sign-in.
pub fn userinfo_url(issuer: &str) -> String {
    format!("{issuer}/oauth2/v1/userinfo")
}

/// A refresh token for a grant, if it asked for `offline_access` and the client may
/// refresh.
fn refresh_token_for(client: &App, scope: &str) -> Option<String> {
    let offline = scope.split(' ').any(|s| s == "offline_access");
    (offline && client.allows(GrantType::RefreshToken)).then(|| random_token(&mut SystemEntropy, 32))
}

#[allow(clippy::too_many_arguments)]
fn log(
    app: &AppState,
    event_type: EventType,
    outcome: LogOutcome,
    user: Option<&User>,
    message: &str,
    client_id: &str,
    caller: &Caller<'_>,
    now: Timestamp,
) -> StoredEvent {
    let mut entry = LogEntry::new(event_type, outcome, message);
    if let Some(u) = user {
        entry = entry.actor(u.id.clone(), u.email.clone());
    }
    let ctx = events::Context::request(caller.client).app(client_id);
    app.events.record(&entry, &ctx, now)
}

fn store_error(e: StoreError) -> OAuthError {
    tracing::error!(error = %e, "token service store error");
    OAuthError::server_error()
}

fn corrupt(what: &str, e: serde_json::Error) -> OAuthError {
    store_error(StoreError::Corrupt(format!("{what}: {e}")))
}
