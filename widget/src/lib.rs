//! The Passway sign-in widget.
//!
//! It knows no journey: it renders whatever flow response the server sends —
//! remediations as forms built from their fields, messages, actions — and submits
//! field values to the `href` each remediation names. Only steps whose experience
//! needs more than a form have a dedicated view (the email challenge: live wait,
//! code entry, resend with cooldown). All text comes resolved from the server; all
//! styling comes from the brand's CSS custom properties, inside a shadow root.
//!
//! Exported to JavaScript: [`render`], used by the loader `js/passway.js` for both
//! `Passway.signIn({ el, … })` and the `<passway-signin>` custom element.

mod api;
mod config;
mod controller;
mod pkce;
mod sse;
mod text;
mod views;
mod webauthn;

use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyViewState;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// A mounted widget; `unmount()` removes it and stops everything it was doing.
#[wasm_bindgen]
pub struct WidgetHandle {
    mounted: Option<UnmountHandle<AnyViewState>>,
}

#[wasm_bindgen]
impl WidgetHandle {
    pub fn unmount(&mut self) {
        self.mounted.take();
    }
}

/// Renders the widget into a shadow root of `host` with the given options
/// (`baseUrl`, `clientId`, `redirectUri`, or `flow` to resume one; `onSuccess`, `onError`).
#[wasm_bindgen]
pub fn render(host: web_sys::HtmlElement, options: JsValue) -> Result<WidgetHandle, JsError> {
    let config = config::Config::from_js(&options).map_err(|e| JsError::new(&e))?;
    let shadow = match host.shadow_root() {
        Some(existing) => existing,
        None => host
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .map_err(|_| JsError::new("this element cannot hold a shadow root; use a <div>"))?,
    };
    shadow.set_inner_html("");
    let mount: web_sys::HtmlElement =
        document().create_element("div").map_err(|_| JsError::new("no document"))?.unchecked_into();
    shadow.append_child(&mount).map_err(|_| JsError::new("cannot attach the widget"))?;
    let mounted = mount_to(mount, move || view! { <views::App config=config /> }.into_any());
    Ok(WidgetHandle { mounted: Some(mounted) })
}
