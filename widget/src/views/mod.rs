//! The widget's views. `App` owns the layout that persists across steps (the brand's
//! stylesheet and the live region that announces messages); the rest re-renders from
//! each flow response.

mod email;
mod field;
mod form;
mod step;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::config::Config;
use crate::controller::{Screen, Widget};
use crate::text;

#[component]
pub fn App(config: Config) -> impl IntoView {
    let w = Widget::new(config);
    w.start();
    on_cleanup(move || w.abort_conditional());
    let base = w.base_url();
    let brand = RwSignal::new(w.initial_brand());
    Effect::new(move |_| {
        if let Screen::Flow(f) = w.screen.get()
            && brand.get_untracked() != f.app.brand
        {
            brand.set(f.app.brand.clone());
        }
    });
    let stylesheet = move || format!("{base}/themes/{}/theme.css", brand.get());
    let styled = RwSignal::new(false);
    let card: NodeRef<leptos::html::Div> = NodeRef::new();
    provide_context(Card(card));

    // After each new step, put the focus on the first field that needs attention.
    Effect::new(move |_| {
        let screen = w.screen.get();
        if matches!(screen, Screen::Flow(_)) {
            request_animation_frame(move || focus_first(card));
        }
    });

    view! {
        <link rel="stylesheet" href=stylesheet on:load=move |_| styled.set(true) on:error=move |_| styled.set(true) />
        <div class="pw-root" hidden=move || !styled.get()>
            <div class="pw-card" node_ref=card aria-busy=move || if w.busy.get() { "true" } else { "false" }>
                {move || step::header(w)}
                <div class="pw-messages" role="status" aria-live="polite">
                    {move || step::messages(w)}
                </div>
                // Keyed by the forms on show: a new step gets new inputs, so nothing typed
                // into one form (or its DOM state) lingers in the next one's fields.
                <For each=move || [step::identity(w)] key=|k| k.clone() let:_step>
                    {move || step::body(w)}
                </For>
            </div>
        </div>
        <p class="pw-visually-hidden" aria-live="polite">{move || if styled.get() { "" } else { text::LOADING }}</p>
    }
}

/// The card element, for views that move the focus.
#[derive(Clone, Copy)]
pub struct Card(pub NodeRef<leptos::html::Div>);

/// Focuses the first invalid field, else the first editable one.
fn focus_first(card: NodeRef<leptos::html::Div>) {
    let Some(card) = card.get_untracked() else { return };
    for selector in ["[aria-invalid=\"true\"]", "input:not([type=hidden]):not([readonly]), select"] {
        if let Ok(Some(el)) = card.query_selector(selector)
            && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = el.focus();
            return;
        }
    }
}
