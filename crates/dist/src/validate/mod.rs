//! Checks a config before the control plane accepts it. Each check stops at the first problem
//! and returns it as a [`ValidationError`] with CloudFront's error code where one exists.
//!
//! Checks that need other resources (does the OAI, key group, cache policy or trusted signer
//! exist; is a CNAME taken by another distribution) belong to the store; CNAME clashes are also
//! caught when the [`crate::Router`] is built.

mod streaming;
mod web;

pub use streaming::{validate_streaming_config, validate_streaming_update};
pub use web::{validate_web_config, validate_web_update};

use std::collections::HashSet;

use crate::error::{ValidationError, codes};
use crate::model::{Tag, TrustedSigners};
use crate::names::{check_alias, check_trusted_signer};

/// `Comment`: "up to 128 characters" (Developer Guide, distribution-web-values-specify.html).
pub const MAX_COMMENT_CHARS: usize = 128;
/// Trusted signers per distribution or cache behavior (Developer Guide, cloudfront-limits.html).
pub const MAX_TRUSTED_SIGNERS: usize = 5;
/// Tags per resource (Developer Guide, tagging.html).
pub const MAX_TAGS: usize = 50;

fn check_caller_reference(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::invalid_argument("CallerReference", "must not be empty"));
    }
    Ok(())
}

fn check_comment(comment: &str) -> Result<(), ValidationError> {
    let chars = comment.chars().count();
    if chars > MAX_COMMENT_CHARS {
        return Err(ValidationError::invalid_argument(
            "Comment",
            format!("is {chars} characters long; the maximum is {MAX_COMMENT_CHARS}"),
        ));
    }
    Ok(())
}

/// Alias syntax, count and duplicates within one config. `too_many` is the error code for
/// exceeding `max`, which differs between streaming and web distributions.
fn check_aliases(
    aliases: &[String],
    allow_wildcard: bool,
    max: usize,
    too_many: &'static str,
) -> Result<(), ValidationError> {
    if aliases.len() > max {
        return Err(ValidationError::new(
            too_many,
            "Aliases",
            format!("has {} alternate domain names; the maximum is {max}", aliases.len()),
        ));
    }
    let mut seen = HashSet::new();
    for (i, alias) in aliases.iter().enumerate() {
        let field = format!("Aliases.Items[{i}]");
        check_alias(alias, allow_wildcard).map_err(|why| ValidationError::invalid_argument(&field, why))?;
        if !seen.insert(alias.as_str()) {
            return Err(ValidationError::invalid_argument(field, format!("{alias:?} is listed twice")));
        }
    }
    Ok(())
}

fn check_trusted_signers(field: &str, signers: &TrustedSigners) -> Result<(), ValidationError> {
    if signers.items.len() > MAX_TRUSTED_SIGNERS {
        return Err(ValidationError::new(
            codes::TOO_MANY_TRUSTED_SIGNERS,
            format!("{field}.Items"),
            format!("has {} trusted signers; the maximum is {MAX_TRUSTED_SIGNERS}", signers.items.len()),
        ));
    }
    let mut seen = HashSet::new();
    for (i, signer) in signers.items.iter().enumerate() {
        let item = format!("{field}.Items[{i}]");
        check_trusted_signer(signer).map_err(|why| ValidationError::invalid_argument(&item, why))?;
        if !seen.insert(signer.as_str()) {
            return Err(ValidationError::invalid_argument(item, format!("{signer:?} is listed twice")));
        }
    }
    Ok(())
}

/// Tags as `TagResource` and `Create…WithTags` take them: at most 50, keys of 1–128 and values
/// of 0–256 characters from the model's pattern `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, keys unique.
pub fn validate_tags(tags: &[Tag]) -> Result<(), ValidationError> {
    let bad = |field: String, why: String| ValidationError::new(codes::INVALID_TAGGING, field, why);
    if tags.len() > MAX_TAGS {
        return Err(bad("Tags.Items".into(), format!("has {} tags; the maximum is {MAX_TAGS}", tags.len())));
    }
    let allowed = |c: char| c.is_alphabetic() || c.is_numeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    let mut keys = HashSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let key_len = tag.key.chars().count();
        if !(1..=128).contains(&key_len) || !tag.key.chars().all(allowed) {
            return Err(bad(
                format!("Tags.Items[{i}].Key"),
                "must be 1 to 128 letters, digits, spaces or _.:/=+-@".into(),
            ));
        }
        if let Some(value) = &tag.value
            && (value.chars().count() > 256 || !value.chars().all(allowed))
        {
            return Err(bad(
                format!("Tags.Items[{i}].Value"),
                "must be at most 256 letters, digits, spaces or _.:/=+-@".into(),
            ));
        }
        if !keys.insert(tag.key.as_str()) {
            return Err(bad(format!("Tags.Items[{i}].Key"), format!("{:?} is used twice", tag.key)));
        }
    }
    Ok(())
}
