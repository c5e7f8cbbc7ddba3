/// Who made a request, as far as the server can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
    /// The addresses the request came through, client first (`request.ipChain`).
    pub ip_chain: Vec<String>,
    /// The request's ID (`http::request_id`), empty outside a request.
    pub request_id: String,
}

/// "Chrome on Linux": enough to recognise one's own browser, from the User-Agent.
pub fn describe_browser(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("HeadlessChrome/") {
        "Headless Chrome"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "an unknown browser"
    };
    let os = match crate::policy::Platform::from_user_agent(ua) {
        crate::policy::Platform::Other => return browser.to_owned(),
        platform => platform.display_name(),
    };
    format!("{browser} on {os}")
}

#[cfg(test)]
mod tests {
    use super::describe_browser;

    #[test]
    fn browsers() {
        for (ua, expected) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Windows"),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0",
                "Edge on Windows",
            ),
            ("curl/8.0", "an unknown browser"),
        ] {
            assert_eq!(describe_browser(ua), expected, "{ua}");
        }
    }
}
