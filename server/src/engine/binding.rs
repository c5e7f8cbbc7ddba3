//! A flow belongs to the browser that started it.
//!
//! A flow's handle names it, but the handle travels in the hosted page's URL, so it can
//! be shared, leaked or planted: an attacker who proves their own email on a flow and
//! sends a victim to `/signin?flow=H` would sign the victim in as the attacker (login
//! CSRF), and a victim who proves their email on a flow an attacker started would hand
//! the attacker the code (account takeover). So acting on a flow — reading it,
//! submitting a step, polling it, listening to its events — also takes one of two
//! proofs that the request comes from the browser that started it:
//!
//! - its device cookie, whose digest the flow keeps ([`super::Requester::device`]);
//! - the flow's binding secret, a MAC of the handle under the server's key that only
//!   answers to that browser carry ([`secret`]), for widgets embedded on other sites,
//!   whose cookies may never reach the server (Safari, third-party cookies blocked).
//!
//! A handle alone moves nothing and reveals nothing. The magic link is not concerned:
//! its 256-bit secret is its own proof, and opened in another browser it only shows the
//! code to type where the flow started.

use super::Flow;
use crate::crypto::{Keyring, b64url, sha256};

/// What a request offers as proof that it comes from the flow's browser.
#[derive(Debug, Clone, Copy, Default)]
pub struct Holder<'a> {
    /// The request's device cookie.
    pub device: Option<&'a str>,
    /// The binding secret it sent (header, or the event stream's query).
    pub binding: Option<&'a str>,
}

/// The binding secret of the flow with this handle.
pub fn secret(keys: &Keyring, handle: &str) -> String {
    b64url(&keys.mac(&[b"flow-binding", handle.as_bytes()]).0)
}

/// Whether `holder` is the browser that started `flow` (whose handle is `handle`).
pub fn holds(flow: &Flow, handle: &str, holder: &Holder<'_>, keys: &Keyring) -> bool {
    let by_cookie = match (holder.device, &flow.requester.device) {
        (Some(cookie), Some(expected)) => sha256(cookie.as_bytes()).ct_eq(expected),
        _ => false,
    };
    let by_secret = holder.binding.is_some_and(|sent| {
        let expected = secret(keys, handle);
        // Equal lengths first: `ct_eq` of digests keeps the comparison constant time.
        sha256(sent.as_bytes()).ct_eq(&sha256(expected.as_bytes()))
    });
    by_cookie || by_secret
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Enrollment;
    use crate::engine::tests::Journey;
    use passway_protocol::Intent;

    #[test]
    fn the_starting_browser_holds_its_flow_and_no_one_else() {
        let keys = Keyring::from_master(&[7; 32]);
        let mut flow = Journey::with_passwords(Intent::Login, Enrollment::Off).flow;
        flow.requester.device = Some(sha256(b"cookie-a"));
        let handle = "handle-1";
        let binding = secret(&keys, handle);
        let check =
            |device: Option<&str>, binding: Option<&str>| holds(&flow, handle, &Holder { device, binding }, &keys);
        assert!(check(Some("cookie-a"), None), "its device cookie");
        assert!(check(None, Some(&binding)), "its binding secret");
        assert!(check(Some("cookie-b"), Some(&binding)), "the secret without the cookie");
        assert!(!check(None, None), "the handle alone");
        assert!(!check(Some("cookie-b"), None), "another browser");
        assert!(!check(None, Some(&secret(&keys, "handle-2"))), "another flow's secret");
        assert!(!check(None, Some(&secret(&Keyring::from_master(&[8; 32]), handle))), "another server's secret");
        assert!(!check(None, Some("")), "an empty secret");
    }
}
