//! `/oauth2/v1/userinfo` (OIDC Core §5.3): the claims of the account an access token
//! was issued for, as far as its scopes release them.

use serde_json::{Map, Value, json};

use super::verify_access_token;
use crate::app::AppState;
use crate::oidc::claims;

/// A refusal, answered with `WWW-Authenticate: Bearer` (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserinfoError {
    /// 401 `invalid_request`: no bearer token.
    Missing,
    /// 401 `invalid_token`.
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`.
    InsufficientScope,
    Server,
}

pub async fn userinfo(app: &AppState, token: Option<&str>) -> Result<Value, UserinfoError> {
    let token = token.filter(|t| !t.is_empty()).ok_or(UserinfoError::Missing)?;
    let now = app.clock.now();
    let access = verify_access_token(app, token, now, super::Audience::Userinfo)
        .await
        .map_err(|_| UserinfoError::Server)?
        .map_err(UserinfoError::InvalidToken)?;
    if access.family.is_none() {
        return Err(UserinfoError::InvalidToken("this access token was issued to a client, not for an account"));
    }
    if !access.has_scope("openid") {
        return Err(UserinfoError::InsufficientScope);
    }
    let user = if crate::engine::is_guest(&access.subject) {
        crate::engine::User { id: access.subject.clone(), email: String::new(), profile: Default::default() }
    } else {
        app.store
            .user_by_id(&access.subject)
            .await
            .map_err(|_| UserinfoError::Server)?
            .ok_or(UserinfoError::InvalidToken("the account no longer exists"))?
    };
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.id));
    let groups = super::groups_claim(app, &access.scope, &user).await.map_err(|_| UserinfoError::Server)?;
    claims::user_claims(&access.scope, &user, &groups, &mut c);
    Ok(Value::Object(c))
}
