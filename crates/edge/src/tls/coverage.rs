//! Which configured certificate serves each host name of the distributions. CloudFront gives
//! a distribution the certificate its `ViewerCertificate` names; here certificates are
//! configured per domain and SNI picks one, so a distribution's names decide. An alias that
//! no configured certificate covers gets the default certificate, which browsers and
//! verifying players refuse for that name: it is logged and counted.

use std::collections::BTreeSet;

use tracing::warn;

use super::Certificates;
use crate::routing::Distributions;

/// The certificate file serving `host`: the one covering it, else `default: <file>`.
pub fn describe(certificates: &Certificates, host: &str) -> String {
    match certificates.covering(host) {
        Some(spec) => spec.cert.display().to_string(),
        None => format!("default: {}", certificates.default_spec().cert.display()),
    }
}

/// The aliases of `distributions`, streaming and web, that no configured certificate covers,
/// as (distribution id, alias).
pub fn uncovered(certificates: &Certificates, distributions: &Distributions) -> BTreeSet<(String, String)> {
    let streaming = distributions.all().iter().flat_map(|d| d.aliases.iter().map(move |alias| (&d.id, alias)));
    let web = distributions
        .web()
        .flat_map(|d| d.record.distribution_config.aliases.iter().map(move |alias| (&d.record.id, alias)));
    streaming
        .chain(web)
        .filter(|(_, alias)| certificates.covering(alias).is_none())
        .map(|(id, alias)| (id.clone(), alias.clone()))
        .collect()
}

/// Logs at warning each uncovered alias of `now` that `before` did not have (each change of
/// the distributions is checked, and one warning per alias is enough); returns how many
/// aliases are uncovered.
pub fn report(certificates: &Certificates, before: Option<&Distributions>, now: &Distributions) -> usize {
    let known = before.map(|before| uncovered(certificates, before)).unwrap_or_default();
    let uncovered = uncovered(certificates, now);
    for (id, alias) in uncovered.difference(&known) {
        let default = certificates.default_spec().cert.display();
        warn!(
            distribution = %id,
            alias = %alias,
            "no configured certificate covers this alias: HTTPS clients asking for it get the default ({default}); \
             add one with --tls-cert or [[certificates]]"
        );
    }
    uncovered.len()
}
