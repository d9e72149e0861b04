//! The client's IP address: the socket peer, or the right-most untrusted address of
//! `X-Forwarded-For` when the peer is one of `server.trusted_proxies`.

use std::future::{ready, Ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use ipnet::IpNet;

use crate::error::AppError;

/// Proxies whose `X-Forwarded-For` is believed (app data).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }
}

/// The client address. Never stored: hash it with the service key first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn from_request(req: &HttpRequest) -> Option<ClientIp> {
        let peer = req.peer_addr()?.ip();
        let trusted = req.app_data::<web::Data<TrustedProxies>>();
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        Some(ClientIp(resolve(
            peer,
            &forwarded,
            trusted
                .map(|t| t.get_ref())
                .unwrap_or(&TrustedProxies::default()),
        )))
    }
}

/// Walks `X-Forwarded-For` from the right while the hops are trusted proxies.
fn resolve(peer: IpAddr, forwarded: &str, trusted: &TrustedProxies) -> IpAddr {
    if !trusted.trusts(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded
        .rsplit(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.trusts(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

impl FromRequest for ClientIp {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            ClientIp::from_request(req).ok_or_else(|| {
                AppError::unexpected(anyhow::anyhow!("request without a peer address"))
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let t = TrustedProxies(vec!["10.0.0.0/8".parse().expect("net")]);
        assert_eq!(resolve(ip("203.0.113.9"), "1.2.3.4", &t), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_peer_forwards_rightmost_untrusted() {
        let t = TrustedProxies(vec!["10.0.0.0/8".parse().expect("net")]);
        assert_eq!(
            resolve(ip("10.0.0.1"), "6.6.6.6, 1.2.3.4, 10.0.0.2", &t),
            ip("1.2.3.4")
        );
        assert_eq!(resolve(ip("10.0.0.1"), "", &t), ip("10.0.0.1"));
        assert_eq!(resolve(ip("10.0.0.1"), "garbage", &t), ip("10.0.0.1"));
    }
}
