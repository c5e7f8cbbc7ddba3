//! Token contents: the ID token (OIDC Core §2), JWT access tokens (RFC 9068), and the
//! user claims each scope releases (OIDC Core §5.4).

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::crypto::{b64url, sha256};
use crate::engine::{Grant, Timestamp, User};
use crate::policy::Acr;

/// The `typ` of a JWT access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Private claim naming the token family (what one code and its refreshes issued),
/// so revoking the family is seen by userinfo and introspection.
pub const FAMILY_CLAIM: &str = "fam";

pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub grant: &'a Grant,
    pub user: &'a User,
    /// The account's groups (config and store), released with the `groups` scope.
    pub groups: &'a [String],
    pub now: Timestamp,
    pub lifetime: Duration,
    /// The access token issued with it, for `at_hash`.
    pub access_token: &'a str,
    /// Only the ID token answering the authorization request carries its `nonce`.
    pub with_nonce: bool,
}

pub fn id_token(i: &IdTokenInput<'_>) -> Value {
    let mut c = Map::new();
    c.insert("iss".into(), json!(i.issuer));
    c.insert("sub".into(), json!(i.user.id));
    c.insert("aud".into(), json!(i.grant.client_id));
    c.insert("iat".into(), json!(i.now.unix_seconds()));
    c.insert("exp".into(), json!(i.now.plus(i.lifetime).unix_seconds()));
    c.insert("auth_time".into(), json!(i.grant.auth_time.unix_seconds()));
    // A guest proved nothing: no `amr` at all (it may not be empty).
    if !i.grant.amr.is_empty() {
        c.insert("amr".into(), json!(i.grant.amr));
    }
    // The strongest class the sign-in satisfied (what `acr_values` and the app asked for
    // was enforced by the engine before the code was issued).
    if let Some(acr) = Acr::of(&i.grant.proofs, i.grant.auth_time) {
        c.insert("acr".into(), json!(acr.uri()));
    }
    c.insert("at_hash".into(), json!(token_hash(i.access_token)));
    if let Some(sid) = &i.grant.session_id {
        c.insert("sid".into(), json!(sid));
    }
    if let (true, Some(nonce)) = (i.with_nonce, &i.grant.nonce) {
        c.insert("nonce".into(), json!(nonce));
    }
    user_claims(&i.grant.scope, i.user, i.groups, &mut c);
    Value::Object(c)
}

/// `at_hash`: the left half of the SHA-256 of the token, base64url (OIDC Core §3.1.3.6;
/// both ES256 and RS256 hash with SHA-256).
pub fn token_hash(token: &str) -> String {
    b64url(&sha256(token.as_bytes()).0[..16])
}

/// Claims released for the granted scopes.
pub fn user_claims(scope: &str, user: &User, groups: &[String], c: &mut Map<String, Value>) {
    let scopes: Vec<&str> = scope.split(' ').collect();
    if scopes.contains(&"groups") {
        c.insert("groups".into(), json!(groups));
    }
    // A guest has neither.
    if scopes.contains(&"email") && !user.email.is_empty() {
        c.insert("email".into(), json!(user.email));
        // Every account's email is proven before the account exists.
        c.insert("email_verified".into(), json!(true));
    }
    if scopes.contains(&"profile") {
        for (name, value) in &user.profile {
            c.insert(name.clone(), json!(value));
        }
        let full: Vec<&str> =
            ["given_name", "family_name"].iter().filter_map(|k| user.profile.get(*k).map(String::as_str)).collect();
        if !full.is_empty() && !user.profile.contains_key("name") {
            c.insert("name".into(), json!(full.join(" ")));
        }
    }
}

/// What a JWT access token says.
pub struct AccessTokenInput<'a> {
    pub issuer: &'a str,
    /// The API(s) it is for (RFC 8707), and the userinfo endpoint for a sign-in.
    pub audience: &'a [String],
    /// The account, or the client itself for `client_credentials`.
    pub subject: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub now: Timestamp,
    pub lifetime: Duration,
    pub jti: &'a str,
    pub auth_time: Option<Timestamp>,
    pub family: Option<&'a str>,
}

pub fn access_token(i: &AccessTokenInput<'_>) -> Value {
    let mut c = json!({
        "iss": i.issuer,
        "sub": i.subject,
        "aud": match i.audience {
            [one] => json!(one),
            many => json!(many),
        },
        "client_id": i.client_id,
        "scope": i.scope,
        "iat": i.now.unix_seconds(),
        "exp": i.now.plus(i.lifetime).unix_seconds(),
        "jti": i.jti,
    });
    if let Some(t) = i.auth_time {
        c["auth_time"] = json!(t.unix_seconds());
    }
    if let Some(f) = i.family {
        c[FAMILY_CLAIM] = json!(f);
    }
    c
}

/// Claims a token hook may not set: what verifiers rely on (registered JWT and OpenID
/// claims, the token's own bookkeeping) and what Passway vouches for (the proven email).
const HOOK_REFUSED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "c_hash",
    "s_hash",
    "scope",
    "client_id",
    "cnf",
    "typ",
    "email",
    "email_verified",
    "groups",
    FAMILY_CLAIM,
];

/// Why a token hook may not set the claim `name`, if it may not.
pub fn refuses_hook_claim(name: &str) -> Option<&'static str> {
    if HOOK_REFUSED.contains(&name) {
        Some("is a registered claim: hooks cannot set it")
    } else if name.is_empty() || name.len() > 100 {
        Some("is not a claim name")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: "u1".into(),
            email: "ada@x.io".into(),
            profile: [
                ("given_name".to_string(), "Ada".to_string()),
                ("family_name".to_string(), "Lovelace".to_string()),
            ]
            .into(),
        }
    }

    fn grant(scope: &str) -> Grant {
        Grant {
            client_id: "shop".into(),
            user_id: "u1".into(),
            redirect_uri: "https://x/cb".into(),
            scope: scope.into(),
            nonce: Some("n1".into()),
            code_challenge: Some("c".into()),
            auth_time: Timestamp::from_unix_seconds(100),
            amr: vec!["email".into()],
            proofs: vec![],
            expires_at: Timestamp(0),
            session_id: Some("s1".into()),
            acr_values: None,
            resource: None,
            refresh_until: None,
        }
    }

    #[test]
    fn id_token_claims_follow_scopes() {
        let (user, email_grant) = (user(), grant("openid email"));
        let input = IdTokenInput {
            issuer: "https://auth",
            grant: &email_grant,
            user: &user,
            groups: &["staff".to_string()],
            now: Timestamp::from_unix_seconds(160),
            lifetime: Duration::from_secs(600),
            access_token: "at",
            with_nonce: true,
        };
        let t = id_token(&input);
        assert_eq!(
            (t["iss"].as_str(), t["aud"].as_str(), t["nonce"].as_str(), t["sid"].as_str(), t["auth_time"].as_i64()),
            (Some("https://auth"), Some("shop"), Some("n1"), Some("s1"), Some(100))
        );
        assert_eq!(t["exp"].as_i64().unwrap() - t["iat"].as_i64().unwrap(), 600);
        assert_eq!(t["at_hash"], token_hash("at"));
        assert_eq!((t["email"].as_str(), t["email_verified"].as_bool()), (Some("ada@x.io"), Some(true)));
        assert!(t.get("given_name").is_none(), "no profile scope, no profile claims");
        assert!(t.get("groups").is_none(), "no groups scope, no groups claim");

        let with_profile = grant("openid profile");
        let t = id_token(&IdTokenInput { grant: &with_profile, with_nonce: false, ..input });
        assert_eq!((t["given_name"].as_str(), t["name"].as_str()), (Some("Ada"), Some("Ada Lovelace")));
        assert!(t.get("email").is_none() && t.get("nonce").is_none(), "a refreshed ID token has no nonce");

        let with_groups = grant("openid groups");
        let t = id_token(&IdTokenInput { grant: &with_groups, ..input });
        assert_eq!(t["groups"], serde_json::json!(["staff"]));
    }

    #[test]
    fn acr_is_the_strongest_class_the_proofs_satisfy() {
        use crate::authenticators::AuthenticatorKind::{Email, Passkey};
        use crate::engine::Proof;
        let user = user();
        let acr = |proofs: &[crate::authenticators::AuthenticatorKind]| {
            let at = Timestamp::from_unix_seconds(100);
            let grant =
                Grant { proofs: proofs.iter().map(|k| Proof { authenticator: *k, at }).collect(), ..grant("openid") };
            let input = IdTokenInput {
                issuer: "https://auth",
                grant: &grant,
                user: &user,
                groups: &[],
                now: Timestamp::from_unix_seconds(160),
                lifetime: Duration::from_secs(600),
                access_token: "at",
                with_nonce: true,
            };
            id_token(&input).get("acr").and_then(|v| v.as_str()).map(str::to_owned)
        };
        assert_eq!(acr(&[]), None);
        assert_eq!(acr(&[Email]).as_deref(), Some("urn:passway:loa:1fa"));
        assert_eq!(acr(&[Email, Passkey]).as_deref(), Some("phr"));
        assert_eq!(acr(&[Passkey]).as_deref(), Some("phr"));
    }

    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        // Computed independently: base64url(sha256(token)[..16]) with Python's hashlib.
        assert_eq!(token_hash("jHkWEdUXMU1BwAsC4vtUsZwnNZY1c1z1TxsSPQhBSBw"), "PiuPd_rR6lfLVQHB-kkPQg");
    }
}
