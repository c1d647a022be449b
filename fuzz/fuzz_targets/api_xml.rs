//! Arbitrary bytes as a request body of the CloudFront API: decoding a `DistributionConfig` or a
//! `StreamingDistributionConfig` must fail with a 400 or give a value that writes back and reads
//! again as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sf_api::xml::{from_xml, to_xml};
use sf_dist::{DistributionConfig, StreamingDistributionConfig};

fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(root: &str, data: &[u8]) {
    match from_xml::<T>(data) {
        Ok(value) => {
            let again: T = from_xml(&to_xml(root, &value)).expect("what the codec writes, it reads");
            assert_eq!(again, value);
        }
        Err(e) => assert_eq!(e.status, 400, "{e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    check::<DistributionConfig>("DistributionConfig", data);
    check::<StreamingDistributionConfig>("StreamingDistributionConfig", data);
});
