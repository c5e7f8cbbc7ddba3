//! Running WebAuthn ceremonies in the browser: the server's options (WebAuthn's JSON form)
//! go through `PublicKeyCredential.parse*OptionsFromJSON`, and the credential comes back
//! through its own `toJSON()`, submitted as the field `credential`. The widget never
//! decodes either: the browser and the server both speak the JSON form.

use js_sys::{Function, JSON, Object, Reflect};
use passway_protocol::{RequestOptions, WebAuthn};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// `PublicKeyCredential`'s static methods (web-sys has them only as unstable APIs).
    type PublicKeyCredentialStatics;

    #[wasm_bindgen(static_method_of = PublicKeyCredentialStatics, js_class = "PublicKeyCredential", js_name = parseCreationOptionsFromJSON, catch)]
    fn parse_creation_options(json: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(static_method_of = PublicKeyCredentialStatics, js_class = "PublicKeyCredential", js_name = parseRequestOptionsFromJSON, catch)]
    fn parse_request_options(json: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(static_method_of = PublicKeyCredentialStatics, js_class = "PublicKeyCredential", js_name = isConditionalMediationAvailable, catch)]
    fn is_conditional_mediation_available() -> Result<js_sys::Promise, JsValue>;
}

/// Why a ceremony gave no credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Cancelled by the person, or timed out (the browser does not say which).
    Cancelled,
    /// This browser has no WebAuthn.
    Unsupported,
    /// Not allowed on this page (e.g. the RP ID does not match the page's domain).
    NotHere,
    /// This authenticator already holds a passkey of this account.
    AlreadyRegistered,
    /// Aborted by the widget itself (a pending autofill request, superseded).
    Aborted,
}

impl Failure {
    /// The i18n key the server sends a text for.
    pub fn key(self) -> &'static str {
        match self {
            Failure::Cancelled | Failure::Aborted => "passkey.error.cancelled",
            Failure::Unsupported => "passkey.error.unsupported",
            Failure::NotHere => "passkey.error.not_here",
            Failure::AlreadyRegistered => "passkey.error.already_registered",
        }
    }
}

pub fn supported() -> bool {
    web_sys::window()
        .is_some_and(|w| js_sys::Reflect::has(&w, &JsValue::from_str("PublicKeyCredential")).unwrap_or(false))
}

/// Whether the browser can offer passkeys in the autofill of a field.
pub async fn conditional_available() -> bool {
    if !supported() {
        return false;
    }
    match PublicKeyCredentialStatics::is_conditional_mediation_available() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false),
        Err(_) => false,
    }
}

/// Runs the ceremony `options` asks for (modal: any `conditional` mediation is dropped).
pub async fn run(options: &WebAuthn) -> Result<String, Failure> {
    match options {
        WebAuthn::Create(o) => create(o.public_key()).await,
        WebAuthn::Get(o) => get(o.clone(), false, None).await,
    }
}

async fn create(public_key: JsValue) -> Result<String, Failure> {
    let credentials = credentials()?;
    // A browser without the JSON parsers (before 2024) cannot run the ceremony.
    let public_key =
        PublicKeyCredentialStatics::parse_creation_options(&public_key).map_err(|_| Failure::Unsupported)?;
    let options = web_sys::CredentialCreationOptions::new();
    set(&options, "publicKey", &public_key)?;
    let promise = credentials.create_with_options(&options).map_err(classify)?;
    let credential = JsFuture::from(promise).await.map_err(classify)?;
    json(&credential)
}

/// `navigator.credentials.get`; `conditional` offers the passkeys in the autofill of the
/// identifier field, and `signal` can abort that request. Boxed: both the autofill and
/// the modal paths await it, and one copy of its code is enough.
pub fn get(
    options: RequestOptions,
    conditional: bool,
    signal: Option<web_sys::AbortSignal>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, Failure>>>> {
    Box::pin(get_inner(options, conditional, signal))
}

async fn get_inner(
    options: RequestOptions,
    conditional: bool,
    signal: Option<web_sys::AbortSignal>,
) -> Result<String, Failure> {
    let credentials = credentials()?;
    let public_key =
        PublicKeyCredentialStatics::parse_request_options(&options.public_key()).map_err(|_| Failure::Unsupported)?;
    let request = web_sys::CredentialRequestOptions::new();
    set(&request, "publicKey", &public_key)?;
    if conditional {
        set(&request, "mediation", &JsValue::from_str("conditional"))?;
    }
    if let Some(signal) = &signal {
        request.set_signal(signal);
    }
    let promise = credentials.get_with_options(&request).map_err(classify)?;
    let credential = JsFuture::from(promise).await.map_err(classify)?;
    if credential.is_null() || credential.is_undefined() {
        return Err(Failure::Cancelled);
    }
    json(&credential)
}

fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), Failure> {
    Reflect::set(target, &JsValue::from_str(key), value).map(drop).map_err(|_| Failure::Unsupported)
}

/// JSON text of a credential, as the server reads it (binary fields as base64url).
fn json(credential: &JsValue) -> Result<String, Failure> {
    let to_json: Function = Reflect::get(credential, &JsValue::from_str("toJSON"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or(Failure::Unsupported)?;
    let value = to_json.call0(credential).map_err(|_| Failure::Unsupported)?;
    JSON::stringify(&value).map(String::from).map_err(|_| Failure::Cancelled)
}

fn credentials() -> Result<web_sys::CredentialsContainer, Failure> {
    if !supported() {
        return Err(Failure::Unsupported);
    }
    web_sys::window().map(|w| w.navigator().credentials()).ok_or(Failure::Unsupported)
}

fn classify(error: JsValue) -> Failure {
    let name = error.dyn_ref::<web_sys::DomException>().map(|e| e.name()).unwrap_or_default();
    match name.as_str() {
        "AbortError" => Failure::Aborted,
        "SecurityError" => Failure::NotHere,
        "InvalidStateError" => Failure::AlreadyRegistered,
        "NotSupportedError" => Failure::Unsupported,
        _ => Failure::Cancelled,
    }
}
