//! Media time → milliseconds, honouring the edit list the way players do: a leading empty
//! edit delays the track, the first real edit's `media_time` is the track's time zero (this
//! is how writers hide B-frame delay and AAC priming). Integer arithmetic throughout, so
//! hour-long files do not drift.

use super::boxes::malformed;
use crate::MediaError;

/// What we honour of a track's edit list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Edit {
    /// Total duration of the leading empty edits, in movie timescale units.
    pub(super) empty: u64,
    /// Media time (track timescale) shown at the start of the first real edit.
    pub(super) media_time: i64,
    /// An edit list gave `media_time` (rather than the default 0 of a track without one).
    pub(super) explicit: bool,
}

/// `ms(t) = round(((t − media_time) / timescale + empty / movie_timescale) × 1000)`, kept as
/// `round((t × scale + offset) / den)` with exact integers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeline {
    scale: i128,
    offset: i128,
    den: i128,
    /// The same three values when they fit an i64 (and `2 × den` does), for the fast path.
    small: Option<(i64, i64, i64)>,
}

impl Timeline {
    pub(super) fn new(timescale: u32, movie_timescale: u32, edit: Edit) -> Result<Timeline, MediaError> {
        if timescale == 0 {
            return Err(malformed("track timescale is 0"));
        }
        let t = i128::from(timescale);
        let media_time = i128::from(edit.media_time);
        let (scale, offset, den) = if edit.empty == 0 {
            (1000, -media_time * 1000, t)
        } else {
            if movie_timescale == 0 {
                return Err(malformed("movie timescale is 0 but an edit list needs it"));
            }
            let m = i128::from(movie_timescale);
            // |empty| < 2^64, |media_time| < 2^63, timescales < 2^32: the products stay below
            // 2^107, far inside i128.
            (1000 * m, (i128::from(edit.empty) * t - media_time * m) * 1000, t * m)
        };
        let g = gcd(gcd(scale, den), offset.abs());
        let (scale, offset, den) = (scale / g, offset / g, den / g);
        let small = match (i64::try_from(scale), i64::try_from(offset), i64::try_from(den * 2)) {
            (Ok(s), Ok(o), Ok(_)) => Some((s, o, den as i64)),
            _ => None,
        };
        Ok(Timeline { scale, offset, den, small })
    }

    /// Milliseconds at media time `t`, rounded half up.
    pub(super) fn ms(&self, t: i128) -> i128 {
        if let (Some((scale, offset, den)), Ok(t)) = (self.small, i64::try_from(t))
            && let Some(twice) = t.checked_mul(scale).and_then(|n| n.checked_add(offset)).and_then(|n| n.checked_mul(2))
            && let Some(twice) = twice.checked_add(den)
        {
            return twice.div_euclid(2 * den).into();
        }
        // Not reachable with sane inputs (|t| < 2^64, scale ≤ 2^42): saturate rather than
        // overflow; the caller's range checks then reject the result.
        let n = t.saturating_mul(self.scale).saturating_add(self.offset);
        n.saturating_mul(2).saturating_add(self.den).div_euclid(2 * self.den)
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// The RTMP video composition time: the difference of the rounded presentation and decode
/// times (not the rounded difference), so that `timestamp + cts` is the exact presentation
/// time to the millisecond. Clamped to the signed 24 bits the FLV field holds.
pub(super) fn composition_ms(timeline: &Timeline, dts: i128, pts: i128) -> i32 {
    let cts = timeline.ms(pts) - timeline.ms(dts);
    cts.clamp(-(1 << 23), (1 << 23) - 1) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_media_time() {
        let t = Timeline::new(12800, 1000, Edit::default()).unwrap();
        assert_eq!(t.ms(0), 0);
        assert_eq!(t.ms(512), 40);
        assert_eq!(t.ms(12800 * 3600 * 10), 36_000_000);
        let t = Timeline::new(12800, 1000, Edit { empty: 0, media_time: 1024, explicit: true }).unwrap();
        assert_eq!(t.ms(0), -80);
        assert_eq!(t.ms(1024), 0);
        // AAC: 1024 samples of priming at 44.1 kHz is 23.2 ms.
        let t = Timeline::new(44100, 1000, Edit { empty: 0, media_time: 1024, explicit: true }).unwrap();
        assert_eq!(t.ms(0), -23);
        assert_eq!(t.ms(2048), 23);
        assert_eq!(t.ms(44100 * 1000 + 1024), 1_000_000);
    }

    #[test]
    fn rounding_is_half_up_and_exact_for_long_files() {
        let t = Timeline::new(2000, 1, Edit::default()).unwrap();
        assert_eq!(t.ms(1), 1); // 0.5 ms
        assert_eq!(t.ms(-1), 0); // -0.5 ms
        assert_eq!(t.ms(3), 2); // 1.5 ms
        // 30000/1001 fps for 24 hours: no drift.
        let t = Timeline::new(30000, 1000, Edit::default()).unwrap();
        let frames: i128 = 30 * 3600 * 24 * 1000 / 1001;
        assert_eq!(t.ms(frames * 1001), (frames * 1001 * 1000 + 15000) / 30000);
    }

    #[test]
    fn empty_edit_delays() {
        // 1 s of empty edit (movie timescale 1000) and 1024 samples of priming at 44.1 kHz.
        let t = Timeline::new(44100, 1000, Edit { empty: 1000, media_time: 1024, explicit: true }).unwrap();
        assert_eq!(t.ms(0), 977); // 976.78 ms
        assert_eq!(t.ms(1024), 1000);
        // Huge values do not panic.
        let t =
            Timeline::new(u32::MAX, u32::MAX, Edit { empty: u64::MAX, media_time: i64::MIN, explicit: true }).unwrap();
        let _ = t.ms(i128::from(u64::MAX));
        let _ = t.ms(i128::MIN);
    }

    #[test]
    fn bad_timescales() {
        assert!(Timeline::new(0, 1000, Edit::default()).is_err());
        assert!(Timeline::new(1000, 0, Edit { empty: 5, media_time: 0, explicit: false }).is_err());
        assert!(Timeline::new(1000, 0, Edit::default()).is_ok());
    }

    #[test]
    fn composition_is_exact() {
        // 29.97 fps in a 30000 timescale: pts 1001 → 33.37 ms, dts 0 → 0 ms.
        let t = Timeline::new(30000, 1000, Edit { empty: 0, media_time: 2002, explicit: true }).unwrap();
        let cts = composition_ms(&t, 1001, 4004);
        assert_eq!(t.ms(1001) + i128::from(cts), t.ms(4004));
        assert_eq!(composition_ms(&t, 0, i128::from(i32::MAX)), (1 << 23) - 1);
        assert_eq!(composition_ms(&t, 0, i128::from(i32::MIN)), -(1 << 23));
    }
}
