//! Inline hooks, the shell's side: the call the engine asked for (`engine::hook`),
//! signed like an event hook's delivery, with a short timeout and one retry when no
//! connection could be made; and the answer checked into commands ([`parse`], pure).
//!
//! Request: `POST` with the Standard Webhooks headers and
//! `{"id", "type": "com.passway.inline.<point>", "time", "data": {…}}`.
//! Answer (2xx, JSON): `{"commands": [{"type": "…", "value": …}], "error": {"message",
//! "messages": {"fr": "…"}}}`. An `error` denies with its message.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::outbound::CallError;
use super::{Secret, signature};
use crate::app::AppState;
use crate::crypto::{SystemEntropy, random_token};
use crate::engine::Timestamp;
use crate::engine::hook::{Commands, HookAnswer, HookCall, HookMessage, HookPoint, HookReply, OnFailure};
use crate::policy::RiskLevel;

/// `[[hooks.inline]]`: a synchronous call out during a journey.
#[derive(Debug, Clone)]
pub struct InlineHook {
    pub name: String,
    pub point: HookPoint,
    pub url: String,
    pub secret: Secret,
    pub timeout: Duration,
    pub on_failure: OnFailure,
    /// The apps that call it (`None`: every app).
    pub apps: Option<Vec<String>>,
}

/// The default timeout of an inline hook, and its cap: a person is waiting.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest message a hook may show (longer ones are cut).
const MAX_MESSAGE: usize = 300;

/// Calls the hook `call` names and checks its answer. Never fails: a failure is an
/// answer ([`HookReply::Failed`]) for the engine to decide on.
pub async fn call(app: &AppState, call: &HookCall, now: Timestamp) -> HookAnswer {
    let started = std::time::Instant::now();
    let reply = match app.config.hooks.inline.iter().find(|h| h.name == call.hook) {
        None => HookReply::Failed(format!("no inline hook named {:?}", call.hook)),
        Some(hook) => {
            let id = format!("msg_{}", random_token(&mut SystemEntropy, 16));
            let body = json!({
                "id": id,
                "type": format!("com.passway.inline.{}", call.point.name()),
                "time": now.rfc3339(),
                "data": call.data,
            })
            .to_string();
            let timestamp = now.unix_seconds();
            let headers = [
                ("webhook-id", id.clone()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature::sign(&hook.secret, &id, timestamp, &body)),
            ];
            let post = |timeout| app.outbound.post(&hook.url, &headers, body.clone(), timeout);
            // Nothing reached the hook: once more, at once, within what is left of the
            // timeout (a person is waiting: the two together never take longer).
            let result = match post(hook.timeout).await {
                Err(e) if e.is_connect() => match hook.timeout.checked_sub(started.elapsed()) {
                    Some(left) if !left.is_zero() => post(left).await,
                    _ => Err(e),
                },
                other => other,
            };
            match result {
                Ok(answer) => parse(call.point, answer.status, &answer.body),
                Err(e @ CallError::Timeout(_)) => HookReply::Failed(e.to_string()),
                Err(e) => HookReply::Failed(format!("call failed: {e}")),
            }
        }
    };
    HookAnswer {
        hook: call.hook.clone(),
        point: call.point,
        took_ms: started.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
        reply,
    }
}

/// A hook's answer, checked: its commands, or why it is refused.
pub fn parse(point: HookPoint, status: u16, body: &[u8]) -> HookReply {
    match commands(point, status, body) {
        Ok(c) => HookReply::Answered(c),
        Err(why) => HookReply::Failed(why),
    }
}

fn commands(point: HookPoint, status: u16, body: &[u8]) -> Result<Commands, String> {
    if !(200..300).contains(&status) {
        return Err(format!("answered HTTP {status}"));
    }
    if status == 204 || body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Commands::default());
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let Value::Object(answer) = value else { return Err("the answer is not a JSON object".into()) };
    let mut out = Commands::default();
    match answer.get("commands") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, command) in list.iter().enumerate() {
                apply(point, &mut out, command).map_err(|why| format!("commands[{i}]: {why}"))?;
            }
        }
        Some(_) => return Err("commands is not a list".into()),
    }
    match answer.get("error") {
        None | Some(Value::Null) => {}
        Some(error) => {
            out.error = Some(message(error).map_err(|why| format!("error: {why}"))?);
            out.deny = true;
        }
    }
    Ok(out)
}

fn apply(point: HookPoint, out: &mut Commands, command: &Value) -> Result<(), String> {
    let kind = command.get("type").and_then(Value::as_str).ok_or("a command needs a type")?;
    if !point.commands().contains(&kind) {
        return Err(if HookPoint::ALL.iter().any(|p| p.commands().contains(&kind)) {
            format!("{kind:?} is not a command of {} hooks", point.name())
        } else {
            format!("unknown command type {kind:?}")
        });
    }
    let value = command.get("value").unwrap_or(&Value::Null);
    match kind {
        "allow" => out.deny = false,
        "deny" => out.deny = true,
        "profile.update" => {
            let Value::Object(attributes) = value else { return Err("profile.update takes an object".into()) };
            for (name, v) in attributes {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(format!("profile.update: {name:?} is not a string")),
                };
                out.profile.insert(name.clone(), text);
            }
        }
        "risk" => {
            let level = value.as_str().and_then(RiskLevel::from_name).ok_or("risk is low, medium or high")?;
            out.risk = Some(level);
        }
        "password.verified" => out.verified = Some(value.as_bool().ok_or("password.verified takes true or false")?),
        "claims.set" => {
            let Value::Object(targets) = value else { return Err("claims.set takes an object".into()) };
            for (target, claims) in targets {
                let into = match target.as_str() {
                    "id_token" => &mut out.id_token,
                    "access_token" => &mut out.access_token,
                    other => return Err(format!("claims.set: {other:?} is not id_token or access_token")),
                };
                let Value::Object(claims) = claims else {
                    return Err(format!("claims.set: {target} is not an object"));
                };
                for (name, v) in claims {
                    if let Some(why) = crate::oidc::claims::refuses_hook_claim(name) {
                        return Err(format!("claims.set: {name:?} {why}"));
                    }
                    into.insert(name.clone(), v.clone());
                }
            }
        }
        other => unreachable!("{other} is listed in HookPoint::commands"),
    }
    Ok(())
}

fn message(error: &Value) -> Result<HookMessage, String> {
    let text = |v: &Value| -> Result<String, String> {
        let s = v.as_str().ok_or("a message is a string")?;
        Ok(s.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE).collect())
    };
    let default = error.get("message").map(text).transpose()?.unwrap_or_default();
    let mut localized = BTreeMap::new();
    if let Some(messages) = error.get("messages") {
        let Value::Object(m) = messages else { return Err("messages is an object of language tags".into()) };
        for (tag, v) in m {
            localized.insert(tag.to_ascii_lowercase(), text(v)?);
        }
    }
    let default = if default.is_empty() { localized.values().next().cloned().unwrap_or_default() } else { default };
    Ok(HookMessage { text: default, localized })
}

/// The claims a token hook added, put into a token's claims (registered claims were
/// refused when the answer was read).
pub fn add_claims(token: &mut Value, claims: &Map<String, Value>) {
    if let Value::Object(c) = token {
        for (name, v) in claims {
            c.insert(name.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `body` (status 200) for `point` and prints what came of it.
    fn check(point: HookPoint, body: &str, expect: &str) {
        let got = match parse(point, 200, body.as_bytes()) {
            HookReply::Failed(why) => format!("failed: {why}"),
            HookReply::Answered(c) => {
                let mut parts = vec![if c.deny { "deny".to_owned() } else { "allow".to_owned() }];
                parts.extend(c.profile.iter().map(|(k, v)| format!("{k}={v}")));
                parts.extend(c.risk.map(|r| format!("risk={}", r.name())));
                parts.extend(c.verified.map(|v| format!("verified={v}")));
                parts.extend(c.id_token.iter().map(|(k, v)| format!("id.{k}={v}")));
                parts.extend(c.access_token.iter().map(|(k, v)| format!("at.{k}={v}")));
                if let Some(m) = c.error {
                    parts.push(format!("message={:?} fr={:?}", m.text, m.for_locale("fr-CA")));
                }
                parts.join(" ")
            }
        };
        assert_eq!(got, expect, "{body}");
    }

    #[test]
    fn answers_become_commands() {
        use HookPoint::*;
        check(Registration, "", "allow");
        check(Registration, r#"{"commands": []}"#, "allow");
        check(Registration, r#"{"commands": [{"type": "deny"}]}"#, "deny");
        check(
            Registration,
            r#"{"commands": [{"type": "profile.update", "value": {"nickname": "ada2", "age": 36}}]}"#,
            "allow age=36 nickname=ada2",
        );
        check(
            Registration,
            r#"{"error": {"message": "Use your work address", "messages": {"fr": "Votre adresse pro"}}}"#,
            r#"deny message="Use your work address" fr="Votre adresse pro""#,
        );
        check(SignIn, r#"{"commands": [{"type": "risk", "value": "high"}]}"#, "allow risk=high");
        check(PasswordImport, r#"{"commands": [{"type": "password.verified", "value": true}]}"#, "allow verified=true");
        check(
            Token,
            r#"{"commands": [{"type": "claims.set", "value": {"id_token": {"tier": "gold"}, "access_token": {"tier": 2}}}]}"#,
            r#"allow id.tier="gold" at.tier=2"#,
        );
    }

    #[test]
    fn garbage_unknown_commands_and_registered_claims_are_refused() {
        use HookPoint::*;
        check(Registration, "<html>oops</html>", "failed: the answer is not JSON: expected value at line 1 column 1");
        check(Registration, "[1]", "failed: the answer is not a JSON object");
        check(Registration, r#"{"commands": {"type": "deny"}}"#, "failed: commands is not a list");
        check(
            Registration,
            r#"{"commands": [{"type": "launch.missiles"}]}"#,
            r#"failed: commands[0]: unknown command type "launch.missiles""#,
        );
        check(
            Registration,
            r#"{"commands": [{"type": "risk", "value": "high"}]}"#,
            r#"failed: commands[0]: "risk" is not a command of registration hooks"#,
        );
        check(
            SignIn,
            r#"{"commands": [{"type": "risk", "value": "extreme"}]}"#,
            "failed: commands[0]: risk is low, medium or high",
        );
        check(
            PasswordImport,
            r#"{"commands": [{"type": "password.verified", "value": "yes"}]}"#,
            "failed: commands[0]: password.verified takes true or false",
        );
        for claim in
            ["sub", "iss", "aud", "exp", "acr", "amr", "nonce", "sid", "auth_time", "jti", "scope", "client_id"]
        {
            let body =
                format!(r#"{{"commands": [{{"type": "claims.set", "value": {{"id_token": {{"{claim}": "x"}}}}}}]}}"#);
            assert!(matches!(parse(Token, 200, body.as_bytes()), HookReply::Failed(_)), "{claim}");
        }
        assert_eq!(parse(Registration, 500, b"{}"), HookReply::Failed("answered HTTP 500".into()));
        assert_eq!(parse(Registration, 302, b""), HookReply::Failed("answered HTTP 302".into()));
    }
}
