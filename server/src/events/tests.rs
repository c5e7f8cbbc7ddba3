use expect_test::{Expect, expect};

use super::*;
use crate::authenticators::AuthenticatorKind;
use crate::engine::{EventType, LogOutcome, Severity};

fn check(entry: LogEntry, ctx: Context<'_>, expected: Expect) {
    let body = log_event(&entry, &ctx, "3f1c6a0e-0000-4000-8000-000000000000", Timestamp(1_780_000_000_000));
    expected.assert_eq(&serde_json::to_string_pretty(&body).unwrap());
}

fn chrome() -> ClientInfo {
    ClientInfo {
        ip: "203.0.113.9".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
            .into(),
        ip_chain: vec!["203.0.113.9".into(), "10.0.0.2".into()],
        request_id: "req-7".into(),
    }
}

#[test]
fn an_enrolled_passkey_names_who_what_where_and_the_flow() {
    let client = chrome();
    let ctx = Context {
        subject: Some(("u-1", "ada@example.com")),
        session_id: Some("s-9"),
        step: 1,
        ..Context::request(&client).app("demo-site")
    };
    let ctx = Context { flow_id: "f-7", ..ctx };
    let entry = LogEntry::new(EventType::UserMfaFactorActivate, LogOutcome::Success, "Passkey enrolled")
        .target(Target::Passkey { id: "cred-1".into(), name: "Pixel".into() })
        .credential(AuthenticatorKind::Passkey)
        .debug("aaguid", "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4");
    check(
        entry,
        ctx,
        expect![[r#"
            {
              "actor": {
                "alternateId": "ada@example.com",
                "displayName": "ada@example.com",
                "id": "u-1",
                "type": "User"
              },
              "authenticationContext": {
                "authenticationProvider": "PASSWAY",
                "authenticationStep": 1,
                "credentialType": "passkey",
                "externalSessionId": "s-9"
              },
              "client": {
                "device": "Computer",
                "ipAddress": "203.0.113.9",
                "userAgent": {
                  "browser": "Chrome on Linux",
                  "os": "Linux",
                  "rawUserAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
                }
              },
              "debugContext": {
                "debugData": {
                  "aaguid": "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
                  "requestId": "req-7"
                }
              },
              "displayMessage": "Passkey enrolled",
              "eventType": "user.mfa.factor.activate",
              "outcome": {
                "reason": null,
                "result": "SUCCESS"
              },
              "published": "2026-05-28T20:26:40.000Z",
              "request": {
                "ipChain": [
                  {
                    "ip": "203.0.113.9"
                  },
                  {
                    "ip": "10.0.0.2"
                  }
                ]
              },
              "severity": "INFO",
              "target": [
                {
                  "alternateId": "passkey",
                  "displayName": "Pixel",
                  "id": "cred-1",
                  "type": "Authenticator"
                },
                {
                  "alternateId": "demo-site",
                  "displayName": "demo-site",
                  "id": "demo-site",
                  "type": "AppInstance"
                }
              ],
              "transaction": {
                "id": "f-7",
                "type": "WEB"
              },
              "uuid": "3f1c6a0e-0000-4000-8000-000000000000",
              "version": "0"
            }"#]],
    );
}

#[test]
fn a_hook_event_outside_a_flow_is_the_system_acting_on_the_hook() {
    let client = ClientInfo::default();
    let entry = LogEntry::new(EventType::EventHookFailing, LogOutcome::Failure, "Event hook deliveries failing")
        .reason("503 Service Unavailable")
        .severity(Severity::Warn)
        .target(Target::EventHook { name: "siem".into() });
    check(
        entry,
        Context::request(&client),
        expect![[r#"
            {
              "actor": {
                "alternateId": "system@passway",
                "displayName": "Passway",
                "id": "passway",
                "type": "SystemPrincipal"
              },
              "authenticationContext": {
                "authenticationProvider": "PASSWAY",
                "authenticationStep": 0,
                "credentialType": null,
                "externalSessionId": null
              },
              "client": {
                "device": "Unknown",
                "ipAddress": null,
                "userAgent": null
              },
              "debugContext": {
                "debugData": {}
              },
              "displayMessage": "Event hook deliveries failing",
              "eventType": "event_hook.delivery.failing",
              "outcome": {
                "reason": "503 Service Unavailable",
                "result": "FAILURE"
              },
              "published": "2026-05-28T20:26:40.000Z",
              "request": {
                "ipChain": []
              },
              "severity": "WARN",
              "target": [
                {
                  "alternateId": "siem",
                  "displayName": "siem",
                  "id": "siem",
                  "type": "EventHook"
                }
              ],
              "transaction": {
                "id": null,
                "type": "WEB"
              },
              "uuid": "3f1c6a0e-0000-4000-8000-000000000000",
              "version": "0"
            }"#]],
    );
}

#[test]
fn the_readme_catalogue_lists_every_event_type_with_when_it_fires() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for t in EventType::ALL {
        let row = format!("| `{}` | {} |", t.name(), t.when());
        assert!(readme.contains(&row), "README.md lacks the row\n{row}");
    }
}
