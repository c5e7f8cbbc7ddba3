//! Listening for "this flow changed" server-sent events while a magic link is pending.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, EventSourceInit};

/// An open event stream; closed when dropped.
pub struct Listener {
    source: EventSource,
    _on_change: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    /// Calls `on_change` on every `flow-changed` event from `url`. `None` if the browser
    /// cannot open an event stream (the caller then polls).
    pub fn open(url: &str, on_change: impl FnMut() + 'static) -> Option<Listener> {
        let init = EventSourceInit::new();
        init.set_with_credentials(true);
        let source = EventSource::new_with_event_source_init_dict(url, &init).ok()?;
        let mut on_change = on_change;
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| on_change());
        source.add_event_listener_with_callback("flow-changed", callback.as_ref().unchecked_ref()).ok()?;
        Some(Listener { source, _on_change: callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.source.close();
    }
}
