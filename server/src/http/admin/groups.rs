//! Groups, for operators:
//! - `GET /api/v1/admin/groups`: the store's groups and the config file's (by address
//!   or domain, read-only here);
//! - `POST /api/v1/admin/groups`, `DELETE /api/v1/admin/groups/{name}`;
//! - `GET /api/v1/admin/groups/{name}/users`, `PUT|DELETE …/users/{id}`.
//!
//! Sign-on, enrollment and session rules name groups declared in the config file
//! (`[groups.NAME]`, members optional); a store group of that name adds its members.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::users::{UserPage, account, commit, page, page_limit, record, user_target};
use super::{Scope, authorize, store_error};
use crate::app::AppState;
use crate::engine::{EventType, LogEntry, LogOutcome, Target};
use crate::http::context::RequestContext;
use crate::http::error::AppError;
use crate::store::{AccountChange, AccountQuery, AccountWrite, Commit, GroupWrite};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub name: String,
    /// `store` (managed here) or `config` (the config file's, by address or domain).
    pub source: String,
    pub description: String,
    /// Members in the store (a config group's are its addresses and domains).
    pub members: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

/// Every group: the store's and the config file's.
#[utoipa::path(get, path = "/api/v1/admin/groups",
    responses((status = 200, body = Vec<GroupView>), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn list(State(app): State<AppState>, ctx: RequestContext) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::UsersRead).await?;
    let mut views: Vec<GroupView> = app
        .store
        .groups()
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|g| GroupView {
            name: g.name,
            source: "store".into(),
            description: g.description,
            members: g.members,
            created: Some(g.created_at.rfc3339()),
        })
        .collect();
    for (name, m) in &app.config.engine.groups.0 {
        views.push(GroupView {
            name: name.clone(),
            source: "config".into(),
            description: format!("{} addresses, {} domains (config file)", m.emails.len(), m.domains.len()),
            members: 0,
            created: None,
        });
    }
    Ok(Json(views).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// 1 to 64 letters, digits, `_`, `-` or `.`.
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Creates a group in the store.
#[utoipa::path(post, path = "/api/v1/admin/groups", request_body = NewGroup,
    responses((status = 201, body = GroupView), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError)))]
pub async fn create(
    State(app): State<AppState>,
    ctx: RequestContext,
    body: Result<Json<NewGroup>, JsonRejection>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::GroupsManage).await?;
    let Json(new) = body.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    if !crate::groups::valid_name(&new.name) {
        return Err(AppError::bad_request("invalid_field", "name: 1 to 64 letters, digits, _, - or ."));
    }
    let description = crate::engine::validate::text(&new.description, false, 200)
        .map_err(|key| AppError::bad_request("invalid_field", format!("description: {key}")))?;
    let now = app.clock.now();
    let entry = LogEntry::new(EventType::GroupLifecycleCreate, LogOutcome::Success, "Group created")
        .target(Target::Group { name: new.name.clone() });
    let c = Commit {
        groups: vec![GroupWrite::Create { name: new.name.clone(), description: description.clone(), at: now }],
        events: vec![record(&app, &ctx, &admin, entry)],
        ..Commit::default()
    };
    app.store.commit(c).await.map_err(store_error)?;
    let view =
        GroupView { name: new.name, source: "store".into(), description, members: 0, created: Some(now.rfc3339()) };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Deletes a store group and its memberships.
#[utoipa::path(delete, path = "/api/v1/admin/groups/{name}", params(("name" = String, Path, description = "The group's name")),
    responses((status = 204), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn delete(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::GroupsManage).await?;
    let entry = LogEntry::new(EventType::GroupLifecycleDelete, LogOutcome::Success, "Group deleted")
        .target(Target::Group { name: name.clone() });
    let c = Commit {
        groups: vec![GroupWrite::Delete { name }],
        events: vec![record(&app, &ctx, &admin, entry)],
        ..Commit::default()
    };
    app.store.commit(c).await.map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    /// The cursor from the previous page's `next`.
    after: Option<String>,
    /// 1 to 200; 50 when absent.
    limit: Option<u32>,
}

/// A store group's members, a page at a time.
#[utoipa::path(get, path = "/api/v1/admin/groups/{name}/users",
    params(("name" = String, Path, description = "The group's name"), MembersQuery),
    responses((status = 200, body = UserPage), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError)))]
pub async fn members(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(name): Path<String>,
    query: Result<Query<MembersQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::UsersRead).await?;
    let Query(q) = query.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let limit = page_limit(q.limit)?;
    if !app.store.groups().await.map_err(store_error)?.iter().any(|g| g.name == name) {
        return Err(AppError::not_found("no such group in the store"));
    }
    let query = AccountQuery { email_prefix: "", status: None, group: Some(&name), after: q.after.as_deref(), limit };
    page(&app, query).await
}

/// Adds an account to a store group (adding it twice is adding it once).
#[utoipa::path(put, path = "/api/v1/admin/groups/{name}/users/{id}",
    params(("name" = String, Path, description = "The group's name"), ("id" = String, Path, description = "The account's id")),
    responses((status = 204), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn add(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    membership(app, ctx, name, id, true).await
}

/// Removes an account from a store group.
#[utoipa::path(delete, path = "/api/v1/admin/groups/{name}/users/{id}",
    params(("name" = String, Path, description = "The group's name"), ("id" = String, Path, description = "The account's id")),
    responses((status = 204), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn remove(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    membership(app, ctx, name, id, false).await
}

async fn membership(
    app: AppState,
    ctx: RequestContext,
    group: String,
    id: String,
    join: bool,
) -> Result<Response, AppError> {
    let admin = authorize(&app, &ctx, Scope::GroupsManage).await?;
    let account = account(&app, &id).await?;
    let (event, message, change) = if join {
        (EventType::GroupMembershipAdd, "Added to a group", AccountChange::JoinGroup { group: group.clone() })
    } else {
        (EventType::GroupMembershipRemove, "Removed from a group", AccountChange::LeaveGroup { group: group.clone() })
    };
    let entry = LogEntry::new(event, LogOutcome::Success, message)
        .target(user_target(&account))
        .target(Target::Group { name: group });
    commit(&app, &ctx, &admin, vec![AccountWrite { user_id: id, version: None, at: app.clock.now(), change }], entry)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
