//! Public keys and key groups (API reference,
//! https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreatePublicKey.html,
//! …/API_CreateKeyGroup.html and their Update/Delete/Get siblings).

use base64::Engine;
use rand::Rng;
use sf_dist::identity::{generate_resource_id, generate_uuid};
use sf_dist::{KeyGroupConfig, PublicKeyConfig};

use super::references::{key_group_user, public_key_user};
use super::{
    Context, Planned, check_caller_reference_kept, check_if_match, check_length, check_not_empty, check_quota,
    draw_free, new_record, updated_record,
};
use crate::error::ApiError;
use crate::state::{Change, ControlState, Stored};

/// Bound on `EncodedKey` before it is decoded: a 4096-bit RSA key is about 800 characters of
/// PEM.
const MAX_ENCODED_KEY_CHARS: usize = 8192;
/// `Name` of a public key or key group and `Comment`: up to 128 characters.
const MAX_NAME_CHARS: usize = 128;
const MAX_COMMENT_CHARS: usize = 128;
/// The DER of the rsaEncryption algorithm identifier, 1.2.840.113549.1.1.1 (RFC 8017 A.1),
/// which a SubjectPublicKeyInfo of an RSA key holds (RFC 5280 4.1.2.7).
const RSA_ENCRYPTION_OID: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

pub fn get_public_key<'a>(state: &'a ControlState, id: &str) -> Result<&'a Stored<PublicKeyConfig>, ApiError> {
    state
        .public_keys
        .get(id)
        .ok_or_else(|| ApiError::new(404, "NoSuchPublicKey", format!("The specified public key {id} does not exist.")))
}

pub fn get_key_group<'a>(state: &'a ControlState, id: &str) -> Result<&'a Stored<KeyGroupConfig>, ApiError> {
    state
        .key_groups
        .get(id)
        .ok_or_else(|| ApiError::new(404, "NoSuchResource", format!("The specified key group {id} does not exist.")))
}

/// `EncodedKey` must be a PEM RSA public key: `-----BEGIN PUBLIC KEY-----` armour around the
/// base64 of a DER SubjectPublicKeyInfo of rsaEncryption (as `openssl rsa -pubout` writes it,
/// Developer Guide, private-content-trusted-signers.html), or `RSA PUBLIC KEY` around a PKCS#1
/// key. The DER is not parsed further.
fn check_encoded_key(pem: &str) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::invalid_argument("EncodedKey", why);
    if pem.len() > MAX_ENCODED_KEY_CHARS {
        return Err(bad("is longer than any RSA public key in PEM"));
    }
    let pem = pem.trim();
    let armoured = |label: &str| {
        pem.strip_prefix(&format!("-----BEGIN {label}-----"))
            .and_then(|rest| rest.strip_suffix(&format!("-----END {label}-----")))
    };
    let (body, spki) = match (armoured("PUBLIC KEY"), armoured("RSA PUBLIC KEY")) {
        (Some(body), _) => (body, true),
        (None, Some(body)) => (body, false),
        (None, None) => {
            return Err(bad(
                "must be a PEM public key: -----BEGIN PUBLIC KEY-----, base64, -----END PUBLIC KEY----- (openssl rsa -pubout)",
            ));
        }
    };
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(base64.as_bytes())
        .map_err(|e| bad(&format!("the text between the PEM lines is not base64 ({e})")))?;
    // Both forms are a DER SEQUENCE; a SubjectPublicKeyInfo names its algorithm.
    if der.first() != Some(&0x30) || (spki && !der.windows(RSA_ENCRYPTION_OID.len()).any(|w| w == RSA_ENCRYPTION_OID)) {
        return Err(bad("is not an RSA public key (CloudFront takes RSA keys only)"));
    }
    Ok(())
}

fn validate_public_key(config: &PublicKeyConfig) -> Result<(), ApiError> {
    check_not_empty("CallerReference", &config.caller_reference)?;
    check_length("Name", &config.name, 1, MAX_NAME_CHARS)?;
    check_encoded_key(&config.encoded_key)?;
    check_length("Comment", config.comment.as_deref().unwrap_or_default(), 0, MAX_COMMENT_CHARS)
}

/// A reused `CallerReference` is 409 `PublicKeyAlreadyExists`.
pub fn create_public_key<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    config: PublicKeyConfig,
) -> Result<Planned, ApiError> {
    validate_public_key(&config)?;
    if let Some(existing) =
        state.public_keys.values().find(|k| k.record.config.caller_reference == config.caller_reference)
    {
        return Err(ApiError::new(
            409,
            "PublicKeyAlreadyExists",
            format!("The caller reference {:?} belongs to public key {}.", config.caller_reference, existing.record.id),
        ));
    }
    check_quota(state.public_keys.len(), ctx.quotas.public_keys, "TooManyPublicKeys", "public keys")?;
    let id =
        draw_free("public key id", || generate_resource_id('K', ctx.rng), |id| state.public_keys.contains_key(id))?;
    let record = new_record(ctx, &id, config)?;
    Ok(Planned::commit(Change::PutPublicKey { record }, id))
}

/// `Name` and `Comment` may change; the key itself may not (400
/// `CannotChangeImmutablePublicKeyFields`), nor `CallerReference` (400 `IllegalUpdate`).
pub fn update_public_key<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
    config: PublicKeyConfig,
) -> Result<Planned, ApiError> {
    let current = &get_public_key(state, id)?.record;
    check_if_match(if_match, &current.etag)?;
    check_caller_reference_kept(&config.caller_reference, &current.config.caller_reference)?;
    if config.encoded_key.trim() != current.config.encoded_key.trim() {
        return Err(ApiError::new(
            400,
            "CannotChangeImmutablePublicKeyFields",
            "You can't change the value of a public key (EncodedKey): create a new public key instead.",
        ));
    }
    validate_public_key(&config)?;
    let record = updated_record(ctx, current, config)?;
    Ok(Planned::commit(Change::PutPublicKey { record }, id))
}

/// A key in a key group cannot be deleted (409 `PublicKeyInUse`).
pub fn delete_public_key<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
) -> Result<Planned, ApiError> {
    check_if_match(if_match, &get_public_key(state, id)?.record.etag)?;
    if let Some(group) = public_key_user(state, id) {
        return Err(ApiError::new(
            409,
            "PublicKeyInUse",
            format!("The public key {id} is in key group {group}: remove it from the group first."),
        ));
    }
    Ok(Planned::commit(Change::DeletePublicKey { id: id.to_owned() }, id))
}

/// A key group's own rules and the keys it names: 1 to `public_keys_per_key_group` keys (400
/// `TooManyPublicKeysInKeyGroup`), each once and existing (404 `NoSuchPublicKey`); its name
/// unique among the other key groups (409 `KeyGroupAlreadyExists`).
fn validate_key_group<R: Rng>(
    state: &ControlState,
    ctx: &Context<'_, R>,
    config: &KeyGroupConfig,
    except_id: &str,
) -> Result<(), ApiError> {
    check_length("Name", &config.name, 1, MAX_NAME_CHARS)?;
    check_length("Comment", config.comment.as_deref().unwrap_or_default(), 0, MAX_COMMENT_CHARS)?;
    if config.items.is_empty() {
        return Err(ApiError::invalid_argument("Items", "a key group needs at least one public key"));
    }
    let max = ctx.quotas.public_keys_per_key_group;
    if config.items.len() > max {
        return Err(ApiError::new(
            400,
            "TooManyPublicKeysInKeyGroup",
            format!("Items: {} public keys; a key group holds at most {max}", config.items.len()),
        ));
    }
    for (i, key) in config.items.iter().enumerate() {
        if config.items[..i].contains(key) {
            return Err(ApiError::invalid_argument(&format!("Items[{i}]"), format!("{key} is listed twice")));
        }
        if !state.public_keys.contains_key(key) {
            return Err(ApiError::new(404, "NoSuchPublicKey", format!("Items[{i}]: there is no public key {key}")));
        }
    }
    if let Some(other) =
        state.key_groups.values().find(|g| g.record.id != except_id && g.record.config.name == config.name)
    {
        return Err(ApiError::new(
            409,
            "KeyGroupAlreadyExists",
            format!("Name: key group {} is already named {:?}", other.record.id, config.name),
        ));
    }
    Ok(())
}

/// Key groups are told apart by `Name` (409 `KeyGroupAlreadyExists`); ids are UUIDs.
pub fn create_key_group<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    config: KeyGroupConfig,
) -> Result<Planned, ApiError> {
    validate_key_group(state, ctx, &config, "")?;
    check_quota(state.key_groups.len(), ctx.quotas.key_groups, "TooManyKeyGroups", "key groups")?;
    let id = draw_free("key group id", || generate_uuid(ctx.rng), |id| state.key_groups.contains_key(id))?;
    let record = new_record(ctx, &id, config)?;
    Ok(Planned::commit(Change::PutKeyGroup { record }, id))
}

pub fn update_key_group<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
    config: KeyGroupConfig,
) -> Result<Planned, ApiError> {
    let current = &get_key_group(state, id)?.record;
    check_if_match(if_match, &current.etag)?;
    validate_key_group(state, ctx, &config, id)?;
    let record = updated_record(ctx, current, config)?;
    Ok(Planned::commit(Change::PutKeyGroup { record }, id))
}

/// A key group a distribution trusts cannot be deleted (409 `ResourceInUse`).
pub fn delete_key_group<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
) -> Result<Planned, ApiError> {
    check_if_match(if_match, &get_key_group(state, id)?.record.etag)?;
    if let Some(distribution) = key_group_user(state, id) {
        return Err(ApiError::new(
            409,
            "ResourceInUse",
            format!(
                "The key group {id} is trusted by distribution {distribution}: remove it from TrustedKeyGroups first."
            ),
        ));
    }
    Ok(Planned::commit(Change::DeleteKeyGroup { id: id.to_owned() }, id))
}
