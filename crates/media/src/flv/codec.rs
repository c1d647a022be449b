//! What the first bytes of an audio or video tag body say: key frame, codec configuration
//! (sequence header), codec id. Legacy FLV and Enhanced RTMP (ex-header) layouts.

use super::tag::{AUDIO, VIDEO};

/// Legacy video codec ids whose second body byte is a packet type (0 = sequence header):
/// AVC (7) and the widely used HEVC extension (12).
const VIDEO_CODECS_WITH_PACKET_TYPE: [u8; 2] = [7, 12];
/// Sound format of AAC, whose second body byte is a packet type (0 = AudioSpecificConfig).
const SOUND_FORMAT_AAC: u8 = 10;
/// Sound format that marks an Enhanced RTMP audio header (FourCC follows).
const SOUND_FORMAT_EX_HEADER: u8 = 9;
/// Enhanced RTMP packet type of a sequence start (codec configuration).
const EX_SEQUENCE_START: u8 = 0;

/// True when the video body starts with a key frame. The frame type is the three bits under
/// the Enhanced RTMP ex-header flag, so legacy (`0x17`) and enhanced (`0x90 | …`) agree.
pub(super) fn is_video_keyframe(body: &[u8]) -> bool {
    body.first().is_some_and(|b| (b >> 4) & 0x07 == 1)
}

/// Key-frame flag of a tag: video frame type 1; every audio and data tag is a key frame.
pub(super) fn is_keyframe(kind: u8, body: &[u8]) -> bool {
    kind != VIDEO || is_video_keyframe(body)
}

/// True when the tag carries codec configuration rather than a frame: AVC/HEVC packet type
/// 0, AAC packet type 0, or an Enhanced RTMP sequence start. Needs the first two body bytes.
pub(super) fn is_sequence_header(kind: u8, body: &[u8]) -> bool {
    let (Some(&b0), b1) = (body.first(), body.get(1).copied()) else {
        return false;
    };
    match kind {
        VIDEO if b0 & 0x80 != 0 => b0 & 0x0f == EX_SEQUENCE_START,
        VIDEO => VIDEO_CODECS_WITH_PACKET_TYPE.contains(&(b0 & 0x0f)) && b1 == Some(0),
        AUDIO => match b0 >> 4 {
            SOUND_FORMAT_AAC => b1 == Some(0),
            SOUND_FORMAT_EX_HEADER => b0 & 0x0f == EX_SEQUENCE_START,
            _ => false,
        },
        _ => false,
    }
}

/// `onMetaData.videocodecid` for a video body (legacy codec ids only; enhanced codecs are
/// named by FourCC, which a number cannot carry).
pub(super) fn video_codec_id(body: &[u8]) -> Option<u8> {
    body.first().filter(|b| *b & 0x80 == 0).map(|b| b & 0x0f)
}

/// `onMetaData.audiocodecid` for an audio body (the sound format).
pub(super) fn audio_codec_id(body: &[u8]) -> Option<u8> {
    body.first().map(|b| b >> 4).filter(|f| *f != SOUND_FORMAT_EX_HEADER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avc_and_aac_configuration_is_recognised() {
        assert!(is_sequence_header(VIDEO, &[0x17, 0x00, 0, 0, 0]));
        assert!(!is_sequence_header(VIDEO, &[0x17, 0x01, 0, 0, 0]));
        assert!(!is_sequence_header(VIDEO, &[0x17]));
        assert!(is_sequence_header(AUDIO, &[0xaf, 0x00, 0x12, 0x10]));
        assert!(!is_sequence_header(AUDIO, &[0xaf, 0x01]));
        // MP3 and Sorenson bodies never are, whatever their second byte.
        assert!(!is_sequence_header(AUDIO, &[0x2f, 0x00]));
        assert!(!is_sequence_header(VIDEO, &[0x12, 0x00]));
        // Enhanced RTMP: ex-header bit, key frame, SequenceStart, then the FourCC.
        assert!(is_sequence_header(VIDEO, &[0x90, b'h', b'v', b'c', b'1']));
        assert!(!is_sequence_header(VIDEO, &[0x91, b'h', b'v', b'c', b'1']));
    }

    #[test]
    fn key_frames() {
        assert!(is_keyframe(VIDEO, &[0x17, 1]));
        assert!(is_keyframe(VIDEO, &[0x12]));
        assert!(!is_keyframe(VIDEO, &[0x27, 1]));
        assert!(is_keyframe(VIDEO, &[0x91]));
        assert!(!is_keyframe(VIDEO, &[]));
        assert!(is_keyframe(AUDIO, &[0x2f]));
    }

    #[test]
    fn codec_ids() {
        assert_eq!(video_codec_id(&[0x17]), Some(7));
        assert_eq!(video_codec_id(&[0x91]), None);
        assert_eq!(audio_codec_id(&[0xaf]), Some(10));
        assert_eq!(audio_codec_id(&[0x2a]), Some(2));
        assert_eq!(audio_codec_id(&[0x90]), None);
    }
}
