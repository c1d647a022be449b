//! A model of a player's buffer, to tell whether a viewer would have rebuffered.
//!
//! The player starts playback once it holds `startup` of media, then plays in real time. It
//! rebuffers when the playhead reaches the end of what it has received before the stream is
//! over; it then waits until it holds `startup` again and resumes. Times are milliseconds
//! since the viewer started (wall clock) and media timestamps in milliseconds.

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Waiting for `startup` of media beyond `from` (the playhead). `since` is when the
    /// buffer ran dry (for a rebuffer) or `None` before the first start.
    Buffering { from: u64, since: Option<f64> },
    /// Media timestamp `ts` was on screen at wall time `wall`.
    Playing { wall: f64, ts: u64 },
}

/// The buffer of one simulated player.
#[derive(Debug, Clone)]
pub struct Playout {
    startup_ms: u64,
    state: Option<State>,
    /// Newest media time every track has reached.
    buffered_to: u64,
    /// When playback first started (wall ms).
    pub started_at: Option<f64>,
    pub rebuffers: u32,
    /// Wall time spent rebuffering (not counting the initial startup).
    pub stalled_ms: f64,
}

impl Playout {
    pub fn new(startup_ms: u64) -> Self {
        Playout { startup_ms, state: None, buffered_to: 0, started_at: None, rebuffers: 0, stalled_ms: 0.0 }
    }

    /// Checks whether the buffer ran dry by wall time `now` (called before each arrival and
    /// when the viewer stops early).
    pub fn check(&mut self, now: f64) {
        if let Some(State::Playing { wall, ts }) = self.state {
            let playhead = ts as f64 + (now - wall);
            if playhead > self.buffered_to as f64 {
                self.rebuffers += 1;
                let dry_at = wall + (self.buffered_to.saturating_sub(ts)) as f64;
                self.state = Some(State::Buffering { from: self.buffered_to, since: Some(dry_at) });
            }
        }
    }

    /// Media up to timestamp `buffered_to` (all tracks) has arrived at wall time `now`.
    pub fn on_media(&mut self, now: f64, buffered_to: u64) {
        match self.state {
            None => {
                self.state = Some(State::Buffering { from: buffered_to, since: None });
                self.buffered_to = buffered_to;
            }
            Some(_) => {
                self.check(now);
                self.buffered_to = self.buffered_to.max(buffered_to);
            }
        }
        if let Some(State::Buffering { from, since }) = self.state
            && self.buffered_to.saturating_sub(from) >= self.startup_ms
        {
            self.start(now, from, since);
        }
    }

    /// The stream ended (everything was received): a player still buffering starts with
    /// what it has; nothing can run dry any more.
    pub fn on_end(&mut self, now: f64) {
        self.check(now);
        if let Some(State::Buffering { from, since }) = self.state {
            self.start(now, from, since);
        }
        self.state = None;
    }

    fn start(&mut self, now: f64, from: u64, since: Option<f64>) {
        match since {
            Some(dry_at) => self.stalled_ms += (now - dry_at).max(0.0),
            None => self.started_at = Some(now),
        }
        self.state = Some(State::Playing { wall: now, ts: from });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_stream_ahead_of_real_time_never_rebuffers() {
        let mut p = Playout::new(1000);
        // 4 s burst at once, then real time with a 4 s lead.
        for ts in (0..=4000).step_by(40) {
            p.on_media(10.0, ts);
        }
        assert_eq!(p.started_at, Some(10.0));
        for ts in (4040..=60_000).step_by(40) {
            p.on_media(10.0 + (ts - 4000) as f64, ts);
        }
        p.on_end(56_010.0);
        assert_eq!(p.rebuffers, 0);
    }

    #[test]
    fn stream_falling_behind_rebuffers_then_resumes() {
        let mut p = Playout::new(1000);
        p.on_media(0.0, 0);
        p.on_media(0.0, 1000); // starts at wall 0 with 1 s buffered
        assert_eq!(p.started_at, Some(0.0));
        p.on_media(1500.0, 1200); // playhead 1500 > 1000: ran dry at 1000
        assert_eq!(p.rebuffers, 1);
        p.on_media(2500.0, 2000); // holds 1000 beyond 1000 again: resumes
        assert_eq!(p.stalled_ms, 1500.0);
        p.on_media(2900.0, 2100); // playhead 1400, fine
        assert_eq!(p.rebuffers, 1);
    }

    #[test]
    fn stalled_server_is_caught_at_the_time_limit() {
        let mut p = Playout::new(1000);
        p.on_media(0.0, 0);
        p.on_media(0.0, 3000);
        p.check(2000.0);
        assert_eq!(p.rebuffers, 0);
        p.check(3500.0);
        assert_eq!(p.rebuffers, 1);
    }
}
