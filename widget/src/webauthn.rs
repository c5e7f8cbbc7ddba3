//! Running WebAuthn ceremonies in the browser with webauthn-rs-proto's conversions:
//! server options in, the credential's JSON out (submitted as the field `credential`).

use passway_protocol::WebAuthn;
use passway_protocol::webauthn_rs_proto::{PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

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
    match passway_protocol::webauthn_rs_proto::PublicKeyCredentialExt::is_conditional_mediation_available() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false),
        Err(_) => false,
    }
}

/// Runs the ceremony `options` asks for (modal: any `conditional` mediation is dropped).
pub async fn run(options: &WebAuthn) -> Result<String, Failure> {
    match options {
        WebAuthn::Create(o) => create(o.clone()).await,
        WebAuthn::Get(o) => get(RequestChallengeResponse { mediation: None, ..o.clone() }, None).await,
    }
}

async fn create(options: passway_protocol::webauthn_rs_proto::CreationChallengeResponse) -> Result<String, Failure> {
    let credentials = credentials()?;
    let options: web_sys::CredentialCreationOptions = options.into();
    let promise = credentials.create_with_options(&options).map_err(classify)?;
    let credential = JsFuture::from(promise).await.map_err(classify)?;
    let credential = RegisterPublicKeyCredential::from(web_sys::PublicKeyCredential::from(credential));
    json(&credential)
}

/// `navigator.credentials.get`; with `signal`, the request can be aborted (autofill).
/// Boxed: both the autofill and the modal paths await it, and one copy of its code
/// is enough.
pub fn get(
    options: RequestChallengeResponse,
    signal: Option<web_sys::AbortSignal>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, Failure>>>> {
    Box::pin(get_inner(options, signal))
}

async fn get_inner(options: RequestChallengeResponse, signal: Option<web_sys::AbortSignal>) -> Result<String, Failure> {
    let credentials = credentials()?;
    let options: web_sys::CredentialRequestOptions = options.into();
    if let Some(signal) = &signal {
        options.set_signal(signal);
    }
    let promise = credentials.get_with_options(&options).map_err(classify)?;
    let credential = JsFuture::from(promise).await.map_err(classify)?;
    if credential.is_null() || credential.is_undefined() {
        return Err(Failure::Cancelled);
    }
    let credential = PublicKeyCredential::from(web_sys::PublicKeyCredential::from(credential));
    json(&credential)
}

/// JSON text of a credential, as the server reads it (binary fields as base64url).
fn json<T: serde::Serialize>(credential: &T) -> Result<String, Failure> {
    let value =
        credential.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|_| Failure::Cancelled)?;
    js_sys::JSON::stringify(&value).map(String::from).map_err(|_| Failure::Cancelled)
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
