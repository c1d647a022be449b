//! The API server: authenticates each request, routes it to its operation, runs writes
//! through the control store and answers in CloudFront's XML.
//!
//! Writes are optimistic: an operation is planned against the state at number `n` (pure, in
//! [`crate::ops`]) and committed as exactly `n + 1`. If another writer (another edge of the
//! fleet) took `n + 1` first, the plan is made again on the newer state, so every check
//! (ETags, CNAMEs, CallerReferences, quotas) holds against the state it is committed on. A
//! success is answered only once the change is in the store and applied here, so it is
//! durable and the answer reads it back.

mod execute;
mod http;
mod route;

use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sf_control::{Applied, Follower, Seq, Store, StoreError};
use sf_dist::Status;
use tokio::sync::Mutex;

pub use self::http::{Answer, MAX_BODY_BYTES, serve, serve_connection};
pub use route::{Kind, Operation, route};

use self::http::{ApiRequest, Failed, Handled};
use crate::credentials::Credentials;
use crate::ops::{Context, Planned, Quotas};
use crate::state::ControlState;
use crate::{ApiError, sigv4};

/// How the API is set up (from `streamfront serve`'s settings).
pub struct ApiConfig {
    pub credentials: Credentials,
    /// Accepted difference between a request's `X-Amz-Date` and the server's clock.
    pub max_clock_skew: Duration,
    /// Domain names are `s…`/`d…` + `.` + this.
    pub distribution_domain: String,
    /// The account number in ARNs.
    pub account_id: String,
    pub quotas: Quotas,
    /// Distributions declared in this edge's config file: not managed through the API, but
    /// their host names are taken.
    pub declared: Vec<Declared>,
    /// The domains of the certificates the edge serves (`*.example.com` covers one more
    /// label): a distribution whose `ViewerCertificate` names a certificate (ACM or IAM) must
    /// have every alias covered by one.
    pub certificate_domains: Vec<String>,
}

/// A distribution of the config file, as the API must respect it.
#[derive(Debug, Clone)]
pub struct Declared {
    pub id: String,
    /// Its domain name and aliases.
    pub names: Vec<String>,
}

impl ApiConfig {
    /// 409 `CNAMEAlreadyExists` when one of `aliases` is a host name of a distribution declared
    /// in the config file.
    fn check_declared_names(&self, aliases: &[String]) -> Result<(), ApiError> {
        for (i, alias) in aliases.iter().enumerate() {
            if let Some(d) = self.declared.iter().find(|d| d.names.iter().any(|n| n.eq_ignore_ascii_case(alias))) {
                return Err(ApiError::new(
                    409,
                    "CNAMEAlreadyExists",
                    format!(
                        "Aliases.Items[{i}]: {alias} is a host name of distribution {}, declared in the edge's config \
                         file",
                        d.id
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl ApiConfig {
    /// 400 `InvalidViewerCertificate` when `config`'s `ViewerCertificate` names a certificate
    /// (`ACMCertificateArn` or `IAMCertificateId`) and one of its aliases is covered by no
    /// certificate configured on this edge: the certificate is picked by name here, and
    /// CloudFront likewise refuses an alias its certificate does not cover.
    fn check_viewer_certificate(&self, config: &sf_dist::DistributionConfig) -> Result<(), ApiError> {
        let Some(certificate) = &config.viewer_certificate else { return Ok(()) };
        let named = match (&certificate.acm_certificate_arn, &certificate.iam_certificate_id) {
            (Some(arn), _) => format!("ACMCertificateArn {arn}"),
            (None, Some(id)) => format!("IAMCertificateId {id}"),
            (None, None) => return Ok(()),
        };
        for (i, alias) in config.aliases.iter().enumerate() {
            if !self.certificate_domains.iter().any(|domain| sf_dist::domain_covers(domain, alias)) {
                return Err(ApiError::new(
                    400,
                    sf_dist::codes::INVALID_VIEWER_CERTIFICATE,
                    format!(
                        "Aliases.Items[{i}]: {alias} is covered by no certificate configured on this edge \
                         (ViewerCertificate names {named}); add one with --tls-cert or [[certificates]]"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Tells whether change `seq` has reached every live edge.
pub type StatusOf = Arc<dyn Fn(Seq) -> Status + Send + Sync>;

/// Bound on how long a write waits for its own change to be applied here.
const APPLY_PATIENCE: Duration = Duration::from_secs(10);
/// Plans made again after losing the race for a number, before giving up with 503.
const WRITE_ATTEMPTS: usize = 16;

pub struct Api {
    config: ApiConfig,
    store: Arc<Store>,
    follower: Arc<Follower<ControlState>>,
    status_of: StatusOf,
    /// Serialises this process's writes (they would only race each other) and holds the RNG
    /// that ids and ETags are drawn from.
    writer: Mutex<StdRng>,
}

impl Api {
    pub fn new(
        config: ApiConfig,
        store: Arc<Store>,
        follower: Arc<Follower<ControlState>>,
        status_of: StatusOf,
    ) -> Api {
        Api { config, store, follower, status_of, writer: Mutex::new(StdRng::from_rng(&mut rand::rng())) }
    }

    async fn handle(&self, request: ApiRequest) -> Result<Handled, Failed> {
        // Authenticate before routing: an unsigned caller learns nothing, not even which
        // paths exist.
        let signed = sigv4::Request {
            method: &request.method,
            path: &request.path,
            query: &request.query,
            headers: &request.headers,
            body: &request.body,
        };
        let caller =
            sigv4::verify(&signed, &self.config.credentials, std::time::SystemTime::now(), self.config.max_clock_skew)?;
        let operation = route(&request.method, &request.path, &request.query).map_err(|error| Failed {
            error,
            operation: None,
            caller: Some(caller.clone()),
        })?;
        let name = operation.name();
        match self.execute(operation, &request).await {
            Ok(answer) => Ok(Handled { answer, operation: name, caller }),
            Err(error) => Err(Failed { error, operation: Some(name), caller: Some(caller) }),
        }
    }

    /// The state as applied here now.
    fn current(&self) -> Arc<Applied<ControlState>> {
        self.follower.current()
    }

    fn status(&self, seq: Seq) -> Status {
        (self.status_of)(seq)
    }

    /// Plans with `plan` on the newest state and commits its change as the next number; the
    /// state that has applied it (or, when the plan changes nothing, the state it was made
    /// on) and the id the plan names.
    async fn write<F>(&self, mut plan: F) -> Result<(Arc<Applied<ControlState>>, String), ApiError>
    where
        F: FnMut(&ControlState, &mut Context<'_, StdRng>) -> Result<Planned, ApiError>,
    {
        let mut rng = self.writer.lock().await;
        for _ in 0..WRITE_ATTEMPTS {
            let applied = self.current();
            let now = sf_dist::Timestamp(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
            );
            let mut context = Context {
                now,
                distribution_domain: &self.config.distribution_domain,
                account_id: &self.config.account_id,
                rng: &mut *rng,
                quotas: &self.config.quotas,
            };
            let planned = plan(&applied.state, &mut context)?;
            let Some(change) = planned.change else { return Ok((applied, planned.id)) };
            let seq = applied.seq + 1;
            match self.store.commit_at(seq, &change).await {
                Ok(sf_control::CommitAt::Committed) => {
                    let applied = self.follower.wait_for(seq, APPLY_PATIENCE).await.ok_or_else(|| {
                        ApiError::new(
                            503,
                            "ServiceUnavailable",
                            format!("the change was committed as number {seq} but not applied within {APPLY_PATIENCE:?}; it will take effect"),
                        )
                    })?;
                    return Ok((applied, planned.id));
                }
                Ok(sf_control::CommitAt::Taken) => {
                    // Someone else wrote `seq`: plan again once it is applied here.
                    self.follower.wait_for(seq, APPLY_PATIENCE).await;
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(ApiError::new(503, "ServiceUnavailable", "the control store is too busy with other writers; try again"))
    }
}

/// The store failing is the server's problem (5xx), and botocore retries those.
fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Ambiguous { .. } => ApiError::new(503, "ServiceUnavailable", e.to_string()),
        _ => ApiError::new(503, "ServiceUnavailable", format!("the control store: {e}")),
    }
}
