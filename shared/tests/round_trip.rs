//! The wire format is a public contract: these tests pin its JSON shape.

use passway_protocol::*;
use serde_json::json;

fn check<T>(value: T, expected: serde_json::Value)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_value(&value).unwrap();
    assert_eq!(json, expected, "serialised shape changed");
    let back: T = serde_json::from_value(json).unwrap();
    assert_eq!(back, value, "did not survive a round trip");
}

fn email_field() -> Field {
    Field {
        name: "identifier".into(),
        kind: FieldType::Email,
        label_key: "field.email".into(),
        label: "Email".into(),
        required: true,
        value: None,
        autocomplete: Some("username webauthn".into()),
        options: vec![],
        min_length: None,
        max_length: Some(254),
        pattern: None,
        input_mode: None,
        read_only: false,
    }
}

#[test]
fn field_uses_type_and_skips_empty_extras() {
    check(
        email_field(),
        json!({
            "name": "identifier", "type": "email", "label_key": "field.email", "label": "Email",
            "required": true, "autocomplete": "username webauthn", "max_length": 254
        }),
    );
}

#[test]
fn flow_response_shape() {
    let response = FlowResponse {
        version: PROTOCOL_VERSION.into(),
        handle: "h".into(),
        binding: Some("b".into()),
        expires_at: "2026-01-01T00:00:00Z".into(),
        intent: Intent::Login,
        app: AppInfo { id: "shop".into(), name: "Shop".into(), brand: "acme".into(), logo_url: None },
        user: Some(UserInfo { identifier: "j***@example.com".into() }),
        messages: vec![Message {
            key: "email.code.invalid".into(),
            text: "That code is not right.".into(),
            level: Level::Error,
            field: Some("code".into()),
        }],
        remediations: vec![Remediation {
            name: names::IDENTIFY.into(),
            href: "http://x/api/v1/flows/h/identify".into(),
            method: "POST".into(),
            label: "Next".into(),
            label_key: "action.next".into(),
            fields: vec![email_field()],
            webauthn: None,
            scopes: vec![],
        }],
        current_authenticator: Some(CurrentAuthenticator {
            key: "email".into(),
            display: "j***@example.com".into(),
            resend: Some(Resend { href: "r".into(), retry_after_seconds: 30 }),
            poll: Some(Poll { href: "p".into(), events: "e".into(), interval_ms: 4000 }),
            expires_at: None,
            activation: Some(Activation {
                uri: "otpauth://totp/A:b?secret=C".into(),
                shared_secret: "C".into(),
                qr_code: QrCode { size: 21, path: "M0 0h7v1h-7z".into() },
            }),
        }),
        cancel: None,
        success: None,
        strings: [("k".to_string(), "v".to_string())].into(),
        locale: Some("ar".into()),
    };
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["remediations"][0]["fields"][0]["type"], "email");
    assert_eq!(json["intent"], "login");
    assert_eq!(json["messages"][0]["level"], "error");
    assert_eq!(json["current_authenticator"]["resend"]["retry_after_seconds"], 30);
    assert_eq!(json["current_authenticator"]["activation"]["qr_code"]["size"], 21);
    assert!(json.get("success").is_none(), "absent options are omitted");
    let back: FlowResponse = serde_json::from_value(json).unwrap();
    assert_eq!(back, response);
    assert_eq!(back.remediation("identify").unwrap().field("identifier").unwrap().label, "Email");
    assert_eq!(back.text("k", "fallback"), "v");
    assert_eq!(back.text("missing", "fallback"), "fallback");
}

#[test]
fn success_for_embedded_flow() {
    check(
        Success {
            redirect_to: None,
            code: Some("c".into()),
            state: Some("s".into()),
            error: None,
            error_description: None,
            iss: Some("https://auth.example".into()),
        },
        json!({"code": "c", "state": "s", "iss": "https://auth.example"}),
    );
}

#[test]
fn refused_embedded_flow() {
    check(
        Success {
            redirect_to: None,
            code: None,
            state: Some("s".into()),
            error: Some("access_denied".into()),
            error_description: Some("no".into()),
            iss: None,
        },
        json!({"state": "s", "error": "access_denied", "error_description": "no"}),
    );
}

#[test]
fn submission_values_are_text_or_bool() {
    let sub: Submission = serde_json::from_value(json!({"code": "123456", "remember": true})).unwrap();
    assert_eq!(sub["code"], FieldValue::Text("123456".into()));
    assert_eq!(sub["remember"], FieldValue::Bool(true));
    assert!(serde_json::from_value::<Submission>(json!({"n": 5})).is_err(), "numbers are not field values");
}

#[test]
fn start_flow_refuses_unknown_fields() {
    let ok = json!({"client_id": "a", "redirect_uri": "http://x/cb", "code_challenge": "c",
                    "code_challenge_method": "S256", "intent": "register"});
    let start: StartFlow = serde_json::from_value(ok.clone()).unwrap();
    assert_eq!(start.intent, Some(Intent::Register));
    let mut bad = ok;
    bad["surprise"] = json!(1);
    let err = serde_json::from_value::<StartFlow>(bad).unwrap_err().to_string();
    assert!(err.contains("surprise"), "{err}");
}

#[test]
fn api_error_shape() {
    check(
        ApiError { error: "flow_not_found".into(), message: "No flow has this handle.".into() },
        json!({"error": "flow_not_found", "message": "No flow has this handle."}),
    );
}
