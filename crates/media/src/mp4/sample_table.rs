//! The sample table of one track (`stbl`): decode times (`stts`), composition offsets
//! (`ctts`), sync samples (`stss`), sizes (`stsz`/`stz2`) and chunk layout (`stsc` +
//! `stco`/`co64`), validated against each other and against the file size, then expanded
//! sample by sample.
//!
//! The tables are kept as views over the `moov` bytes; nothing proportional to the sample
//! count is allocated until every table has been checked, and the sample count itself is
//! capped, since a constant-size `stsz` can claim billions of samples in 20 bytes.

use super::boxes::{Reader, find_child, malformed, require_child};
use crate::MediaError;

/// Most samples we index per track: about 77 hours of 60 fps video, or 100 hours of 48 kHz
/// AAC. Each costs 24 bytes of index, so this bounds what one object can make us allocate.
pub(super) const MAX_SAMPLES_PER_TRACK: u32 = 1 << 24;

/// One sample in decode order, in media timescale units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RawSample {
    pub(super) offset: u64,
    pub(super) size: u32,
    /// Decode time (sum of the `stts` deltas before this sample).
    pub(super) dts: u64,
    /// Composition offset: pts = dts + composition.
    pub(super) composition: i64,
    pub(super) sync: bool,
}

#[derive(Debug)]
pub(super) struct SampleTables<'a> {
    sample_count: u32,
    /// `stts` entries: (sample count, delta).
    stts: &'a [u8],
    /// `ctts` entries: (sample count, offset).
    ctts: Option<&'a [u8]>,
    /// `stss` entries: 1-based sample numbers, strictly increasing.
    stss: Option<&'a [u8]>,
    sizes: Sizes<'a>,
    /// `stsc` entries: (first chunk, samples per chunk, sample description index).
    stsc: &'a [u8],
    chunks: ChunkOffsets<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Sizes<'a> {
    Constant(u32),
    /// Packed sizes of `bits` (4, 8, 16 or 32) each.
    Table {
        data: &'a [u8],
        bits: u8,
    },
}

impl Sizes<'_> {
    /// Size of sample `i`; `i` is below the validated sample count.
    fn get(&self, i: usize) -> u32 {
        match *self {
            Sizes::Constant(size) => size,
            Sizes::Table { data, bits: 32 } => be_u32(data, i * 4),
            Sizes::Table { data, bits: 16 } => {
                u32::from(u16::from_be_bytes([byte(data, i * 2), byte(data, i * 2 + 1)]))
            }
            Sizes::Table { data, bits: 8 } => u32::from(byte(data, i)),
            Sizes::Table { data, .. } => {
                let b = byte(data, i / 2);
                // High nibble first.
                u32::from(if i & 1 == 0 { b >> 4 } else { b & 0x0f })
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct ChunkOffsets<'a> {
    data: &'a [u8],
    wide: bool,
}

impl ChunkOffsets<'_> {
    fn count(&self) -> usize {
        self.data.len() / if self.wide { 8 } else { 4 }
    }

    /// Offset of chunk `i` (0-based, below `count()`).
    fn get(&self, i: usize) -> u64 {
        if self.wide {
            u64::from(be_u32(self.data, i * 8)) << 32 | u64::from(be_u32(self.data, i * 8 + 4))
        } else {
            be_u32(self.data, i * 4).into()
        }
    }
}

/// Byte `i` of a table whose length was validated; 0 rather than a panic if a caller is
/// ever wrong.
fn byte(data: &[u8], i: usize) -> u8 {
    data.get(i).copied().unwrap_or(0)
}

fn be_u32(data: &[u8], at: usize) -> u32 {
    match data.get(at..at + 4) {
        Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Entry `i` of a table of 4-byte fields, `fields` per entry.
fn field(data: &[u8], i: usize, fields: usize, k: usize) -> u32 {
    be_u32(data, (i * fields + k) * 4)
}

/// Walks run-length tables (`stts`, `ctts`): (count, value) entries, one value per sample.
struct Runs<'a> {
    data: &'a [u8],
    next_entry: usize,
    left: u32,
    value: u32,
}

impl<'a> Runs<'a> {
    fn new(data: &'a [u8]) -> Self {
        Runs { data, next_entry: 0, left: 0, value: 0 }
    }

    /// The value for the next sample (0 past the end, which validation rules out).
    fn next_value(&mut self) -> u32 {
        while self.left == 0 {
            if self.next_entry * 8 >= self.data.len() {
                return 0;
            }
            self.left = field(self.data, self.next_entry, 2, 0);
            self.value = field(self.data, self.next_entry, 2, 1);
            self.next_entry += 1;
        }
        self.left -= 1;
        self.value
    }
}

/// Sum of the counts of a run-length table.
fn run_total(data: &[u8]) -> u64 {
    (0..data.len() / 8).map(|i| u64::from(field(data, i, 2, 0))).sum()
}

impl<'a> SampleTables<'a> {
    /// Parses and cross-checks the tables in `stbl`. `stsd_entries` is the number of sample
    /// descriptions (chunks refer to them by index); `file_size` bounds what they may claim.
    pub(super) fn parse(stbl: &'a [u8], stsd_entries: u32, file_size: u64) -> Result<Self, MediaError> {
        let (sizes, sample_count) = parse_sizes(stbl)?;
        let stts = count_table(require_child(stbl, *b"stts", "stbl")?, "stts", 8)?;
        let ctts = find_child(stbl, *b"ctts")?.map(|b| count_table(b, "ctts", 8)).transpose()?;
        let stss = find_child(stbl, *b"stss")?.map(|b| count_table(b, "stss", 4)).transpose()?;
        let stsc = count_table(require_child(stbl, *b"stsc", "stbl")?, "stsc", 12)?;
        let chunks = match (find_child(stbl, *b"stco")?, find_child(stbl, *b"co64")?) {
            (Some(stco), _) => ChunkOffsets { data: count_table(stco, "stco", 4)?, wide: false },
            (None, Some(co64)) => ChunkOffsets { data: count_table(co64, "co64", 8)?, wide: true },
            (None, None) => return Err(malformed("'stbl' box has no 'stco' or 'co64' box")),
        };
        let tables = SampleTables { sample_count, stts, ctts, stss, sizes, stsc, chunks };
        tables.validate(stsd_entries, file_size)?;
        Ok(tables)
    }

    pub(super) fn sample_count(&self) -> u32 {
        self.sample_count
    }

    /// How far the most negative composition offset reaches before its decode time (0 when
    /// none is negative). Delivering decode times this much earlier keeps every RTMP
    /// composition time ≥ 0, which FLV players expect, without moving presentation times.
    pub(super) fn composition_shift(&self) -> u64 {
        let Some(ctts) = self.ctts else { return 0 };
        let min = (0..ctts.len() / 8).map(|i| field(ctts, i, 2, 1) as i32).min().unwrap_or(0);
        u64::from(min.min(0).unsigned_abs())
    }

    /// Index and decode time of the first sample needed to present media time `target`:
    /// the last sync sample whose decode and composition times are both at or before it, or
    /// sample 0 if there is none. Samples before it were edited out and nothing presented
    /// depends on them.
    pub(super) fn first_needed(&self, target: u64) -> (u32, u64) {
        let mut timing = self.timing();
        let mut best = (0, 0);
        for i in 0..self.sample_count {
            let t = timing.next();
            if t.dts > target {
                break;
            }
            if t.sync && i128::from(t.dts) + i128::from(t.composition) <= i128::from(target) {
                best = (i, t.dts);
            }
        }
        best
    }

    /// The earliest composition time at or after `target`: the start of the first frame
    /// an edit starting at `target` presents. `None` if no sample is presented that late.
    pub(super) fn first_presentation_at_or_after(&self, target: u64) -> Option<u64> {
        let mut timing = self.timing();
        let shift = self.composition_shift();
        let mut best = None::<u64>;
        for _ in 0..self.sample_count {
            let t = timing.next();
            // Composition times are at least `dts − shift`: nothing later can beat `best`.
            if best.is_some_and(|b| t.dts.saturating_sub(shift) > b) {
                break;
            }
            if let Ok(ct) = u64::try_from(i128::from(t.dts) + i128::from(t.composition))
                && ct >= target
            {
                best = Some(best.map_or(ct, |b| b.min(ct)));
            }
        }
        best
    }

    fn timing(&self) -> Timing<'a> {
        Timing {
            stts: Runs::new(self.stts),
            ctts: self.ctts.map(Runs::new),
            stss: self.stss.unwrap_or_default(),
            all_sync: self.stss.is_none(),
            next_sync: 0,
            number: 1,
            dts: 0,
        }
    }

    /// The samples from index `first` on, in decode order. Every sample (skipped ones too)
    /// is checked to lie within the file; the first that does not ends the iteration with an
    /// error.
    pub(super) fn samples(&self, file_size: u64, first: u32) -> SampleIter<'_, 'a> {
        SampleIter {
            tables: self,
            timing: self.timing(),
            file_size,
            first,
            index: 0,
            next_run: 0,
            chunk: 0,
            chunk_end: 0,
            per_chunk: 0,
            left: 0,
            offset: 0,
            failed: false,
        }
    }

    fn validate(&self, stsd_entries: u32, file_size: u64) -> Result<(), MediaError> {
        let count = u64::from(self.sample_count);
        let stts_total = run_total(self.stts);
        if stts_total != count {
            return Err(malformed(format!("'stts' describes {stts_total} samples, 'stsz' {count}")));
        }
        if let Some(ctts) = self.ctts {
            let total = run_total(ctts);
            if total != count {
                return Err(malformed(format!("'ctts' describes {total} samples, 'stsz' {count}")));
            }
        }
        if let Some(stss) = self.stss {
            let mut previous = 0;
            for i in 0..stss.len() / 4 {
                let n = be_u32(stss, i * 4);
                if n <= previous || u64::from(n) > count {
                    return Err(malformed(format!("'stss' entry {n} is out of order or beyond the {count} samples")));
                }
                previous = n;
            }
        }
        self.validate_chunks(stsd_entries)?;
        // A table of sizes is backed by 4 bytes of `moov` per sample, but a constant size is
        // not: 20 bytes can claim billions of samples. Samples never share bytes, so they
        // must fit in the file together.
        if let Sizes::Constant(size) = self.sizes
            && count * u64::from(size) > file_size
        {
            return Err(malformed(format!(
                "{count} samples of {size} bytes do not fit in a file of {file_size} bytes"
            )));
        }
        if self.sample_count > MAX_SAMPLES_PER_TRACK {
            return Err(MediaError::TooLarge {
                what: "track sample count",
                size: count,
                limit: MAX_SAMPLES_PER_TRACK.into(),
            });
        }
        Ok(())
    }

    /// `stsc` runs must start at chunk 1, increase, stay within the chunk count, name an
    /// existing sample description, and place exactly the sample count.
    fn validate_chunks(&self, stsd_entries: u32) -> Result<(), MediaError> {
        let chunk_count = self.chunks.count() as u64;
        let runs = self.stsc.len() / 12;
        let mut placed: u64 = 0;
        for run in 0..runs {
            let first = u64::from(field(self.stsc, run, 3, 0));
            let per_chunk = u64::from(field(self.stsc, run, 3, 1));
            let description = field(self.stsc, run, 3, 2);
            let end = if run + 1 < runs { u64::from(field(self.stsc, run + 1, 3, 0)) } else { chunk_count + 1 };
            if (run == 0 && first != 1) || first == 0 || end <= first || end > chunk_count + 1 {
                return Err(malformed(format!("'stsc' entry {run} covers chunks {first}..{end} of {chunk_count}")));
            }
            if description == 0 || description > stsd_entries {
                return Err(malformed(format!(
                    "'stsc' entry {run} names sample description {description} of {stsd_entries}"
                )));
            }
            // At most 2^32 runs of 2^32 chunks × 2^32 samples: saturate instead of overflowing.
            placed = placed.saturating_add((end - first).saturating_mul(per_chunk));
        }
        if runs == 0 && chunk_count > 0 {
            return Err(malformed("'stsc' box is empty but the track has chunks"));
        }
        if placed != u64::from(self.sample_count) {
            return Err(malformed(format!(
                "'stsc' and the chunk offsets place {placed} samples, 'stsz' has {}",
                self.sample_count
            )));
        }
        Ok(())
    }
}

/// Timing of one sample.
#[derive(Debug, Clone, Copy)]
struct SampleTiming {
    dts: u64,
    composition: i64,
    sync: bool,
}

/// Decode time, composition offset and sync flag of each sample in decode order. The
/// tables were validated to cover the sample count; past it, values are 0.
struct Timing<'a> {
    stts: Runs<'a>,
    ctts: Option<Runs<'a>>,
    stss: &'a [u8],
    all_sync: bool,
    /// Index into `stss` of the next sync sample.
    next_sync: usize,
    /// 1-based number of the next sample.
    number: u32,
    /// Decode time of the next sample.
    dts: u64,
}

impl Timing<'_> {
    fn next(&mut self) -> SampleTiming {
        // The validated `ctts` is 32-bit; version 0 is unsigned by the spec, but a value of
        // 2^31 or more only ever comes from a writer meaning a negative offset (read as
        // signed by FFmpeg and Apple's players).
        let composition = self.ctts.as_mut().map_or(0, |c| i64::from(c.next_value() as i32));
        let sync = self.all_sync || {
            let is_sync = self.next_sync * 4 < self.stss.len() && be_u32(self.stss, self.next_sync * 4) == self.number;
            self.next_sync += usize::from(is_sync);
            is_sync
        };
        let dts = self.dts;
        self.dts = dts.saturating_add(self.stts.next_value().into());
        self.number = self.number.wrapping_add(1);
        SampleTiming { dts, composition, sync }
    }
}

/// Iterator over a track's samples: see [`SampleTables::samples`].
pub(super) struct SampleIter<'t, 'a> {
    tables: &'t SampleTables<'a>,
    timing: Timing<'a>,
    file_size: u64,
    first: u32,
    /// Index of the next sample.
    index: u32,
    /// Next `stsc` entry to enter.
    next_run: usize,
    /// Current chunk (1-based) and one past the last chunk of the current run.
    chunk: usize,
    chunk_end: usize,
    per_chunk: u32,
    /// Samples left in the current chunk, and where the next one starts.
    left: u32,
    offset: u64,
    failed: bool,
}

impl SampleIter<'_, '_> {
    /// Index of the first sample yielded.
    pub(super) fn first(&self) -> u32 {
        self.first
    }

    /// Decode time after the samples yielded so far: the track's media duration once the
    /// iterator is exhausted.
    pub(super) fn end_dts(&self) -> u64 {
        self.timing.dts
    }

    /// Moves to the next chunk; false after the last.
    fn next_chunk(&mut self) -> bool {
        let t = self.tables;
        self.chunk += 1;
        if self.chunk >= self.chunk_end {
            let runs = t.stsc.len() / 12;
            if self.next_run >= runs {
                return false;
            }
            let run = self.next_run;
            self.next_run += 1;
            self.chunk = field(t.stsc, run, 3, 0) as usize;
            self.per_chunk = field(t.stsc, run, 3, 1);
            self.chunk_end = if run + 1 < runs { field(t.stsc, run + 1, 3, 0) as usize } else { t.chunks.count() + 1 };
        }
        // Validation guarantees 1 ≤ chunk < chunk_end ≤ count + 1.
        self.offset = t.chunks.get(self.chunk.saturating_sub(1));
        self.left = self.per_chunk;
        true
    }
}

impl Iterator for SampleIter<'_, '_> {
    type Item = Result<RawSample, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed || self.index >= self.tables.sample_count {
                return None;
            }
            while self.left == 0 {
                if !self.next_chunk() {
                    return None;
                }
            }
            let (index, offset) = (self.index, self.offset);
            let size = self.tables.sizes.get(index as usize);
            let Some(end) = offset.checked_add(size.into()).filter(|&e| e <= self.file_size) else {
                self.failed = true;
                return Some(Err(malformed(format!(
                    "sample {} ({size} bytes at {offset}) lies past the end of the file",
                    index + 1
                ))));
            };
            let t = self.timing.next();
            self.left -= 1;
            self.offset = end;
            self.index += 1;
            if index >= self.first {
                return Some(Ok(RawSample { offset, size, dts: t.dts, composition: t.composition, sync: t.sync }));
            }
        }
    }
}

/// Full box header, entry count, and the entries (count × `entry_size` bytes).
fn count_table<'a>(payload: &'a [u8], what: &'static str, entry_size: usize) -> Result<&'a [u8], MediaError> {
    let mut r = Reader::new(payload, what);
    r.full_box()?;
    let count = r.u32()?;
    r.table(count, entry_size)
}

fn parse_sizes(stbl: &[u8]) -> Result<(Sizes<'_>, u32), MediaError> {
    if let Some(stsz) = find_child(stbl, *b"stsz")? {
        let mut r = Reader::new(stsz, "stsz");
        r.full_box()?;
        let size = r.u32()?;
        let count = r.u32()?;
        if size != 0 {
            return Ok((Sizes::Constant(size), count));
        }
        return Ok((Sizes::Table { data: r.table(count, 4)?, bits: 32 }, count));
    }
    let stz2 = find_child(stbl, *b"stz2")?.ok_or_else(|| malformed("'stbl' box has no 'stsz' or 'stz2' box"))?;
    let mut r = Reader::new(stz2, "stz2");
    r.full_box()?;
    r.skip(3)?;
    let bits = r.u8()?;
    let count = r.u32()?;
    let data = match bits {
        // Two entries per byte, rounded up.
        4 => r.table(count / 2 + count % 2, 1)?,
        8 | 16 => r.table(count, usize::from(bits / 8))?,
        _ => {
            return Err(malformed(format!("'stz2' field size {bits} is not 4, 8 or 16")));
        }
    };
    Ok((Sizes::Table { data, bits }, count))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mp4::boxes::build::{boxed, full, u32s};

    /// An `stbl` payload from plain tables.
    pub(crate) struct Stbl {
        pub stts: Vec<(u32, u32)>,
        pub ctts: Option<Vec<(u32, u32)>>,
        pub stss: Option<Vec<u32>>,
        pub stsz: (u32, Vec<u32>),
        pub stsc: Vec<(u32, u32, u32)>,
        pub stco: Vec<u32>,
    }

    impl Stbl {
        pub(crate) fn encode(&self) -> Vec<u8> {
            let pairs = |v: &[(u32, u32)]| -> Vec<u8> {
                let mut p = u32s(&[v.len() as u32]);
                p.extend(v.iter().flat_map(|&(a, b)| u32s(&[a, b])));
                p
            };
            let mut out = full(b"stts", 0, &pairs(&self.stts));
            if let Some(ctts) = &self.ctts {
                out.extend(full(b"ctts", 0, &pairs(ctts)));
            }
            if let Some(stss) = &self.stss {
                out.extend(full(b"stss", 0, &[u32s(&[stss.len() as u32]), u32s(stss)].concat()));
            }
            let (size, sizes) = &self.stsz;
            let count = if *size == 0 { sizes.len() as u32 } else { sizes.first().copied().unwrap_or(0) };
            let table = if *size == 0 { u32s(sizes) } else { Vec::new() };
            out.extend(full(b"stsz", 0, &[u32s(&[*size, count]), table].concat()));
            let mut stsc = u32s(&[self.stsc.len() as u32]);
            stsc.extend(self.stsc.iter().flat_map(|&(a, b, c)| u32s(&[a, b, c])));
            out.extend(full(b"stsc", 0, &stsc));
            out.extend(full(b"stco", 0, &[u32s(&[self.stco.len() as u32]), u32s(&self.stco)].concat()));
            out
        }
    }

    fn simple() -> Stbl {
        Stbl {
            stts: vec![(3, 10), (1, 20)],
            ctts: Some(vec![(1, 20), (1, 0xffff_fff6), (2, 0)]),
            stss: Some(vec![1, 3]),
            stsz: (0, vec![5, 6, 7, 8]),
            stsc: vec![(1, 2, 1), (2, 1, 1)],
            stco: vec![100, 200, 300],
        }
    }

    fn collect(t: &SampleTables<'_>, file_size: u64) -> Result<(Vec<RawSample>, u64), MediaError> {
        let mut iter = t.samples(file_size, 0);
        let v = iter.by_ref().collect::<Result<Vec<_>, _>>()?;
        Ok((v, iter.end_dts()))
    }

    #[test]
    fn expands_tables() {
        let stbl = simple().encode();
        let t = SampleTables::parse(&stbl, 1, 1000).unwrap();
        assert_eq!(t.sample_count(), 4);
        let (samples, end) = collect(&t, 1000).unwrap();
        let s = |offset, size, dts, composition, sync| RawSample { offset, size, dts, composition, sync };
        assert_eq!(
            samples,
            vec![s(100, 5, 0, 20, true), s(105, 6, 10, -10, false), s(200, 7, 20, 0, true), s(300, 8, 30, 0, false)]
        );
        assert_eq!(end, 50);
        // The last sample must fit in the file.
        assert!(collect(&t, 307).is_err());
        assert!(collect(&t, 308).is_ok());
    }

    #[test]
    fn composition_shift_and_first_needed() {
        let stbl = simple().encode();
        let t = SampleTables::parse(&stbl, 1, 1000).unwrap();
        // ctts has −10.
        assert_eq!(t.composition_shift(), 10);
        // Sync samples are 1 (dts 0, pts 20) and 3 (dts 20, pts 20).
        assert_eq!(t.first_needed(0), (0, 0));
        assert_eq!(t.first_needed(19), (0, 0));
        assert_eq!(t.first_needed(20), (2, 20));
        assert_eq!(t.first_needed(1000), (2, 20));
        // Composition times are 20, 0, 20, 30.
        assert_eq!(t.first_presentation_at_or_after(0), Some(0));
        assert_eq!(t.first_presentation_at_or_after(1), Some(20));
        assert_eq!(t.first_presentation_at_or_after(21), Some(30));
        assert_eq!(t.first_presentation_at_or_after(31), None);
        let mut plain = simple();
        plain.ctts = None;
        plain.stss = None;
        let stbl = plain.encode();
        let t = SampleTables::parse(&stbl, 1, 1000).unwrap();
        assert_eq!(t.composition_shift(), 0);
        assert_eq!(t.first_needed(25), (2, 20));
        let v: Vec<_> = t.samples(1000, 2).map(|s| s.unwrap().dts).collect();
        assert_eq!(v, vec![20, 30]);
    }

    #[test]
    fn constant_sizes_and_co64_and_stz2() {
        let mut t = simple();
        t.stsz = (4, vec![4]);
        t.ctts = None;
        t.stss = None;
        let stbl = t.encode();
        let tables = SampleTables::parse(&stbl, 1, 1000).unwrap();
        let (samples, _) = collect(&tables, 1000).unwrap();
        assert!(samples.iter().all(|s| s.size == 4 && s.sync && s.composition == 0));
        assert_eq!(samples[1].offset, 104);
        // More sample bytes than the file has are refused before expansion.
        assert!(SampleTables::parse(&stbl, 1, 15).is_err());

        // Replace stco by co64 and stsz by a 4-bit stz2.
        let mut stbl = t.encode();
        let stco_at = stbl.windows(4).position(|w| w == b"stco").unwrap() - 4;
        stbl.truncate(stco_at);
        let stsz_at = stbl.windows(4).position(|w| w == b"stsz").unwrap() - 4;
        let stsz_len = u32::from_be_bytes(stbl[stsz_at..stsz_at + 4].try_into().unwrap()) as usize;
        stbl.drain(stsz_at..stsz_at + stsz_len);
        stbl.extend(full(b"stz2", 0, &[0, 0, 0, 4, 0, 0, 0, 4, 0x12, 0x3f]));
        let mut co64 = u32s(&[3]);
        for off in [1u64 << 33, 200, 300] {
            co64.extend(off.to_be_bytes());
        }
        stbl.extend(full(b"co64", 0, &co64));
        let tables = SampleTables::parse(&stbl, 1, 1 << 34).unwrap();
        let (samples, _) = collect(&tables, 1 << 34).unwrap();
        let layout: Vec<_> = samples.iter().map(|s| (s.offset, s.size)).collect();
        assert_eq!(layout, vec![((1 << 33), 1), ((1 << 33) + 1, 2), (200, 3), (300, 15)]);
    }

    fn parse_err(t: Stbl) -> String {
        match SampleTables::parse(&t.encode(), 1, 1000) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn inconsistent_tables() {
        let mut t = simple();
        t.stts = vec![(3, 10)];
        assert!(parse_err(t).contains("stts"));
        let mut t = simple();
        t.ctts = Some(vec![(5, 0)]);
        assert!(parse_err(t).contains("ctts"));
        let mut t = simple();
        t.stss = Some(vec![3, 1]);
        assert!(parse_err(t).contains("stss"));
        let mut t = simple();
        t.stss = Some(vec![5]);
        assert!(parse_err(t).contains("stss"));
        let mut t = simple();
        t.stsc = vec![(2, 2, 1)];
        assert!(parse_err(t).contains("stsc"));
        let mut t = simple();
        t.stsc = vec![(1, 2, 1), (5, 1, 1)];
        assert!(parse_err(t).contains("stsc"));
        let mut t = simple();
        t.stsc = vec![(1, 2, 2)];
        assert!(parse_err(t).contains("description"));
        let mut t = simple();
        t.stsc = vec![(1, 1, 1)];
        assert!(parse_err(t).contains("place"));
        let mut t = simple();
        t.stco = vec![100, 200];
        assert!(parse_err(t).contains("place"));
    }

    #[test]
    fn huge_counts_fail_without_allocating() {
        // A constant-size stsz claiming 2^32-1 samples, with tables to match.
        let t = Stbl {
            stts: vec![(u32::MAX, 1)],
            ctts: None,
            stss: None,
            stsz: (1, vec![u32::MAX]),
            stsc: vec![(1, u32::MAX, 1)],
            stco: vec![0],
        };
        // 2^32 one-byte samples do not fit in a 1000-byte file.
        assert!(parse_err(t).contains("do not fit"));
        // Many overlapping chunks in a big file: the sample cap applies.
        let t = Stbl {
            stts: vec![(1 << 25, 1)],
            ctts: None,
            stss: None,
            stsz: (1, vec![1 << 25]),
            stsc: vec![(1, 1 << 23, 1)],
            stco: vec![0; 4],
        };
        let err = SampleTables::parse(&t.encode(), 1, 1 << 30).unwrap_err();
        assert!(matches!(err, MediaError::TooLarge { .. }), "{err}");
        // Tables claiming more entries than their boxes hold.
        let mut stbl = simple().encode();
        let at = stbl.windows(4).position(|w| w == b"stts").unwrap() + 8;
        stbl[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(SampleTables::parse(&stbl, 1, 1000).unwrap_err().to_string().contains("claims"));
        let mut stbl = simple().encode();
        let at = stbl.windows(4).position(|w| w == b"stsz").unwrap() + 12;
        stbl[at..at + 4].copy_from_slice(&0x4000_0000u32.to_be_bytes());
        assert!(SampleTables::parse(&stbl, 1, 1000).is_err());
    }

    #[test]
    fn missing_boxes_and_bad_stz2() {
        let stbl = simple().encode();
        let without = |kind: &[u8; 4]| {
            let mut out = Vec::new();
            for child in crate::mp4::boxes::children(&stbl) {
                let (k, body) = child.unwrap();
                if &k != kind {
                    out.extend(boxed(&k, body));
                }
            }
            out
        };
        for kind in [b"stts", b"stsz", b"stsc", b"stco"] {
            assert!(SampleTables::parse(&without(kind), 1, 1000).is_err(), "{kind:?}");
        }
        let mut stz2 = without(b"stsz");
        stz2.extend(full(b"stz2", 0, &[0, 0, 0, 5, 0, 0, 0, 1, 0]));
        assert!(SampleTables::parse(&stz2, 1, 1000).unwrap_err().to_string().contains("field size"));
    }

    #[test]
    fn empty_track() {
        let t = Stbl { stts: vec![], ctts: None, stss: None, stsz: (0, vec![]), stsc: vec![], stco: vec![] };
        let stbl = t.encode();
        let tables = SampleTables::parse(&stbl, 1, 1000).unwrap();
        assert_eq!(tables.sample_count(), 0);
        assert_eq!(collect(&tables, 1000).unwrap(), (vec![], 0));
    }
}
