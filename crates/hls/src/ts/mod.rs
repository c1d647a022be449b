//! MPEG-TS segments: the packet layout of every frame is planned from the index alone (so a
//! segment's exact size and each PID's continuity counter at its start are known before any
//! media byte is read), then [`SegmentWriter`] fills that layout as frames' bytes arrive.

pub mod annexb;
pub mod packet;
pub mod pes;

use sf_media::{Frame, TagKind};

use self::packet::{AUDIO_PID, Adaptation, PACKET_LEN, PAYLOAD_LEN, VIDEO_PID};
use crate::HlsError;
use crate::codec::{ADTS_HEADER_LEN, Audio, MAX_ADTS_PAYLOAD, Tracks};

/// Added to every timestamp so the PCR, which runs ahead of the decode times, stays
/// positive: 1.4 s, where FFmpeg's TS muxer starts.
pub const TIMESTAMP_OFFSET: u64 = 126_000;
/// How far the PCR runs ahead of the decode time of the frame it is sent with (700 ms, as
/// nginx-rtmp's `ngx_rtmp_mpegts.c`): the decoder buffers that much.
pub const PCR_DELAY: u64 = 63_000;

/// The packets one frame takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramePlan {
    pub pid: u16,
    /// The first packet carries the PCR.
    pub pcr: bool,
    /// The PES header and the most elementary stream bytes the frame can become.
    pub pes_len: usize,
    pub packets: usize,
}

/// Continuity counters (4 bits) of each PID at some point of the stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub psi: u8,
    pub video: u8,
    pub audio: u8,
}

impl Counters {
    /// The counters after a segment whose frames took `video` and `audio` packets (every
    /// segment starts with one PAT and one PMT, each counted on its own PID).
    pub fn after(self, video: usize, audio: usize) -> Counters {
        Counters {
            psi: (self.psi + 1) & 0x0f,
            video: ((usize::from(self.video) + video) & 0x0f) as u8,
            audio: ((usize::from(self.audio) + audio) & 0x0f) as u8,
        }
    }
}

impl Tracks {
    /// The PID whose packets carry the PCR: video's, or audio's in audio-only media.
    pub(crate) fn pcr_pid(&self) -> u16 {
        if self.video.is_some() { VIDEO_PID } else { AUDIO_PID }
    }

    /// The layout of `frame`; an audio frame too large for its container is refused.
    pub(crate) fn plan(&self, frame: &Frame) -> Result<FramePlan, HlsError> {
        let size = frame.size as usize;
        let (pid, pes_len) = match (frame.kind, &self.video, &self.audio) {
            (TagKind::Video, Some(avc), _) => {
                let es = annexb::planned_len(size, frame.keyframe, &avc.parameter_sets);
                (VIDEO_PID, pes::header_len(true) + es)
            }
            (TagKind::Audio, _, Some(audio)) => {
                let es = match audio {
                    Audio::Aac(_) if size > MAX_ADTS_PAYLOAD => return Err(too_large("AAC", size)),
                    Audio::Aac(_) => ADTS_HEADER_LEN + size,
                    Audio::Mp3 { .. } => size,
                };
                if es + pes::header_len(false) - 6 > pes::MAX_BOUNDED_LEN {
                    return Err(too_large("audio", size));
                }
                (AUDIO_PID, pes::header_len(false) + es)
            }
            _ => return Err(HlsError::Malformed("a frame of a track the media does not announce".into())),
        };
        let pcr = pid == self.pcr_pid();
        let first = PAYLOAD_LEN - if pcr { packet::PCR_FIELD_LEN } else { 0 };
        let packets = 1 + pes_len.saturating_sub(first).div_ceil(PAYLOAD_LEN);
        Ok(FramePlan { pid, pcr, pes_len, packets })
    }

    fn stream_types(&self) -> Vec<(u8, u16)> {
        let mut streams = Vec::new();
        if self.video.is_some() {
            streams.push((packet::STREAM_TYPE_H264, VIDEO_PID));
        }
        match self.audio {
            Some(Audio::Aac(_)) => streams.push((packet::STREAM_TYPE_AAC_ADTS, AUDIO_PID)),
            Some(Audio::Mp3 { lsf: false }) => streams.push((packet::STREAM_TYPE_MPEG1_AUDIO, AUDIO_PID)),
            Some(Audio::Mp3 { lsf: true }) => streams.push((packet::STREAM_TYPE_MPEG2_AUDIO, AUDIO_PID)),
            None => {}
        }
        streams
    }
}

fn too_large(what: &str, size: usize) -> HlsError {
    HlsError::Malformed(format!("an {what} frame of {size} bytes is larger than TS audio can carry"))
}

/// Bytes of the PAT and PMT every segment starts with.
pub const PSI_LEN: u64 = 2 * PACKET_LEN as u64;

/// 90 kHz timestamps of a frame: (PTS, DTS).
pub fn timestamps(frame: &Frame) -> (u64, u64) {
    let dts = u64::from(frame.dts_ms) * 90 + TIMESTAMP_OFFSET;
    // A presentation before the decode time cannot be: present it when it is decoded.
    let pts = dts + u64::from(frame.cts_ms.max(0).unsigned_abs()) * 90;
    (pts, dts)
}

/// Builds one segment, frame by frame, into 188-byte packets, sans-IO: the caller reads the
/// bytes of each frame in [`SegmentWriter::frames`] order and hands them to
/// [`SegmentWriter::push_frame`].
pub struct SegmentWriter<'a> {
    tracks: &'a Tracks,
    frames: &'a [Frame],
    next: usize,
    counters: Counters,
    started: bool,
    /// Scratch for one PES header.
    pes_header: Vec<u8>,
}

impl<'a> SegmentWriter<'a> {
    /// A writer for a segment made of `frames`, whose PIDs' counters start at `counters`.
    pub fn new(tracks: &'a Tracks, frames: &'a [Frame], counters: Counters) -> Self {
        SegmentWriter { tracks, frames, next: 0, counters, started: false, pes_header: Vec::new() }
    }

    /// The frames still to push, in order.
    pub fn frames(&self) -> &'a [Frame] {
        &self.frames[self.next..]
    }

    pub fn is_done(&self) -> bool {
        self.started && self.next == self.frames.len()
    }

    /// Bytes the next frame will take (its packets), 0 when none is left: a caller gathering
    /// output in a buffer can hand the buffer on first rather than grow it.
    pub fn next_len(&self) -> usize {
        let plan = self.frames.get(self.next).map(|frame| self.tracks.plan(frame));
        plan.and_then(Result::ok).map_or(0, |plan| plan.packets * PACKET_LEN)
    }

    /// Appends the PAT and the PMT (once; `push_frame` calls it when needed).
    pub fn begin(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            packet::write_pat(out, self.counters.psi);
            packet::write_pmt(out, self.counters.psi, self.tracks.pcr_pid(), &self.tracks.stream_types());
        }
    }

    /// Appends the packets of the next frame, whose bytes are `data`.
    pub fn push_frame(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), HlsError> {
        self.begin(out);
        let frame = *self.frames.get(self.next).ok_or_else(|| HlsError::Internal("no frame left to push".into()))?;
        if data.len() != frame.size as usize {
            return Err(HlsError::Source(format!(
                "frame at {} is {} bytes, not {}",
                frame.offset,
                data.len(),
                frame.size
            )));
        }
        let plan = self.tracks.plan(&frame)?;
        let (pts, dts) = timestamps(&frame);
        // The PES as the slices it is made of (its header, then the frame's bytes with what
        // the codec needs around them), copied once, into the packets.
        let mut header = std::mem::take(&mut self.pes_header);
        header.clear();
        let mut pieces: Vec<&[u8]> = Vec::with_capacity(16);
        let adts;
        match frame.kind {
            TagKind::Video => {
                let avc = self.tracks.video.as_ref().expect("planned as video");
                pes::write_header(&mut header, pes::STREAM_ID_VIDEO, pts, Some(dts), 0, false);
                pieces.push(&header);
                let length_size = usize::from(avc.nal_length_size);
                annexb::access_unit_pieces(&mut pieces, data, length_size, frame.keyframe, &avc.parameter_sets);
            }
            _ => {
                let adts_header: &[u8] = match self.tracks.audio {
                    Some(Audio::Aac(aac)) => {
                        adts = aac.adts_header(data.len());
                        &adts
                    }
                    _ => &[],
                };
                let es_len = adts_header.len() + data.len();
                pes::write_header(&mut header, pes::STREAM_ID_AUDIO, pts, None, es_len, true);
                pieces.extend([&header[..], adts_header, data]);
            }
        }
        let pes_len: usize = pieces.iter().map(|p| p.len()).sum();
        debug_assert!(pes_len <= plan.pes_len);
        // Every packet must carry payload for the counters to come out as planned; Annex B
        // allows trailing zero bytes after a NAL unit (H.264 §B.1.1), and only a video PES
        // can come out that short (its own delimiters dropped).
        let padding = vec![0; plan.packets.saturating_sub(pes_len)];
        pieces.push(&padding);
        let cc = if plan.pid == VIDEO_PID { &mut self.counters.video } else { &mut self.counters.audio };
        let first = Adaptation { pcr: plan.pcr.then(|| dts - PCR_DELAY), random_access: frame.keyframe && plan.pcr };
        out.reserve(plan.packets * PACKET_LEN);
        write_packets(out, plan.pid, cc, first, &pieces, plan.packets);
        drop(pieces);
        self.pes_header = header;
        self.next += 1;
        Ok(())
    }
}

/// Spreads the PES made of `pieces` over exactly `packets` packets (at least one byte in
/// each, the first behind `first`'s adaptation field), stuffing the rest.
fn write_packets(out: &mut Vec<u8>, pid: u16, cc: &mut u8, first: Adaptation, pieces: &[&[u8]], packets: usize) {
    let mut left: usize = pieces.iter().map(|p| p.len()).sum();
    let mut pieces = pieces.iter().copied().filter(|p| !p.is_empty());
    let mut piece: &[u8] = &[];
    for i in 0..packets {
        let adaptation = if i == 0 { first } else { Adaptation::default() };
        let after = packets - 1 - i;
        let mut take = (PAYLOAD_LEN - adaptation.fixed_len()).min(left - after);
        packet::write_header(out, pid, i == 0, *cc, adaptation, take);
        *cc = (*cc + 1) & 0x0f;
        left -= take;
        while take > 0 {
            if piece.is_empty() {
                piece = pieces.next().expect("pieces as long as counted");
            }
            let (now, rest) = piece.split_at(take.min(piece.len()));
            out.extend_from_slice(now);
            take -= now.len();
            piece = rest;
        }
    }
    debug_assert!(left == 0 && piece.is_empty(), "a PES larger than planned");
}
