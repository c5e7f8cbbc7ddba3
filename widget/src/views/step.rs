//! One step, generically: title, messages, the forms of the remediations that have
//! fields, and buttons for those that do not.

use leptos::prelude::*;
use passway_protocol::{FlowResponse, Level, Remediation, Submission, WebAuthn, names};

use super::{activation, email, form};
use crate::controller::{Screen, Widget};
use crate::text;

pub fn header(w: Widget) -> AnyView {
    match w.screen.get() {
        Screen::Loading => ().into_any(),
        Screen::Flow(f) => {
            let logo =
                f.app.logo_url.clone().map(|src| view! { <img class="pw-logo" src=src alt=f.app.name.clone() /> });
            let title = f.strings.get("title").cloned().unwrap_or_default();
            let subtitle = f.strings.get("subtitle").cloned().map(|s| view! { <p class="pw-subtitle">{s}</p> });
            view! { {logo} <h2 class="pw-title">{title}</h2> {subtitle} }.into_any()
        }
        Screen::Done { title } => view! { <h2 class="pw-title">{title}</h2> }.into_any(),
        Screen::Failed { .. } => ().into_any(),
    }
}

/// Messages not bound to a field, and the widget's own alert.
pub fn messages(w: Widget) -> AnyView {
    let alert = w.alert.get().map(|a| view! { <p class="pw-message pw-message--error">{a}</p> });
    let failed = match w.screen.get() {
        Screen::Failed { message } => Some(view! { <p class="pw-message pw-message--error">{message}</p> }),
        _ => None,
    };
    let from_server = match w.screen.get() {
        Screen::Flow(f) => f
            .messages
            .iter()
            .filter(|m| m.field.is_none())
            .map(|m| {
                let class = match m.level {
                    Level::Error => "pw-message pw-message--error",
                    Level::Warning => "pw-message pw-message--warning",
                    Level::Info => "pw-message pw-message--info",
                };
                view! { <p class=class>{m.text.clone()}</p> }
            })
            .collect_view(),
        _ => vec![],
    };
    view! { {alert} {failed} {from_server} }.into_any()
}

/// What identifies a step for rendering: the forms it shows and their fields. The same
/// step answered again (a validation error) keeps its inputs; another step replaces them.
pub fn identity(w: Widget) -> String {
    match w.screen.get() {
        Screen::Flow(f) => f
            .remediations
            .iter()
            .map(|r| {
                let fields: Vec<&str> = r.fields.iter().map(|x| x.name.as_str()).collect();
                format!("{}({})", r.name, fields.join(","))
            })
            .collect::<Vec<_>>()
            .join(" "),
        Screen::Loading => "loading".into(),
        Screen::Done { .. } => "done".into(),
        Screen::Failed { .. } => "failed".into(),
    }
}

pub fn body(w: Widget) -> AnyView {
    match w.screen.get() {
        Screen::Loading => {
            view! { <div class="pw-waiting"><span class="pw-spinner" aria-hidden="true"></span></div> }.into_any()
        }
        Screen::Flow(f) => flow(w, *f),
        Screen::Done { .. } => ().into_any(),
        Screen::Failed { .. } => {
            let label = text::FAILED_RESTART;
            view! { <button type="button" class="pw-button pw-button--secondary" on:click=move |_| w.start()>{label}</button> }.into_any()
        }
    }
}

/// Remediations a dedicated view presents itself, so the generic actions skip them.
const PRESENTED_BY_EMAIL_VIEW: &[&str] = &[names::CHALLENGE_AUTHENTICATOR, names::CHALLENGE_POLL, names::RESEND];

fn flow(w: Widget, f: FlowResponse) -> AnyView {
    let email_view = f.current_authenticator.as_ref().is_some_and(|c| c.key == "email");
    let handled = |r: &Remediation| email_view && PRESENTED_BY_EMAIL_VIEW.contains(&r.name.as_str());
    let forms: Vec<Remediation> =
        f.remediations.iter().filter(|r| !r.fields.is_empty() && !handled(r)).cloned().collect();
    let actions: Vec<Remediation> =
        f.remediations.iter().filter(|r| r.fields.is_empty() && !handled(r)).cloned().chain(f.cancel.clone()).collect();
    // Passkey autofill: a pending conditional request, answered from the identifier field.
    let autofill = f.remediations.iter().find_map(|r| match &r.webauthn {
        Some(w @ WebAuthn::Get(o)) if w.is_conditional() => Some((r.href.clone(), o.clone())),
        _ => None,
    });
    if let Some((href, options)) = autofill {
        request_animation_frame(move || w.start_conditional(href, options));
    }
    let dedicated = email_view.then(|| email::challenge(w, &f));
    let activation =
        f.current_authenticator.as_ref().and_then(|c| c.activation.clone()).map(|a| activation::view(a, &f));
    let main = view! {
        {activation}
        {dedicated}
        {forms.into_iter().enumerate().map(|(i, r)| form::remediation(w, r, &f.messages, i == 0 && !email_view)).collect_view()}
    };
    let actions = actions
        .into_iter()
        .map(|r| {
            let lead = match r.name.as_str() {
                names::SELECT_ENROLL_PROFILE => f.strings.get("widget.no_account").cloned(),
                names::SELECT_IDENTIFY => f.strings.get("widget.have_account").cloned(),
                _ => None,
            };
            let (href, label) = (r.href.clone(), r.label.clone());
            view! {
                <span>
                    {lead.map(|l| format!("{l} "))}
                    <button type="button" class="pw-link" disabled=move || w.busy.get()
                        on:click=move |_| w.submit(href.clone(), Submission::new())>{label}</button>
                </span>
            }
        })
        .collect_view();
    view! { {main} <div class="pw-actions">{actions}</div> }.into_any()
}
