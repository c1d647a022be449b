//! Which distribution a connection or request belongs to. The host the player connected to
//! (the `tcUrl`, else an RTMPT tunnel's `Host` header) picks a streaming distribution, whose
//! [`Library`] then opens every object the connection plays; an HTTP request's `Host` header
//! picks a web distribution ([`WebDistribution`]), which serves it.
//!
//! Streaming hosts no distribution claims (IP addresses included) go to the default
//! distribution, the one `--origin` defines, if there is one. There is no default web
//! distribution.

use std::collections::HashMap;
use std::sync::Arc;

use sf_cache::OriginCache;
use sf_dist::{Router, StreamingDistribution, ValidationError};

use crate::library::Library;
use crate::stats::DEFAULT_DISTRIBUTION;
use crate::web::WebDistribution;

/// A distribution as the edge serves it.
#[derive(Debug)]
pub struct ServedDistribution {
    pub id: String,
    /// `None` for the default distribution, which answers hosts nobody claims.
    pub domain_name: Option<String>,
    pub aliases: Vec<String>,
    pub enabled: bool,
    /// The origin as configured, for logs and `/distributions`.
    pub origin: String,
    /// The control store change that last put it (`None`: from the config file).
    pub version: Option<u64>,
    pub library: Library,
    /// Where its access logs go, when its `Logging` is enabled.
    pub logging: Option<Arc<sf_logs::LogTarget>>,
    /// Where the access logs of its HLS requests go: the same bucket and prefix, in the web
    /// format, so in files of their own (a file holds one format).
    pub hls_logging: Option<Arc<sf_logs::LogTarget>>,
    /// The accounts (`self`, account numbers) whose key pairs sign its stream names, when its
    /// `TrustedSigners` is enabled; `None`: plays need no signature.
    pub trusted_signers: Option<Vec<String>>,
    /// Which connections it takes: every one, or only those over TLS or RTMPE.
    pub protocol_policy: StreamingProtocolPolicy,
}

/// The tag that sets a streaming distribution's [`StreamingProtocolPolicy`]: CloudFront's
/// `StreamingDistributionConfig` has no field for it, and tags are stored with the
/// distribution (`TagResource`). A config-file distribution's `viewer_protocol_policy` key
/// becomes this tag.
pub const VIEWER_PROTOCOL_POLICY_TAG: &str = "streamfront:viewer-protocol-policy";

/// Which connections a streaming distribution accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamingProtocolPolicy {
    /// RTMP, RTMPE, RTMPT and RTMPTE, plain or inside TLS.
    AllowAll,
    /// RTMPS, RTMPTS (inside TLS), RTMPE and RTMPTE: plain RTMP and RTMPT are rejected.
    SecureOnly,
}

impl StreamingProtocolPolicy {
    /// `allow-all` or `secure-only`.
    pub fn parse(value: &str) -> Option<StreamingProtocolPolicy> {
        match value {
            "allow-all" => Some(StreamingProtocolPolicy::AllowAll),
            "secure-only" => Some(StreamingProtocolPolicy::SecureOnly),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StreamingProtocolPolicy::AllowAll => "allow-all",
            StreamingProtocolPolicy::SecureOnly => "secure-only",
        }
    }

    /// The policy `record`'s tags set. A tag with another value fails closed: whoever set it
    /// meant to restrict the distribution.
    pub fn of(record: &StreamingDistribution) -> StreamingProtocolPolicy {
        let Some(tag) = record.tags.iter().find(|tag| tag.key == VIEWER_PROTOCOL_POLICY_TAG) else {
            return StreamingProtocolPolicy::AllowAll;
        };
        let value = tag.value.as_deref().unwrap_or_default();
        StreamingProtocolPolicy::parse(value).unwrap_or_else(|| {
            tracing::warn!(
                distribution = %record.id,
                "tag {VIEWER_PROTOCOL_POLICY_TAG}={value:?} is neither allow-all nor secure-only: secure-only"
            );
            StreamingProtocolPolicy::SecureOnly
        })
    }

    /// Whether a connection over TLS (`over_tls`) or not, speaking `protocol`, may connect.
    pub fn admits(self, over_tls: bool, protocol: crate::connection::Protocol) -> bool {
        use crate::connection::Protocol;
        match self {
            StreamingProtocolPolicy::AllowAll => true,
            StreamingProtocolPolicy::SecureOnly => over_tls || matches!(protocol, Protocol::Rtmpe | Protocol::Rtmpte),
        }
    }
}

impl ServedDistribution {
    pub fn is_default(&self) -> bool {
        self.domain_name.is_none()
    }
}

/// A configured streaming distribution and the origin it reads.
pub struct Configured {
    pub record: Arc<StreamingDistribution>,
    pub origin: Arc<OriginCache>,
    pub origin_name: String,
    /// The control store change that last put it (`None`: from the config file).
    pub version: Option<u64>,
}

/// A snapshot of every distribution the edge serves; replaced whole when anything changes.
pub struct Distributions {
    router: Router,
    by_id: HashMap<String, Arc<ServedDistribution>>,
    default: Option<Arc<ServedDistribution>>,
    /// In configuration order, the default last.
    all: Vec<Arc<ServedDistribution>>,
    web_by_id: HashMap<String, Arc<WebDistribution>>,
}

impl std::fmt::Debug for Distributions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Distributions").field("all", &self.all).finish_non_exhaustive()
    }
}

impl Distributions {
    /// Indexes `configured` and `web` by domain name and aliases (a name claimed twice, in
    /// either namespace, is an error), with `default` (an origin and its name) serving every
    /// other streaming host.
    pub fn build(
        configured: Vec<Configured>,
        web: Vec<WebDistribution>,
        default: Option<(Arc<OriginCache>, String)>,
    ) -> Result<Distributions, ValidationError> {
        let router = Router::build(
            configured.iter().map(|c| Arc::clone(&c.record)),
            web.iter().map(|w| Arc::clone(&w.record)),
            None,
        )?;
        let web_by_id = web.into_iter().map(|w| (w.record.id.clone(), Arc::new(w))).collect();
        let mut all: Vec<Arc<ServedDistribution>> = configured
            .into_iter()
            .map(|c| {
                let config = &c.record.streaming_distribution_config;
                let logging = logging_target(&c.record);
                let hls_logging = logging
                    .as_deref()
                    .map(|target| Arc::new(sf_logs::LogTarget { kind: sf_logs::LogKind::Web, ..target.clone() }));
                Arc::new(ServedDistribution {
                    id: c.record.id.clone(),
                    domain_name: Some(c.record.domain_name.clone()),
                    aliases: config.aliases.clone(),
                    enabled: config.enabled,
                    origin: c.origin_name,
                    version: c.version,
                    library: Library::new(c.origin),
                    logging,
                    hls_logging,
                    trusted_signers: config.trusted_signers.enabled.then(|| config.trusted_signers.items.clone()),
                    protocol_policy: StreamingProtocolPolicy::of(&c.record),
                })
            })
            .collect();
        let default = default.map(|(origin, origin_name)| {
            Arc::new(ServedDistribution {
                id: DEFAULT_DISTRIBUTION.to_owned(),
                domain_name: None,
                aliases: Vec::new(),
                enabled: true,
                origin: origin_name,
                version: None,
                library: Library::new(origin),
                logging: None,
                hls_logging: None,
                trusted_signers: None,
                protocol_policy: StreamingProtocolPolicy::AllowAll,
            })
        });
        all.extend(default.clone());
        let by_id = all.iter().map(|d| (d.id.clone(), Arc::clone(d))).collect();
        Ok(Distributions { router, by_id, default, all, web_by_id })
    }

    /// Only the default distribution, reading `origin`.
    pub fn default_only(origin: Arc<OriginCache>) -> Distributions {
        let name = origin.origin().describe();
        Distributions::build(Vec::new(), Vec::new(), Some((origin, name))).expect("no names to clash")
    }

    /// The distribution for `host` (any case, with or without a port), else the default.
    pub fn resolve(&self, host: Option<&str>) -> Option<Arc<ServedDistribution>> {
        match host.and_then(|host| self.router.resolve_streaming(host)) {
            Some(route) => self.by_id.get(&route.distribution.id).cloned(),
            None => self.default.clone(),
        }
    }

    /// The web distribution whose domain name or alias is `host` (a `Host` header: any case,
    /// with or without a port), enabled or not.
    pub fn resolve_web(&self, host: &str) -> Option<Arc<WebDistribution>> {
        let route = self.router.resolve_web(host)?;
        self.web_by_id.get(&route.distribution.id).cloned()
    }

    /// The streaming distributions, in configuration order, the default last.
    pub fn all(&self) -> &[Arc<ServedDistribution>] {
        &self.all
    }

    /// The web distributions, in no particular order.
    pub fn web(&self) -> impl Iterator<Item = &Arc<WebDistribution>> {
        self.web_by_id.values()
    }
}

/// The access log target of a distribution whose `Logging` is enabled (validation checked
/// its bucket; one that is still not an S3 bucket name turns logging off, with a warning).
fn logging_target(record: &StreamingDistribution) -> Option<Arc<sf_logs::LogTarget>> {
    let logging = record.streaming_distribution_config.logging.as_ref().filter(|l| l.enabled)?;
    let kind = sf_logs::LogKind::Streaming;
    match sf_logs::LogTarget::new(&record.id, &logging.bucket, &logging.prefix, kind, false) {
        Ok(target) => Some(Arc::new(target)),
        Err(why) => {
            tracing::warn!(distribution = %record.id, "access logs off: Logging.Bucket: {why}");
            None
        }
    }
}
