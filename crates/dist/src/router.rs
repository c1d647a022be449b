//! Which distribution a viewer's host name belongs to.
//!
//! Streaming and web distributions are separate namespaces: the RTMP side asks
//! [`Router::resolve_streaming`] and the HTTP side [`Router::resolve_web`], so neither can
//! reach the other's distributions. A name is claimed by one distribution across both,
//! as CloudFront has it ("You cannot add an alternate domain name to a CloudFront distribution
//! if the alternate domain name already exists in another CloudFront distribution",
//! Developer Guide, CNAMEs.html), and a clash is `CNAMEAlreadyExists`.
//!
//! Disabled distributions are routed too: a disabled distribution's name must get a refusal
//! from its own distribution, not fall through to the default. The caller checks `Enabled`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{ValidationError, codes};
use crate::host::normalize_host;
use crate::model::{Distribution, StreamingDistribution};

/// How a host matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    DomainName,
    Alias,
    /// A `*.example.com` alias (web only).
    WildcardAlias,
    /// No distribution claims the host; the configured default streaming distribution.
    Default,
}

#[derive(Debug, Clone)]
pub struct Route<D> {
    pub distribution: Arc<D>,
    pub matched: Matched,
}

struct Namespace<D> {
    /// Exact names: generated domain names and plain aliases, lower-case.
    exact: HashMap<String, Route<D>>,
    /// Wildcard aliases by the suffix after `*.`: `*.example.com` is stored as `example.com`.
    wildcard: HashMap<String, Route<D>>,
}

impl<D> Namespace<D> {
    fn new() -> Self {
        Self { exact: HashMap::new(), wildcard: HashMap::new() }
    }

    /// Exact beats wildcard; among wildcards the longest suffix (most specific) wins.
    /// `*.example.com` covers `a.example.com` and `a.b.example.com` but not `example.com`.
    fn resolve(&self, host: &str) -> Option<&Route<D>> {
        if let Some(route) = self.exact.get(host) {
            return Some(route);
        }
        if self.wildcard.is_empty() {
            return None;
        }
        let mut rest = host;
        while let Some((_, suffix)) = rest.split_once('.') {
            if let Some(route) = self.wildcard.get(suffix) {
                return Some(route);
            }
            rest = suffix;
        }
        None
    }
}

/// Who has claimed a name, for the clash message.
struct Claims(HashMap<String, String>);

impl Claims {
    fn claim(&mut self, name: &str, owner: &str, field: &str) -> Result<(), ValidationError> {
        if let Some(previous) = self.0.insert(name.to_owned(), owner.to_owned()) {
            return Err(ValidationError::new(
                codes::CNAME_ALREADY_EXISTS,
                field,
                format!("{name:?} of distribution {owner} is already claimed by distribution {previous}"),
            ));
        }
        Ok(())
    }
}

/// A snapshot of every distribution, indexed by host name. Build a new one when anything
/// changes; lookups are hash-map probes.
pub struct Router {
    streaming: Namespace<StreamingDistribution>,
    web: Namespace<Distribution>,
    default_streaming: Option<Route<StreamingDistribution>>,
}

impl Router {
    /// Indexes the distributions in one pass. `default_streaming` is the id of the streaming
    /// distribution that serves hosts nobody claims (IP addresses included), if any.
    pub fn build(
        streaming: impl IntoIterator<Item = Arc<StreamingDistribution>>,
        web: impl IntoIterator<Item = Arc<Distribution>>,
        default_streaming: Option<&str>,
    ) -> Result<Router, ValidationError> {
        let mut claims = Claims(HashMap::new());
        let mut router = Router { streaming: Namespace::new(), web: Namespace::new(), default_streaming: None };

        for dist in streaming {
            let config = &dist.streaming_distribution_config;
            let route = |matched| Route { distribution: Arc::clone(&dist), matched };
            let domain = dist.domain_name.to_ascii_lowercase();
            claims.claim(&domain, &dist.id, "DomainName")?;
            router.streaming.exact.insert(domain, route(Matched::DomainName));
            for (i, alias) in config.aliases.iter().enumerate() {
                let alias = alias.to_ascii_lowercase();
                claims.claim(&alias, &dist.id, &format!("Aliases.Items[{i}]"))?;
                router.streaming.exact.insert(alias, route(Matched::Alias));
            }
            if default_streaming == Some(dist.id.as_str()) {
                router.default_streaming = Some(route(Matched::Default));
            }
        }

        for dist in web {
            let route = |matched| Route { distribution: Arc::clone(&dist), matched };
            let domain = dist.domain_name.to_ascii_lowercase();
            claims.claim(&domain, &dist.id, "DomainName")?;
            router.web.exact.insert(domain, route(Matched::DomainName));
            for (i, alias) in dist.distribution_config.aliases.iter().enumerate() {
                let alias = alias.to_ascii_lowercase();
                claims.claim(&alias, &dist.id, &format!("Aliases.Items[{i}]"))?;
                match alias.strip_prefix("*.") {
                    Some(suffix) => router.web.wildcard.insert(suffix.to_owned(), route(Matched::WildcardAlias)),
                    None => router.web.exact.insert(alias, route(Matched::Alias)),
                };
            }
        }

        if let Some(id) = default_streaming
            && router.default_streaming.is_none()
        {
            return Err(ValidationError::invalid_argument(
                "DefaultStreamingDistribution",
                format!("no streaming distribution has the id {id:?}"),
            ));
        }
        Ok(router)
    }

    /// The streaming distribution for a host (from the `tcUrl`, or the `Host` header of an
    /// RTMPT tunnel): its domain name or an alias, else the default. Case, a `:port` suffix
    /// and a trailing dot do not matter.
    pub fn resolve_streaming(&self, host: &str) -> Option<&Route<StreamingDistribution>> {
        normalize_host(host).and_then(|host| self.streaming.resolve(&host)).or(self.default_streaming.as_ref())
    }

    /// The web distribution for a `Host` header: its domain name, an alias or the most specific
    /// wildcard alias. There is no default web distribution.
    pub fn resolve_web(&self, host: &str) -> Option<&Route<Distribution>> {
        self.web.resolve(&normalize_host(host)?)
    }
}
