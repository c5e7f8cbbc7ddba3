//! The widget's state and what it does: start or resume a flow, submit remediations,
//! follow the answer, and finish (redirect, or hand the code or tokens to the page).

use js_sys::{Object, Reflect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use passway_protocol::{FieldValue, FlowResponse, RequestOptions, StartFlow, Submission, Success, WebAuthn};
use wasm_bindgen::JsValue;

use crate::api::{self, Failure};
use crate::config::{Config, ResponseType, Start};
use crate::{pkce, text, webauthn};

#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    Loading,
    Flow(Box<FlowResponse>),
    /// Signed in (embedded flows); the page has been told.
    Done {
        title: String,
    },
    /// Nothing more can be done here.
    Failed {
        message: String,
    },
}

/// Handles to the widget's state; `Copy`, so views capture it freely.
#[derive(Clone, Copy)]
pub struct Widget {
    config: StoredValue<Config, LocalStorage>,
    /// PKCE verifier and state of the flow this widget started.
    pkce: StoredValue<Option<(String, Option<String>)>, LocalStorage>,
    /// The flow's binding secret, sent with every request about it; kept in memory only.
    binding: StoredValue<Option<String>, LocalStorage>,
    pub screen: RwSignal<Screen>,
    pub busy: RwSignal<bool>,
    /// A problem to announce that the server did not phrase (network, expiry).
    pub alert: RwSignal<Option<String>>,
    /// The pending passkey autofill request, aborted before anything else happens.
    conditional: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
}

impl Widget {
    pub fn new(config: Config) -> Widget {
        Widget {
            config: StoredValue::new_local(config),
            pkce: StoredValue::new_local(None),
            binding: StoredValue::new_local(None),
            screen: RwSignal::new(Screen::Loading),
            busy: RwSignal::new(false),
            alert: RwSignal::new(None),
            conditional: StoredValue::new_local(None),
        }
    }

    /// Offers the person's passkeys in the autofill of the identifier field; a chosen
    /// one is submitted to `href`.
    pub fn start_conditional(self, href: String, options: RequestOptions) {
        self.abort_conditional();
        let Ok(controller) = web_sys::AbortController::new() else { return };
        let signal = controller.signal();
        self.conditional.set_value(Some(controller));
        spawn_local(async move {
            if !webauthn::conditional_available().await {
                return;
            }
            // Failures here are silent: the person simply did not pick a passkey.
            if let Ok(credential) = webauthn::get(options, true, Some(signal)).await {
                self.conditional.set_value(None);
                self.submit(href, [("credential".to_owned(), FieldValue::Text(credential))].into());
            }
        });
    }

    /// Cancels a pending autofill request (before a modal ceremony, or when leaving the step).
    pub fn abort_conditional(self) {
        if let Some(Some(controller)) = self.conditional.try_update_value(|c| c.take()) {
            controller.abort();
        }
    }

    /// Runs the WebAuthn ceremony a remediation asks for, then submits its result with
    /// `values` as the field `credential`.
    pub fn submit_with_ceremony(self, href: String, options: WebAuthn, mut values: Submission) {
        if self.busy.get_untracked() {
            return;
        }
        self.abort_conditional();
        self.busy.set(true);
        self.alert.set(None);
        spawn_local(async move {
            match webauthn::run(&options).await {
                Ok(credential) => {
                    values.insert("credential".into(), FieldValue::Text(credential));
                    self.busy.set(false);
                    self.submit(href, values);
                }
                Err(failure) => {
                    self.busy.set(false);
                    self.alert.set(Some(self.text(failure.key(), text::PASSKEY_FAILED)));
                }
            }
        });
    }

    pub fn initial_brand(&self) -> String {
        self.config.with_value(|c| c.brand.clone())
    }

    pub fn base_url(&self) -> String {
        self.config.with_value(|c| c.base_url.clone())
    }

    /// Starts (or resumes) the flow.
    pub fn start(self) {
        spawn_local(async move {
            let start = self.config.with_value(|c| c.start.clone());
            let result = match start {
                Start::Resume { handle } => {
                    api::get_flow(&format!("{}/api/v1/flows/{handle}", self.base_url()), None).await
                }
                Start::New { client_id, redirect_uri, scope, state, intent, login_hint } => {
                    match self.new_flow(client_id, redirect_uri, scope, state, intent, login_hint).await {
                        Ok(r) => r,
                        Err(e) => return self.fail(&format!("{e:?}")),
                    }
                }
            };
            self.follow(result).await;
        });
    }

    async fn new_flow(
        self,
        client_id: String,
        redirect_uri: String,
        scope: String,
        state: Option<String>,
        intent: Option<String>,
        login_hint: Option<String>,
    ) -> Result<Result<FlowResponse, Failure>, JsValue> {
        let verifier = pkce::random(32)?;
        let state = Some(state.unwrap_or(pkce::random(16)?));
        let body = StartFlow {
            client_id,
            redirect_uri,
            state: state.clone(),
            nonce: Some(pkce::random(16)?),
            scope: Some(scope),
            code_challenge: pkce::challenge(&verifier).await?,
            code_challenge_method: "S256".into(),
            intent: intent.and_then(|i| serde_wasm_bindgen::from_value(JsValue::from_str(&i)).ok()),
            login_hint,
            prompt: None,
            max_age: None,
            acr_values: None,
            ui_locales: self.config.with_value(|c| c.language.clone()),
            resource: None,
        };
        self.pkce.set_value(Some((verifier, state)));
        Ok(api::post_json(&format!("{}/api/v1/flows", self.base_url()), &body, None).await)
    }

    /// Submits values to a remediation's URL.
    pub fn submit(self, href: String, values: Submission) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        spawn_local(async move {
            let binding = self.binding.get_value();
            let result = api::post_json(&href, &values, binding.as_deref()).await;
            self.follow(result).await;
        });
    }

    /// Shows what the server answered, or explains why there is nothing to show.
    async fn follow(self, result: Result<FlowResponse, Failure>) {
        self.abort_conditional();
        match result {
            Ok(flow) => {
                self.alert.set(None);
                if flow.binding.is_some() {
                    self.binding.set_value(flow.binding.clone());
                }
                match flow.success.clone() {
                    Some(success) => self.succeed(flow, success).await,
                    None => {
                        self.busy.set(false);
                        self.screen.set(Screen::Flow(Box::new(flow)));
                    }
                }
            }
            Err(Failure::Api(error)) if error.error == "flow_not_bound" => {
                // Another browser started this flow: nothing to do here but say so.
                self.busy.set(false);
                self.report(&error.error, &error.message);
                self.screen.set(Screen::Failed { message: error.message });
            }
            Err(Failure::Api(error)) if error.error == "flow_expired" || error.error == "flow_not_found" => {
                self.busy.set(false);
                let message = self.text("widget.error.expired", text::EXPIRED);
                let restartable = self.config.with_value(|c| matches!(c.start, Start::New { .. }));
                if restartable {
                    self.alert.set(Some(message));
                    self.start();
                } else {
                    self.screen.set(Screen::Failed { message });
                }
            }
            Err(Failure::Api(error)) if error.error == "flow_conflict" => {
                // Another tab moved the flow on: show where it is now.
                self.busy.set(false);
                if let Screen::Flow(flow) = self.screen.get_untracked() {
                    let url = format!("{}/api/v1/flows/{}", self.base_url(), flow.handle);
                    let again = api::get_flow(&url, self.binding.get_value().as_deref()).await;
                    Box::pin(self.follow(again)).await;
                }
            }
            Err(Failure::Api(error)) => {
                self.busy.set(false);
                self.report(&error.error, &error.message);
                if matches!(self.screen.get_untracked(), Screen::Loading) {
                    self.screen.set(Screen::Failed { message: error.message });
                } else {
                    self.alert.set(Some(error.message));
                }
            }
            Err(Failure::Network) => {
                self.busy.set(false);
                let message = self.text("widget.error.network", text::NETWORK);
                self.report("network_error", &message);
                if matches!(self.screen.get_untracked(), Screen::Loading) {
                    self.screen.set(Screen::Failed { message });
                } else {
                    self.alert.set(Some(message));
                }
            }
        }
    }

    async fn succeed(self, flow: FlowResponse, success: Success) {
        let title = flow.strings.get("title").cloned().unwrap_or_else(|| text::SIGNED_IN.to_owned());
        if let Some(url) = success.redirect_to {
            // Hosted page: the browser goes back to the app.
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign(&url);
            }
            self.screen.set(Screen::Done { title });
            return;
        }
        if let Some(error) = success.error {
            // The flow ended without access (consent refused): tell the page.
            let message = success.error_description.unwrap_or_else(|| error.clone());
            self.busy.set(false);
            self.report(&error, &message);
            self.screen.set(Screen::Failed { message: text::DENIED.to_owned() });
            return;
        }
        let Some(code) = success.code else {
            return self.fail("success without a code");
        };
        let (verifier, expected_state) = self.pkce.get_value().unwrap_or_default();
        if success.state != expected_state {
            return self.fail("state mismatch");
        }
        let (response_type, redirect_uri, client_id) = self.config.with_value(|c| match &c.start {
            Start::New { redirect_uri, client_id, .. } => (c.response_type, redirect_uri.clone(), client_id.clone()),
            Start::Resume { .. } => (c.response_type, String::new(), String::new()),
        });
        let detail = Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&detail, &JsValue::from_str(k), v);
        };
        set("state", &success.state.clone().map(JsValue::from).unwrap_or(JsValue::NULL));
        match response_type {
            ResponseType::Code => {
                set("code", &JsValue::from_str(&code));
                set("codeVerifier", &JsValue::from_str(&verifier));
                set("redirectUri", &JsValue::from_str(&redirect_uri));
            }
            ResponseType::Tokens => {
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect_uri.as_str()),
                    ("client_id", client_id.as_str()),
                    ("code_verifier", verifier.as_str()),
                ];
                match api::post_form(&format!("{}/oauth2/v1/token", self.base_url()), &form).await {
                    Ok(tokens) => set("tokens", &tokens),
                    Err(_) => return self.fail("token exchange failed"),
                }
            }
        }
        self.busy.set(false);
        self.screen.set(Screen::Done { title });
        self.config.with_value(|c| {
            if let Some(f) = &c.on_success {
                let _ = f.call1(&JsValue::NULL, &detail);
            }
        });
    }

    fn fail(self, why: &str) {
        self.busy.set(false);
        self.report("widget_failed", why);
        self.screen.set(Screen::Failed { message: text::FAILED.to_owned() });
    }

    /// Tells the page (onError / `passway:error`).
    fn report(self, error: &str, message: &str) {
        self.config.with_value(|c| {
            if let Some(f) = &c.on_error {
                let detail = Object::new();
                let _ = Reflect::set(&detail, &"error".into(), &JsValue::from_str(error));
                let _ = Reflect::set(&detail, &"message".into(), &JsValue::from_str(message));
                let _ = f.call1(&JsValue::NULL, &detail);
            }
        });
    }

    /// Server text for `key` from the current flow, or the built-in fallback.
    pub fn text(self, key: &str, fallback: &str) -> String {
        match self.screen.get_untracked() {
            Screen::Flow(f) => f.text(key, fallback).to_owned(),
            _ => fallback.to_owned(),
        }
    }
}
