//! Each operation: decode its input, plan it (writes, through [`Api::write`]) or look it up
//! (reads), and answer with CloudFront's status, headers and XML. Status (`Deployed`,
//! `Completed`) comes from the edges' heartbeats at answer time, so every edge of a fleet
//! answers the same.

use rand::rngs::StdRng;
use sf_control::Seq;
use sf_dist::{InvalidationStatus, Status};

use super::http::{Answer, ApiRequest};
use super::route::{Kind, Operation, VERSION_PREFIX};
use super::{Api, ApiConfig, ApiError};
use crate::ops::{self, Context, Page, Planned};
use crate::shapes::{self, Paging};
use crate::state::ControlState;
use crate::xml::{from_xml, try_to_xml};

/// Whether the resource was changed by the request being answered.
#[derive(Clone, Copy)]
enum Fresh {
    JustChanged,
    AsDeployed,
}

type Plan<'a> = Box<dyn FnMut(&ControlState, &mut Context<'_, StdRng>) -> Result<Planned, ApiError> + Send + 'a>;

impl Api {
    pub(super) async fn execute(&self, operation: Operation, request: &ApiRequest) -> Result<Answer, ApiError> {
        let if_match = request.headers.get(http::header::IF_MATCH).and_then(|v| v.to_str().ok());
        let body = &request.body[..];
        match operation {
            Operation::Create { kind, with_tags } => {
                let plan = create_plan(&self.config, kind, with_tags, body)?;
                let (applied, id) = self.write(plan).await?;
                let answer = self.resource(&applied.state, kind, &id, 201, Fresh::JustChanged)?;
                Ok(answer.header("location", self.location(request, &format!("{}/{id}", kind.collection()))))
            }
            Operation::Update { kind, id } => {
                let plan = update_plan(&self.config, kind, id.clone(), if_match.map(str::to_owned), body)?;
                let (applied, id) = self.write(plan).await?;
                self.resource(&applied.state, kind, &id, 200, Fresh::JustChanged)
            }
            Operation::Delete { kind, id } => {
                let if_match = if_match.map(str::to_owned);
                let plan: Plan = Box::new(move |state, ctx| match kind {
                    Kind::Streaming => ops::delete_streaming_distribution(state, ctx, &id, if_match.as_deref()),
                    Kind::Web => ops::delete_distribution(state, ctx, &id, if_match.as_deref()),
                    Kind::PublicKey => ops::delete_public_key(state, ctx, &id, if_match.as_deref()),
                    Kind::KeyGroup => ops::delete_key_group(state, ctx, &id, if_match.as_deref()),
                    Kind::OriginAccessIdentity => {
                        ops::delete_origin_access_identity(state, ctx, &id, if_match.as_deref())
                    }
                    Kind::OriginAccessControl => {
                        ops::delete_origin_access_control(state, ctx, &id, if_match.as_deref())
                    }
                });
                self.write(plan).await?;
                Ok(Answer::no_content())
            }
            Operation::Get { kind, id } => self.resource(&self.current().state, kind, &id, 200, Fresh::AsDeployed),
            Operation::GetConfig { kind, id } => self.config(&self.current().state, kind, &id),
            Operation::List { kind, marker, max_items } => {
                self.list(&self.current().state, kind, marker.as_deref(), max_items.as_deref())
            }
            Operation::CreateInvalidation { distribution_id } => {
                let batch: sf_dist::InvalidationBatch = from_xml(body)?;
                let dist = distribution_id.clone();
                let plan: Plan = Box::new(move |state, ctx| ops::create_invalidation(state, ctx, &dist, batch.clone()));
                let (applied, id) = self.write(plan).await?;
                let answer = self.invalidation(&applied.state, &distribution_id, &id, 201)?;
                let path = format!("distribution/{distribution_id}/invalidation/{id}");
                Ok(answer.header("location", self.location(request, &path)))
            }
            Operation::GetInvalidation { distribution_id, id } => {
                self.invalidation(&self.current().state, &distribution_id, &id, 200)
            }
            Operation::ListInvalidations { distribution_id, marker, max_items } => {
                let state = &self.current().state;
                ops::get_distribution(state, &distribution_id)?;
                let all = state.invalidations.get(&distribution_id).into_iter().flat_map(|by_id| by_id.values());
                let page = ops::page(all.map(|i| (i.record.id.as_str(), i)), marker.as_deref(), max_items.as_deref())?;
                let (paging, items) = paged(page);
                let records: Vec<_> = items.iter().map(|i| self.invalidation_now(&i.record, i.version)).collect();
                xml(200, "InvalidationList", &shapes::invalidation_list(paging, &records))
            }
            Operation::TagResource { resource } => {
                let tags: shapes::Tags = from_xml(body)?;
                let plan: Plan =
                    Box::new(move |state, ctx| ops::tag_resource(state, ctx, &resource, tags.items.clone()));
                self.write(plan).await?;
                Ok(Answer::no_content())
            }
            Operation::UntagResource { resource } => {
                let keys: shapes::TagKeys = from_xml(body)?;
                let plan: Plan = Box::new(move |state, ctx| ops::untag_resource(state, ctx, &resource, &keys.items));
                self.write(plan).await?;
                Ok(Answer::no_content())
            }
            Operation::ListTagsForResource { resource } => {
                let state = &self.current().state;
                xml(200, "Tags", &shapes::Tags::of(ops::tags_of(state, &resource)?))
            }
        }
    }

    /// The resource as Get, Create and Update answer it, with its ETag.
    fn resource(
        &self,
        state: &ControlState,
        kind: Kind,
        id: &str,
        status: u16,
        fresh: Fresh,
    ) -> Result<Answer, ApiError> {
        // A change just made has not reached the other edges: CloudFront answers Create and
        // Update with `InProgress`, whatever the heartbeats already say.
        let status_of = |seq| match fresh {
            Fresh::JustChanged => Status::InProgress,
            Fresh::AsDeployed => self.status(seq),
        };
        let (body, etag) = match kind {
            Kind::Streaming => {
                let d = ops::get_streaming_distribution(state, id)?;
                let view = shapes::streaming_distribution(&d.record, status_of(d.version));
                (try_to_xml("StreamingDistribution", &view)?, &d.record.etag)
            }
            Kind::Web => {
                let d = ops::get_distribution(state, id)?;
                let record = self.web_now(state, &d.record);
                let view = shapes::distribution(&record, status_of(d.version), &|group| key_ids(state, group));
                (try_to_xml("Distribution", &view)?, &d.record.etag)
            }
            Kind::PublicKey => {
                let k = ops::get_public_key(state, id)?;
                (try_to_xml("PublicKey", &shapes::public_key(&k.record))?, &k.record.etag)
            }
            Kind::KeyGroup => {
                let g = ops::get_key_group(state, id)?;
                (try_to_xml("KeyGroup", &shapes::key_group(&g.record))?, &g.record.etag)
            }
            Kind::OriginAccessIdentity => {
                let o = ops::get_origin_access_identity(state, id)?;
                (
                    try_to_xml("CloudFrontOriginAccessIdentity", &shapes::origin_access_identity(&o.record))?,
                    &o.record.etag,
                )
            }
            Kind::OriginAccessControl => {
                let o = ops::get_origin_access_control(state, id)?;
                (try_to_xml("OriginAccessControl", &shapes::origin_access_control(&o.record))?, &o.record.etag)
            }
        };
        Ok(Answer::xml(status, body).header("etag", etag.clone()))
    }

    /// GetConfig: the config alone, with the ETag to send back in `If-Match`.
    fn config(&self, state: &ControlState, kind: Kind, id: &str) -> Result<Answer, ApiError> {
        let (body, etag) = match kind {
            Kind::Streaming => {
                let d = &ops::get_streaming_distribution(state, id)?.record;
                (try_to_xml("StreamingDistributionConfig", &d.streaming_distribution_config)?, &d.etag)
            }
            Kind::Web => {
                let d = &ops::get_distribution(state, id)?.record;
                (try_to_xml("DistributionConfig", &d.distribution_config)?, &d.etag)
            }
            Kind::PublicKey => {
                let k = &ops::get_public_key(state, id)?.record;
                (try_to_xml("PublicKeyConfig", &k.config)?, &k.etag)
            }
            Kind::KeyGroup => {
                let g = &ops::get_key_group(state, id)?.record;
                (try_to_xml("KeyGroupConfig", &g.config)?, &g.etag)
            }
            Kind::OriginAccessIdentity => {
                let o = &ops::get_origin_access_identity(state, id)?.record;
                (try_to_xml("CloudFrontOriginAccessIdentityConfig", &o.config)?, &o.etag)
            }
            Kind::OriginAccessControl => {
                let o = &ops::get_origin_access_control(state, id)?.record;
                (try_to_xml("OriginAccessControlConfig", &o.config)?, &o.etag)
            }
        };
        Ok(Answer::xml(200, body).header("etag", etag.clone()))
    }

    fn list(
        &self,
        state: &ControlState,
        kind: Kind,
        marker: Option<&str>,
        max: Option<&str>,
    ) -> Result<Answer, ApiError> {
        match kind {
            Kind::Streaming => {
                let (paging, items) = paged(ops::page(state.streaming.iter().map(by_id), marker, max)?);
                let page = items.iter().map(|d| (&d.record, self.status(d.version)));
                xml(200, "StreamingDistributionList", &shapes::streaming_distribution_list(paging, page))
            }
            Kind::Web => {
                let (paging, items) = paged(ops::page(state.web.iter().map(by_id), marker, max)?);
                let page = items.iter().map(|d| (&d.record, self.status(d.version)));
                xml(200, "DistributionList", &shapes::distribution_list(paging, page))
            }
            Kind::PublicKey => {
                let (paging, items) = paged(ops::page(state.public_keys.iter().map(by_id), marker, max)?);
                xml(200, "PublicKeyList", &shapes::public_key_list(paging, items.iter().map(|k| &k.record)))
            }
            Kind::KeyGroup => {
                let (paging, items) = paged(ops::page(state.key_groups.iter().map(by_id), marker, max)?);
                xml(200, "KeyGroupList", &shapes::key_group_list(paging, items.iter().map(|g| &g.record)))
            }
            Kind::OriginAccessIdentity => {
                let (paging, items) = paged(ops::page(state.origin_access_identities.iter().map(by_id), marker, max)?);
                let list = shapes::origin_access_identity_list(paging, items.iter().map(|o| &o.record));
                xml(200, "CloudFrontOriginAccessIdentityList", &list)
            }
            Kind::OriginAccessControl => {
                let (paging, items) = paged(ops::page(state.origin_access_controls.iter().map(by_id), marker, max)?);
                let list = shapes::origin_access_control_list(paging, items.iter().map(|o| &o.record));
                xml(200, "OriginAccessControlList", &list)
            }
        }
    }

    fn invalidation(
        &self,
        state: &ControlState,
        distribution_id: &str,
        id: &str,
        status: u16,
    ) -> Result<Answer, ApiError> {
        let stored = ops::get_invalidation(state, distribution_id, id)?;
        let record = self.invalidation_now(&stored.record, stored.version);
        xml(status, "Invalidation", &shapes::invalidation(&record))
    }

    /// An invalidation is `Completed` once every live edge has applied it (each edge drops
    /// the paths from its cache as it applies the change).
    fn invalidation_now(&self, record: &sf_dist::Invalidation, version: Seq) -> sf_dist::Invalidation {
        let status = match self.status(version) {
            Status::Deployed => InvalidationStatus::Completed,
            Status::InProgress => InvalidationStatus::InProgress,
        };
        sf_dist::Invalidation { status, ..record.clone() }
    }

    /// `InProgressInvalidationBatches` as of now.
    fn web_now(&self, state: &ControlState, record: &sf_dist::Distribution) -> sf_dist::Distribution {
        let in_progress = state
            .invalidations
            .get(&record.id)
            .into_iter()
            .flat_map(|by_id| by_id.values())
            .filter(|i| self.status(i.version) == Status::InProgress)
            .count();
        sf_dist::Distribution { in_progress_invalidation_batches: in_progress as i32, ..record.clone() }
    }

    /// `Location` of a created resource: this API's own address, as the client reached it.
    fn location(&self, request: &ApiRequest, path: &str) -> String {
        let host = request.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("http://{host}{VERSION_PREFIX}{path}")
    }
}

fn create_plan(check: &ApiConfig, kind: Kind, with_tags: bool, body: &[u8]) -> Result<Plan<'static>, ApiError> {
    if with_tags && !matches!(kind, Kind::Streaming | Kind::Web) {
        return Err(ApiError::invalid_argument("WithTags", "only distributions are created with tags"));
    }
    Ok(match kind {
        Kind::Streaming => {
            let (config, tags) = if with_tags {
                let input: shapes::StreamingDistributionConfigWithTags = from_xml(body)?;
                (input.streaming_distribution_config, input.tags.items)
            } else {
                (from_xml(body)?, Vec::new())
            };
            check.check_declared_names(&config.aliases)?;
            Box::new(move |state, ctx| ops::create_streaming_distribution(state, ctx, config.clone(), tags.clone()))
        }
        Kind::Web => {
            let (config, tags) = if with_tags {
                let input: shapes::DistributionConfigWithTags = from_xml(body)?;
                (input.distribution_config, input.tags.items)
            } else {
                (from_xml(body)?, Vec::new())
            };
            check.check_declared_names(&config.aliases)?;
            check.check_viewer_certificate(&config)?;
            Box::new(move |state, ctx| ops::create_distribution(state, ctx, config.clone(), tags.clone()))
        }
        Kind::PublicKey => {
            let config: sf_dist::PublicKeyConfig = from_xml(body)?;
            Box::new(move |state, ctx| ops::create_public_key(state, ctx, config.clone()))
        }
        Kind::KeyGroup => {
            let config: sf_dist::KeyGroupConfig = from_xml(body)?;
            Box::new(move |state, ctx| ops::create_key_group(state, ctx, config.clone()))
        }
        Kind::OriginAccessIdentity => {
            let config: sf_dist::OriginAccessIdentityConfig = from_xml(body)?;
            Box::new(move |state, ctx| ops::create_origin_access_identity(state, ctx, config.clone()))
        }
        Kind::OriginAccessControl => {
            let config: sf_dist::OriginAccessControlConfig = from_xml(body)?;
            Box::new(move |state, ctx| ops::create_origin_access_control(state, ctx, config.clone()))
        }
    })
}

fn update_plan(
    check: &ApiConfig,
    kind: Kind,
    id: String,
    if_match: Option<String>,
    body: &[u8],
) -> Result<Plan<'static>, ApiError> {
    Ok(match kind {
        Kind::Streaming => {
            let config: sf_dist::StreamingDistributionConfig = from_xml(body)?;
            check.check_declared_names(&config.aliases)?;
            Box::new(move |state, ctx| {
                ops::update_streaming_distribution(state, ctx, &id, if_match.as_deref(), config.clone())
            })
        }
        Kind::Web => {
            let config: sf_dist::DistributionConfig = from_xml(body)?;
            check.check_declared_names(&config.aliases)?;
            check.check_viewer_certificate(&config)?;
            Box::new(move |state, ctx| ops::update_distribution(state, ctx, &id, if_match.as_deref(), config.clone()))
        }
        Kind::PublicKey => {
            let config: sf_dist::PublicKeyConfig = from_xml(body)?;
            Box::new(move |state, ctx| ops::update_public_key(state, ctx, &id, if_match.as_deref(), config.clone()))
        }
        Kind::KeyGroup => {
            let config: sf_dist::KeyGroupConfig = from_xml(body)?;
            Box::new(move |state, ctx| ops::update_key_group(state, ctx, &id, if_match.as_deref(), config.clone()))
        }
        Kind::OriginAccessIdentity => {
            let config: sf_dist::OriginAccessIdentityConfig = from_xml(body)?;
            Box::new(move |state, ctx| {
                ops::update_origin_access_identity(state, ctx, &id, if_match.as_deref(), config.clone())
            })
        }
        Kind::OriginAccessControl => {
            let config: sf_dist::OriginAccessControlConfig = from_xml(body)?;
            Box::new(move |state, ctx| {
                ops::update_origin_access_control(state, ctx, &id, if_match.as_deref(), config.clone())
            })
        }
    })
}

fn by_id<'a, T>((id, value): (&'a String, &'a T)) -> (&'a str, &'a T) {
    (id.as_str(), value)
}

fn paged<T>(page: Page<T>) -> (Paging, Vec<T>) {
    let paging = Paging {
        marker: page.marker,
        max_items: page.max_items as i32,
        next_marker: page.next_marker,
        is_truncated: page.is_truncated,
    };
    (paging, page.items)
}

fn xml<T: serde::Serialize>(status: u16, root: &str, value: &T) -> Result<Answer, ApiError> {
    Ok(Answer::xml(status, try_to_xml(root, value)?))
}

/// The public key ids of key group `group` (for `ActiveTrustedKeyGroups`).
fn key_ids(state: &ControlState, group: &str) -> Vec<String> {
    state.key_groups.get(group).map(|g| g.record.config.items.clone()).unwrap_or_default()
}
