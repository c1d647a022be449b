//! Host names as viewers send them: the HTTP `Host` header (RFC 9110 §7.2, `uri-host [":"
//! port]`) and the host of an RTMP `tcUrl` (the URL the client put in its `connect` command).

/// Longest host we look at (RFC 1035 §2.3.4 caps names at 255 octets); anything longer claims
/// no distribution, so nothing long is ever copied.
const MAX_HOST_LEN: usize = 255;

/// The form the router compares: lower-case, without a `:port` suffix and without a trailing
/// dot. An IPv6 literal keeps its brackets (`[::1]`). `None` when nothing usable is left.
pub fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim_matches(|c: char| c.is_ascii_whitespace());
    if host.is_empty() || host.len() > MAX_HOST_LEN + 6 {
        return None;
    }
    let name = if host.starts_with('[') {
        let end = host.find(']')?;
        let (literal, rest) = host.split_at(end + 1);
        if !(rest.is_empty() || is_port_suffix(rest)) {
            return None;
        }
        literal
    } else {
        match host.rsplit_once(':') {
            // More than one colon without brackets: not a host[:port] we can split.
            Some((name, _)) if name.contains(':') => return None,
            Some((name, _)) if is_port_suffix(&host[name.len()..]) => name,
            Some(_) => return None,
            None => host,
        }
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_HOST_LEN {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

/// Whether a certificate's domain `pattern` (a host name, or `*.parent` for exactly one more
/// label, RFC 6125 §6.4.3) covers `host`; both compared without case or a root dot.
pub fn domain_covers(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.trim_end_matches('.'), host.trim_end_matches('.'));
    match pattern.strip_prefix("*.") {
        Some(parent) => {
            host.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(parent))
        }
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// `:` followed by 1–5 digits.
fn is_port_suffix(s: &str) -> bool {
    s.strip_prefix(':').is_some_and(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Schemes of the URLs RTMP clients put in `tcUrl`: librtmp's `RTMP_ParseURL` (parseurl.c)
/// knows rtmp, rtmpt, rtmpe, rtmpte, rtmps, rtmpts (and rtmfp, which is not TCP).
const RTMP_SCHEMES: &[&str] = &["rtmp", "rtmpe", "rtmpt", "rtmpte", "rtmps", "rtmpts"];

/// The host of an RTMP `tcUrl` such as `rtmp://user@S5C39GQB8OW64R.example.com:1935/cfx/st`,
/// as written there (the router normalises it). `None` when the URL has another scheme or no
/// host, so the caller can fall back to the HTTP `Host` header of an RTMPT tunnel.
pub fn host_from_tc_url(tc_url: &str) -> Option<&str> {
    let (scheme, rest) = tc_url.split_once("://")?;
    if !RTMP_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return None;
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, after)| after);
    let host = if host_port.starts_with('[') {
        &host_port[..=host_port.find(']')?]
    } else {
        host_port.split_once(':').map_or(host_port, |(host, _)| host)
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_domains_cover_the_name_or_one_more_label() {
        assert!(domain_covers("www.example.com", "WWW.example.com."));
        assert!(!domain_covers("www.example.com", "example.com"));
        assert!(domain_covers("*.cdn.example.com", "a.cdn.example.com"));
        assert!(domain_covers("*.cdn.example.com", "A.CDN.example.com"));
        assert!(!domain_covers("*.cdn.example.com", "cdn.example.com"));
        assert!(!domain_covers("*.cdn.example.com", "a.b.cdn.example.com"));
        assert!(!domain_covers("*.cdn.example.com", ".cdn.example.com"));
    }

    #[test]
    fn normalize_strips_port_dot_and_case() {
        assert_eq!(normalize_host("Media.Example.COM").as_deref(), Some("media.example.com"));
        assert_eq!(normalize_host("media.example.com:1935").as_deref(), Some("media.example.com"));
        assert_eq!(normalize_host("media.example.com.").as_deref(), Some("media.example.com"));
        assert_eq!(normalize_host("media.example.com.:80").as_deref(), Some("media.example.com"));
        assert_eq!(normalize_host("127.0.0.1:1935").as_deref(), Some("127.0.0.1"));
        assert_eq!(normalize_host("[::1]:1935").as_deref(), Some("[::1]"));
        assert_eq!(normalize_host("[FE80::1]").as_deref(), Some("[fe80::1]"));
        for bad in ["", " ", ":80", "[::1", "[::1]x", "::1", "a:b", "host:", "host:123456", "."] {
            assert_eq!(normalize_host(bad), None, "{bad:?}");
        }
        assert_eq!(normalize_host(&"a".repeat(300)), None);
    }

    #[test]
    fn tc_url_hosts() {
        assert_eq!(host_from_tc_url("rtmp://s1.example.com/cfx/st"), Some("s1.example.com"));
        assert_eq!(host_from_tc_url("RTMPE://S1.example.com:1935/cfx/st"), Some("S1.example.com"));
        assert_eq!(host_from_tc_url("rtmpt://user:pw@h.example.com:80/cfx/st?x=1"), Some("h.example.com"));
        assert_eq!(host_from_tc_url("rtmpte://h.example.com"), Some("h.example.com"));
        assert_eq!(host_from_tc_url("rtmps://h.example.com?a"), Some("h.example.com"));
        assert_eq!(host_from_tc_url("rtmp://[::1]:1935/cfx/st"), Some("[::1]"));
        for bad in [
            "http://h.example.com/cfx/st",
            "rtmp:/h/cfx",
            "rtmp:///cfx/st",
            "rtmp://user@/cfx",
            "cfx/st",
            "",
            "rtmp://[::1/x",
        ] {
            assert_eq!(host_from_tc_url(bad), None, "{bad:?}");
        }
    }
}
