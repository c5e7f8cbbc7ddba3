//! The facts a sign-on rule is evaluated against, gathered by the shell from the request
//! and the configuration (never read by the policy itself).

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// What is known about the request and the person when the policy is evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The groups of the person signing in (empty until they are identified).
    pub groups: BTreeSet<String>,
    /// The client's address, when the server could tell.
    pub ip: Option<IpAddr>,
    /// Whether this browser has signed this person in before; `None` while unknown.
    pub new_device: Option<bool>,
    pub platform: Platform,
    /// How risky the request looks.
    pub risk: RiskLevel,
}

/// The risk of a request. Nothing in Passway assesses it yet, so every request is
/// `low` until an inline hook (or a risk engine) says otherwise; rules on it are
/// ready for that, and `passway policy explain --risk` shows what they would do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    #[default]
    Low,
    Medium,
    High,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 3] = [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High];

    pub fn name(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    pub fn from_name(name: &str) -> Option<RiskLevel> {
        RiskLevel::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// The operating system of the browser, from its User-Agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Windows,
    Macos,
    Linux,
    Chromeos,
    Ios,
    Android,
    #[default]
    Other,
}

impl Platform {
    pub const ALL: [Platform; 7] = [
        Platform::Windows,
        Platform::Macos,
        Platform::Linux,
        Platform::Chromeos,
        Platform::Ios,
        Platform::Android,
        Platform::Other,
    ];

    /// The configuration's name for it (`macos`, `ios`, …).
    pub fn name(self) -> &'static str {
        match self {
            Platform::Windows => "windows",
            Platform::Macos => "macos",
            Platform::Linux => "linux",
            Platform::Chromeos => "chromeos",
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Other => "other",
        }
    }

    /// As people write it ("macOS"), for describing a browser.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Windows => "Windows",
            Platform::Macos => "macOS",
            Platform::Linux => "Linux",
            Platform::Chromeos => "ChromeOS",
            Platform::Ios => "iOS",
            Platform::Android => "Android",
            Platform::Other => "another system",
        }
    }

    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Mobile platforms first: their User-Agents also name desktop ones.
    pub fn from_user_agent(ua: &str) -> Platform {
        if ua.contains("Android") {
            Platform::Android
        } else if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
            Platform::Ios
        } else if ua.contains("CrOS") {
            Platform::Chromeos
        } else if ua.contains("Windows") {
            Platform::Windows
        } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
            Platform::Macos
        } else if ua.contains("Linux") || ua.contains("X11") {
            Platform::Linux
        } else {
            Platform::Other
        }
    }
}
