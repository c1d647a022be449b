//! Web distributions (CloudFront's `d…` distributions) on the HTTP listeners: a request whose
//! `Host` names one is answered from its origins through the shared block cache, with the HTTP
//! semantics browsers and players expect.
//!
//! ```text
//! http.rs (Host → WebDistribution) ─▶ protocol: the behavior's ViewerProtocolPolicy (HTTP → 301/307/403)
//!                                   ─▶ serve: method, path → behavior → origin → key
//!                                        ├─▶ private: a signed URL or cookies, if the behavior has signers
//!                                        ├─▶ origin cache: open (Hit/Miss/RefreshHit, Age)
//!                                        ├─▶ conditionals, Range, headers
//!                                        ├─▶ errors: status, custom error pages
//!                                        └─▶ body: streamed block by block; report: log, metrics
//! ```

mod body;
mod errors;
pub mod key;
pub mod private;
mod protocol;
mod report;
mod serve;

use std::collections::HashMap;
use std::sync::Arc;

use sf_cache::OriginCache;
use sf_dist::Distribution;
use sf_logs::{LogKind, LogTarget};

pub use body::WebBody;
pub use serve::respond;

/// A web distribution as the edge serves it.
#[derive(Debug)]
pub struct WebDistribution {
    pub record: Arc<Distribution>,
    /// The control store change that last put it.
    pub version: Option<u64>,
    /// Its origins by `Origin.Id`, each reading through the shared cache.
    pub origins: HashMap<String, Arc<OriginCache>>,
    /// Where its access logs go, when its `Logging` is enabled.
    pub logging: Option<Arc<LogTarget>>,
    /// The same distribution for viewers over HTTPS when one of its custom origins is
    /// `match-viewer`: that origin fetched over HTTPS. `None`: the same for every viewer.
    pub for_https: Option<Arc<WebDistribution>>,
}

impl WebDistribution {
    /// `record` served from `origins`, logging where its `Logging` says.
    pub fn new(record: Arc<Distribution>, version: Option<u64>, origins: HashMap<String, Arc<OriginCache>>) -> Self {
        let logging = logging_target(&record);
        WebDistribution { record, version, origins, logging, for_https: None }
    }

    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// Its `d….cloudfront.net`-style name, the access log's `cs(Host)`.
    pub fn domain_name(&self) -> &str {
        &self.record.domain_name
    }

    /// The distribution as viewers over HTTPS (`secure`) or HTTP see it.
    pub fn for_viewer(&self, secure: bool) -> &WebDistribution {
        match &self.for_https {
            Some(https) if secure => https,
            _ => self,
        }
    }
}

/// The access log target of a distribution whose `Logging` is enabled (validation checked its
/// bucket; one that is still not an S3 bucket name turns logging off, with a warning).
fn logging_target(record: &Distribution) -> Option<Arc<LogTarget>> {
    let logging = record.distribution_config.logging.as_ref().filter(|l| l.enabled == Some(true))?;
    let bucket = logging.bucket.as_deref().unwrap_or_default();
    let prefix = logging.prefix.as_deref().unwrap_or_default();
    let include_cookies = logging.include_cookies == Some(true);
    match LogTarget::new(&record.id, bucket, prefix, LogKind::Web, include_cookies) {
        Ok(target) => Some(Arc::new(target)),
        Err(why) => {
            tracing::warn!(distribution = %record.id, "access logs off: Logging.Bucket: {why}");
            None
        }
    }
}
