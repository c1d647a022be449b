//! Object names below the store's prefix. Numbers are zero-padded to 20 digits (u64::MAX has
//! 20), so the lexicographic order of a LIST is the numeric order.

use object_store::path::Path;

use super::Seq;

pub(crate) const LOG: &str = "log";
pub(crate) const SNAPSHOTS: &str = "snapshot";
pub(crate) const EDGES: &str = "edges";
pub(crate) const PROBES: &str = "probe";

/// `<dir>/<20-digit seq>.json`
pub(crate) fn numbered(prefix: &Path, dir: &str, seq: Seq) -> Path {
    prefix.clone().join(dir).join(format!("{seq:020}.json"))
}

/// The number in a `<20-digit seq>.json` object name; `None` for any other name.
pub(crate) fn parse_numbered(location: &Path) -> Option<Seq> {
    let digits = location.filename()?.strip_suffix(".json")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `edges/<edge id>.json`
pub(crate) fn edge(prefix: &Path, edge_id: &str) -> Path {
    prefix.clone().join(EDGES).join(format!("{edge_id}.json"))
}

/// Edge ids name objects: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with a dot.
pub(crate) fn valid_edge_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && !id.starts_with('.')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_round_trip_and_sort_numerically() {
        let prefix = Path::from("control");
        let nine = numbered(&prefix, LOG, 9);
        let ten = numbered(&prefix, LOG, 10);
        assert_eq!(nine.as_ref(), "control/log/00000000000000000009.json");
        assert!(nine.as_ref() < ten.as_ref());
        assert_eq!(parse_numbered(&ten), Some(10));
        assert_eq!(parse_numbered(&numbered(&prefix, LOG, u64::MAX)), Some(u64::MAX));
        for other in ["control/log/10.json", "control/log/0000000000000000000x.json", "control/log/notes.txt"] {
            assert_eq!(parse_numbered(&Path::from(other)), None, "{other}");
        }
    }

    #[test]
    fn edge_ids_are_plain_names() {
        assert!(valid_edge_id("edge-1.example_a"));
        for bad in ["", ".hidden", "a/b", "a b", &"x".repeat(65)] {
            assert!(!valid_edge_id(bad), "{bad:?}");
        }
    }
}
