//! The options a website passes, checked once at mount.

use js_sys::{Function, Reflect};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Options {
    base_url: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    flow: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    intent: Option<String>,
    login_hint: Option<String>,
    response_type: Option<String>,
    brand: Option<String>,
    language: Option<String>,
}

/// How the flow begins.
#[derive(Clone, Debug)]
pub enum Start {
    /// Resume the flow with this handle (the hosted page).
    Resume { handle: String },
    /// Start a new flow for an app (embedded).
    New {
        client_id: String,
        redirect_uri: String,
        scope: String,
        state: Option<String>,
        intent: Option<String>,
        login_hint: Option<String>,
    },
}

/// What the website receives on success, for embedded flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseType {
    /// The widget exchanges the code itself and hands over tokens.
    Tokens,
    /// The widget hands over the code and PKCE verifier, for a backend to exchange.
    Code,
}

pub struct Config {
    pub base_url: String,
    /// The brand to style with before the server names one (saves a stylesheet load).
    pub brand: String,
    pub start: Start,
    /// The interface language asked for (BCP 47, e.g. `fr` or `pt-BR`), sent as the new
    /// flow's `ui_locales`: over the browser's languages, under the app's request's.
    pub language: Option<String>,
    pub response_type: ResponseType,
    pub on_success: Option<Function>,
    pub on_error: Option<Function>,
}

impl Config {
    pub fn from_js(value: &JsValue) -> Result<Config, String> {
        let o: Options =
            serde_wasm_bindgen::from_value(value.clone()).map_err(|e| format!("Passway: bad options: {e}"))?;
        let callback =
            |name: &str| Reflect::get(value, &JsValue::from_str(name)).ok().and_then(|f| f.dyn_into::<Function>().ok());
        let base_url = o.base_url.ok_or("Passway: baseUrl is required")?.trim_end_matches('/').to_owned();
        let start = match (o.flow, o.client_id, o.redirect_uri) {
            (Some(handle), _, _) if !handle.is_empty() => Start::Resume { handle },
            (_, Some(client_id), Some(redirect_uri)) => Start::New {
                client_id,
                redirect_uri,
                scope: o.scope.unwrap_or_else(|| "openid profile email".into()),
                state: o.state,
                intent: o.intent,
                login_hint: o.login_hint,
            },
            _ => return Err("Passway: give clientId and redirectUri (or flow to resume one)".into()),
        };
        let response_type = match o.response_type.as_deref() {
            None | Some("tokens") => ResponseType::Tokens,
            Some("code") => ResponseType::Code,
            Some(other) => return Err(format!("Passway: responseType must be \"tokens\" or \"code\", not {other:?}")),
        };
        let brand = o.brand.filter(|b| !b.is_empty()).unwrap_or_else(|| "default".into());
        Ok(Config {
            base_url,
            brand,
            start,
            language: o.language.filter(|l| !l.is_empty()),
            response_type,
            on_success: callback("onSuccess"),
            on_error: callback("onError"),
        })
    }
}
