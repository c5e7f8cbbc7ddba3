//! The email challenge: wait for the magic link (server-sent events move the flow on
//! by themselves), or enter the code instead; resend after a cooldown.

use std::time::Duration;

use leptos::prelude::*;
use passway_protocol::{FlowResponse, Submission, names};

use super::form;
use crate::controller::Widget;
use crate::sse::Listener;
use crate::text;

pub fn challenge(w: Widget, f: &FlowResponse) -> impl IntoView + use<> {
    let Some(current) = f.current_authenticator.clone() else { return ().into_any() };
    let code_form = f.remediation(names::CHALLENGE_AUTHENTICATOR).cloned();
    let code_typed_before = f.messages.iter().any(|m| m.field.as_deref() == Some("code"));
    let show_code = RwSignal::new(code_typed_before);

    // Live wait: when the link is opened, the flow changes; ask it to move on.
    if let Some(poll) = current.poll.clone() {
        let href = poll.href.clone();
        let listener = Listener::open(&poll.events, move || w.submit(href.clone(), Submission::new()));
        let held = StoredValue::new_local(listener);
        on_cleanup(move || held.set_value(None));
    }

    let cooldown = RwSignal::new(current.resend.as_ref().map_or(0, |r| r.retry_after_seconds));
    if let Ok(tick) =
        set_interval_with_handle(move || cooldown.update(|s| *s = s.saturating_sub(1)), Duration::from_secs(1))
    {
        on_cleanup(move || tick.clear());
    }

    let waiting = f.text("email.challenge.waiting", "").to_owned();
    let enter_code = f.text("email.challenge.enter_code_instead", "Enter a code instead").to_owned();
    let resend_in = f.text("email.challenge.resend_in", "Resend in {seconds}s").to_owned();
    let resend = f.remediation(names::RESEND).cloned();
    let messages = f.messages.clone();

    let resend_button = resend.map(|r| {
        let (href, label) = (r.href, r.label);
        let text = move || {
            let left = cooldown.get();
            if left > 0 { text::fill(&resend_in, "seconds", &left.to_string()) } else { label.clone() }
        };
        let disabled = move || w.busy.get() || cooldown.get() != 0;
        view! {
            <button type="button" class="pw-link" disabled=disabled
                on:click=move |_| w.submit(href.clone(), Submission::new())>{text}</button>
        }
    });

    view! {
        <Show when=move || !show_code.get()>
            <div class="pw-waiting" role="status"><span class="pw-spinner" aria-hidden="true"></span>{waiting.clone()}</div>
            <button type="button" class="pw-button pw-button--secondary" on:click=move |_| {
                show_code.set(true);
                let card = use_context::<super::Card>();
                request_animation_frame(move || if let Some(card) = card { super::focus_first(card.0) });
            }>{enter_code.clone()}</button>
        </Show>
        <Show when=move || show_code.get()>
            {code_form.clone().map(|r| form::remediation(w, r, &messages, true))}
        </Show>
        <div class="pw-actions">{resend_button}</div>
    }
    .into_any()
}
