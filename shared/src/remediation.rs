use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One thing the client may do next: a form to render and submit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Remediation {
    /// Protocol name, see [`crate::names`].
    pub name: String,
    /// Absolute URL the field values are submitted to.
    pub href: String,
    /// Always `POST` today.
    pub method: String,
    /// Text of the action (the submit button), resolved for the locale.
    pub label: String,
    pub label_key: String,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// For a remediation answered with a WebAuthn ceremony (a passkey): the options to
    /// hand to `navigator.credentials`. The client runs the ceremony and submits its
    /// result, JSON-encoded, as the field `credential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn: Option<WebAuthn>,
    /// For `consent`: what the app asks to be allowed, to show before the choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<ScopeInfo>,
}

/// A scope an app asks for, described for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeInfo {
    /// The OAuth scope, e.g. `email`.
    pub name: String,
    /// What allowing it means, resolved for the locale.
    pub description: String,
}

/// WebAuthn options for `navigator.credentials.create()` or `.get()`, in
/// webauthn-rs-proto's JSON form (the WebAuthn Level 3 JSON options under `publicKey`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WebAuthn {
    /// Create a credential (enrol a passkey).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    Create(CreationOptions),
    /// Use a credential (sign in). With `mediation: "conditional"` it may run as
    /// autofill on the identifier field.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    Get(RequestOptions),
}

#[cfg(target_arch = "wasm32")]
pub use crate::browser::{CreationOptions, RequestOptions};
#[cfg(not(target_arch = "wasm32"))]
pub use typed::{CreationOptions, RequestOptions};

/// The server builds the options with webauthn-rs, so it holds them typed.
#[cfg(not(target_arch = "wasm32"))]
mod typed {
    pub type CreationOptions = webauthn_rs_proto::CreationChallengeResponse;
    pub type RequestOptions = webauthn_rs_proto::RequestChallengeResponse;

    impl super::WebAuthn {
        /// A `get` that may run as autofill (conditional mediation).
        pub fn is_conditional(&self) -> bool {
            matches!(self, super::WebAuthn::Get(o) if o.mediation.is_some())
        }
    }

    /// webauthn-rs-proto's option types have no equality: two sets of options are the
    /// same ceremony when their one-time challenges (and mediation) are the same.
    impl PartialEq for super::WebAuthn {
        fn eq(&self, other: &super::WebAuthn) -> bool {
            use super::WebAuthn::{Create, Get};
            match (self, other) {
                (Create(a), Create(b)) => a.public_key.challenge == b.public_key.challenge,
                (Get(a), Get(b)) => {
                    a.public_key.challenge == b.public_key.challenge && self.is_conditional() == other.is_conditional()
                }
                _ => false,
            }
        }
    }
}

impl Remediation {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One input of a remediation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Stable i18n key of the label, e.g. `field.email`.
    pub label_key: String,
    /// The label resolved for the locale.
    pub label: String,
    #[serde(default)]
    pub required: bool,
    /// Current value (prefilled, or what the person typed before a validation error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<FieldValue>,
    /// HTML `autocomplete` token(s), e.g. `username webauthn`, `one-time-code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    /// Choices, for `select`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// HTML `pattern` (a hint for the client; the server checks again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// HTML `inputmode`, e.g. `numeric` for codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<String>,
    /// Shown but not editable (e.g. an email already proven).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Email,
    Password,
    Otp,
    Boolean,
    Select,
    Hidden,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SelectOption {
    pub value: String,
    pub label: String,
}

/// A field value as submitted: text or a checkbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum FieldValue {
    Bool(bool),
    Text(String),
}

impl Field {
    /// An optional field with nothing but its name, type and label; set the rest.
    pub fn new(name: &str, kind: FieldType, label_key: &str, label: &str) -> Field {
        Field {
            name: name.into(),
            kind,
            label_key: label_key.into(),
            label: label.into(),
            required: false,
            value: None,
            autocomplete: None,
            options: vec![],
            min_length: None,
            max_length: None,
            pattern: None,
            input_mode: None,
            read_only: false,
        }
    }
}

impl FieldValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) => Some(s),
            FieldValue::Bool(_) => None,
        }
    }
}

/// What a client submits to a remediation's `href`: field name → value.
pub type Submission = BTreeMap<String, FieldValue>;
