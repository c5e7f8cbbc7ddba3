//! `GET /api/v1/logs`: the system log, with Okta's parameters (`since`, `until`,
//! `limit`, `sortOrder`, `filter`, `q`) and its paging: the next page's URL is in a
//! `Link: <…>; rel="next"` header. Without `until`, ascending pages always have a next
//! link, which returns the events that arrived since (polling).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Scope, authorize};
use crate::app::AppState;
use crate::events::filter::Filter;
use crate::events::query::{self, LogQuery};
use crate::http::context::RequestContext;
use crate::http::error::AppError;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// RFC 3339 instant, or a duration before now such as `1h` (default: 7 days before `until`).
    since: Option<String>,
    /// RFC 3339 instant or duration before now; without it, ascending pages poll.
    until: Option<String>,
    /// 1–1000, default 100.
    limit: Option<u32>,
    /// `ASCENDING` (default) or `DESCENDING`.
    #[serde(rename = "sortOrder")]
    sort_order: Option<String>,
    /// Okta's SCIM subset: `eq`, `sw`, `co`, `and`, `or`, parentheses.
    filter: Option<String>,
    /// Keywords, space-separated: every one must appear in the event.
    q: Option<String>,
    /// The cursor, from a `next` link.
    after: Option<i64>,
}

/// The system log: LogEvent objects in a JSON array, a page at a time (admin bearer token).
#[utoipa::path(get, path = "/api/v1/logs", params(LogParams),
    responses((status = 200, description = "LogEvent objects; `Link: <…>; rel=\"next\"` when there is (or may be, polling) more", body = Vec<Object>),
        (status = 400, body = passway_protocol::ApiError), (status = 401, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError)))]
pub async fn list(
    State(app): State<AppState>,
    ctx: RequestContext,
    params: Result<Query<LogParams>, QueryRejection>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::LogsRead).await?;
    let Query(p) = params.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let now = app.clock.now();
    let bad = |message: String| AppError::bad_request("invalid_request", message);
    let instant = |name: &str, v: &Option<String>| {
        v.as_deref().map(|t| query::parse_instant(t, now).map_err(|e| bad(format!("{name}: {e}")))).transpose()
    };
    let descending = match p.sort_order.as_deref() {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(other) => return Err(bad(format!("sortOrder must be ASCENDING or DESCENDING, not {other:?}"))),
    };
    let limit = p.limit.unwrap_or(query::DEFAULT_LIMIT);
    if !(1..=query::MAX_LIMIT).contains(&limit) {
        return Err(bad(format!("limit must be between 1 and {}", query::MAX_LIMIT)));
    }
    let q = LogQuery {
        since: instant("since", &p.since)?,
        until: instant("until", &p.until)?,
        after: p.after,
        limit,
        descending,
        filter: p.filter.as_deref().map(Filter::parse).transpose().map_err(|e| bad(e.to_string()))?,
        keywords: p.q.as_deref().unwrap_or("").split_whitespace().map(str::to_owned).collect(),
    };
    let page = query::page(&*app.store, &q, now).await.map_err(AppError::internal)?;
    let body = format!("[{}]", page.events.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>().join(","));
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let link = |after: Option<i64>, rel: &str| {
        let mut url = url::Url::parse(&format!("{}/api/v1/logs", app.issuer)).expect("the issuer is a URL");
        {
            let mut pairs = url.query_pairs_mut();
            // Absolute instants, so that a link means the same later.
            if let Some(since) = q.since.or(page.since) {
                pairs.append_pair("since", &since.rfc3339_millis());
            }
            if let Some(until) = q.until {
                pairs.append_pair("until", &until.rfc3339_millis());
            }
            pairs.append_pair("limit", &limit.to_string());
            if descending {
                pairs.append_pair("sortOrder", "DESCENDING");
            }
            for (name, value) in [("filter", &p.filter), ("q", &p.q)] {
                if let Some(value) = value {
                    pairs.append_pair(name, value);
                }
            }
            if let Some(after) = after {
                pairs.append_pair("after", &after.to_string());
            }
        }
        format!("<{url}>; rel=\"{rel}\"")
    };
    let mut links = vec![link(q.after, "self")];
    if page.next.is_some() || q.polling() {
        links.push(link(page.next, "next"));
    }
    for l in links {
        headers.append(header::LINK, HeaderValue::from_str(&l).map_err(AppError::internal)?);
    }
    Ok(response)
}
