//! Byte layout of the FLV file header and of one tag header. Pure parsing, no I/O.

/// Length of a tag header: type, 24-bit size, 24+8-bit timestamp, 24-bit stream id.
pub(super) const TAG_HEADER_LEN: u64 = 11;

/// Length of the back-pointer (PreviousTagSize) after every tag body.
pub(super) const BACK_POINTER_LEN: u64 = 4;

/// Header bytes of the file header that must be present ("FLV", version, flags, data offset).
pub(super) const FILE_HEADER_LEN: usize = 9;

/// Tag type numbers (lower five bits of the first header byte).
pub(super) const AUDIO: u8 = 8;
pub(super) const VIDEO: u8 = 9;
pub(super) const SCRIPT: u8 = 18;

/// Offset of the first tag, from the file header (`"FLV"`, version, flags, data offset).
/// `None` when the signature is wrong or the header is cut short.
pub(super) fn first_tag_offset(header: &[u8]) -> Option<u64> {
    if header.len() < FILE_HEADER_LEN || &header[..3] != b"FLV" {
        return None;
    }
    let data_offset = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
    // Version 1 files always say 9. A smaller value cannot be right (the header itself is 9
    // bytes), so read it as 9 rather than reject a file every player accepts.
    let data_offset = u64::from(data_offset).max(FILE_HEADER_LEN as u64);
    // PreviousTagSize0 sits between the header and the first tag.
    Some(data_offset + BACK_POINTER_LEN)
}

/// One parsed tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TagHeader {
    /// Tag type: 8, 9, 18, or anything else (skipped).
    pub kind: u8,
    /// True when the filter bit is set (an encrypted body, which no player here can use).
    pub filtered: bool,
    pub size: u32,
    pub timestamp: u32,
}

impl TagHeader {
    /// Parses the 11 header bytes at the front of `bytes` (`None` if fewer are given).
    pub fn parse(bytes: &[u8]) -> Option<TagHeader> {
        let b: &[u8; 11] = bytes.get(..11)?.try_into().ok()?;
        Some(TagHeader {
            kind: b[0] & 0x1f,
            filtered: b[0] & 0x20 != 0,
            size: u32::from_be_bytes([0, b[1], b[2], b[3]]),
            // The 24 low bits first, then the extension byte holding bits 24-31.
            timestamp: u32::from_be_bytes([b[7], b[4], b[5], b[6]]),
        })
    }

    /// Offset of the tag after this one, given this tag's offset.
    pub fn next_offset(&self, offset: u64) -> u64 {
        self.body_end(offset) + BACK_POINTER_LEN
    }

    /// Offset just past this tag's body.
    pub fn body_end(&self, offset: u64) -> u64 {
        offset + TAG_HEADER_LEN + u64::from(self.size)
    }

    /// True for audio, video and script tags that are not encrypted: the ones anybody sends.
    pub fn is_known(&self) -> bool {
        !self.filtered && matches!(self.kind, AUDIO | VIDEO | SCRIPT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extended_timestamp_and_size() {
        let h = TagHeader::parse(&[9, 0x01, 0x02, 0x03, 0xaa, 0xbb, 0xcc, 0x7f, 0, 0, 0]).unwrap();
        assert_eq!(h.kind, 9);
        assert!(!h.filtered);
        assert_eq!(h.size, 0x010203);
        assert_eq!(h.timestamp, 0x7faabbcc);
        assert_eq!(h.next_offset(13), 13 + 11 + 0x010203 + 4);
    }

    #[test]
    fn filter_bit_marks_tag_unknown() {
        let h = TagHeader::parse(&[0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(h.kind, 8);
        assert!(!h.is_known());
    }

    #[test]
    fn short_input_is_none() {
        assert_eq!(TagHeader::parse(&[9; 10]), None);
        assert_eq!(first_tag_offset(b"FLV\x01\x05\0\0\0"), None);
        assert_eq!(first_tag_offset(b"FLX\x01\x05\0\0\0\x09"), None);
    }

    #[test]
    fn data_offset_is_honoured_and_floored() {
        assert_eq!(first_tag_offset(b"FLV\x01\x05\0\0\0\x09"), Some(13));
        assert_eq!(first_tag_offset(b"FLV\x01\x05\0\0\0\x20"), Some(36));
        assert_eq!(first_tag_offset(b"FLV\x01\x05\0\0\0\x00"), Some(13));
    }
}
