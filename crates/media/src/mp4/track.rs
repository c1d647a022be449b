//! The `moov` box: the movie timescale, and for each `trak` its header, media timescale,
//! handler, edit list, codec and sample tables. Picks the tracks we stream: the first H.264
//! video track and the first AAC/MP3 audio track that have samples.

use super::boxes::{FourCc, Reader, children, find_child, fourcc_str, malformed, require_child};
use super::codec::{self, Codec};
use super::sample_table::SampleTables;
use super::timeline::Edit;
use crate::MediaError;

/// One track we are going to stream.
#[derive(Debug)]
pub(super) struct Track<'a> {
    pub(super) id: u32,
    pub(super) timescale: u32,
    /// Presentation size from `tkhd` (integer part of the 16.16 values; 0 for audio).
    pub(super) display_width: u32,
    pub(super) display_height: u32,
    pub(super) edit: Edit,
    pub(super) codec: Codec<'a>,
    pub(super) tables: SampleTables<'a>,
}

#[derive(Debug)]
pub(super) struct Movie<'a> {
    pub(super) timescale: u32,
    pub(super) video: Option<Track<'a>>,
    pub(super) audio: Option<Track<'a>>,
    /// Why other tracks were not used (first few), for the `Unsupported` message.
    pub(super) ignored: Vec<String>,
    /// The file is fragmented (`mvex`): samples live in `moof` boxes we do not read.
    pub(super) fragmented: bool,
}

/// How many reasons for ignored tracks we keep (a hostile `moov` can hold millions of tracks).
const MAX_IGNORED_REASONS: usize = 8;

pub(super) fn parse_movie(moov: &[u8], file_size: u64) -> Result<Movie<'_>, MediaError> {
    if find_child(moov, *b"cmov")?.is_some() {
        return Err(super::boxes::unsupported("compressed 'moov' box (cmov)"));
    }
    let timescale = parse_mvhd(require_child(moov, *b"mvhd", "moov")?)?;
    let mut movie = Movie {
        timescale,
        video: None,
        audio: None,
        ignored: Vec::new(),
        fragmented: find_child(moov, *b"mvex")?.is_some(),
    };
    for child in children(moov) {
        let (kind, trak) = child?;
        if &kind != b"trak" {
            continue;
        }
        let header = parse_trak(trak)?;
        let slot = match &header.codec {
            Codec::Avc(_) if movie.video.is_none() => &mut movie.video,
            Codec::Aac(_) | Codec::Mp3(_) if movie.audio.is_none() => &mut movie.audio,
            Codec::Other(reason) => {
                note(&mut movie.ignored, format!("track {}: {reason}", header.id));
                continue;
            }
            _ => {
                note(&mut movie.ignored, format!("track {}: another track of the same kind comes first", header.id));
                continue;
            }
        };
        let tables = SampleTables::parse(header.stbl, header.stsd_entries, file_size)?;
        if tables.sample_count() == 0 {
            note(&mut movie.ignored, format!("track {}: no samples", header.id));
            continue;
        }
        *slot = Some(Track {
            id: header.id,
            timescale: header.timescale,
            display_width: header.display_width,
            display_height: header.display_height,
            edit: header.edit,
            codec: header.codec,
            tables,
        });
    }
    Ok(movie)
}

fn note(ignored: &mut Vec<String>, reason: String) {
    if ignored.len() < MAX_IGNORED_REASONS {
        ignored.push(reason);
    }
}

/// A track's headers, before its sample tables are parsed (only chosen tracks get that far).
struct TrakHeader<'a> {
    id: u32,
    timescale: u32,
    display_width: u32,
    display_height: u32,
    edit: Edit,
    codec: Codec<'a>,
    stsd_entries: u32,
    stbl: &'a [u8],
}

fn parse_trak(trak: &[u8]) -> Result<TrakHeader<'_>, MediaError> {
    let (id, display_width, display_height) = parse_tkhd(require_child(trak, *b"tkhd", "trak")?)?;
    let mdia = require_child(trak, *b"mdia", "trak")?;
    let timescale = parse_mdhd(require_child(mdia, *b"mdhd", "mdia")?)?;
    let handler = parse_hdlr(require_child(mdia, *b"hdlr", "mdia")?)?;
    let edit = match find_child(trak, *b"edts")? {
        Some(edts) => match find_child(edts, *b"elst")? {
            Some(elst) => parse_elst(elst)?,
            None => Edit::default(),
        },
        None => Edit::default(),
    };
    let mut header = TrakHeader {
        id,
        timescale,
        display_width,
        display_height,
        edit,
        codec: Codec::Other(format!("'{}' track", fourcc_str(handler))),
        stsd_entries: 0,
        stbl: &[],
    };
    if !is_media_handler(handler) {
        return Ok(header);
    }
    let minf = require_child(mdia, *b"minf", "mdia")?;
    let stbl = require_child(minf, *b"stbl", "minf")?;
    let description = codec::parse_stsd(require_child(stbl, *b"stsd", "stbl")?)?;
    let kind_matches = match &description.codec {
        Codec::Avc(_) => &handler == b"vide",
        Codec::Aac(_) | Codec::Mp3(_) => &handler == b"soun",
        Codec::Other(_) => true,
    };
    header.codec = if kind_matches {
        description.codec
    } else {
        Codec::Other(format!("codec does not match the '{}' handler", fourcc_str(handler)))
    };
    header.stsd_entries = description.entry_count;
    header.stbl = stbl;
    if timescale == 0 {
        return Err(malformed(format!("track {id} has timescale 0")));
    }
    Ok(header)
}

fn is_media_handler(kind: FourCc) -> bool {
    &kind == b"vide" || &kind == b"soun"
}

fn parse_mvhd(mvhd: &[u8]) -> Result<u32, MediaError> {
    let mut r = Reader::new(mvhd, "mvhd");
    let (version, _) = r.full_box()?;
    r.skip(if version == 1 { 16 } else { 8 })?; // creation and modification times
    r.u32()
}

/// Track id and presentation size.
fn parse_tkhd(tkhd: &[u8]) -> Result<(u32, u32, u32), MediaError> {
    let mut r = Reader::new(tkhd, "tkhd");
    let (version, _) = r.full_box()?;
    r.skip(if version == 1 { 16 } else { 8 })?; // creation and modification times
    let id = r.u32()?;
    r.skip(4)?; // reserved
    r.skip(if version == 1 { 8 } else { 4 })?; // duration
    r.skip(8 + 2 + 2 + 2 + 2 + 36)?; // reserved, layer, group, volume, reserved, matrix
    let width = r.u32()? >> 16;
    let height = r.u32()? >> 16;
    Ok((id, width, height))
}

fn parse_mdhd(mdhd: &[u8]) -> Result<u32, MediaError> {
    let mut r = Reader::new(mdhd, "mdhd");
    let (version, _) = r.full_box()?;
    r.skip(if version == 1 { 16 } else { 8 })?;
    r.u32()
}

fn parse_hdlr(hdlr: &[u8]) -> Result<FourCc, MediaError> {
    let mut r = Reader::new(hdlr, "hdlr");
    r.full_box()?;
    r.skip(4)?; // pre_defined (QuickTime: component type)
    r.fourcc()
}

/// Leading empty edits (media time −1) add up to a delay; the first real edit gives the
/// media time that plays at that point. Later edits are not honoured (that would mean
/// dropping or repeating samples).
fn parse_elst(elst: &[u8]) -> Result<Edit, MediaError> {
    let mut r = Reader::new(elst, "elst");
    let (version, _) = r.full_box()?;
    let count = r.u32()?;
    let entry_len = if version == 1 { 20 } else { 12 };
    let mut entries = Reader::new(r.table(count, entry_len)?, "elst");
    let mut edit = Edit::default();
    for _ in 0..count {
        let (duration, media_time) = if version == 1 {
            (entries.u64()?, entries.i64()?)
        } else {
            (entries.u32()?.into(), entries.i32()?.into())
        };
        entries.skip(4)?; // media rate
        match media_time {
            -1 => edit.empty = edit.empty.saturating_add(duration),
            t if t < 0 => return Err(malformed(format!("'elst' media time {t} is negative"))),
            t => {
                edit.media_time = t;
                edit.explicit = true;
                break;
            }
        }
    }
    Ok(edit)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mp4::boxes::build::{boxed, full, u32s};
    use crate::mp4::sample_table::tests::Stbl;

    pub(crate) fn tkhd(id: u32, width: u32, height: u32) -> Vec<u8> {
        let mut p = u32s(&[0, 0, id, 0, 0]);
        p.extend([0; 52]);
        p.extend(u32s(&[width << 16, height << 16]));
        full(b"tkhd", 0, &p)
    }

    pub(crate) fn mdhd(timescale: u32) -> Vec<u8> {
        full(b"mdhd", 0, &[u32s(&[0, 0, timescale, 0]), vec![0; 4]].concat())
    }

    pub(crate) fn hdlr(kind: &[u8; 4]) -> Vec<u8> {
        full(b"hdlr", 0, &[vec![0; 4], kind.to_vec(), vec![0; 13]].concat())
    }

    pub(crate) fn elst(entries: &[(u32, i32)]) -> Vec<u8> {
        let mut p = u32s(&[entries.len() as u32]);
        for &(d, t) in entries {
            p.extend(u32s(&[d, t as u32, 0x0001_0000]));
        }
        boxed(b"edts", &full(b"elst", 0, &p))
    }

    pub(crate) fn mvhd(timescale: u32) -> Vec<u8> {
        full(b"mvhd", 0, &[u32s(&[0, 0, timescale, 0]), vec![0; 80]].concat())
    }

    /// A `trak` box.
    pub(crate) fn trak(
        id: u32,
        handler: &[u8; 4],
        timescale: u32,
        edts: Option<Vec<u8>>,
        stsd: Vec<u8>,
        stbl: &Stbl,
    ) -> Vec<u8> {
        let stbl = boxed(b"stbl", &[boxed(b"stsd", &stsd), stbl.encode()].concat());
        let minf = boxed(b"minf", &stbl);
        let mdia = boxed(b"mdia", &[mdhd(timescale), hdlr(handler), minf].concat());
        boxed(b"trak", &[tkhd(id, 320, 240), edts.unwrap_or_default(), mdia].concat())
    }

    #[test]
    fn edit_lists() {
        let parse = |e: &[(u32, i32)]| parse_elst(&elst(e)[16..]);
        assert_eq!(parse(&[]).unwrap(), Edit::default());
        assert_eq!(parse(&[(100, 1024)]).unwrap(), Edit { empty: 0, media_time: 1024, explicit: true });
        assert_eq!(
            parse(&[(500, -1), (500, -1), (100, 7), (5, 9)]).unwrap(),
            Edit { empty: 1000, media_time: 7, explicit: true }
        );
        assert!(parse(&[(100, -2)]).is_err());
        let mut huge = elst(&[(1, 0)]);
        huge[20..24].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_elst(&huge[16..]).is_err());
        // Version 1: 64-bit fields.
        let mut p = u32s(&[1]);
        p.extend(5u64.to_be_bytes());
        p.extend((-1i64).to_be_bytes());
        p.extend(u32s(&[0x0001_0000]));
        assert_eq!(parse_elst(&full(b"elst", 1, &p)[8..]).unwrap(), Edit { empty: 5, media_time: 0, explicit: false });
    }

    #[test]
    fn headers() {
        assert_eq!(parse_tkhd(&tkhd(3, 640, 360)[8..]).unwrap(), (3, 640, 360));
        assert_eq!(parse_mdhd(&mdhd(90000)[8..]).unwrap(), 90000);
        assert_eq!(parse_hdlr(&hdlr(b"soun")[8..]).unwrap(), *b"soun");
        assert_eq!(parse_mvhd(&mvhd(600)[8..]).unwrap(), 600);
        assert!(parse_tkhd(&tkhd(3, 640, 360)[8..40]).is_err());
        assert!(parse_mdhd(&[0, 0, 0, 0, 1]).is_err());
    }
}
