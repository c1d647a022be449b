//! String enums of the CloudFront model. Each value serialises as its wire spelling, so the
//! persisted JSON and the XML use the same words.

use crate::error::ValidationError;

/// An enum whose values are fixed strings on the wire.
pub trait WireEnum: Sized + Copy + 'static {
    /// Every value, in model order.
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;

    fn from_wire(value: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == value)
    }

    /// For a decoder: the value, or `InvalidArgument` naming `field` and listing what is allowed.
    fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        Self::from_wire(value).ok_or_else(|| {
            let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
            ValidationError::invalid_argument(
                field,
                format!("{value:?} is not one of the allowed values: {}", allowed.join(", ")),
            )
        })
    }
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $crate::wire_enum::WireEnum for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::wire_enum::WireEnum::as_str(*self))
            }
        }
    };
}
pub(crate) use wire_enum;
