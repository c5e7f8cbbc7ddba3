//! One event per line, for `passway logs`: when, severity, type, outcome, who, from
//! where, what it said, and why (the reason), so that `grep` and eyes both work.

use serde_json::Value;

pub fn one_line(event: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    let mut line = format!(
        "{} {:<5} {} {} {} {} {:?}",
        text(&event["published"]),
        text(&event["severity"]),
        text(&event["eventType"]),
        text(&event["outcome"]["result"]),
        text(&event["actor"]["alternateId"]),
        text(&event["client"]["ipAddress"]),
        text(&event["displayMessage"]),
    );
    if let Some(reason) = event["outcome"]["reason"].as_str() {
        line.push_str(&format!(" reason={reason:?}"));
    }
    let targets: Vec<String> = event["target"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] != "AppInstance")
        .map(|t| format!("{}:{}", text(&t["type"]), text(&t["displayName"])))
        .collect();
    if !targets.is_empty() {
        line.push_str(&format!(" target={}", targets.join(",")));
    }
    if let Some(app) = event["target"].as_array().into_iter().flatten().find(|t| t["type"] == "AppInstance") {
        line.push_str(&format!(" app={}", text(&app["id"])));
    }
    line
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_line_says_when_what_who_where_and_why() {
        let event = json!({
            "published": "2026-12-06T17:40:01.123Z", "severity": "WARN", "eventType": "user.account.lock",
            "outcome": { "result": "FAILURE", "reason": "5 wrong answers" },
            "actor": { "alternateId": "ada@example.com" }, "client": { "ipAddress": "203.0.113.9" },
            "displayMessage": "Password locked",
            "target": [{ "type": "User", "displayName": "ada@example.com" }, { "type": "AppInstance", "id": "demo" }],
        });
        assert_eq!(
            super::one_line(&event),
            "2026-12-06T17:40:01.123Z WARN  user.account.lock FAILURE ada@example.com 203.0.113.9 \"Password locked\" \
             reason=\"5 wrong answers\" target=User:ada@example.com app=demo"
        );
    }
}
