//! The operations' semantics, as pure functions of the [`ControlState`]: each write operation
//! checks its input against the state and returns the [`Change`] to commit (or none), and each
//! read helper returns the record or CloudFront's `NoSuch…` error. No I/O and no clock: the
//! server passes the time, the RNG and the quotas in a [`Context`], commits the change at the
//! next number and, if another change took that number first, decides again on the newer state.
//!
//! Modules, one resource kind each: [`streaming`], [`web`], [`tags`], [`keys`] (public keys and
//! key groups), [`origin_access`] (OAI and OAC), [`invalidations`]; [`references`] holds the
//! checks between kinds (aliases, OAI/OAC/key group references and uses), [`paging`] the lists'
//! `Marker`/`MaxItems`, [`quotas`] the limits.

pub mod invalidations;
pub mod keys;
pub mod origin_access;
pub mod paging;
pub mod quotas;
pub mod references;
pub mod streaming;
pub mod tags;
pub mod web;

pub use invalidations::{complete_invalidation, create_invalidation, get_invalidation};
pub use keys::{
    create_key_group, create_public_key, delete_key_group, delete_public_key, get_key_group, get_public_key,
    update_key_group, update_public_key,
};
pub use origin_access::{
    create_origin_access_control, create_origin_access_identity, delete_origin_access_control,
    delete_origin_access_identity, get_origin_access_control, get_origin_access_identity, update_origin_access_control,
    update_origin_access_identity,
};
pub use paging::{DEFAULT_MAX_ITEMS, Page, page};
pub use quotas::Quotas;
pub use streaming::{
    create_streaming_distribution, delete_streaming_distribution, get_streaming_distribution,
    update_streaming_distribution,
};
pub use tags::{tag_resource, tags_of, untag_resource};
pub use web::{create_distribution, delete_distribution, get_distribution, update_distribution};

use rand::Rng;
use sf_dist::identity::generate_etag;
use sf_dist::{DistributionIdentity, DistributionKind, Timestamp, Versioned};

use crate::error::ApiError;
use crate::state::{Change, ControlState};

/// What a write operation needs besides the state and its input.
pub struct Context<'a, R: Rng> {
    /// The time of the request (`LastModifiedTime`, `CreatedTime`, `CreateTime`).
    pub now: Timestamp,
    /// The edge's `--distribution-domain`, under which distribution domain names are drawn.
    pub distribution_domain: &'a str,
    /// The account in ARNs (`arn:aws:cloudfront::<account>:distribution/<id>`).
    pub account_id: &'a str,
    /// Draws ids, domain names and ETags.
    pub rng: &'a mut R,
    pub quotas: &'a Quotas,
}

/// What a write decided: the change to commit (`None` when nothing changes, e.g. an idempotent
/// replay), and the id of the resource to answer with (read back from the state after the
/// change applies).
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub change: Option<Change>,
    pub id: String,
}

impl Planned {
    fn commit(change: Change, id: impl Into<String>) -> Planned {
        Planned { change: Some(change), id: id.into() }
    }

    fn nothing(id: impl Into<String>) -> Planned {
        Planned { change: None, id: id.into() }
    }
}

/// Candidates drawn before giving up on finding a free id: with 36^13 ids a clash is already
/// unlikely; many in a row mean the RNG is broken.
const MAX_DRAWS: usize = 64;

/// Draws candidates until one is not `taken`.
fn draw_free(what: &str, mut draw: impl FnMut() -> String, taken: impl Fn(&str) -> bool) -> Result<String, ApiError> {
    for _ in 0..MAX_DRAWS {
        let candidate = draw();
        if !taken(&candidate) {
            return Ok(candidate);
        }
    }
    Err(ApiError::internal(format!("no free {what} after {MAX_DRAWS} draws")))
}

/// The ETag of a new config version: never the one it replaces, so a client holding the old
/// ETag gets `PreconditionFailed`.
fn new_etag<R: Rng>(ctx: &mut Context<'_, R>, replacing: Option<&str>) -> Result<String, ApiError> {
    draw_free("ETag", || generate_etag(ctx.rng), |etag| Some(etag) == replacing)
}

/// A new record of `config` under `id`, created now, with a fresh ETag.
fn new_record<C, R: Rng>(ctx: &mut Context<'_, R>, id: &str, config: C) -> Result<Versioned<C>, ApiError> {
    let etag = new_etag(ctx, None)?;
    Ok(Versioned { id: id.to_owned(), etag, created_time: ctx.now, last_modified_time: ctx.now, config })
}

/// `current` with `config` in its place, modified now, under a new ETag.
fn updated_record<C: Clone, R: Rng>(
    ctx: &mut Context<'_, R>,
    current: &Versioned<C>,
    config: C,
) -> Result<Versioned<C>, ApiError> {
    let etag = new_etag(ctx, Some(&current.etag))?;
    Ok(Versioned {
        id: current.id.clone(),
        etag,
        created_time: current.created_time,
        last_modified_time: ctx.now,
        config,
    })
}

/// `CallerReference` is fixed at creation: an Update that changes it is 400 `IllegalUpdate`.
fn check_caller_reference_kept(new: &str, current: &str) -> Result<(), ApiError> {
    if new != current {
        return Err(ApiError::new(400, "IllegalUpdate", format!("CallerReference: cannot change (it is {current:?})")));
    }
    Ok(())
}

/// The `If-Match` rules of every Update and Delete (e.g. UpdateDistribution in the API
/// reference, https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html):
/// missing → 400 `InvalidIfMatchVersion`, not the current ETag → 412 `PreconditionFailed`.
pub fn check_if_match(if_match: Option<&str>, current_etag: &str) -> Result<(), ApiError> {
    match if_match.map(str::trim) {
        None | Some("") => Err(ApiError::new(
            400,
            "InvalidIfMatchVersion",
            "The If-Match version is missing or not valid for the resource: send the ETag of the last Get",
        )),
        Some(etag) if etag == current_etag => Ok(()),
        Some(etag) => Err(ApiError::new(
            412,
            "PreconditionFailed",
            format!(
                "The precondition in one or more of the request fields evaluated to false: If-Match {etag} is not \
                 the current ETag; get the resource again"
            ),
        )),
    }
}

/// A quota check: `count` resources exist, one more is asked for.
fn check_quota(count: usize, quota: usize, code: &'static str, what: &str) -> Result<(), ApiError> {
    if count >= quota {
        return Err(ApiError::new(400, code, format!("{count} {what} exist; the quota is {quota}")));
    }
    Ok(())
}

/// A free-text member of at most `max` characters.
fn check_length(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let chars = value.chars().count();
    if chars < min || chars > max {
        let range = if min == 0 { format!("at most {max}") } else { format!("{min} to {max}") };
        return Err(ApiError::invalid_argument(field, format!("must be {range} characters long (it is {chars})")));
    }
    Ok(())
}

/// Id, ARN and domain name of a new distribution, redrawn until neither the id nor the domain
/// name is used by any distribution of either kind.
fn draw_distribution_identity<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    kind: DistributionKind,
) -> Result<DistributionIdentity, ApiError> {
    for _ in 0..MAX_DRAWS {
        let identity = DistributionIdentity::generate(kind, ctx.account_id, ctx.distribution_domain, ctx.rng);
        let id_taken = state.streaming.contains_key(&identity.id) || state.web.contains_key(&identity.id);
        let domain_taken = state.streaming.values().any(|s| s.record.domain_name == identity.domain_name)
            || state.web.values().any(|w| w.record.domain_name == identity.domain_name);
        if !id_taken && !domain_taken {
            return Ok(identity);
        }
    }
    Err(ApiError::internal(format!("no free distribution id after {MAX_DRAWS} draws")))
}

fn check_not_empty(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::invalid_argument(field, "must not be empty"));
    }
    Ok(())
}
