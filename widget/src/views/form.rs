//! A remediation with fields, as a form. Values are read from the form on submit, so
//! typing costs nothing; the server validates and answers with field messages.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use passway_protocol::{FieldType, FieldValue, Message, Remediation, Submission};
use wasm_bindgen::JsCast;

use super::field;
use crate::controller::Widget;

/// `primary`: the step's main action (the others are alternatives).
pub fn remediation(w: Widget, r: Remediation, messages: &[Message], primary: bool) -> impl IntoView + use<> {
    if let [only] = r.fields.as_slice()
        && only.kind == FieldType::Select
    {
        let scopes = (!r.scopes.is_empty()).then(|| {
            let items = r.scopes.iter().map(|s| view! { <li>{s.description.clone()}</li> }).collect_view();
            view! { <ul class="pw-scopes">{items}</ul> }
        });
        return view! { {scopes} {choices(w, &r, only, primary)} }.into_any();
    }
    let fields = r
        .fields
        .iter()
        .map(|f| {
            let error = messages.iter().find(|m| m.field.as_deref() == Some(f.name.as_str())).map(|m| m.text.clone());
            field::view(&r.name, f.clone(), error)
        })
        .collect_view();
    let (href, label) = (r.href.clone(), r.label.clone());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
        let mut values = values(&r, &form);
        match &r.webauthn {
            Some(options) => {
                // The browser fills `credential`.
                values.remove("credential");
                w.submit_with_ceremony(href.clone(), options.clone(), values)
            }
            None => w.submit(href.clone(), values),
        }
    };
    view! {
        <form class="pw-form" novalidate on:submit=on_submit>
            {fields}
            <button type="submit" class=if primary { "pw-button pw-button--primary" } else { "pw-button pw-button--secondary" }
                disabled=move || w.busy.get()>{label}</button>
        </form>
    }
    .into_any()
}

/// A remediation that is one choice (e.g. which authenticator): a button per option,
/// the first one the step's main action when the remediation is.
fn choices(w: Widget, r: &Remediation, field: &passway_protocol::Field, primary: bool) -> impl IntoView + use<> {
    let buttons = field
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let class =
                if primary && i == 0 { "pw-button pw-button--primary" } else { "pw-button pw-button--secondary" };
            let (href, name, value) = (r.href.clone(), field.name.clone(), o.value.clone());
            let values: Submission = [(name, FieldValue::Text(value))].into();
            view! {
                <button type="button" class=class disabled=move || w.busy.get()
                    on:click=move |_| w.submit(href.clone(), values.clone())>{o.label.clone()}</button>
            }
        })
        .collect_view();
    view! {
        <div class="pw-choices" role="group" aria-label=field.label.clone()>{buttons}</div>
    }
}

/// The submission for `r` from what the form holds.
fn values(r: &Remediation, form: &web_sys::HtmlFormElement) -> Submission {
    let Ok(data) = web_sys::FormData::new_with_form(form) else { return Submission::new() };
    r.fields
        .iter()
        .map(|f| {
            let value = match f.kind {
                FieldType::Boolean => FieldValue::Bool(data.has(&f.name)),
                _ => FieldValue::Text(data.get(&f.name).as_string().unwrap_or_default()),
            };
            (f.name.clone(), value)
        })
        .collect()
}
