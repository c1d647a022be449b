//! Tags around the audio: ID3v2 at the front (skipped; title/artist picked up when plainly
//! stored), ID3v1 and APEv2 at the back (excluded from the frame scan so their bytes are
//! never mistaken for frames).

use crate::{ByteSource, MediaError};

const ID3V2_HEADER_LEN: u64 = 10;
/// ID3v2 tags in a row that are skipped (some taggers prepend a second one).
const MAX_ID3V2_TAGS: usize = 4;
/// Bytes of an ID3v2 tag parsed for text frames; the rest (cover art) is only skipped.
const MAX_ID3V2_PARSED: u64 = 64 * 1024;
/// Longest title/artist kept.
const MAX_TEXT_CHARS: usize = 1024;
const ID3V1_LEN: u64 = 128;
const APE_FOOTER_LEN: u64 = 32;

#[derive(Debug, Default, PartialEq)]
pub(super) struct Id3Text {
    pub title: Option<String>,
    pub artist: Option<String>,
}

/// Where audio starts (past any ID3v2 tags), and the text of the first tag.
pub(super) async fn leading<S: ByteSource>(source: &S) -> Result<(u64, Id3Text), MediaError> {
    let mut start = 0;
    let mut text = Id3Text::default();
    for i in 0..MAX_ID3V2_TAGS {
        let header = source.read(start, ID3V2_HEADER_LEN).await?;
        let Some(tag) = Id3v2Header::parse(&header) else {
            break;
        };
        if i == 0 {
            let body = source.read(start + ID3V2_HEADER_LEN, tag.body_len.min(MAX_ID3V2_PARSED)).await?;
            text = tag.text(&body);
        }
        start += tag.total_len;
    }
    Ok((start, text))
}

/// Where audio ends: before an ID3v1 tag and an APEv2 tag (either order of discovery: APE
/// sits before ID3v1 when both exist). Never before `start`.
pub(super) async fn trailing_end<S: ByteSource>(source: &S, start: u64) -> Result<u64, MediaError> {
    let mut end = source.size();
    if end >= start + ID3V1_LEN && source.read(end - ID3V1_LEN, 3).await?.as_ref() == b"TAG" {
        end -= ID3V1_LEN;
    }
    if end >= start + APE_FOOTER_LEN {
        let footer = source.read(end - APE_FOOTER_LEN, APE_FOOTER_LEN).await?;
        if let Some(len) = ape_len(&footer) {
            end = end.saturating_sub(len).max(start);
        }
    }
    Ok(end)
}

/// Total length of an APEv2 tag from its footer (items and footer, plus the header when the
/// flags say there is one).
fn ape_len(footer: &[u8]) -> Option<u64> {
    if footer.len() < APE_FOOTER_LEN as usize || &footer[..8] != b"APETAGEX" {
        return None;
    }
    let size = u32::from_le_bytes(footer[12..16].try_into().ok()?);
    let flags = u32::from_le_bytes(footer[20..24].try_into().ok()?);
    let header = if flags & (1 << 31) != 0 { APE_FOOTER_LEN } else { 0 };
    Some(u64::from(size) + header)
}

struct Id3v2Header {
    major: u8,
    flags: u8,
    /// Bytes after the 10-byte header, footer excluded.
    body_len: u64,
    /// Header, body and footer.
    total_len: u64,
}

impl Id3v2Header {
    fn parse(b: &[u8]) -> Option<Id3v2Header> {
        if b.len() < ID3V2_HEADER_LEN as usize || &b[..3] != b"ID3" || b[3] == 0xff || b[4] == 0xff {
            return None;
        }
        let body_len = syncsafe(&b[6..10])?;
        // Version 2.4 may end with a copy of the header (footer flag).
        let footer = if b[3] >= 4 && b[5] & 0x10 != 0 { ID3V2_HEADER_LEN } else { 0 };
        Some(Id3v2Header { major: b[3], flags: b[5], body_len, total_len: ID3V2_HEADER_LEN + body_len + footer })
    }

    /// Title and artist, when stored without unsynchronisation, extended header or
    /// compressed/encrypted frames (what every common tagger writes); otherwise nothing.
    fn text(&self, mut body: &[u8]) -> Id3Text {
        let mut text = Id3Text::default();
        if self.flags & 0xc0 != 0 || !(2..=4).contains(&self.major) {
            return text;
        }
        // v2.2 frames: 3-byte id and size; v2.3/2.4: 4-byte id and size, 2 flag bytes.
        let (id_len, header_len) = if self.major == 2 { (3, 6) } else { (4, 10) };
        while body.len() >= header_len && body[0] != 0 {
            let (id, size_bytes) = (&body[..id_len], &body[id_len..2 * id_len]);
            let size = match self.major {
                2 => u32::from_be_bytes([0, size_bytes[0], size_bytes[1], size_bytes[2]]) as usize,
                3 => u32::from_be_bytes(size_bytes.try_into().unwrap_or_default()) as usize,
                _ => syncsafe(size_bytes).unwrap_or(u64::MAX).min(usize::MAX as u64) as usize,
            };
            let plain = match self.major {
                2 => true,
                3 => body[9] & 0xe0 == 0,
                _ => body[9] & 0x0f == 0,
            };
            let Some(content) = body.get(header_len..header_len.saturating_add(size)) else {
                break;
            };
            let slot = match id {
                b"TIT2" | b"TT2" => &mut text.title,
                b"TPE1" | b"TP1" => &mut text.artist,
                _ => &mut None,
            };
            if plain && slot.is_none() {
                *slot = decode_text(content);
            }
            body = &body[header_len + size..];
        }
        text
    }
}

/// A 28-bit "syncsafe" integer: four bytes of seven bits each.
fn syncsafe(b: &[u8]) -> Option<u64> {
    let b: &[u8; 4] = b.try_into().ok()?;
    if b.iter().any(|x| x & 0x80 != 0) {
        return None;
    }
    Some(b.iter().fold(0, |acc, x| acc << 7 | u64::from(*x)))
}

/// The first string of a text frame (encoding byte, then Latin-1, UTF-16 with BOM,
/// UTF-16BE or UTF-8), without terminators; `None` when empty or undecodable.
fn decode_text(content: &[u8]) -> Option<String> {
    let (&encoding, data) = content.split_first()?;
    let text: String = match encoding {
        0 => data.iter().take_while(|b| **b != 0).map(|b| char::from(*b)).collect(),
        1 | 2 => {
            let (big_endian, data) = match data {
                [0xfe, 0xff, rest @ ..] => (true, rest),
                [0xff, 0xfe, rest @ ..] => (false, rest),
                _ if encoding == 2 => (true, data),
                _ => return None,
            };
            let units = data
                .chunks_exact(2)
                .map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) })
                .take_while(|u| *u != 0);
            char::decode_utf16(units).collect::<Result<String, _>>().ok()?
        }
        3 => {
            let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
            std::str::from_utf8(&data[..end]).ok()?.to_owned()
        }
        _ => return None,
    };
    let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut f = id.to_vec();
        f.extend_from_slice(&(content.len() as u32).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(content);
        f
    }

    #[test]
    fn syncsafe_sizes() {
        assert_eq!(syncsafe(&[0, 0, 0x02, 0x01]), Some(0x101));
        assert_eq!(syncsafe(&[0x7f, 0x7f, 0x7f, 0x7f]), Some((1 << 28) - 1));
        assert_eq!(syncsafe(&[0, 0, 0x80, 0]), None);
    }

    #[test]
    fn header_with_footer() {
        let h = Id3v2Header::parse(b"ID3\x04\x00\x10\x00\x00\x01\x00").unwrap();
        assert_eq!(h.body_len, 128);
        assert_eq!(h.total_len, 148);
        let h = Id3v2Header::parse(b"ID3\x03\x00\x10\x00\x00\x01\x00").unwrap();
        assert_eq!(h.total_len, 138, "v2.3 has no footer");
        assert!(Id3v2Header::parse(b"ID3\x04\x00\x00\x00\x80\x01\x00").is_none());
    }

    #[test]
    fn title_and_artist_in_every_encoding() {
        let mut body = frame(b"TIT2", b"\x00Caf\xe9\x00");
        body.extend(frame(b"TPE1", b"\x01\xff\xfeA\x00B\x00"));
        let h = Id3v2Header { major: 3, flags: 0, body_len: body.len() as u64, total_len: 0 };
        assert_eq!(h.text(&body), Id3Text { title: Some("Café".into()), artist: Some("AB".into()) });
        let body = frame(b"TIT2", "\u{3}ü".as_bytes());
        let h = Id3v2Header { major: 3, flags: 0, body_len: 0, total_len: 0 };
        assert_eq!(h.text(&body).title.as_deref(), Some("ü"));
    }

    #[test]
    fn oversized_frame_stops_parsing() {
        let mut body = frame(b"TIT2", b"\x00x");
        body[7] = 200; // claims more bytes than there are
        let h = Id3v2Header { major: 3, flags: 0, body_len: 0, total_len: 0 };
        assert_eq!(h.text(&body), Id3Text::default());
    }

    #[test]
    fn ape_footer_length() {
        let mut footer = b"APETAGEX".to_vec();
        footer.extend_from_slice(&2000u32.to_le_bytes());
        footer.extend_from_slice(&100u32.to_le_bytes());
        footer.extend_from_slice(&0u32.to_le_bytes());
        footer.extend_from_slice(&(1u32 << 31).to_le_bytes());
        footer.extend_from_slice(&[0; 8]);
        assert_eq!(ape_len(&footer), Some(132));
    }
}
