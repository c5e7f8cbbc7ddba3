//! The widget's views. `App` owns the layout that persists across steps (the brand's
//! stylesheet and the live region that announces messages); the rest re-renders from
//! each flow response.

mod activation;
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
    // The language the server wrote the step in: screen readers and right-to-left
    // scripts follow it. Before any step (an error first), the page's own direction.
    let locale = move || match w.screen.get() {
        Screen::Flow(f) => f.locale.clone(),
        _ => None,
    };
    let stylesheet = move || format!("{base}/themes/{}/theme.css", brand.get());
    let styled = RwSignal::new(false);
    let card: NodeRef<leptos::html::Div> = NodeRef::new();
    provide_context(Card(card));

    // A new step may reuse the previous step's input elements (the view is patched in
    // place): reset its forms to the values the server sent, so nothing typed into one
    // step lingers in the next one's fields. The same step shown again keeps its inputs.
    let shown = StoredValue::new(String::new());
    Effect::new(move |_| {
        let identity = step::identity(w);
        if shown.with_value(|s| *s != identity) {
            shown.set_value(identity);
            reset_forms(card);
        }
    });

    // After each new step, put the focus on the first field that needs attention.
    Effect::new(move |_| {
        let screen = w.screen.get();
        if matches!(screen, Screen::Flow(_)) {
            request_animation_frame(move || focus_first(card));
        }
    });

    view! {
        <link rel="stylesheet" href=stylesheet on:load=move |_| styled.set(true) on:error=move |_| styled.set(true) />
        <div class="pw-root" hidden=move || !styled.get() lang=locale dir=move || locale().map(|l| direction(&l))>
            <div class="pw-card" node_ref=card aria-busy=move || if w.busy.get() { "true" } else { "false" }>
                {move || step::header(w)}
                <div class="pw-messages" role="status" aria-live="polite">
                    {move || step::messages(w)}
                </div>
                {move || step::body(w)}
            </div>
        </div>
        <p class="pw-visually-hidden" aria-live="polite">{move || if styled.get() { "" } else { text::LOADING }}</p>
    }
}

/// `rtl` for the right-to-left scripts the server has catalogs for.
fn direction(locale: &str) -> &'static str {
    let language = locale.split('-').next().unwrap_or_default();
    if matches!(language, "ar" | "he" | "fa" | "ur") { "rtl" } else { "ltr" }
}

/// The card element, for views that move the focus.
#[derive(Clone, Copy)]
pub struct Card(pub NodeRef<leptos::html::Div>);

/// Resets every form in the card to its inputs' `value` attributes (what the server sent).
fn reset_forms(card: NodeRef<leptos::html::Div>) {
    let Some(card) = card.get_untracked() else { return };
    let forms = card.get_elements_by_tag_name("form");
    for i in 0..forms.length() {
        if let Some(form) = forms.item(i).and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok()) {
            form.reset();
        }
    }
}

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
