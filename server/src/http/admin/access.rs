//! What gets an account in, for operators:
//! - `GET /api/v1/admin/users/{id}/authenticators`: its passkeys, authenticator app and
//!   password (never a secret); `PATCH …/{aid}` renames a passkey; `DELETE …/{aid}`
//!   removes one (`aid`: a passkey's credential id, `totp` or `password`);
//!   `POST …/authenticators/reset` removes them all and ends its sessions, so the next
//!   sign-in (by email) enrols anew as the enrollment policy says;
//! - `GET …/{id}/sessions`, `DELETE …/{id}/sessions` (all: sessions and token
//!   families), `DELETE …/{id}/sessions/{sid}`;
//! - `GET …/{id}/tokens` (refresh token families), `DELETE …/{id}/tokens/{fid}`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::users::{account, commit, if_match, record, user_target};
use super::{Scope, authorize, store_error};
use crate::app::AppState;
use crate::authenticators::AuthenticatorKind;
use crate::engine::{EventType, LogEntry, LogOutcome, Target};
use crate::http::context::RequestContext;
use crate::http::error::AppError;
use crate::store::{AccountChange, AccountWrite, Commit};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorView {
    /// A passkey's credential id; `totp`; `password`.
    pub id: String,
    /// `passkey`, `totp` or `password`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub created: Option<String>,
    pub last_used: Option<String>,
    /// A passkey that may be synced to the person's other devices (backup eligible).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced: Option<bool>,
}

/// The account's passkeys, authenticator app and password.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}/authenticators",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = Vec<AuthenticatorView>), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn authenticators(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::UsersRead).await?;
    let account = account(&app, &id).await?;
    let id = &account.user.id;
    let mut list: Vec<AuthenticatorView> = app
        .store
        .passkeys_of(id)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|p| AuthenticatorView {
            id: p.cred_id,
            kind: "passkey".into(),
            name: p.name,
            created: Some(p.created_at.rfc3339()),
            last_used: p.last_used_at.map(|t| t.rfc3339()),
            synced: crate::authenticators::passkey::synced(&p.passkey),
        })
        .collect();
    let other = |kind: AuthenticatorKind, name: &str| AuthenticatorView {
        id: kind.key().into(),
        kind: kind.key().into(),
        name: name.into(),
        created: None,
        last_used: None,
        synced: None,
    };
    if app.store.totp(id).await.map_err(store_error)?.is_some() {
        list.push(other(AuthenticatorKind::Totp, "Authenticator app"));
    }
    if app.store.password(id).await.map_err(store_error)?.is_some() {
        list.push(other(AuthenticatorKind::Password, "Password"));
    }
    Ok(Json(list).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    pub name: String,
}

/// Renames a passkey.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}/authenticators/{aid}", request_body = Rename,
    params(("id" = String, Path, description = "The account's id"), ("aid" = String, Path, description = "The passkey's credential id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: 409 if the account changed since")),
    responses((status = 204), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn rename(
    State(app): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    Path((id, aid)): Path<(String, String)>,
    body: Result<Json<Rename>, JsonRejection>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let version = if_match(&headers)?;
    let Json(Rename { name }) = body.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let name = crate::engine::validate::text(&name, true, 64)
        .map_err(|key| AppError::bad_request("invalid_field", format!("name: {key}")))?;
    let account = account(&app, &id).await?;
    let entry = LogEntry::new(EventType::UserMfaFactorUpdate, LogOutcome::Success, "Passkey renamed by an admin")
        .target(user_target(&account))
        .target(Target::Passkey { id: aid.clone(), name: name.clone() })
        .credential(AuthenticatorKind::Passkey);
    let change = AccountChange::RenamePasskey { cred_id: aid, name };
    commit(&app, &ctx, &admin, vec![AccountWrite { user_id: id, version, at: app.clock.now(), change }], entry).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Removes a passkey (by credential id), the authenticator app (`totp`) or the password
/// (`password`).
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/authenticators/{aid}",
    params(("id" = String, Path, description = "The account's id"),
        ("aid" = String, Path, description = "A passkey's credential id, `totp` or `password`"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: 409 if the account changed since")),
    responses((status = 204), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn remove(
    State(app): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let version = if_match(&headers)?;
    let account = account(&app, &id).await?;
    let (change, kind, target) = match aid.as_str() {
        "totp" => (
            AccountChange::RemoveTotp,
            AuthenticatorKind::Totp,
            Target::Authenticator { kind: AuthenticatorKind::Totp, user_id: id.clone() },
        ),
        "password" => (
            AccountChange::RemovePassword,
            AuthenticatorKind::Password,
            Target::Authenticator { kind: AuthenticatorKind::Password, user_id: id.clone() },
        ),
        cred => (
            AccountChange::RemovePasskey { cred_id: cred.into() },
            AuthenticatorKind::Passkey,
            Target::Passkey { id: cred.into(), name: String::new() },
        ),
    };
    let entry =
        LogEntry::new(EventType::UserMfaFactorDeactivate, LogOutcome::Success, "Authenticator removed by an admin")
            .target(user_target(&account))
            .target(target)
            .credential(kind);
    commit(&app, &ctx, &admin, vec![AccountWrite { user_id: id, version, at: app.clock.now(), change }], entry).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Removes every passkey, the authenticator app and the password, and ends the
/// account's sessions and tokens: its next sign-in (by email) enrols anew.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/authenticators/reset",
    params(("id" = String, Path, description = "The account's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: 409 if the account changed since")),
    responses((status = 204), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn reset(
    State(app): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let version = if_match(&headers)?;
    let account = account(&app, &id).await?;
    let now = app.clock.now();
    let write = |version, change| AccountWrite { user_id: id.clone(), version, at: now, change };
    // The first write checks the version; the rest follow in the same transaction.
    let mut writes = vec![write(version, AccountChange::Touch)];
    for p in app.store.passkeys_of(&id).await.map_err(store_error)? {
        writes.push(write(None, AccountChange::RemovePasskey { cred_id: p.cred_id }));
    }
    if app.store.totp(&id).await.map_err(store_error)?.is_some() {
        writes.push(write(None, AccountChange::RemoveTotp));
    }
    if app.store.password(&id).await.map_err(store_error)?.is_some() {
        writes.push(write(None, AccountChange::RemovePassword));
    }
    let entry =
        LogEntry::new(EventType::UserMfaFactorResetAll, LogOutcome::Success, "Authenticators reset by an admin")
            .target(user_target(&account))
            .debug("removed", (writes.len() - 1).to_string());
    let c = Commit {
        revocations: vec![(id.clone(), now)],
        accounts: writes,
        events: vec![record(&app, &ctx, &admin, entry)],
        ..Commit::default()
    };
    app.store.commit(c).await.map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: String,
    pub created: String,
    pub last_seen: String,
    pub expires: String,
    /// The authenticators proven in it, in order.
    pub authenticators: Vec<String>,
}

/// The account's live sessions.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}/sessions", params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn sessions(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::UsersRead).await?;
    account(&app, &id).await?;
    let live = app.store.sessions_of(&id, app.clock.now()).await.map_err(store_error)?;
    let views: Vec<SessionView> = live
        .into_iter()
        .map(|s| SessionView {
            authenticators: crate::journey::sessions::decode_proofs(&s.proofs)
                .map(|p| p.iter().map(|p| p.authenticator.key().to_owned()).collect())
                .unwrap_or_default(),
            id: s.id,
            created: s.created_at.rfc3339(),
            last_seen: s.last_seen_at.rfc3339(),
            expires: s.expires_at.rfc3339(),
        })
        .collect();
    Ok(Json(views).into_response())
}

/// Ends every session and token family of the account: signed out everywhere.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/sessions", params(("id" = String, Path, description = "The account's id")),
    responses((status = 204), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn revoke_all(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let account = account(&app, &id).await?;
    let now = app.clock.now();
    let entry = LogEntry::new(EventType::UserSessionClear, LogOutcome::Success, "All sessions ended by an admin")
        .target(user_target(&account));
    let c = Commit {
        revocations: vec![(id.clone(), now)],
        accounts: vec![AccountWrite { user_id: id, version: None, at: now, change: AccountChange::Touch }],
        events: vec![record(&app, &ctx, &admin, entry)],
        ..Commit::default()
    };
    app.store.commit(c).await.map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Ends one session of the account.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/sessions/{sid}",
    params(("id" = String, Path, description = "The account's id"), ("sid" = String, Path, description = "The session's id")),
    responses((status = 204), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn revoke_session(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let account = account(&app, &id).await?;
    let entry = LogEntry::new(EventType::UserSessionClear, LogOutcome::Success, "Session ended by an admin")
        .target(user_target(&account))
        .target(Target::Session { id: sid.clone() });
    let change = AccountChange::RevokeSession { id: sid };
    commit(&app, &ctx, &admin, vec![AccountWrite { user_id: id, version: None, at: app.clock.now(), change }], entry)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FamilyView {
    pub id: String,
    pub client_id: String,
    pub created: String,
}

/// The account's refresh token families not revoked (one per sign-in to an app).
#[utoipa::path(get, path = "/api/v1/admin/users/{id}/tokens", params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = Vec<FamilyView>), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn tokens(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::UsersRead).await?;
    account(&app, &id).await?;
    let families = app.store.families_of(&id).await.map_err(store_error)?;
    let views: Vec<FamilyView> = families
        .into_iter()
        .map(|f| FamilyView { id: f.id, client_id: f.client_id, created: f.created_at.rfc3339() })
        .collect();
    Ok(Json(views).into_response())
}

/// Revokes one token family: its refresh tokens and the access tokens it issued stop working.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/tokens/{fid}",
    params(("id" = String, Path, description = "The account's id"), ("fid" = String, Path, description = "The family's id")),
    responses((status = 204), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn revoke_tokens(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let account = account(&app, &id).await?;
    let entry = LogEntry::new(EventType::UserSessionClear, LogOutcome::Success, "Token family revoked by an admin")
        .target(user_target(&account))
        .target(Target::TokenFamily { id: fid.clone() });
    let change = AccountChange::RevokeFamily { id: fid };
    commit(&app, &ctx, &admin, vec![AccountWrite { user_id: id, version: None, at: app.clock.now(), change }], entry)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
