//! WebAuthn options as the widget holds them: the browser's own JSON object, untouched.
//!
//! The widget never looks inside the options; it hands them to
//! `PublicKeyCredential.parse*OptionsFromJSON`. Decoding them into typed Rust first
//! (webauthn-rs-proto) cost the widget a sixth of its size for nothing.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

/// Options as they arrived: `{ "publicKey": {...}, "mediation"?: "conditional" }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrowserOptions(#[serde(with = "serde_wasm_bindgen::preserve")] pub JsValue);

pub type CreationOptions = BrowserOptions;
pub type RequestOptions = BrowserOptions;

impl BrowserOptions {
    /// The `publicKey` member, in the WebAuthn Level 3 JSON form.
    pub fn public_key(&self) -> JsValue {
        js_sys::Reflect::get(&self.0, &JsValue::from_str("publicKey")).unwrap_or(JsValue::UNDEFINED)
    }

    fn challenge(&self) -> Option<String> {
        js_sys::Reflect::get(&self.public_key(), &JsValue::from_str("challenge")).ok()?.as_string()
    }

    fn conditional(&self) -> bool {
        js_sys::Reflect::get(&self.0, &JsValue::from_str("mediation"))
            .ok()
            .and_then(|m| m.as_string())
            .is_some_and(|m| m == "conditional")
    }
}

impl crate::WebAuthn {
    /// A `get` that may run as autofill (conditional mediation).
    pub fn is_conditional(&self) -> bool {
        matches!(self, crate::WebAuthn::Get(o) if o.conditional())
    }
}

/// Two sets of options are the same ceremony when their one-time challenges (and
/// mediation) are the same.
impl PartialEq for crate::WebAuthn {
    fn eq(&self, other: &crate::WebAuthn) -> bool {
        use crate::WebAuthn::{Create, Get};
        match (self, other) {
            (Create(a), Create(b)) => a.challenge() == b.challenge(),
            (Get(a), Get(b)) => a.challenge() == b.challenge() && a.conditional() == b.conditional(),
            _ => false,
        }
    }
}
