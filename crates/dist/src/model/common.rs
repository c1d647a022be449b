//! Shapes shared by streaming and web distributions.

use serde::{Deserialize, Serialize};

use crate::wire_enum::wire_enum;

wire_enum! {
    /// Which edge locations serve the distribution. `None` exists only for web distributions.
    PriceClass {
        PriceClass100 = "PriceClass_100",
        PriceClass200 = "PriceClass_200",
        PriceClassAll = "PriceClass_All",
        None = "None",
    }
}

/// AWS accounts whose key pairs may sign URLs. `Items` are 12-digit account numbers or `self`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrustedSigners {
    pub enabled: bool,
    /// `AwsAccountNumber` elements.
    pub items: Vec<String>,
}

/// A resource tag. The model makes `Value` optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: Option<String>,
}
