//! Playback of one NetStream: where it is in the media, what is due, pause, seek, track
//! selection, and pacing like FMS: send ahead of real time by the client's buffer length
//! (plus a second, like nginx-rtmp's `NGX_RTMP_FLV_BUFLEN_ADDON`), then keep pace with the
//! wall clock (FMS's metering, as the comment in librtmp's `HandleCtrl` in rtmp.c describes it).
//!
//! A player does no I/O and reads no clock: `now` comes in as an argument, and the next tag
//! comes from [`Player::read_now`] when its bytes are at hand, or else from a [`TagRead`]
//! the caller runs (it owns everything it needs) and hands back to [`Player::tag_read`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sf_cache::ObjectHandle;
use sf_media::{ByteSource, Cursor, MediaError, MediaIndex, Tag, TagKind};
use sf_rtmp::session::ServerSession;

use crate::library::OpenMedia;

/// Buffer assumed before the client says (FFmpeg asks for 3 s, librtmp for 10 h).
const DEFAULT_BUFFER_MS: u64 = 1000;
/// Sent beyond the client's buffer, so the buffer never runs dry on a jittery network.
const LEAD_EXTRA_MS: u64 = 1000;
/// Tags due within this much of now go out together: one wake-up and one write per batch
/// instead of one per frame (a 25 fps video with AAC has ~70 tags a second). The client's
/// buffer is two seconds or more ahead (buffer + 1 s), so sending a little early costs it
/// nothing, while fewer, larger writes cost the server less: with 1500 viewers on one core,
/// 400 ms batches took a third less CPU than 100 ms ones, most of it the kernel's
/// per-write work (docs/benchmarks.md, "The edge reshaped").
const BATCH: Duration = Duration::from_millis(400);

/// Most plays one stream may queue with `reset = false`.
pub const MAX_PLAYLIST: usize = 32;

/// An object ready to play: its shared index and where its bytes come from.
#[derive(Debug)]
pub struct Media<S = ObjectHandle> {
    pub key: String,
    /// Shared with the reads in flight.
    pub source: Arc<S>,
    pub index: Arc<MediaIndex>,
}

impl From<OpenMedia> for Media {
    fn from(media: OpenMedia) -> Self {
        Media { key: media.key, source: Arc::new(media.object), index: media.index }
    }
}

/// A play waiting in the stream's playlist (`play(name, start, len, reset = false)`).
#[derive(Debug)]
pub struct QueuedPlay<S = ObjectHandle> {
    pub name: String,
    pub media: Media<S>,
    pub start_ms: u32,
    pub duration_ms: f64,
}

/// A read of the next tag that may wait on the origin, with everything it needs owned.
#[derive(Debug)]
pub struct TagRead<S = ObjectHandle> {
    index: Arc<MediaIndex>,
    source: Arc<S>,
    cursor: Cursor,
}

/// The answer to a [`TagRead`]: the tag (or the end, or an error) and the cursor after it.
#[derive(Debug)]
pub struct TagReadResult {
    cursor: Cursor,
    tag: Result<Option<Tag>, MediaError>,
}

impl<S: ByteSource> TagRead<S> {
    pub async fn run(mut self) -> TagReadResult {
        let tag = self.index.next_tag(&mut self.cursor, &*self.source).await;
        TagReadResult { cursor: self.cursor, tag }
    }
}

/// What reading the next tag found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The next tag is ready to send.
    Tag,
    /// The current item ended and the next playlist item started; `from` ended.
    Switched { from: String },
    /// The end of the media (or of the requested length), with nothing queued.
    End,
}

/// What a player wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Nothing until a command (paused, finished).
    Nothing,
    /// Read the next tag from the media.
    Fetch,
    /// The next tag is read and may be sent now.
    Send,
    /// The next tag is read but not due before this instant.
    WaitUntil(Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Playing,
    Paused,
    Finished,
}

/// One playing (or paused, or finished) NetStream.
#[derive(Debug)]
pub struct Player<S = ObjectHandle> {
    pub stream_id: u32,
    /// The stream name as the client sent it (for status messages and logs).
    pub name: String,
    pub media: Media<S>,
    cursor: Cursor,
    state: State,
    /// Wall-clock instant at which `clock_base_ms` of media time was due.
    clock_start: Instant,
    clock_base_ms: u32,
    buffer_ms: u64,
    /// Tag read from the media and not yet sent.
    pending: Option<Tag>,
    /// Media timestamp at which to stop (from play's duration argument).
    stop_at_ms: Option<u32>,
    /// `play` with duration 0: send the first video frame only.
    single_frame: bool,
    /// Metadata and sequence headers go out before the next media tag.
    needs_headers: bool,
    audio_enabled: bool,
    video_enabled: bool,
    /// After `receiveVideo(true)`: skip video until the next key frame.
    waiting_for_keyframe: bool,
    last_timestamp: u32,
    pub bytes_sent: u64,
    /// Plays queued with `reset = false`, started in turn as each one ends.
    queue: VecDeque<QueuedPlay<S>>,
    /// Added to the current item's timestamps, so later playlist items continue the
    /// timeline of earlier ones instead of going back to 0.
    offset: u32,
    /// Highest timestamp sent on any track: the next playlist item starts after it.
    timeline_end: u32,
}

impl<S: ByteSource> Player<S> {
    /// A player positioned at `start_ms` (key frame at or before), with an optional
    /// duration (ms; negative = to the end, 0 = single frame).
    pub fn new(
        stream_id: u32,
        name: String,
        media: Media<S>,
        start_ms: u32,
        duration_ms: f64,
        buffer_ms: Option<u32>,
        now: Instant,
    ) -> Self {
        let cursor = media.index.seek(start_ms);
        let stop_at_ms = (duration_ms > 0.0).then(|| start_ms.saturating_add(duration_ms.min(u32::MAX as f64) as u32));
        let start = cursor.start_ms;
        Player {
            stream_id,
            name,
            media,
            cursor,
            state: State::Playing,
            clock_start: now,
            clock_base_ms: start,
            buffer_ms: buffer_ms.map_or(DEFAULT_BUFFER_MS, u64::from),
            pending: None,
            stop_at_ms,
            single_frame: duration_ms == 0.0,
            needs_headers: true,
            audio_enabled: true,
            video_enabled: true,
            waiting_for_keyframe: false,
            last_timestamp: start,
            bytes_sent: 0,
            queue: VecDeque::new(),
            offset: 0,
            timeline_end: start,
        }
    }

    /// Where the current play or seek starts on the stream's timeline (the key frame it
    /// landed on).
    pub fn start_ms(&self) -> u32 {
        self.cursor.start_ms.saturating_add(self.offset)
    }

    /// Appends a play to the playlist; false when the playlist is full.
    pub fn enqueue(&mut self, play: QueuedPlay<S>) -> bool {
        if self.queue.len() >= MAX_PLAYLIST {
            return false;
        }
        self.queue.push_back(play);
        true
    }

    /// Starts the next playlist item right after the last tag sent.
    fn start_next(&mut self, next: QueuedPlay<S>) -> String {
        let cursor = next.media.index.seek(next.start_ms);
        let stop_at_ms = (next.duration_ms > 0.0)
            .then(|| next.start_ms.saturating_add(next.duration_ms.min(u32::MAX as f64) as u32));
        let first_wire_ms = self.timeline_end.saturating_add(1);
        self.offset = first_wire_ms.saturating_sub(cursor.start_ms);
        self.stop_at_ms = stop_at_ms;
        self.single_frame = next.duration_ms == 0.0;
        self.needs_headers = true;
        self.waiting_for_keyframe = false;
        self.cursor = cursor;
        self.media = next.media;
        std::mem::replace(&mut self.name, next.name)
    }

    pub fn is_finished(&self) -> bool {
        self.state == State::Finished
    }

    pub fn set_buffer_length(&mut self, millis: u32) {
        self.buffer_ms = u64::from(millis);
    }

    /// Moves to the key frame at or before `ms` (stream time; within the current playlist
    /// item) and restarts the clock there.
    pub fn seek(&mut self, ms: u32, now: Instant) {
        self.cursor = self.media.index.seek(ms.saturating_sub(self.offset));
        self.pending = None;
        self.needs_headers = true;
        self.waiting_for_keyframe = false;
        self.clock_start = now;
        self.clock_base_ms = self.start_ms();
        self.last_timestamp = self.start_ms();
        self.timeline_end = self.start_ms();
        let ms = ms.saturating_sub(self.offset);
        if let Some(stop) = self.stop_at_ms
            && stop <= ms
        {
            self.stop_at_ms = None;
        }
        // A seek revives a finished or paused stream (FMS resumes playing after a seek).
        self.state = State::Playing;
    }

    pub fn pause(&mut self) {
        if self.state == State::Playing {
            self.state = State::Paused;
        }
    }

    /// Resumes where sending stopped, with the clock restarted from there.
    pub fn unpause(&mut self, now: Instant) {
        if self.state == State::Paused {
            self.state = State::Playing;
            self.clock_start = now;
            self.clock_base_ms = self.pending.as_ref().map_or(self.last_timestamp, |t| t.timestamp);
        }
    }

    pub fn set_receive_audio(&mut self, enabled: bool) {
        self.audio_enabled = enabled;
    }

    pub fn set_receive_video(&mut self, enabled: bool) {
        if enabled && !self.video_enabled {
            self.waiting_for_keyframe = true;
        }
        self.video_enabled = enabled;
    }

    /// What the player needs now.
    pub fn want(&self, now: Instant) -> Want {
        if self.state != State::Playing {
            return Want::Nothing;
        }
        let Some(tag) = &self.pending else { return Want::Fetch };
        let due = self.due_at(tag.timestamp);
        if due <= now + BATCH { Want::Send } else { Want::WaitUntil(due) }
    }

    /// When a tag with this timestamp may be sent: `buffer + 1 s` ahead of the wall clock.
    fn due_at(&self, timestamp: u32) -> Instant {
        let ahead_of_start = u64::from(timestamp.saturating_sub(self.clock_base_ms));
        let lead = self.buffer_ms.max(DEFAULT_BUFFER_MS) + LEAD_EXTRA_MS;
        let wait = ahead_of_start.saturating_sub(lead);
        self.clock_start.checked_add(Duration::from_millis(wait)).unwrap_or(self.clock_start)
    }

    /// Reads the next tag into `pending` from bytes at hand; `None` when that would wait
    /// (then run [`Player::tag_read`]'s read and hand its result back). At the end of the
    /// media or of the requested length, starts the next playlist item, or reports the end
    /// (the caller then completes the play).
    pub fn read_now(&mut self) -> Option<Result<Fetched, MediaError>> {
        loop {
            let index = Arc::clone(&self.media.index);
            let tag = match index.next_tag_now(&mut self.cursor, &*self.media.source)? {
                Ok(tag) => tag,
                Err(error) => return Some(Err(error)),
            };
            if let Some(fetched) = self.take(tag) {
                return Some(Ok(fetched));
            }
        }
    }

    /// The read of the next tag, to run where it may wait.
    pub fn tag_read(&self) -> TagRead<S> {
        TagRead {
            index: Arc::clone(&self.media.index),
            source: Arc::clone(&self.media.source),
            cursor: self.cursor.clone(),
        }
    }

    /// Takes the result of the [`TagRead`] made for the player's current position (the
    /// caller drops results made before a seek or a new play), then reads on from bytes at
    /// hand past tags nobody wants. `None`: read again.
    pub fn read_done(&mut self, result: TagReadResult) -> Option<Result<Fetched, MediaError>> {
        let tag = match result.tag {
            Ok(tag) => tag,
            Err(error) => return Some(Err(error)),
        };
        self.cursor = result.cursor;
        match self.take(tag) {
            Some(fetched) => Some(Ok(fetched)),
            None => self.read_now(),
        }
    }

    /// Handles a tag just read (`None`: the end of the item): keeps it as `pending` when it
    /// is wanted, switches to the next playlist item or ends at the end. `None` when the tag
    /// was not wanted (a track switched off).
    fn take(&mut self, tag: Option<Tag>) -> Option<Fetched> {
        let ended = match &tag {
            None => true,
            Some(tag) => self.stop_at_ms.is_some_and(|stop| tag.timestamp >= stop && tag.kind != TagKind::Script),
        };
        if ended {
            return Some(match self.queue.pop_front() {
                Some(next) => Fetched::Switched { from: self.start_next(next) },
                None => Fetched::End,
            });
        }
        let mut tag = tag?;
        tag.timestamp = tag.timestamp.saturating_add(self.offset);
        let wanted = match tag.kind {
            TagKind::Audio => self.audio_enabled,
            TagKind::Video if !self.video_enabled => false,
            TagKind::Video if self.waiting_for_keyframe => {
                self.waiting_for_keyframe = !tag.keyframe;
                tag.keyframe
            }
            _ => true,
        };
        if !wanted {
            return None;
        }
        self.pending = Some(tag);
        Some(Fetched::Tag)
    }

    /// Bytes the pending tag's body takes (0 when none is read): what [`Player::send`] is
    /// about to write, chunk headers aside.
    pub fn pending_len(&self) -> usize {
        self.pending.as_ref().map_or(0, Tag::body_len)
    }

    /// Sends the pending tag (after metadata and sequence headers when they are due).
    /// Returns false when a single-frame play is done.
    pub fn send(&mut self, session: &mut ServerSession) -> bool {
        let Some(tag) = self.pending.take() else { return true };
        if self.needs_headers {
            self.needs_headers = false;
            self.send_headers(session, tag.timestamp);
        }
        let bytes = match tag.kind {
            TagKind::Script => {
                session.send_data(self.stream_id, tag.timestamp, &tag.body());
                tag.body_len()
            }
            kind => {
                session.send_media(self.stream_id, kind as u8, tag.timestamp, &[tag.prefix.as_slice(), &tag.data]);
                tag.body_len()
            }
        };
        self.bytes_sent += bytes as u64;
        self.last_timestamp = tag.timestamp;
        self.timeline_end = self.timeline_end.max(tag.timestamp);
        !(self.single_frame && tag.kind == TagKind::Video)
    }

    /// onMetaData and codec sequence headers, stamped with the first frame's time.
    fn send_headers(&mut self, session: &mut ServerSession, timestamp: u32) {
        let info = self.media.index.info();
        session.send_data(self.stream_id, timestamp, &info.metadata);
        self.bytes_sent += info.metadata.len() as u64;
        for header in &info.sequence_headers {
            let enabled = match header.kind {
                TagKind::Audio => self.audio_enabled,
                TagKind::Video => self.video_enabled,
                TagKind::Script => true,
            };
            if enabled {
                session.send_media(
                    self.stream_id,
                    header.kind as u8,
                    timestamp,
                    &[header.prefix.as_slice(), &header.data],
                );
                self.bytes_sent += header.body_len() as u64;
            }
        }
    }

    /// Marks the play as finished (end of media or length reached).
    pub fn finish(&mut self) {
        self.state = State::Finished;
        self.pending = None;
        self.queue.clear();
    }

    /// Timestamp of the last tag sent.
    pub fn last_timestamp(&self) -> u32 {
        self.last_timestamp
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sf_media::{Format, MemorySource};
    use sf_rtmp::session::SessionConfig;

    /// An FLV file: one video tag every 100 ms from 0 to `last_ms`, a key frame every second.
    pub(crate) fn clip(last_ms: u32) -> Vec<u8> {
        let mut file = b"FLV\x01\x01\0\0\0\x09\0\0\0\0".to_vec();
        for ms in (0..=last_ms).step_by(100) {
            let body = [if ms % 1000 == 0 { 0x17 } else { 0x27 }, 0x01, 0, 0, 0, 0xaa, 0xbb];
            sf_media::flv::write_tag(&mut file, 9, ms, &body);
        }
        file
    }

    fn media(last_ms: u32) -> Media<MemorySource> {
        let source = MemorySource(clip(last_ms).into());
        let index = MemorySource::run(MediaIndex::open(&source, Format::Flv)).expect("a valid FLV");
        Media { key: "clip.flv".to_owned(), source: Arc::new(source), index: Arc::new(index) }
    }

    fn player(
        last_ms: u32,
        start_ms: u32,
        duration_ms: f64,
        buffer_ms: Option<u32>,
        now: Instant,
    ) -> Player<MemorySource> {
        Player::new(1, "clip".to_owned(), media(last_ms), start_ms, duration_ms, buffer_ms, now)
    }

    /// What a player does next once it has sent everything due.
    #[derive(Debug, PartialEq)]
    enum Then {
        Nothing,
        WaitUntil(Instant),
        End,
    }

    /// Sends everything due at `now`: the timestamps sent, and what comes next.
    fn run(player: &mut Player<MemorySource>, session: &mut ServerSession, now: Instant) -> (Vec<u32>, Then) {
        let mut sent = Vec::new();
        loop {
            match player.want(now) {
                Want::Nothing => return (sent, Then::Nothing),
                Want::WaitUntil(at) => return (sent, Then::WaitUntil(at)),
                Want::Fetch => match player.read_now().expect("memory is always at hand").expect("a valid file") {
                    Fetched::End => return (sent, Then::End),
                    Fetched::Tag | Fetched::Switched { .. } => {}
                },
                Want::Send => {
                    let more = player.send(session);
                    sent.push(player.last_timestamp());
                    if !more {
                        return (sent, Then::End);
                    }
                }
            }
        }
    }

    fn session() -> ServerSession {
        ServerSession::new(SessionConfig::default(), 1)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn every_100_ms(from: u32, to: u32) -> Vec<u32> {
        (from..=to).step_by(100).collect()
    }

    /// The batch in ms, so the expectations below follow it.
    fn batch() -> u32 {
        BATCH.as_millis() as u32
    }

    #[test]
    fn pacing_sends_the_buffer_and_a_second_ahead_then_keeps_real_time() {
        let t0 = Instant::now();
        let mut s = session();
        let b = batch();
        let after = |ms: u32| t0 + Duration::from_millis(ms.into());
        // Default buffer (1 s): 2 s ahead, plus the batch.
        let mut p = player(10_000, 0, -1.0, None, t0);
        assert_eq!(run(&mut p, &mut s, t0), (every_100_ms(0, 2000 + b), Then::WaitUntil(after(b + 100))));
        // Nothing more before it is due; then one batch at a time with the wall clock.
        assert_eq!(run(&mut p, &mut s, t0 + ms(99)), (vec![], Then::WaitUntil(after(b + 100))));
        assert_eq!(
            run(&mut p, &mut s, after(b + 100)),
            (every_100_ms(2000 + b + 100, 2000 + 2 * b + 100), Then::WaitUntil(after(2 * b + 200)))
        );
        assert_eq!(
            run(&mut p, &mut s, after(2 * b + 200)),
            (every_100_ms(2000 + 2 * b + 200, 2000 + 3 * b + 200), Then::WaitUntil(after(3 * b + 300)))
        );
        // A 3 s buffer: 4 s ahead.
        let mut p = player(10_000, 0, -1.0, Some(3000), t0);
        assert_eq!(run(&mut p, &mut s, t0), (every_100_ms(0, 4000 + b), Then::WaitUntil(after(b + 100))));
        // The buffer changes while playing: the lead follows.
        p.set_buffer_length(5000);
        assert_eq!(run(&mut p, &mut s, t0), (every_100_ms(4000 + b + 100, 6000 + b), Then::WaitUntil(after(b + 100))));
    }

    #[test]
    fn seek_restarts_the_clock_at_the_key_frame() {
        let t0 = Instant::now();
        let mut s = session();
        let b = batch();
        let mut p = player(10_000, 0, -1.0, None, t0);
        run(&mut p, &mut s, t0);
        let t1 = t0 + ms(5000);
        p.seek(3500, t1);
        assert_eq!(p.start_ms(), 3000, "lands on the key frame before");
        let before = p.bytes_sent;
        let (sent, then) = run(&mut p, &mut s, t1);
        assert_eq!(sent, every_100_ms(3000, 5000 + b), "two seconds (and a batch) ahead of the new position");
        assert_eq!(then, Then::WaitUntil(t1 + ms((b + 100).into())));
        let metadata = p.media.index.info().metadata.len() as u64;
        assert!(p.bytes_sent - before >= metadata + 22 * 7, "onMetaData goes out again after a seek");
    }

    #[test]
    fn pause_sends_nothing_and_unpause_resumes_where_sending_stopped() {
        let t0 = Instant::now();
        let mut s = session();
        let b = batch();
        let mut p = player(10_000, 0, -1.0, None, t0);
        run(&mut p, &mut s, t0);
        p.pause();
        assert_eq!(run(&mut p, &mut s, t0 + ms(500)), (vec![], Then::Nothing));
        assert_eq!(run(&mut p, &mut s, t0 + ms(60_000)), (vec![], Then::Nothing), "nothing while paused");
        let t1 = t0 + ms(60_000);
        p.unpause(t1);
        // The clock restarts at the first tag not sent, with the same lead.
        let first = 2000 + b + 100;
        assert_eq!(
            run(&mut p, &mut s, t1),
            (every_100_ms(first, first + 2000 + b), Then::WaitUntil(t1 + ms((b + 100).into())))
        );
    }

    #[test]
    fn a_playlist_item_continues_the_timeline_after_the_last_tag() {
        let t0 = Instant::now();
        let mut s = session();
        let mut p = player(1000, 0, -1.0, Some(36_000_000), t0);
        assert!(p.enqueue(QueuedPlay { name: "next".to_owned(), media: media(500), start_ms: 0, duration_ms: -1.0 }));
        let mut sent = Vec::new();
        let mut switched = None;
        loop {
            match p.want(t0) {
                Want::Fetch => match p.read_now().unwrap().unwrap() {
                    Fetched::End => break,
                    Fetched::Switched { from } => switched = Some((from, sent.len())),
                    Fetched::Tag => {}
                },
                Want::Send => {
                    p.send(&mut s);
                    sent.push(p.last_timestamp());
                }
                other => panic!("a 10-hour buffer waits for nothing: {other:?}"),
            }
        }
        let (from, at) = switched.expect("a switch to the next item");
        assert_eq!((from.as_str(), p.name.as_str()), ("clip", "next"));
        assert_eq!(sent[..at], every_100_ms(0, 1000));
        assert_eq!(sent[at..], every_100_ms(1001, 1501), "the next item starts 1 ms after the last tag");
        assert_eq!(p.start_ms(), 1001);
    }

    #[test]
    fn duration_stops_the_play_and_zero_sends_a_single_frame() {
        let t0 = Instant::now();
        let mut s = session();
        let mut p = player(10_000, 2000, 1500.0, Some(36_000_000), t0);
        assert_eq!(run(&mut p, &mut s, t0), (every_100_ms(2000, 3400), Then::End), "from 2 s for 1.5 s");
        let mut p = player(10_000, 2500, 0.0, None, t0);
        assert_eq!(run(&mut p, &mut s, t0), (vec![2000], Then::End), "one frame: the key frame at or before");
    }

    #[test]
    fn receive_video_again_waits_for_a_key_frame() {
        let t0 = Instant::now();
        let mut s = session();
        let mut p = player(10_000, 0, -1.0, Some(36_000_000), t0);
        // Send up to 1.2 s, then switch video off (what is read meanwhile is dropped) and on.
        let mut sent = Vec::new();
        while p.last_timestamp() < 1200 {
            match p.want(t0) {
                Want::Fetch => assert_eq!(p.read_now().unwrap().unwrap(), Fetched::Tag),
                Want::Send => {
                    p.send(&mut s);
                    sent.push(p.last_timestamp());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        p.set_receive_video(false);
        p.set_receive_video(true);
        assert_eq!(p.want(t0), Want::Fetch);
        assert_eq!(p.read_now().unwrap().unwrap(), Fetched::Tag);
        assert_eq!(p.pending.as_ref().map(|t| (t.timestamp, t.keyframe)), Some((2000, true)), "skips to the key frame");
    }
}
