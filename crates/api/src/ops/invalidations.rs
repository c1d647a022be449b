//! Invalidations of web distributions: CreateInvalidation and GetInvalidation (API reference,
//! https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html), and
//! the step the server takes to complete one. Path rules and limits: Developer Guide,
//! Invalidation.html ("Specifying the files to invalidate") and cloudfront-limits.html.

use rand::Rng;
use sf_dist::identity::generate_resource_id;
use sf_dist::{Invalidation, InvalidationBatch, InvalidationStatus};

use super::web::get_distribution;
use super::{Context, Planned, check_not_empty, draw_free};
use crate::error::ApiError;
use crate::state::{Change, ControlState, StoredInvalidation};

/// "The maximum length of a path is 4,000 characters."
pub const MAX_PATH_CHARS: usize = 4000;

pub fn get_invalidation<'a>(
    state: &'a ControlState,
    distribution_id: &str,
    id: &str,
) -> Result<&'a StoredInvalidation, ApiError> {
    get_distribution(state, distribution_id)?;
    state.invalidations.get(distribution_id).and_then(|by_id| by_id.get(id)).ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchInvalidation",
            format!("The specified invalidation {id} does not exist for distribution {distribution_id}."),
        )
    })
}

fn is_wildcard(path: &str) -> bool {
    path.ends_with('*')
}

/// At least one path, at most `max` (413 `BatchTooLarge`); each starts with `/`, has `*` only
/// as its last character and at most 4,000 characters (400 `InvalidArgument`).
fn check_paths(paths: &[String], max: usize) -> Result<(), ApiError> {
    if paths.is_empty() {
        return Err(ApiError::invalid_argument("Paths", "an invalidation needs at least one path"));
    }
    if paths.len() > max {
        return Err(ApiError::new(
            413,
            "BatchTooLarge",
            format!("Paths: {} paths; one invalidation holds at most {max}", paths.len()),
        ));
    }
    for (i, path) in paths.iter().enumerate() {
        let field = format!("Paths.Items[{i}]");
        if !path.starts_with('/') {
            return Err(ApiError::invalid_argument(&field, format!("{path:?} must start with /")));
        }
        if path.trim_end_matches('*').contains('*') || path.ends_with("**") {
            return Err(ApiError::invalid_argument(&field, format!("{path:?}: * may only be the last character")));
        }
        let chars = path.chars().count();
        if chars > MAX_PATH_CHARS {
            return Err(ApiError::invalid_argument(
                &field,
                format!("is {chars} characters long; the maximum is {MAX_PATH_CHARS}"),
            ));
        }
    }
    Ok(())
}

/// Whether two batches name the same paths (in any order).
fn same_paths(a: &[String], b: &[String]) -> bool {
    let sorted = |paths: &[String]| {
        let mut paths = paths.to_vec();
        paths.sort();
        paths
    };
    sorted(a) == sorted(b)
}

/// A reused `CallerReference` with the same paths answers with the original invalidation and
/// changes nothing; with other paths it is 409 `InvalidationBatchAlreadyExists`. In progress
/// per distribution at most `invalidation_paths_in_progress` file paths and
/// `invalidation_wildcard_paths_in_progress` wildcard paths (400
/// `TooManyInvalidationsInProgress`).
pub fn create_invalidation<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    distribution_id: &str,
    batch: InvalidationBatch,
) -> Result<Planned, ApiError> {
    get_distribution(state, distribution_id)?;
    check_not_empty("CallerReference", &batch.caller_reference)?;
    check_paths(&batch.paths, ctx.quotas.invalidation_paths_in_progress)?;
    let existing = state.invalidations.get(distribution_id).into_iter().flat_map(|by_id| by_id.values());
    if let Some(original) =
        existing.map(|s| &s.record).find(|i| i.invalidation_batch.caller_reference == batch.caller_reference)
    {
        if same_paths(&original.invalidation_batch.paths, &batch.paths) {
            return Ok(Planned::nothing(&original.id));
        }
        return Err(ApiError::new(
            409,
            "InvalidationBatchAlreadyExists",
            format!(
                "The caller reference {:?} belongs to invalidation {} with other paths.",
                batch.caller_reference, original.id
            ),
        ));
    }
    check_in_progress(state, ctx, distribution_id, &batch.paths)?;
    let id = draw_free(
        "invalidation id",
        || generate_resource_id('I', ctx.rng),
        |id| state.invalidations.get(distribution_id).is_some_and(|by_id| by_id.contains_key(id)),
    )?;
    let record = Invalidation {
        id: id.clone(),
        distribution_id: distribution_id.to_owned(),
        status: InvalidationStatus::InProgress,
        create_time: ctx.now,
        invalidation_batch: batch,
    };
    Ok(Planned::commit(Change::PutInvalidation { record }, id))
}

fn check_in_progress<R: Rng>(
    state: &ControlState,
    ctx: &Context<'_, R>,
    distribution_id: &str,
    paths: &[String],
) -> Result<(), ApiError> {
    let in_progress: Vec<&String> = state
        .invalidations_in_progress(distribution_id)
        .flat_map(|i| i.invalidation_batch.paths.iter())
        .chain(paths)
        .collect();
    let wildcards = in_progress.iter().filter(|p| is_wildcard(p)).count();
    let files = in_progress.len() - wildcards;
    let quotas = ctx.quotas;
    let too_many = |count: usize, max: usize, what: &str| {
        ApiError::new(
            400,
            "TooManyInvalidationsInProgress",
            format!(
                "{count} {what} would be in progress for distribution {distribution_id}; at most {max} may be: wait \
                 until invalidations complete"
            ),
        )
    };
    if files > quotas.invalidation_paths_in_progress {
        return Err(too_many(files, quotas.invalidation_paths_in_progress, "file paths"));
    }
    if wildcards > quotas.invalidation_wildcard_paths_in_progress {
        return Err(too_many(wildcards, quotas.invalidation_wildcard_paths_in_progress, "wildcard paths"));
    }
    Ok(())
}

/// Marks an invalidation `Completed` (the server calls this once the edges have applied it);
/// nothing to do if it already is.
pub fn complete_invalidation<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    distribution_id: &str,
    id: &str,
) -> Result<Planned, ApiError> {
    let current = &get_invalidation(state, distribution_id, id)?.record;
    if current.status == InvalidationStatus::Completed {
        return Ok(Planned::nothing(id));
    }
    let record = Invalidation { status: InvalidationStatus::Completed, ..current.clone() };
    Ok(Planned::commit(Change::PutInvalidation { record }, id))
}
