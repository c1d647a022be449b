//! Parsing `ffmpeg -f framemd5` output and comparing what a client received with the source.
//!
//! Streams are matched by media type (the FLV demuxer may order them differently from the
//! source container). Per stream, the delivered packets must be the source packets in order,
//! byte for byte (md5), and every timestamp (dts and pts, in ms) must equal the source's plus
//! ONE offset common to all streams, within 1 ms (FLV carries whole milliseconds).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::media::Source;

#[derive(Clone, Debug)]
pub struct StreamInfo {
    pub index: usize,
    pub media_type: String,
    pub codec: String,
    /// Time base as (numerator, denominator).
    pub tb: (i64, i64),
    /// md5 of the codec extradata (avcC, AudioSpecificConfig), when there is one.
    pub extradata: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Packet {
    pub stream: usize,
    pub dts: i64,
    pub pts: i64,
    pub duration: i64,
    pub size: u64,
    pub md5: String,
    /// Key frame flag; only known for source files (filled in from ffprobe).
    pub key: bool,
}

#[derive(Clone, Debug, Default)]
pub struct FrameMd5 {
    pub streams: Vec<StreamInfo>,
    pub packets: Vec<Packet>,
}

impl FrameMd5 {
    pub fn parse(text: &str) -> Result<FrameMd5, String> {
        let mut fm = FrameMd5::default();
        fn stream(fm: &mut FrameMd5, idx: usize) -> &mut StreamInfo {
            while fm.streams.len() <= idx {
                let index = fm.streams.len();
                fm.streams.push(StreamInfo {
                    index,
                    media_type: String::new(),
                    codec: String::new(),
                    tb: (1, 1000),
                    extradata: None,
                });
            }
            &mut fm.streams[idx]
        }
        for line in text.lines() {
            let line = line.trim_end();
            if let Some(rest) = line.strip_prefix('#') {
                // "#tb 0: 1/12800", "#media_type 0: video", "#codec_id 0: h264",
                // "#extradata 0,   39, <md5>"
                if let Some(rest) = rest.strip_prefix("extradata ") {
                    let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
                    if let (Some(i), Some(h)) = (parts.first(), parts.get(2)) {
                        let i: usize = i.parse().map_err(|_| format!("bad line {line:?}"))?;
                        stream(&mut fm, i).extradata = Some(h.to_string());
                    }
                    continue;
                }
                let Some((key, value)) = rest.split_once(':') else {
                    continue;
                };
                let mut kw = key.split_whitespace();
                let (Some(name), Some(idx)) = (kw.next(), kw.next()) else {
                    continue;
                };
                let Ok(idx) = idx.parse::<usize>() else {
                    continue;
                };
                let value = value.trim();
                match name {
                    "tb" => {
                        let (n, d) = value.split_once('/').ok_or_else(|| format!("bad line {line:?}"))?;
                        stream(&mut fm, idx).tb = (
                            n.parse().map_err(|_| format!("bad line {line:?}"))?,
                            d.parse().map_err(|_| format!("bad line {line:?}"))?,
                        );
                    }
                    "media_type" => stream(&mut fm, idx).media_type = value.to_string(),
                    "codec_id" => stream(&mut fm, idx).codec = value.to_string(),
                    _ => {}
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            if f.len() < 6 {
                return Err(format!("unexpected framemd5 line {line:?}"));
            }
            let num = |s: &str| s.parse::<i64>().map_err(|_| format!("bad number in {line:?}"));
            let stream_idx = num(f[0])? as usize;
            stream(&mut fm, stream_idx);
            fm.packets.push(Packet {
                stream: stream_idx,
                dts: num(f[1])?,
                pts: num(f[2])?,
                duration: num(f[3])?,
                size: num(f[4])? as u64,
                md5: f[5].to_string(),
                key: false,
            });
        }
        Ok(fm)
    }

    /// Streams by media type ("video", "audio"); an error if a type occurs twice.
    pub fn tracks(&self) -> Result<BTreeMap<String, Track>, String> {
        let mut out: BTreeMap<String, Track> = BTreeMap::new();
        for st in &self.streams {
            if st.media_type.is_empty() {
                return Err(format!("stream {} has no #media_type line", st.index));
            }
            if out.contains_key(&st.media_type) {
                return Err(format!("two {} streams", st.media_type));
            }
            let ms = |v: i64| v as f64 * 1000.0 * st.tb.0 as f64 / st.tb.1 as f64;
            let pkts = self
                .packets
                .iter()
                .filter(|p| p.stream == st.index)
                .map(|p| {
                    let pts = if p.pts == i64::MIN { p.dts } else { p.pts };
                    TrackPacket {
                        dts_ms: ms(p.dts),
                        pts_ms: ms(pts),
                        dur_ms: ms(p.duration),
                        size: p.size,
                        md5: p.md5.clone(),
                        key: p.key,
                    }
                })
                .collect();
            out.insert(
                st.media_type.clone(),
                Track {
                    media_type: st.media_type.clone(),
                    codec: st.codec.clone(),
                    extradata: st.extradata.clone(),
                    pkts,
                },
            );
        }
        Ok(out)
    }

    pub fn packet_count(&self) -> usize {
        self.packets.len()
    }
}

#[derive(Clone, Debug)]
pub struct Track {
    pub media_type: String,
    pub codec: String,
    pub extradata: Option<String>,
    pub pkts: Vec<TrackPacket>,
}

#[derive(Clone, Debug)]
pub struct TrackPacket {
    pub dts_ms: f64,
    pub pts_ms: f64,
    pub dur_ms: f64,
    pub size: u64,
    pub md5: String,
    pub key: bool,
}

impl std::fmt::Display for TrackPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "dts {:.3} ms, pts {:.3} ms, size {}, md5 {}{}",
            self.dts_ms,
            self.pts_ms,
            self.size,
            self.md5,
            if self.key { ", key" } else { "" }
        )
    }
}

/// Which part of the source a client should have received.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Every packet, from the first to the last.
    Whole,
    /// From the key frame at or before `target_ms` (source time, ms); for audio-only
    /// sources, from the packet containing the target.
    From {
        target_ms: f64,
        /// Stop window: no delivered packet may have a dts after `.1`, and the last one must
        /// have a dts of at least `.0` (source time, ms). None: to the end of the file.
        stop: Option<(f64, f64)>,
        /// The client stopped early by itself (e.g. `ffmpeg -t`): any non-empty prefix of
        /// the expected packets is fine.
        truncated: bool,
    },
}

/// How far (ms) the first delivered audio packet after a seek may be from the video key
/// frame the server restarted at (servers interleave audio by dts or pts and may shift the
/// timeline by an edit list's worth).
const AUDIO_START_SLACK_MS: f64 = 150.0;

/// Compares `delivered` with `source` and returns a one-line summary, or a failure message
/// that shows the first differing packet.
pub fn compare(delivered: &FrameMd5, source: &Source, expect: &Expect) -> Result<String, String> {
    let src = source.frames.tracks().map_err(|e| format!("source {}: {e}", source.name))?;
    let got = delivered.tracks().map_err(|e| format!("delivered stream: {e}"))?;
    let src_types: Vec<&String> = src.keys().collect();
    let got_types: Vec<&String> = got.keys().collect();
    if src_types != got_types {
        return Err(format!(
            "stream types differ: source {} has {src_types:?}, the client received {got_types:?} \
             (delivered packets per type: {})",
            source.name,
            got.values().map(|t| format!("{} {}", t.media_type, t.pkts.len())).collect::<Vec<_>>().join(", ")
        ));
    }

    // Where each track's expected packets start in the source.
    let mut starts: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchor_note = String::new();
    if let Expect::From { target_ms, .. } = expect {
        let target = *target_ms;
        if let Some(video) = src.get("video") {
            let keys: Vec<usize> = (0..video.pkts.len()).filter(|&i| video.pkts[i].key).collect();
            for &k in &keys {
                assert!(
                    (video.pkts[k].pts_ms - target).abs() > 150.0,
                    "test design: seek target {target} ms is within 150 ms of a key frame of {} \
                     ({}); pick a target between key frames",
                    source.name,
                    video.pkts[k]
                );
            }
            let k = keys.iter().copied().rfind(|&k| video.pkts[k].pts_ms <= target).unwrap_or(0);
            starts.insert("video".into(), k);
            let kf = &video.pkts[k];
            anchor_note = format!("restart at the key frame #{k} ({kf}) for target {target} ms");
            if let Some(audio) = src.get("audio") {
                let lo = kf.dts_ms.min(kf.pts_ms) - AUDIO_START_SLACK_MS;
                let hi = kf.dts_ms.max(kf.pts_ms) + AUDIO_START_SLACK_MS;
                let a = locate_start(&audio.pkts, &got["audio"].pkts, lo, hi)
                    .map_err(|e| format!("audio after seeking to {target} ms ({anchor_note}): {e}"))?;
                starts.insert("audio".into(), a);
            }
        } else if let Some(audio) = src.get("audio") {
            let lo = target - AUDIO_START_SLACK_MS;
            let hi = target + 30.0;
            let a = locate_start(&audio.pkts, &got["audio"].pkts, lo, hi)
                .map_err(|e| format!("audio after seeking to {target} ms: {e}"))?;
            anchor_note = format!("restart at audio packet #{a} ({}) for target {target} ms", audio.pkts[a]);
            starts.insert("audio".into(), a);
        }
    }

    let mut diffs: Vec<(String, usize, f64, f64)> = Vec::new(); // (type, index, dts diff, pts diff)
    let mut summary = String::new();
    for (ty, s) in &src {
        let g = &got[ty];
        if s.codec != g.codec {
            return Err(format!("{ty}: codec {} in the source, {} delivered", s.codec, g.codec));
        }
        if let (Some(a), Some(b)) = (&s.extradata, &g.extradata)
            && a != b
        {
            return Err(format!("{ty}: codec extradata (sequence header) md5 differs: source {a}, delivered {b}"));
        }
        let start = starts.get(ty).copied().unwrap_or(0);
        let expected = &s.pkts[start..];
        for (i, d) in g.pkts.iter().enumerate() {
            let Some(e) = expected.get(i) else {
                return Err(format!(
                    "{ty}: more packets delivered than expected: source has {} from #{start}, \
                     delivered {}; first extra delivered packet #{i}: {d}",
                    expected.len(),
                    g.pkts.len()
                ));
            };
            if e.md5 != d.md5 {
                return Err(format!(
                    "{ty}: packet #{i} differs (source packet #{}): expected {e}, delivered {d}{}\n{}",
                    start + i,
                    if anchor_note.is_empty() { String::new() } else { format!("; {anchor_note}") },
                    context(expected, &g.pkts, i)
                ));
            }
            diffs.push((ty.clone(), i, d.dts_ms - e.dts_ms, d.pts_ms - e.pts_ms));
        }
        // How many packets must have arrived.
        match expect {
            Expect::Whole | Expect::From { stop: None, truncated: false, .. } => {
                if g.pkts.len() < expected.len() {
                    return Err(format!(
                        "{ty}: only {} of {} packets delivered{}; first missing source packet #{}: {}",
                        g.pkts.len(),
                        expected.len(),
                        if start > 0 { format!(" (counting from source packet #{start})") } else { String::new() },
                        start + g.pkts.len(),
                        expected[g.pkts.len()]
                    ));
                }
            }
            Expect::From { truncated: true, .. } => {
                if g.pkts.is_empty() {
                    return Err(format!("{ty}: no packets delivered"));
                }
            }
            Expect::From { stop: Some((lo, hi)), .. } => {
                let Some(last) = g.pkts.len().checked_sub(1).map(|i| &expected[i]) else {
                    return Err(format!("{ty}: no packets delivered"));
                };
                if last.dts_ms > *hi {
                    return Err(format!(
                        "{ty}: delivered past the stop point: last packet (source time) {last}, \
                         allowed up to dts {hi} ms"
                    ));
                }
                if last.dts_ms < *lo {
                    return Err(format!(
                        "{ty}: stopped too early: last delivered packet (source time) {last}, \
                         expected packets up to dts >= {lo} ms; next source packet: {}",
                        expected.get(g.pkts.len()).map(|p| p.to_string()).unwrap_or_default()
                    ));
                }
            }
        }
        let _ = write!(
            summary,
            "{ty} {} pkts{}; ",
            g.pkts.len(),
            if start > 0 { format!(" from #{start}") } else { String::new() }
        );
    }

    // One common timestamp offset for every packet of every stream, within 1 ms.
    if !diffs.is_empty() {
        let all: Vec<f64> = diffs.iter().flat_map(|d| [d.2, d.3]).collect();
        let min = all.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = all.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut sorted = all.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = sorted[sorted.len() / 2];
        if max - min > 2.0 + 1e-6 {
            // Report the first packet (in each track's order, video first) that is off.
            let (ty, i, dd, pd) = diffs
                .iter()
                .find(|d| (d.2 - median).abs() > 1.0 + 1e-6 || (d.3 - median).abs() > 1.0 + 1e-6)
                .cloned()
                .unwrap_or_else(|| diffs[0].clone());
            let start = starts.get(&ty).copied().unwrap_or(0);
            let e = &src[&ty].pkts[start + i];
            let d = &got[&ty].pkts[i];
            return Err(format!(
                "timestamps are not the source's plus one constant offset (+-1 ms): delivered minus \
                 source ranges over [{min:.3}, {max:.3}] ms (median {median:.3}); first packet off: \
                 {ty} #{i}: source {e}, delivered {d} (dts {dd:+.3} ms, pts {pd:+.3} ms)\n{}",
                context(&src[&ty].pkts[start..], &got[&ty].pkts, i)
            ));
        }
        let _ = write!(summary, "offset {:+.1} ms", (min + max) / 2.0);
    }
    Ok(summary)
}

/// Finds where in `src` the delivered packets `got` start: the source index whose packet and
/// followers match `got` and whose dts lies in [lo, hi].
fn locate_start(src: &[TrackPacket], got: &[TrackPacket], lo: f64, hi: f64) -> Result<usize, String> {
    let Some(first) = got.first() else {
        return Err("no packets delivered".into());
    };
    let candidates: Vec<usize> = (0..src.len()).filter(|&i| src[i].md5 == first.md5).collect();
    let window: Vec<usize> = (0..src.len()).filter(|&i| src[i].dts_ms >= lo && src[i].dts_ms <= hi).collect();
    if let Some(&i) = candidates.iter().find(|&&i| src[i].dts_ms >= lo && src[i].dts_ms <= hi) {
        return Ok(i);
    }
    let near = window.first().map(|&w| src[w].to_string()).unwrap_or_default();
    Err(match candidates.first() {
        Some(&i) => format!(
            "the first delivered packet ({first}) is source packet #{i} ({}), outside the expected \
             start window [{lo:.0}, {hi:.0}] ms (first source packet in the window: {near})",
            src[i]
        ),
        None => format!(
            "the first delivered packet ({first}) is not a source packet at all (expected one in \
             [{lo:.0}, {hi:.0}] ms, e.g. {near})"
        ),
    })
}

/// A few packets around index `i` of both sequences, side by side.
fn context(expected: &[TrackPacket], got: &[TrackPacket], i: usize) -> String {
    let from = i.saturating_sub(2);
    let mut s = String::from("  #     source                                                     | delivered\n");
    // One packet as a table cell: dts, pts, size, the start of its md5.
    let row = |p: Option<&TrackPacket>| {
        p.map_or_else(
            || "-".to_owned(),
            |p| format!("{:>10.3} {:>10.3} {:>7} {}", p.dts_ms, p.pts_ms, p.size, &p.md5[..8.min(p.md5.len())]),
        )
    };
    for j in from..(i + 3) {
        let (e, d) = (row(expected.get(j)), row(got.get(j)));
        let _ = writeln!(s, "{}{:<4} {e:<60} | {d}", if j == i { ">" } else { " " }, j);
    }
    s
}
