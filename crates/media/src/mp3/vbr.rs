//! The Xing/Info (LAME, most encoders) and VBRI (Fraunhofer) header frames: a first frame
//! that carries stream information instead of audio. FFmpeg's demuxer drops it, and players
//! fed it over RTMP would decode a frame of silence or noise, so it is not sent.

use super::frame::{FrameHeader, HEADER_LEN};

/// Where the VBRI tag sits: after the header and 32 bytes, whatever the channel mode.
const VBRI_OFFSET: usize = HEADER_LEN + 32;

/// True when `frame` (header included) is a Xing, Info or VBRI header frame.
pub(super) fn is_info_frame(header: &FrameHeader, frame: &[u8]) -> bool {
    if header.params.layer != 3 {
        return false;
    }
    let xing_at = HEADER_LEN + header.side_info_len();
    let tag_at = |at: usize| frame.get(at..at + 4);
    matches!(tag_at(xing_at), Some(b"Xing" | b"Info")) || tag_at(VBRI_OFFSET) == Some(b"VBRI")
}
