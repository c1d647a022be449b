//! Web distributions (CloudFront's `d…` distributions) on the HTTP listeners: a request whose
//! `Host` names one is answered from its origins through the shared block cache, with the HTTP
//! semantics browsers and players expect.
//!
//! ```text
//! http.rs (Host → WebDistribution) ─▶ protocol: the behavior's ViewerProtocolPolicy (HTTP → 301/307/403)
//!                                   ─▶ serve: method, path → behavior → origin → key
//!                                        ├─▶ origin cache: open (Hit/Miss/RefreshHit, Age)
//!                                        ├─▶ conditionals, Range, headers
//!                                        ├─▶ errors: status, custom error pages
//!                                        └─▶ body: streamed block by block; report: log, metrics
//! ```

mod body;
mod errors;
pub mod key;
mod protocol;
mod report;
mod serve;

use std::collections::HashMap;
use std::sync::Arc;

use sf_cache::OriginCache;
use sf_dist::Distribution;

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
    /// The same distribution for viewers over HTTPS when one of its custom origins is
    /// `match-viewer`: that origin fetched over HTTPS. `None`: the same for every viewer.
    pub for_https: Option<Arc<WebDistribution>>,
}

impl WebDistribution {
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The distribution as viewers over HTTPS (`secure`) or HTTP see it.
    pub fn for_viewer(&self, secure: bool) -> &WebDistribution {
        match &self.for_https {
            Some(https) if secure => https,
            _ => self,
        }
    }
}
