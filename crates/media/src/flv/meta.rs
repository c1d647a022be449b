//! `onMetaData`: what the server reads from the file's own script tag (duration, keyframes
//! index), and the replacement it writes when the file has none.

use bytes::Bytes;
use sf_amf::{Value, amf0};

/// Name of the script data message that describes the stream.
pub(crate) const ON_METADATA: &str = "onMetaData";

/// Bytes of a script body that hold an AMF0 `"onMetaData"` name: marker, length, text.
pub(super) const METADATA_NAME_LEN: u64 = 3 + ON_METADATA.len() as u64;

/// The parts of a file's `onMetaData` the reader uses.
#[derive(Debug, Default, PartialEq)]
pub(super) struct FileMetadata {
    pub duration_ms: Option<u64>,
    /// `keyframes.times` (seconds) and `keyframes.filepositions` (bytes), unchecked.
    pub keyframes: Option<(Vec<f64>, Vec<f64>)>,
}

/// True when a script tag body is an `onMetaData` message (its first value is that name).
pub(super) fn is_metadata(body: &[u8]) -> bool {
    let mut input = body;
    matches!(amf0::decode(&mut input), Ok(Value::String(name)) if name == ON_METADATA)
}

/// Reads an `onMetaData` body. `None` when the value after the name does not decode (the tag
/// is then replaced by a synthesized one: forwarding bytes no player can parse helps nobody).
pub(super) fn parse(body: &[u8]) -> Option<FileMetadata> {
    let mut input = body;
    amf0::decode(&mut input).ok()?;
    let value = amf0::decode(&mut input).ok()?;
    value.properties()?;
    let duration_ms = value.get("duration").and_then(Value::as_f64).and_then(seconds_to_ms);
    let keyframes =
        value.get("keyframes").and_then(|k| Some((numbers(k.get("times")?)?, numbers(k.get("filepositions")?)?)));
    Some(FileMetadata { duration_ms, keyframes })
}

/// The same `onMetaData` body with `duration` set to `duration_ms` (added if absent). `None`
/// if the body does not decode as a name and an object-like value.
pub(super) fn with_duration(body: &[u8], duration_ms: u64) -> Option<Bytes> {
    let mut input = body;
    let name = amf0::decode(&mut input).ok()?;
    let mut value = amf0::decode(&mut input).ok()?;
    let seconds = Value::Number(duration_ms as f64 / 1000.0);
    let properties = match &mut value {
        Value::Object(p) | Value::EcmaArray(p) => p,
        Value::TypedObject { properties, .. } => properties,
        _ => return None,
    };
    match properties.iter_mut().find(|(k, _)| k == "duration") {
        Some((_, v)) => *v = seconds,
        None => properties.insert(0, ("duration".to_owned(), seconds)),
    }
    let mut out = amf0::encode_all(&[name, value]);
    // Anything after the two values (rare) is kept as it was.
    out.extend_from_slice(input);
    Some(Bytes::from(out))
}

/// Milliseconds from a positive, finite number of seconds (rounded).
pub(crate) fn seconds_to_ms(seconds: f64) -> Option<u64> {
    // The upper bound keeps the float-to-int conversion exact and meaningful.
    (seconds.is_finite() && seconds > 0.0 && seconds < 1e12).then(|| (seconds * 1000.0).round() as u64)
}

/// The numbers of a strict array (`None` if any element is not a number).
fn numbers(value: &Value) -> Option<Vec<f64>> {
    match value {
        Value::StrictArray(items) => items.iter().map(Value::as_f64).collect(),
        _ => None,
    }
}

/// What a synthesized `onMetaData` says.
#[derive(Debug, Default)]
pub(super) struct Synthesized {
    pub duration_ms: u64,
    pub video_codec: Option<u8>,
    pub audio_codec: Option<u8>,
}

impl Synthesized {
    /// `"onMetaData"` then an ECMA array: duration, and a codec id only for each track that
    /// exists (FFmpeg takes the keys as a promise that the track exists and waits for it).
    pub fn encode(&self) -> Bytes {
        let mut pairs = vec![("duration", Value::Number(self.duration_ms as f64 / 1000.0))];
        if let Some(id) = self.video_codec {
            pairs.push(("videocodecid", Value::Number(id.into())));
        }
        if let Some(id) = self.audio_codec {
            pairs.push(("audiocodecid", Value::Number(id.into())));
        }
        let mut out = Vec::new();
        amf0::encode(&Value::from(ON_METADATA), &mut out);
        amf0::encode(&Value::ecma_array(pairs), &mut out);
        out.into()
    }
}
