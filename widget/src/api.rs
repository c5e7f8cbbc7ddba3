//! Talking to the server: JSON over `fetch`, with credentials (the device cookie).

use passway_protocol::{ApiError, FlowResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCredentials, RequestInit, RequestMode};

#[derive(Debug, Clone)]
pub enum Failure {
    /// No answer (offline, server down, CORS refused).
    Network,
    /// The server answered with an error.
    Api(ApiError),
}

/// Reads a flow; `binding` is its binding secret once known (see `FlowResponse::binding`).
pub async fn get_flow(url: &str, binding: Option<&str>) -> Result<FlowResponse, Failure> {
    let value = fetch("GET", url, None, binding).await?;
    decode(value)
}

pub async fn post_json<T: Serialize>(url: &str, body: &T, binding: Option<&str>) -> Result<FlowResponse, Failure> {
    let js = body.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|_| Failure::Network)?;
    let text = js_sys::JSON::stringify(&js).map_err(|_| Failure::Network)?;
    let value = fetch("POST", url, Some(("application/json", text.into())), binding).await?;
    decode(value)
}

/// A form POST whose JSON answer is passed on as it is (the token endpoint).
pub async fn post_form(url: &str, pairs: &[(&str, &str)]) -> Result<JsValue, Failure> {
    let params = web_sys::UrlSearchParams::new().map_err(|_| Failure::Network)?;
    for (k, v) in pairs {
        params.append(k, v);
    }
    fetch("POST", url, Some(("application/x-www-form-urlencoded", params.to_string().into())), None).await
}

async fn fetch(
    method: &str,
    url: &str,
    body: Option<(&str, String)>,
    binding: Option<&str>,
) -> Result<JsValue, Failure> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Include);
    let headers = Headers::new().map_err(|_| Failure::Network)?;
    headers.set("accept", "application/json").map_err(|_| Failure::Network)?;
    if let Some(binding) = binding {
        headers.set(passway_protocol::BINDING_HEADER, binding).map_err(|_| Failure::Network)?;
    }
    if let Some((content_type, text)) = body {
        headers.set("content-type", content_type).map_err(|_| Failure::Network)?;
        init.set_body(&JsValue::from_str(&text));
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or(Failure::Network)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| Failure::Network)?
        .unchecked_into();
    let status = response.status();
    let json = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    };
    if response.ok() {
        Ok(json)
    } else {
        let error = decode::<ApiError>(json)
            .unwrap_or_else(|_| ApiError { error: format!("http_{status}"), message: String::new() });
        Err(Failure::Api(error))
    }
}

fn decode<T: DeserializeOwned>(value: JsValue) -> Result<T, Failure> {
    serde_wasm_bindgen::from_value(value).map_err(|_| Failure::Network)
}
