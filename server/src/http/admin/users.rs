//! Accounts, for operators:
//! - `GET /api/v1/admin/users?q=&status=&group=&after=&limit=`: search by email prefix,
//!   status and store group, a page at a time (`next` is the cursor of the following page);
//! - `POST /api/v1/admin/users`: create an account for a (trusted) address;
//! - `GET /api/v1/admin/users/{id}`: one account, with its groups and an `ETag`;
//! - `PATCH /api/v1/admin/users/{id}`: profile attributes, checked against the schema;
//! - `POST …/{id}/lifecycle/deactivate|reactivate`: a deactivated account signs in
//!   nowhere, and its sessions and tokens end;
//! - `DELETE …/{id}`: erasure (GDPR);
//! - `POST …/{id}/unlock`: lift the address's lockouts.
//!
//! A write may send `If-Match` with the ETag it read: if the account changed since, it
//! gets 409 `version_conflict` and nothing is written. Each write is one store commit
//! with its log event.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Scope, authorize, store_error};
use crate::app::AppState;
use crate::authenticators::{AuthenticatorKind, lockout};
use crate::crypto::{SystemEntropy, uuid_v4};
use crate::engine::{AdminActor, EventType, LogEntry, LogOutcome, NewUser, Target, validate};
use crate::http::context::RequestContext;
use crate::http::error::AppError;
use crate::store::{Account, AccountChange, AccountQuery, AccountStatus, AccountWrite, Commit};

/// An account as the admin API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub status: AccountStatus,
    pub profile: BTreeMap<String, String>,
    /// Store groups, then the config file's (by address or domain); only on a single
    /// account's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    pub created: String,
    pub last_updated: String,
    /// Also the `ETag`.
    pub version: i64,
}

impl UserView {
    pub fn of(a: &Account) -> UserView {
        UserView {
            id: a.user.id.clone(),
            email: a.user.email.clone(),
            status: a.status,
            profile: a.user.profile.clone(),
            groups: None,
            created: a.created_at.rfc3339(),
            last_updated: a.updated_at.rfc3339(),
            version: a.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub users: Vec<UserView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Email prefix.
    q: Option<String>,
    status: Option<AccountStatus>,
    /// A store group's name.
    group: Option<String>,
    /// The cursor from the previous page's `next`.
    after: Option<String>,
    /// 1 to 200; 50 when absent.
    limit: Option<u32>,
}

/// Finds accounts by email prefix, status and store group.
#[utoipa::path(get, path = "/api/v1/admin/users", params(SearchQuery),
    responses((status = 200, body = UserPage), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError)))]
pub async fn search(
    State(app): State<AppState>,
    ctx: RequestContext,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::UsersRead).await?;
    let Query(q) = query.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let prefix = q.q.unwrap_or_default().trim().to_lowercase();
    let query = AccountQuery {
        email_prefix: &prefix,
        status: q.status,
        group: q.group.as_deref(),
        after: q.after.as_deref(),
        limit: page_limit(q.limit)?,
    };
    page(&app, query).await
}

/// A page's size: 1 to 200, 50 when not given.
pub(super) fn page_limit(limit: Option<u32>) -> Result<u32, AppError> {
    match limit.unwrap_or(50) {
        limit @ 1..=200 => Ok(limit),
        _ => Err(AppError::bad_request("invalid_request", "limit: from 1 to 200")),
    }
}

/// A page of the accounts `query` finds, with the cursor of the next one (one more is
/// read to know whether there is one).
pub(super) async fn page(app: &AppState, query: AccountQuery<'_>) -> Result<Response, AppError> {
    let limit = query.limit as usize;
    let mut found = app.store.accounts(&AccountQuery { limit: query.limit + 1, ..query }).await.map_err(store_error)?;
    let more = found.len() > limit;
    found.truncate(limit);
    let next = if more { found.last().map(|a| a.user.email.clone()) } else { None };
    Ok(Json(UserPage { users: found.iter().map(UserView::of).collect(), next }).into_response())
}

/// An account, with its groups; its version is the `ETag`.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = UserView), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn get(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::UsersRead).await?;
    let account = account(&app, &id).await?;
    answer(&app, &account, StatusCode::OK).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub email: String,
    #[serde(default)]
    pub profile: BTreeMap<String, String>,
}

/// Creates an account for an address the operator vouches for (it is not sent a
/// code: its first sign-in proves it).
#[utoipa::path(post, path = "/api/v1/admin/users", request_body = NewAccount,
    responses((status = 201, body = UserView), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn create(
    State(app): State<AppState>,
    ctx: RequestContext,
    body: Result<Json<NewAccount>, JsonRejection>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let Json(new) = body.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let email = validate::email(&new.email)
        .map_err(|_| AppError::bad_request("invalid_field", "email: not an email address"))?;
    let now = app.clock.now();
    let changes = new.profile.into_iter().map(|(k, v)| (k, Some(v))).collect();
    let profile = crate::engine::profile_change::checked(&app.config.engine.profile, &BTreeMap::new(), &changes, now)
        .map_err(|(field, why)| AppError::bad_request("invalid_field", format!("profile.{field}: {why}")))?;
    if let Some(missing) = app
        .config
        .engine
        .profile
        .attributes
        .iter()
        .find(|a| a.required && a.name != "email" && !profile.contains_key(&a.name))
    {
        return Err(AppError::bad_request("invalid_field", format!("profile.{}: required", missing.name)));
    }
    let id = uuid_v4(&mut SystemEntropy);
    let entry =
        LogEntry::new(EventType::UserLifecycleCreateByAdmin, LogOutcome::Success, "Account created by an admin")
            .target(Target::User { id: id.clone(), email: email.clone() });
    let commit = Commit {
        users: vec![NewUser { id: id.clone(), email, profile, created_at: now }],
        events: vec![record(&app, &ctx, &admin, entry)],
        ..Commit::default()
    };
    app.store.commit(commit).await.map_err(store_error)?;
    answer(&app, &account(&app, &id).await?, StatusCode::CREATED).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// Attributes to set; `null` removes one.
    pub profile: BTreeMap<String, Option<String>>,
}

/// Changes profile attributes (checked against the profile schema; `email` is the
/// account's identifier and is not changed here).
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", request_body = ProfileChange,
    params(("id" = String, Path, description = "The account's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: 409 if the account changed since")),
    responses((status = 200, body = UserView), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn update(
    State(app): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<ProfileChange>, JsonRejection>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let version = if_match(&headers)?;
    let Json(change) = body.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let account = account(&app, &id).await?;
    let now = app.clock.now();
    let profile =
        crate::engine::profile_change::checked(&app.config.engine.profile, &account.user.profile, &change.profile, now)
            .map_err(|(field, why)| AppError::bad_request("invalid_field", format!("profile.{field}: {why}")))?;
    let names: Vec<&str> = change.profile.keys().map(String::as_str).collect();
    let entry =
        LogEntry::new(EventType::UserAccountUpdateProfileByAdmin, LogOutcome::Success, "Profile changed by an admin")
            .target(user_target(&account))
            .debug("attributes", names.join(","));
    let write = AccountWrite { user_id: id.clone(), version, at: now, change: AccountChange::Profile(profile) };
    commit(&app, &ctx, &admin, vec![write], entry).await?;
    answer(&app, &self::account(&app, &id).await?, StatusCode::OK).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub email: String,
    /// The app whose registration the link opens (its brand, its form).
    pub app: String,
}

/// Invites an address to an app: an email with a link (7 days) to a registration bound
/// to it, in the app's brand, even if the app takes no sign-ups.
#[utoipa::path(post, path = "/api/v1/admin/users/invitations", request_body = Invitation,
    responses((status = 202, body = Object), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn invite(
    State(app): State<AppState>,
    ctx: RequestContext,
    body: Result<Json<Invitation>, JsonRejection>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let Json(invitation) = body.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let email = validate::email(&invitation.email)
        .map_err(|_| AppError::bad_request("invalid_field", "email: not an email address"))?;
    let Some(client) = app.config.app(&invitation.app).filter(|a| a.client_id != crate::config::CONSOLE_CLIENT_ID)
    else {
        return Err(AppError::bad_request("invalid_field", "app: no such app"));
    };
    if app.store.user_by_email(&email).await.map_err(store_error)?.is_some() {
        return Err(AppError::new(StatusCode::CONFLICT, "duplicate", "an account with this email already exists"));
    }
    let now = app.clock.now();
    let link = crate::http::invite::link(&app, &client.client_id, &email, now);
    let brand = app.brands.get(&client.brand).ok_or_else(|| AppError::internal("the app's brand is not loaded"))?;
    let logo_url = format!("{}/themes/{}/{}", app.issuer, brand.id, brand.logo_file);
    let email_out = crate::mail::template::InvitationEmail {
        to: &email,
        app_name: &client.name,
        logo_url: &logo_url,
        locale: &ctx.locale,
        link: &link,
    };
    let rendered =
        crate::mail::template::render_invitation(&email_out, &brand, &app.brands.texts(&brand.id, &ctx.locale));
    let entry = LogEntry::new(EventType::UserLifecycleInvite, LogOutcome::Success, "Address invited by an admin")
        .target(Target::User { id: email.clone(), email: email.clone() })
        .debug("app", client.client_id.clone());
    let mut commit = Commit { events: vec![record(&app, &ctx, &admin, entry)], ..Commit::default() };
    crate::journey::outbox(&app, &mut commit, rendered, now);
    app.store.commit(commit).await.map_err(store_error)?;
    app.delivery.committed();
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "email": email, "app": client.client_id }))).into_response())
}

/// Deactivates an account: it signs in nowhere, and its sessions and tokens end.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/lifecycle/deactivate",
    params(("id" = String, Path, description = "The account's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: 409 if the account changed since")),
    responses((status = 200, body = UserView), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn deactivate(
    State(app): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    set_status(app, ctx, headers, id, AccountStatus::Deactivated).await
}

/// Lets a deactivated account sign in again (its old sessions stay ended).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/lifecycle/reactivate",
    params(("id" = String, Path, description = "The account's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: 409 if the account changed since")),
    responses((status = 200, body = UserView), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn reactivate(
    State(app): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    set_status(app, ctx, headers, id, AccountStatus::Active).await
}

async fn set_status(
    app: AppState,
    ctx: RequestContext,
    headers: HeaderMap,
    id: String,
    status: AccountStatus,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let version = if_match(&headers)?;
    let account = account(&app, &id).await?;
    if account.status == status {
        // Already so: nothing to write, nothing to log.
        return answer(&app, &account, StatusCode::OK).await;
    }
    let now = app.clock.now();
    let (event, message) = match status {
        AccountStatus::Deactivated => (EventType::UserLifecycleDeactivate, "Account deactivated by an admin"),
        AccountStatus::Active => (EventType::UserLifecycleReactivate, "Account reactivated by an admin"),
    };
    let entry = LogEntry::new(event, LogOutcome::Success, message).target(user_target(&account));
    let write = AccountWrite { user_id: id.clone(), version, at: now, change: AccountChange::Status(status) };
    let mut c = Commit { accounts: vec![write], ..Commit::default() };
    if status == AccountStatus::Deactivated {
        c.revocations.push((id.clone(), now));
    }
    c.events.push(record(&app, &ctx, &admin, entry));
    app.store.commit(c).await.map_err(store_error)?;
    answer(&app, &self::account(&app, &id).await?, StatusCode::OK).await
}

/// Erases an account (GDPR): its profile, authenticators, sessions, tokens, known
/// browsers, group memberships and dev outbox mail go; the system log keeps its id, not
/// its address.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}",
    params(("id" = String, Path, description = "The account's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: 409 if the account changed since")),
    responses((status = 204), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn erase(
    State(app): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let version = if_match(&headers)?;
    let account = account(&app, &id).await?;
    let now = app.clock.now();
    let email = account.user.email.clone();
    // The event names the account by id only: the erasure reaches every earlier event.
    let entry = LogEntry::new(EventType::UserLifecycleDelete, LogOutcome::Success, "Account erased by an admin")
        .target(Target::User { id: id.clone(), email: crate::store::ERASED.into() });
    let subject = lockout::subject_key(&app.keyring, &email);
    let c = Commit {
        // Its lockout counts are keyed by the address: they go too.
        cleared_lockouts: AuthenticatorKind::ALL.iter().map(|k| (subject, *k)).collect(),
        accounts: vec![AccountWrite { user_id: id, version, at: now, change: AccountChange::Erase { email } }],
        events: vec![record(&app, &ctx, &admin, entry)],
        ..Commit::default()
    };
    app.store.commit(c).await.map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Lifts the lockouts of the account's address (wrong passwords, codes).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/unlock", params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = UserView), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn unlock(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::UsersManage).await?;
    let account = account(&app, &id).await?;
    let subject = lockout::subject_key(&app.keyring, &account.user.email);
    let entry = LogEntry::new(EventType::UserAccountUnlock, LogOutcome::Success, "Address unlocked by an admin")
        .target(user_target(&account));
    let c = Commit {
        cleared_lockouts: AuthenticatorKind::ALL.iter().map(|k| (subject, *k)).collect(),
        events: vec![record(&app, &ctx, &admin, entry)],
        ..Commit::default()
    };
    app.store.commit(c).await.map_err(store_error)?;
    answer(&app, &account, StatusCode::OK).await
}

/// The account `id`, or 404.
pub(super) async fn account(app: &AppState, id: &str) -> Result<Account, AppError> {
    app.store.account(id).await.map_err(store_error)?.ok_or_else(|| AppError::not_found("no such account"))
}

pub(super) fn user_target(a: &Account) -> Target {
    Target::User { id: a.user.id.clone(), email: a.user.email.clone() }
}

/// The log event of an admin's action.
pub(super) fn record(
    app: &AppState,
    ctx: &RequestContext,
    admin: &AdminActor,
    entry: LogEntry,
) -> crate::store::StoredEvent {
    let entry = entry.by_admin(admin.clone());
    app.events.record(&entry, &crate::events::Context::request(&ctx.client), app.clock.now())
}

/// Writes account changes with their log event, in one commit.
pub(super) async fn commit(
    app: &AppState,
    ctx: &RequestContext,
    admin: &AdminActor,
    accounts: Vec<AccountWrite>,
    entry: LogEntry,
) -> Result<(), AppError> {
    let c = Commit { accounts, events: vec![record(app, ctx, admin, entry)], ..Commit::default() };
    app.store.commit(c).await.map_err(store_error)
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`), if any.
pub(super) fn if_match(headers: &HeaderMap) -> Result<Option<i64>, AppError> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| AppError::bad_request("invalid_request", "If-Match: expected the ETag of the account, e.g. \"3\""))
}

/// An account with its groups and its `ETag`.
pub(super) async fn answer(app: &AppState, a: &Account, status: StatusCode) -> Result<Response, AppError> {
    let mut view = UserView::of(a);
    let mut groups = app.store.standing(&a.user.id).await.map_err(store_error)?.1;
    groups.extend(app.config.engine.groups.of(&a.user.email));
    view.groups = Some(groups);
    let mut response = (status, Json(view)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", a.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}
