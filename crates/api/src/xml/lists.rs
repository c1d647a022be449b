//! How each list of the model is written: the element name of its items and the form of its
//! wrapper, taken member by member from the CloudFront 2020-05-31 model
//! (`botocore/data/cloudfront/2020-05-31/service-2.json`: each list shape's `member.locationName`,
//! and whether the structure that holds it has a `Quantity`). No list of this model is
//! `flattened`.

/// The XML around a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListForm {
    /// The member `X` is a wrapper shape of its own:
    /// `<X><Quantity>n</Quantity><Items><Item/>…</Items></X>` (`Aliases`, `Origins`, `Paths`…).
    Wrapped,
    /// The member is the `Items` of a struct that also has `Quantity` (`TrustedSigners`,
    /// `GeoRestriction`, the `…List` shapes): `<Quantity>n</Quantity><Items><Item/>…</Items>` in
    /// the struct itself, `Quantity` immediately before `Items` as in every such shape.
    CountedItems,
    /// A list with no `Quantity`: `<X><Item/>…</X>` (`KeyGroupConfig.Items`, `Tags.Items`,
    /// `TagKeys.Items`, `TenantConfig.ParameterDefinitions`).
    Bare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListSpec {
    /// The element name of one item.
    pub item: &'static str,
    pub form: ListForm,
}

use ListForm::{Bare, CountedItems, Wrapped};

/// (struct name as serde reports it, member name) → the list's spec. Struct names are the Rust
/// names (`OriginAccessIdentityConfig`, `KgKeyPairIds`…), which is what serde gives the codec.
const LISTS: &[(&str, &str, &str, ListForm)] = &[
    // StreamingDistributionConfig
    ("StreamingDistributionConfig", "Aliases", "CNAME", Wrapped),
    ("TrustedSigners", "Items", "AwsAccountNumber", CountedItems),
    // DistributionConfig
    ("DistributionConfig", "Aliases", "CNAME", Wrapped),
    ("DistributionConfig", "Origins", "Origin", Wrapped),
    ("DistributionConfig", "OriginGroups", "OriginGroup", Wrapped),
    ("DistributionConfig", "CacheBehaviors", "CacheBehavior", Wrapped),
    ("DistributionConfig", "CustomErrorResponses", "CustomErrorResponse", Wrapped),
    ("Origin", "CustomHeaders", "OriginCustomHeader", Wrapped),
    ("CustomOriginConfig", "OriginSslProtocols", "SslProtocol", Wrapped),
    ("OriginGroup", "Members", "OriginGroupMember", Wrapped),
    ("OriginGroupFailoverCriteria", "StatusCodes", "StatusCode", Wrapped),
    ("TrustedKeyGroups", "Items", "KeyGroup", CountedItems),
    ("AllowedMethods", "Items", "Method", CountedItems),
    ("AllowedMethods", "CachedMethods", "Method", Wrapped),
    ("DefaultCacheBehavior", "LambdaFunctionAssociations", "LambdaFunctionAssociation", Wrapped),
    ("DefaultCacheBehavior", "FunctionAssociations", "FunctionAssociation", Wrapped),
    ("CacheBehavior", "LambdaFunctionAssociations", "LambdaFunctionAssociation", Wrapped),
    ("CacheBehavior", "FunctionAssociations", "FunctionAssociation", Wrapped),
    ("ForwardedValues", "Headers", "Name", Wrapped),
    ("ForwardedValues", "QueryStringCacheKeys", "Name", Wrapped),
    ("CookiePreference", "WhitelistedNames", "Name", Wrapped),
    ("GeoRestriction", "Items", "Location", CountedItems),
    // `ParameterDefinitions` has no locationName: botocore's default item name is `member`.
    ("TenantConfig", "ParameterDefinitions", "member", Bare),
    // Public keys, key groups, invalidations, tags
    ("KeyGroupConfig", "Items", "PublicKey", Bare),
    ("InvalidationBatch", "Paths", "Path", Wrapped),
    ("Tags", "Items", "Tag", Bare),
    ("TagKeys", "Items", "Key", Bare),
    // Responses (crate::shapes)
    ("ActiveTrustedSigners", "Items", "Signer", CountedItems),
    ("Signer", "KeyPairIds", "KeyPairId", Wrapped),
    ("ActiveTrustedKeyGroups", "Items", "KeyGroup", CountedItems),
    ("KgKeyPairIds", "KeyPairIds", "KeyPairId", Wrapped),
    ("StreamingDistributionList", "Items", "StreamingDistributionSummary", CountedItems),
    ("StreamingDistributionSummary", "Aliases", "CNAME", Wrapped),
    ("DistributionList", "Items", "DistributionSummary", CountedItems),
    ("DistributionSummary", "Aliases", "CNAME", Wrapped),
    ("DistributionSummary", "Origins", "Origin", Wrapped),
    ("DistributionSummary", "OriginGroups", "OriginGroup", Wrapped),
    ("DistributionSummary", "CacheBehaviors", "CacheBehavior", Wrapped),
    ("DistributionSummary", "CustomErrorResponses", "CustomErrorResponse", Wrapped),
    ("PublicKeyList", "Items", "PublicKeySummary", CountedItems),
    ("KeyGroupList", "Items", "KeyGroupSummary", CountedItems),
    ("CloudFrontOriginAccessIdentityList", "Items", "CloudFrontOriginAccessIdentitySummary", CountedItems),
    ("OriginAccessControlList", "Items", "OriginAccessControlSummary", CountedItems),
    ("InvalidationList", "Items", "InvalidationSummary", CountedItems),
];

/// The spec of the list member `member` of the struct `parent`, or `None` when the table has no
/// entry (a bug: every list the codec meets must be here).
pub(crate) fn list_spec(parent: &str, member: &str) -> Option<ListSpec> {
    LISTS.iter().find(|(p, m, _, _)| *p == parent && *m == member).map(|&(_, _, item, form)| ListSpec { item, form })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_list_is_listed_twice() {
        for (i, (p, m, _, _)) in LISTS.iter().enumerate() {
            assert!(!LISTS[i + 1..].iter().any(|(p2, m2, _, _)| p2 == p && m2 == m), "{p}.{m} twice");
        }
    }

    #[test]
    fn counted_items_are_always_named_items() {
        for (p, m, _, form) in LISTS {
            assert!(*form != CountedItems || *m == "Items", "{p}.{m}");
        }
    }
}
