//! Who is on the other end: the client's IP address, read afresh on every request (for
//! network zones, rate limits and the system log).
//!
//! Behind a load balancer every connection comes from the balancer, so the client is
//! named in `Forwarded` (RFC 7239) or `X-Forwarded-For`. Anyone can send those headers,
//! so they are believed only from the configured `trusted_proxies`, and only as far as
//! the chain of trusted hops goes: reading right to left, the first address that is not
//! a trusted proxy is the client. A client cannot slip in an address of its own choosing
//! by sending the headers itself, because that address sits left of the one the trusted
//! proxy appended.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::policy::Cidr;

/// The client's address and the hops it came through, nearest last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr {
    pub ip: IpAddr,
    /// Every address the request passed, client first, the peer last; only the hops
    /// from trusted proxies on are believed (for `request.ipChain` in the log).
    pub chain: Vec<IpAddr>,
}

/// The client behind `peer` (the socket's remote address).
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> ClientAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return ClientAddr { ip: peer, chain: vec![peer] };
    }
    let forwarded = forwarded_for(headers);
    // Walk back from the peer through trusted proxies; the first other address is the client.
    let mut chain = vec![peer];
    let mut client = peer;
    for ip in forwarded.iter().rev() {
        chain.push(*ip);
        client = *ip;
        if !is_trusted(*ip) {
            break;
        }
    }
    chain.reverse();
    ClientAddr { ip: client, chain }
}

/// An IPv4 client seen on an IPv6 socket (`::ffff:a.b.c.d`) is that IPv4 client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The addresses the proxies recorded, oldest first: `Forwarded` when present (it is
/// the standard), else `X-Forwarded-For`. Unparseable entries (`unknown`, obfuscated
/// names) end the list there, as nothing left of them can be trusted either.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    };
    let forwarded = values("forwarded");
    let entries: Vec<Option<IpAddr>> = if !forwarded.is_empty() {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| parse_node(v.trim()))
                })?
            })
            .collect()
    } else {
        values("x-forwarded-for").iter().flat_map(|v| v.split(',')).map(|s| parse_node(s.trim())).collect()
    };
    // Keep the trustworthy tail: everything right of the last entry we cannot read.
    let start = entries.iter().rposition(Option::is_none).map_or(0, |i| i + 1);
    entries[start..].iter().flatten().map(|ip| canonical(*ip)).collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    text.rsplit_once(':').and_then(|(host, port)| port.parse::<u16>().ok().and(host.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(peer: &str, headers: &[(&'static str, &str)], expected_ip: &str, expected_chain: &str) {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, v.parse().unwrap());
        }
        let trusted: Vec<Cidr> = ["10.0.0.0/8", "2001:db8::/32"].iter().map(|c| c.parse().unwrap()).collect();
        let got = client_addr(peer.parse().unwrap(), &map, &trusted);
        let chain: Vec<String> = got.chain.iter().map(ToString::to_string).collect();
        assert_eq!((got.ip.to_string(), chain.join(" ")), (expected_ip.to_owned(), expected_chain.to_owned()));
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_trusted_proxies() {
        // No proxy: the peer, whatever it claims.
        check("203.0.113.9", &[("x-forwarded-for", "1.2.3.4")], "203.0.113.9", "203.0.113.9");
        check("203.0.113.9", &[("forwarded", "for=1.2.3.4")], "203.0.113.9", "203.0.113.9");
        // Through a trusted proxy.
        check("10.0.0.2", &[("x-forwarded-for", "198.51.100.7")], "198.51.100.7", "198.51.100.7 10.0.0.2");
        check("10.0.0.2", &[], "10.0.0.2", "10.0.0.2");
        // A client that sends its own header cannot choose its address.
        check("10.0.0.2", &[("x-forwarded-for", "6.6.6.6, 198.51.100.7")], "198.51.100.7", "198.51.100.7 10.0.0.2");
        // Two trusted hops.
        check(
            "10.0.0.2",
            &[("x-forwarded-for", "198.51.100.7, 10.1.1.1")],
            "198.51.100.7",
            "198.51.100.7 10.1.1.1 10.0.0.2",
        );
        // Two header lines count as one list.
        check(
            "10.0.0.2",
            &[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.7")],
            "198.51.100.7",
            "198.51.100.7 10.0.0.2",
        );
        // RFC 7239, with ports, IPv6 and quoting; it wins over X-Forwarded-For.
        check(
            "10.0.0.2",
            &[("forwarded", "for=\"[2001:db9::1]:4711\";proto=https, for=10.0.0.9:80"), ("x-forwarded-for", "9.9.9.9")],
            "2001:db9::1",
            "2001:db9::1 10.0.0.9 10.0.0.2",
        );
        // Garbage left of a good entry is dropped; garbage at the right end stops at the proxy.
        check("10.0.0.2", &[("x-forwarded-for", "nonsense, 198.51.100.7")], "198.51.100.7", "198.51.100.7 10.0.0.2");
        check("10.0.0.2", &[("x-forwarded-for", "198.51.100.7, unknown")], "10.0.0.2", "10.0.0.2");
        // An IPv4 peer on an IPv6 socket.
        check("::ffff:10.0.0.2", &[("x-forwarded-for", "198.51.100.7")], "198.51.100.7", "198.51.100.7 10.0.0.2");
    }
}
