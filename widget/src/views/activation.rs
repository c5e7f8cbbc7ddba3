//! Setting up an authenticator app: the QR code to scan (drawn from the server's path,
//! so the widget carries no QR encoder and needs no image source under CSP) and the
//! key to type instead. The code field below it is the step's generic form.

use leptos::prelude::*;
use passway_protocol::{Activation, FlowResponse};

pub fn view(a: Activation, f: &FlowResponse) -> impl IntoView + use<> {
    let scan = f.text("enroll.totp.scan", "Scan this QR code with your authenticator app.").to_owned();
    let type_secret = f.text("enroll.totp.type_secret", "Or type this key into the app:").to_owned();
    let size = a.qr_code.size + 8;
    let view_box = format!("-4 -4 {size} {size}");
    view! {
        <div class="pw-activation">
            <p class="pw-activation-text">{scan}</p>
            <a class="pw-qr" href=a.uri.clone()>
                <svg viewBox=view_box role="img" aria-label=type_secret.clone() shape-rendering="crispEdges">
                    <rect x="-4" y="-4" width=size height=size fill="#fff" />
                    <path d=a.qr_code.path fill="#000" />
                </svg>
            </a>
            <p class="pw-activation-text">{type_secret}</p>
            <code class="pw-secret" dir="ltr">{a.shared_secret}</code>
        </div>
    }
}
