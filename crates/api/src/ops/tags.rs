//! TagResource, UntagResource and ListTagsForResource (API reference,
//! https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_TagResource.html): tags of
//! streaming and web distributions, named by ARN. Tags are not config: changing them makes no
//! new config version (same ETag, same status).

use rand::Rng;
use sf_dist::{Tag, ValidationError, codes, validate_tags};

use super::{Context, Planned};
use crate::error::ApiError;
use crate::state::{Change, ControlState};

/// A distribution found by its ARN.
struct Tagged<'a> {
    id: &'a str,
    streaming: bool,
    tags: &'a [Tag],
}

/// Whether `arn` matches the model's pattern `arn:aws(-cn)?:cloudfront::[0-9]+:.*`.
fn is_cloudfront_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws:cloudfront::").or_else(|| arn.strip_prefix("arn:aws-cn:cloudfront::"))
    else {
        return false;
    };
    rest.split_once(':').is_some_and(|(account, _)| !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()))
}

/// 400 `InvalidArgument` for a malformed ARN, 404 `NoSuchResource` for one that names no
/// distribution.
fn find<'a>(state: &'a ControlState, arn: &str) -> Result<Tagged<'a>, ApiError> {
    if !is_cloudfront_arn(arn) {
        return Err(ApiError::invalid_argument("Resource", format!("{arn:?} is not a CloudFront ARN")));
    }
    if let Some(s) = state.streaming.values().find(|s| s.record.arn == arn) {
        return Ok(Tagged { id: &s.record.id, streaming: true, tags: &s.record.tags });
    }
    if let Some(w) = state.web.values().find(|w| w.record.arn == arn) {
        return Ok(Tagged { id: &w.record.id, streaming: false, tags: &w.record.tags });
    }
    Err(ApiError::new(404, "NoSuchResource", format!("No distribution has the ARN {arn}.")))
}

pub fn tags_of<'a>(state: &'a ControlState, arn: &str) -> Result<&'a [Tag], ApiError> {
    Ok(find(state, arn)?.tags)
}

fn put_tags(found: &Tagged<'_>, tags: Vec<Tag>) -> Planned {
    if found.tags == tags.as_slice() {
        return Planned::nothing(found.id);
    }
    let id = found.id.to_owned();
    let change = if found.streaming {
        Change::PutStreamingTags { id: id.clone(), tags }
    } else {
        Change::PutWebTags { id: id.clone(), tags }
    };
    Planned::commit(change, id)
}

/// Adds `tags`, replacing the value of a key the resource already has (400 `InvalidTagging`
/// for bad tags or more than 50 in all).
pub fn tag_resource<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    arn: &str,
    tags: Vec<Tag>,
) -> Result<Planned, ApiError> {
    let found = find(state, arn)?;
    validate_tags(&tags)?;
    let mut merged = found.tags.to_vec();
    for tag in tags {
        match merged.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => *existing = tag,
            None => merged.push(tag),
        }
    }
    validate_tags(&merged)?;
    Ok(put_tags(&found, merged))
}

/// Removes the tags with these keys; keys the resource does not have are ignored.
pub fn untag_resource<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    arn: &str,
    keys: &[String],
) -> Result<Planned, ApiError> {
    let found = find(state, arn)?;
    for (i, key) in keys.iter().enumerate() {
        if !(1..=128).contains(&key.chars().count()) {
            let field = format!("TagKeys.Items[{i}]");
            return Err(ValidationError::new(codes::INVALID_TAGGING, field, "a tag key is 1 to 128 characters").into());
        }
    }
    let kept = found.tags.iter().filter(|t| !keys.contains(&t.key)).cloned().collect();
    Ok(put_tags(&found, kept))
}
