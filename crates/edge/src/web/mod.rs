//! Web distributions (CloudFront's `d…` distributions) on the HTTP listeners: a request whose
//! `Host` names one is answered from its origins through the shared block cache, with the HTTP
//! semantics browsers and players expect.
//!
//! ```text
//! http.rs (Host → WebDistribution) ─▶ serve: method, path → behavior → origin → key
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
}

impl WebDistribution {
    pub fn id(&self) -> &str {
        &self.record.id
    }
}
