//! The few texts the widget may need before the server has sent any (the server's
//! `strings` override them when present).

pub const LOADING: &str = "Loading…";
pub const NETWORK: &str = "Cannot reach the sign-in service. Check your connection and try again.";
pub const EXPIRED: &str = "This sign-in took too long and has expired. Please start again.";
pub const SIGNED_IN: &str = "You are signed in";
pub const FAILED: &str = "Something went wrong. Please start again.";
pub const FAILED_RESTART: &str = "Start again";
pub const PASSKEY_FAILED: &str = "The passkey request did not complete. Try again, or use another way.";

/// Fills `{name}` placeholders.
pub fn fill(text: &str, name: &str, value: &str) -> String {
    text.replace(&format!("{{{name}}}"), value)
}
pub const DENIED: &str = "You did not allow access, so you are not signed in.";
