//! Which operation a request is: method, path and query → [`Operation`], following the
//! `http` bindings of the 2020-05-31 model (`requestUri` of each operation in botocore's
//! `botocore/data/cloudfront/2020-05-31/service-2.json`). Pure.

use crate::ApiError;

/// Every URI starts with the API version.
pub const VERSION_PREFIX: &str = "/2020-05-31/";

/// The resource kinds whose operations have the same five shapes (create, list, get,
/// get-config, update, delete) and differ only in their names and paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Streaming,
    Web,
    PublicKey,
    KeyGroup,
    OriginAccessIdentity,
    OriginAccessControl,
}

impl Kind {
    /// The path of the collection below [`VERSION_PREFIX`].
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Streaming => "streaming-distribution",
            Kind::Web => "distribution",
            Kind::PublicKey => "public-key",
            Kind::KeyGroup => "key-group",
            Kind::OriginAccessIdentity => "origin-access-identity/cloudfront",
            Kind::OriginAccessControl => "origin-access-control",
        }
    }

    /// The noun in operation names (`CreateStreamingDistribution`, `ListPublicKeys`).
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Streaming => "StreamingDistribution",
            Kind::Web => "Distribution",
            Kind::PublicKey => "PublicKey",
            Kind::KeyGroup => "KeyGroup",
            Kind::OriginAccessIdentity => "CloudFrontOriginAccessIdentity",
            Kind::OriginAccessControl => "OriginAccessControl",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::Streaming => "StreamingDistributions",
            Kind::Web => "Distributions",
            Kind::PublicKey => "PublicKeys",
            Kind::KeyGroup => "KeyGroups",
            Kind::OriginAccessIdentity => "CloudFrontOriginAccessIdentities",
            Kind::OriginAccessControl => "OriginAccessControls",
        }
    }

    const ALL: [Kind; 6] = [
        Kind::Streaming,
        Kind::Web,
        Kind::PublicKey,
        Kind::KeyGroup,
        Kind::OriginAccessIdentity,
        Kind::OriginAccessControl,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Create { kind: Kind, with_tags: bool },
    List { kind: Kind, marker: Option<String>, max_items: Option<String> },
    Get { kind: Kind, id: String },
    GetConfig { kind: Kind, id: String },
    Update { kind: Kind, id: String },
    Delete { kind: Kind, id: String },
    CreateInvalidation { distribution_id: String },
    ListInvalidations { distribution_id: String, marker: Option<String>, max_items: Option<String> },
    GetInvalidation { distribution_id: String, id: String },
    TagResource { resource: String },
    UntagResource { resource: String },
    ListTagsForResource { resource: String },
}

impl Operation {
    /// The model's operation name, for logs and metrics.
    pub fn name(&self) -> String {
        match self {
            Operation::Create { kind, with_tags: false } => format!("Create{}", kind.noun()),
            Operation::Create { kind, with_tags: true } => format!("Create{}WithTags", kind.noun()),
            Operation::List { kind, .. } => format!("List{}", kind.plural()),
            Operation::Get { kind, .. } => format!("Get{}", kind.noun()),
            Operation::GetConfig { kind, .. } => format!("Get{}Config", kind.noun()),
            Operation::Update { kind, .. } => format!("Update{}", kind.noun()),
            Operation::Delete { kind, .. } => format!("Delete{}", kind.noun()),
            Operation::CreateInvalidation { .. } => "CreateInvalidation".into(),
            Operation::ListInvalidations { .. } => "ListInvalidations".into(),
            Operation::GetInvalidation { .. } => "GetInvalidation".into(),
            Operation::TagResource { .. } => "TagResource".into(),
            Operation::UntagResource { .. } => "UntagResource".into(),
            Operation::ListTagsForResource { .. } => "ListTagsForResource".into(),
        }
    }

    /// Whether it changes anything (and so goes through the store).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Operation::Create { .. }
                | Operation::Update { .. }
                | Operation::Delete { .. }
                | Operation::CreateInvalidation { .. }
                | Operation::TagResource { .. }
                | Operation::UntagResource { .. }
        )
    }
}

/// The operation `method path?query` asks for. `path` is as received (percent-encoded);
/// path parameters are decoded here (botocore percent-encodes them, `/` included).
pub fn route(method: &str, path: &str, query: &str) -> Result<Operation, ApiError> {
    let Some(rest) = path.strip_prefix(VERSION_PREFIX) else {
        return Err(ApiError::new(
            404,
            "InvalidURI",
            format!("{path} is not an operation of this API: every URI starts with {VERSION_PREFIX}"),
        ));
    };
    let query = Query::parse(query);
    let segments: Vec<&str> = rest.split('/').collect();
    let decoded = |i: usize| decode(segments[i]);

    if segments[0] == "tagging" && segments.len() == 1 {
        let resource = query.get("Resource").ok_or_else(|| missing_query("Resource"))?.to_owned();
        return match (method, query.get("Operation")) {
            ("GET", None) => Ok(Operation::ListTagsForResource { resource }),
            ("POST", Some("Tag")) => Ok(Operation::TagResource { resource }),
            ("POST", Some("Untag")) => Ok(Operation::UntagResource { resource }),
            _ => Err(not_implemented(&format!("{method} {path}"))),
        };
    }

    // Invalidations live below a web distribution.
    if segments[0] == "distribution" && segments.len() >= 3 && segments[2] == "invalidation" {
        let distribution_id = decoded(1)?;
        return match (method, segments.len()) {
            ("POST", 3) => Ok(Operation::CreateInvalidation { distribution_id }),
            ("GET", 3) => Ok(Operation::ListInvalidations {
                distribution_id,
                marker: query.get("Marker").map(str::to_owned),
                max_items: query.get("MaxItems").map(str::to_owned),
            }),
            ("GET", 4) => Ok(Operation::GetInvalidation { distribution_id, id: decoded(3)? }),
            _ => Err(not_implemented(&format!("{method} {path}"))),
        };
    }

    for kind in Kind::ALL {
        let depth = kind.collection().split('/').count();
        if segments.len() < depth || segments[..depth].join("/") != kind.collection() {
            continue;
        }
        let tail = &segments[depth..];
        let id = || decode(tail[0]);
        return match (method, tail) {
            ("POST", []) => Ok(Operation::Create { kind, with_tags: query.has("WithTags") }),
            ("GET", []) => Ok(Operation::List {
                kind,
                marker: query.get("Marker").map(str::to_owned),
                max_items: query.get("MaxItems").map(str::to_owned),
            }),
            ("GET", [_]) => Ok(Operation::Get { kind, id: id()? }),
            ("DELETE", [_]) => Ok(Operation::Delete { kind, id: id()? }),
            ("GET", [_, "config"]) => Ok(Operation::GetConfig { kind, id: id()? }),
            // Key groups are the one kind updated at the resource itself, not at `/config`
            // (UpdateKeyGroup: `PUT /2020-05-31/key-group/{Id}`).
            ("PUT", [_]) if kind == Kind::KeyGroup => Ok(Operation::Update { kind, id: id()? }),
            ("PUT", [_, "config"]) if kind != Kind::KeyGroup => Ok(Operation::Update { kind, id: id()? }),
            _ => Err(not_implemented(&format!("{method} {path}"))),
        };
    }
    Err(not_implemented(&format!("{method} {path}")))
}

/// An operation of CloudFront's API that streamfront does not implement (cache policies,
/// functions, …): 501 `NotImplemented`, naming the request.
fn not_implemented(request: &str) -> ApiError {
    ApiError::new(
        501,
        "NotImplemented",
        format!(
            "{request}: streamfront does not implement this operation of the CloudFront API. It implements streaming \
             and web distributions, tagging, public keys, key groups, origin access identities and controls, and \
             invalidations; see the README's list"
        ),
    )
}

fn missing_query(name: &str) -> ApiError {
    ApiError::new(400, "InvalidArgument", format!("the query parameter {name} is required"))
}

fn decode(segment: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::new(400, "InvalidArgument", format!("path segment {segment:?} is not UTF-8")))
}

/// The query string's pairs, decoded. A bare key (`?WithTags`) has an empty value.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Query {
        Query(form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: &str, path: &str, query: &str) -> Operation {
        route(method, path, query).unwrap_or_else(|e| panic!("{method} {path}?{query}: {e}"))
    }

    #[test]
    fn every_uri_of_the_model_routes_to_its_operation() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("POST", "/2020-05-31/streaming-distribution", "", "CreateStreamingDistribution"),
            ("POST", "/2020-05-31/streaming-distribution", "WithTags", "CreateStreamingDistributionWithTags"),
            ("GET", "/2020-05-31/streaming-distribution", "MaxItems=1", "ListStreamingDistributions"),
            ("GET", "/2020-05-31/streaming-distribution/E1", "", "GetStreamingDistribution"),
            ("GET", "/2020-05-31/streaming-distribution/E1/config", "", "GetStreamingDistributionConfig"),
            ("PUT", "/2020-05-31/streaming-distribution/E1/config", "", "UpdateStreamingDistribution"),
            ("DELETE", "/2020-05-31/streaming-distribution/E1", "", "DeleteStreamingDistribution"),
            ("POST", "/2020-05-31/distribution", "WithTags=", "CreateDistributionWithTags"),
            ("GET", "/2020-05-31/distribution", "", "ListDistributions"),
            ("PUT", "/2020-05-31/distribution/E1/config", "", "UpdateDistribution"),
            ("POST", "/2020-05-31/distribution/E1/invalidation", "", "CreateInvalidation"),
            ("GET", "/2020-05-31/distribution/E1/invalidation", "", "ListInvalidations"),
            ("GET", "/2020-05-31/distribution/E1/invalidation/I1", "", "GetInvalidation"),
            ("POST", "/2020-05-31/public-key", "", "CreatePublicKey"),
            ("PUT", "/2020-05-31/public-key/K1/config", "", "UpdatePublicKey"),
            ("PUT", "/2020-05-31/key-group/G1", "", "UpdateKeyGroup"),
            ("GET", "/2020-05-31/key-group/G1/config", "", "GetKeyGroupConfig"),
            ("POST", "/2020-05-31/origin-access-identity/cloudfront", "", "CreateCloudFrontOriginAccessIdentity"),
            ("GET", "/2020-05-31/origin-access-identity/cloudfront", "", "ListCloudFrontOriginAccessIdentities"),
            ("DELETE", "/2020-05-31/origin-access-identity/cloudfront/E1", "", "DeleteCloudFrontOriginAccessIdentity"),
            ("GET", "/2020-05-31/origin-access-control/O1/config", "", "GetOriginAccessControlConfig"),
            ("POST", "/2020-05-31/tagging", "Operation=Tag&Resource=arn%3Aaws", "TagResource"),
            ("POST", "/2020-05-31/tagging", "Operation=Untag&Resource=arn", "UntagResource"),
            ("GET", "/2020-05-31/tagging", "Resource=arn", "ListTagsForResource"),
        ];
        for (method, path, query, name) in cases {
            assert_eq!(op(method, path, query).name(), *name, "{method} {path}?{query}");
        }
    }

    #[test]
    fn parameters_are_decoded() {
        assert_eq!(
            op("GET", "/2020-05-31/distribution/E%2F1%20x", ""),
            Operation::Get { kind: Kind::Web, id: "E/1 x".into() }
        );
        assert_eq!(
            op("GET", "/2020-05-31/distribution", "Marker=EABC&MaxItems=2"),
            Operation::List { kind: Kind::Web, marker: Some("EABC".into()), max_items: Some("2".into()) }
        );
        assert_eq!(
            op("GET", "/2020-05-31/tagging", "Resource=arn%3Aaws%3Acloudfront%3A%3A1%3Adistribution%2FE1"),
            Operation::ListTagsForResource { resource: "arn:aws:cloudfront::1:distribution/E1".into() }
        );
    }

    #[test]
    fn other_operations_are_not_implemented_and_other_paths_unknown() {
        for (method, path) in [
            ("POST", "/2020-05-31/cache-policy"),
            ("GET", "/2020-05-31/function/f"),
            ("PUT", "/2020-05-31/key-group/G1/config"),
            ("PATCH", "/2020-05-31/distribution"),
        ] {
            let e = route(method, path, "").unwrap_err();
            assert_eq!((e.status, e.code), (501, "NotImplemented"), "{method} {path}");
            assert!(e.message.contains(path), "{}", e.message);
        }
        assert_eq!(route("GET", "/2019-03-26/distribution", "").unwrap_err().status, 404);
        assert_eq!(route("GET", "/2020-05-31/tagging", "").unwrap_err().code, "InvalidArgument");
    }
}
