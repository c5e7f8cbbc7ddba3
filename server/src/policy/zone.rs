//! Network zones: named lists of CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::str::FromStr;

/// One block of addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client seen on an IPv6 socket (::ffff:a.b.c.d) is that IPv4 client.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix) == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix) == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { bits >> (width - prefix) }
}

impl FromStr for Cidr {
    type Err = String;

    /// `a.b.c.d/n`, `x::y/n`, or a single address (a /32 or /128).
    fn from_str(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
        let network: IpAddr = addr.trim().parse().map_err(|_| format!("`{s}` is not an IP address or CIDR block"))?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            width
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("`{s}`: the prefix length must be 0 to {width}"))?
        };
        let cidr = Cidr { network, prefix };
        if !cidr.contains(network) || host_bits(network, prefix) {
            return Err(format!("`{s}` has host bits set after /{prefix}"));
        }
        Ok(cidr)
    }
}

fn host_bits(ip: IpAddr, prefix: u8) -> bool {
    match ip {
        IpAddr::V4(v4) => prefix < 32 && u32::from(v4) & (u32::MAX >> prefix) != 0,
        IpAddr::V6(v6) => prefix < 128 && u128::from(v6) & (u128::MAX >> prefix) != 0,
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The configured zones, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zones(pub BTreeMap<String, Vec<Cidr>>);

impl Zones {
    /// The names of the zones `ip` is in.
    pub fn of(&self, ip: Option<IpAddr>) -> Vec<&str> {
        let Some(ip) = ip else { return vec![] };
        self.0.iter().filter(|(_, blocks)| blocks.iter().any(|b| b.contains(ip))).map(|(n, _)| n.as_str()).collect()
    }
}
