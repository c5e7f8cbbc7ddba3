//! Policy decisions, table-driven: each case is a line of input and the decision in
//! words, checked through one helper per question.

use std::time::Duration;

use expect_test::{Expect, expect};

use super::*;
use crate::authenticators::{AuthenticatorKind, FactorType};
use crate::engine::{Proof, Timestamp};

fn zones() -> Zones {
    Zones(
        [
            ("office".to_owned(), vec!["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()]),
            ("lab".to_owned(), vec!["10.9.0.0/16".parse().unwrap()]),
        ]
        .into(),
    )
}

/// `ip` is in which zones, or why the block does not parse.
fn check_zone(cidr: &str, ip: &str, expect: Expect) {
    let got = match cidr.parse::<Cidr>() {
        Ok(c) => format!("{c} contains {ip}: {}", c.contains(ip.parse().unwrap())),
        Err(e) => e,
    };
    expect.assert_eq(&got);
}

#[test]
fn cidr_blocks() {
    check_zone("10.0.0.0/8", "10.200.3.4", expect!["10.0.0.0/8 contains 10.200.3.4: true"]);
    check_zone("10.0.0.0/8", "11.0.0.1", expect!["10.0.0.0/8 contains 11.0.0.1: false"]);
    check_zone("10.0.0.0/8", "::ffff:10.1.2.3", expect!["10.0.0.0/8 contains ::ffff:10.1.2.3: true"]);
    check_zone("192.168.1.7", "192.168.1.7", expect!["192.168.1.7/32 contains 192.168.1.7: true"]);
    check_zone("192.168.1.7", "192.168.1.8", expect!["192.168.1.7/32 contains 192.168.1.8: false"]);
    check_zone("0.0.0.0/0", "203.0.113.9", expect!["0.0.0.0/0 contains 203.0.113.9: true"]);
    check_zone("2001:db8::/32", "2001:db8:ffff::1", expect!["2001:db8::/32 contains 2001:db8:ffff::1: true"]);
    check_zone("2001:db8::/32", "10.0.0.1", expect!["2001:db8::/32 contains 10.0.0.1: false"]);
    check_zone("10.0.0.1/8", "10.0.0.1", expect!["`10.0.0.1/8` has host bits set after /8"]);
    check_zone("10.0.0.0/33", "10.0.0.1", expect!["`10.0.0.0/33`: the prefix length must be 0 to 32"]);
    check_zone("office", "10.0.0.1", expect!["`office` is not an IP address or CIDR block"]);
}

fn rule(name: &str, when: Conditions, access: Access) -> Rule {
    Rule { name: name.into(), when, access }
}

fn sample_policy() -> SignOnPolicy {
    SignOnPolicy {
        rules: vec![
            rule(
                "Outside the office",
                Conditions { not_zones: vec!["office".into()], ..Default::default() },
                Access::Deny,
            ),
            rule("Risky", Conditions { risk: vec![RiskLevel::High], ..Default::default() }, Access::Deny),
            rule(
                "Admins on a new device",
                Conditions { groups: vec!["admins".into()], device: Some(DeviceCondition::New), ..Default::default() },
                Access::Allow(Assurance { factors: 2, phishing_resistant: true, ..Default::default() }),
            ),
            rule(
                "Phones",
                Conditions { platforms: vec![Platform::Ios, Platform::Android], ..Default::default() },
                Access::Allow(Assurance { user_verification: true, ..Default::default() }),
            ),
            rule("Everyone", Conditions::default(), Access::Allow(Assurance::default())),
        ],
    }
}

/// Which rule decides for `ctx` ("groups; ip; device; platform[; risk]"), and why earlier ones did not.
fn check_decision(ctx: &str, expect: Expect) {
    let parts: Vec<&str> = ctx.split(';').map(str::trim).collect();
    let ctx = Context {
        groups: parts[0].split_whitespace().map(str::to_owned).collect(),
        ip: parts[1].parse().ok(),
        new_device: match parts[2] {
            "new" => Some(true),
            "known" => Some(false),
            _ => None,
        },
        platform: Platform::from_name(parts[3]).unwrap(),
        risk: parts.get(4).map_or(RiskLevel::Low, |r| RiskLevel::from_name(r).unwrap()),
    };
    let policy = sample_policy();
    let d = policy.decide(&ctx, &zones());
    let mut got: Vec<String> = d.skipped.iter().map(|(r, why)| format!("skip {:?}: {why}", r.name)).collect();
    got.push(format!("→ {:?}: {:?}", d.rule.name, d.rule.access));
    expect.assert_eq(&got.join("\n"));
}

#[test]
fn first_matching_rule_decides() {
    check_decision("; 203.0.113.9; known; linux", expect![[r#"→ "Outside the office": Deny"#]]);
    check_decision("; unknown; known; linux", expect![[r#"→ "Outside the office": Deny"#]]);
    check_decision(
        "admins; 10.1.1.1; new; linux",
        expect![[r#"
            skip "Outside the office": 10.1.1.1 is in zone office
            skip "Risky": risk low
            → "Admins on a new device": Allow(Assurance { factors: 2, factor_types: [], phishing_resistant: true, user_verification: false, reauthenticate_after: None, inactivity: None })"#]],
    );
    // A browser never looked up counts as new.
    check_decision(
        "admins; 10.1.1.1; ; linux",
        expect![[r#"
            skip "Outside the office": 10.1.1.1 is in zone office
            skip "Risky": risk low
            → "Admins on a new device": Allow(Assurance { factors: 2, factor_types: [], phishing_resistant: true, user_verification: false, reauthenticate_after: None, inactivity: None })"#]],
    );
    check_decision(
        "admins; 10.1.1.1; known; ios",
        expect![[r#"
            skip "Outside the office": 10.1.1.1 is in zone office
            skip "Risky": risk low
            skip "Admins on a new device": a known device
            → "Phones": Allow(Assurance { factors: 1, factor_types: [], phishing_resistant: false, user_verification: true, reauthenticate_after: None, inactivity: None })"#]],
    );
    check_decision(
        "admins; 10.1.1.1; known; ios; high",
        expect![[r#"
        skip "Outside the office": 10.1.1.1 is in zone office
        → "Risky": Deny"#]],
    );
    check_decision(
        "staff; 10.9.0.1; new; windows",
        expect![[r#"
            skip "Outside the office": 10.9.0.1 is in zone office
            skip "Risky": risk low
            skip "Admins on a new device": not in group admins
            skip "Phones": platform windows
            → "Everyone": Allow(Assurance { factors: 1, factor_types: [], phishing_resistant: false, user_verification: false, reauthenticate_after: None, inactivity: None })"#]],
    );
}

fn at(minutes: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000 + minutes * 60)
}

/// What `proofs` ("email@0 passkey@30": authenticator@minute) lack for `assurance` at minute 60.
fn check_gap(assurance: Assurance, proofs: &str, expect: Expect) {
    let proofs: Vec<Proof> = proofs
        .split_whitespace()
        .map(|p| {
            let (kind, minute) = p.split_once('@').unwrap();
            let authenticator = match kind {
                "email" => AuthenticatorKind::Email,
                "passkey" => AuthenticatorKind::Passkey,
                other => panic!("unknown authenticator {other}"),
            };
            Proof { authenticator, at: at(minute.parse().unwrap()) }
        })
        .collect();
    let now = at(60);
    let got = match assurance.gap(&proofs, now) {
        None => "met".to_owned(),
        Some(gap) => {
            let ways: Vec<&str> = [AuthenticatorKind::Passkey, AuthenticatorKind::Email]
                .into_iter()
                .filter(|k| gap.closed_by(*k, &assurance.fresh(&proofs, now)))
                .map(|k| k.key())
                .collect();
            format!(
                "needs {}; by {}",
                gap.describe(),
                if ways.is_empty() { "nothing".into() } else { ways.join(" or ") }
            )
        }
    };
    let acr = Acr::of(&proofs, now).map_or("none", Acr::uri);
    expect.assert_eq(&format!("{got}; acr {acr}"));
}

#[test]
fn assurance_counts_factor_types_not_authenticators() {
    let one = Assurance::default();
    let two = Assurance { factors: 2, ..Default::default() };
    let phr = Assurance { phishing_resistant: true, ..Default::default() };
    let uv = Assurance { user_verification: true, ..Default::default() };
    let knowledge = Assurance { factors: 2, factor_types: vec![FactorType::Knowledge], ..Default::default() };
    let hourly = Assurance { reauthenticate_after: Some(Duration::from_secs(30 * 60)), ..Default::default() };

    check_gap(one.clone(), "", expect!["needs 1 more factor type(s); by passkey or email; acr none"]);
    check_gap(one, "email@0", expect!["met; acr urn:passway:loa:1fa"]);
    check_gap(two.clone(), "email@0", expect!["needs 1 more factor type(s); by passkey; acr urn:passway:loa:1fa"]);
    // A passkey is possession plus the inherence of its user verification.
    check_gap(two.clone(), "passkey@0", expect!["met; acr phr"]);
    check_gap(two, "email@0 passkey@5", expect!["met; acr phr"]);
    check_gap(
        phr.clone(),
        "email@0",
        expect!["needs a phishing-resistant authenticator; by passkey; acr urn:passway:loa:1fa"],
    );
    check_gap(phr, "passkey@0", expect!["met; acr phr"]);
    check_gap(uv, "email@0", expect!["needs user verification; by passkey; acr urn:passway:loa:1fa"]);
    // No knowledge authenticator exists yet: nothing can close that gap.
    check_gap(knowledge, "passkey@0", expect!["needs a knowledge factor; by nothing; acr phr"]);
    check_gap(
        hourly.clone(),
        "email@0",
        expect![
            "needs 1 more factor type(s) (earlier proofs are older than the re-authentication frequency); by passkey or email; acr urn:passway:loa:1fa"
        ],
    );
    check_gap(hourly, "email@0 passkey@45", expect!["met; acr phr"]);
}

#[test]
fn assurances_combine_to_the_stricter() {
    let rule = Assurance { factors: 2, reauthenticate_after: Some(Duration::from_secs(600)), ..Default::default() };
    let asked = Acr::requested(Some("urn:unknown phr urn:passway:loa:1fa")).unwrap();
    assert_eq!(asked, Acr::PhishingResistant);
    let both = rule.and(&asked.assurance());
    assert_eq!(
        both,
        Assurance {
            factors: 2,
            factor_types: vec![],
            phishing_resistant: true,
            user_verification: false,
            reauthenticate_after: Some(Duration::from_secs(600)),
            inactivity: None,
        }
    );
    assert_eq!(Acr::requested(Some("urn:unknown")), None);
    assert_eq!(Acr::requested(None), None);
}

#[test]
fn groups_by_email_or_domain() {
    let groups = Groups(
        [
            ("admins".to_owned(), Members { emails: vec!["ada@example.com".into()], domains: vec![] }),
            ("staff".to_owned(), Members { emails: vec![], domains: vec!["example.com".into()] }),
        ]
        .into(),
    );
    assert_eq!(groups.of("ada@example.com").into_iter().collect::<Vec<_>>(), ["admins", "staff"]);
    assert_eq!(groups.of("bob@example.com").into_iter().collect::<Vec<_>>(), ["staff"]);
    assert!(groups.of("eve@example.com.evil").is_empty());
}

#[test]
fn platforms_from_user_agents() {
    let cases = [
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile", Platform::Android),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15", Platform::Ios),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15", Platform::Macos),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120", Platform::Windows),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) Chrome/120", Platform::Chromeos),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156", Platform::Linux),
        ("curl/8.0", Platform::Other),
    ];
    for (ua, platform) in cases {
        assert_eq!(Platform::from_user_agent(ua), platform, "{ua}");
    }
}
