//! MP4 family reader (ISO base media file format): moov at the start or the end, edit lists,
//! composition offsets, sync samples; H.264 (avc1/avc3) video and AAC/MP3 audio.
//!
//! Reading costs one small read per top-level box up to `moov`, then one read of `moov`;
//! the media data is never touched until samples are sent. Everything after that read is
//! pure parsing of the `moov` bytes:
//!
//! * [`locate`] finds and reads `moov`;
//! * [`track`] parses the movie and picks the tracks (via [`codec`] for sample descriptions
//!   and [`sample_table`] for the per-sample tables);
//! * [`timeline`] maps media time to milliseconds (edit lists, rounding);
//! * [`samples`] builds the RTMP samples and interleaves the tracks;
//! * [`metadata`] builds `onMetaData` and the sequence headers.

mod boxes;
mod codec;
mod locate;
mod metadata;
mod sample_table;
mod samples;
mod timeline;
mod track;

use self::codec::{AudioFormat, Avc, Codec};
use self::metadata::{AudioFacts, Facts, VideoFacts};
use self::samples::{Plan, TrackStream};
use self::timeline::Timeline;
use self::track::{Movie, Track};
use crate::{ByteSource, Format, MediaError, MediaInfo, Sample};

/// Reads the moov box (wherever it is) and builds the sample table.
pub async fn open<S: ByteSource>(source: &S) -> Result<(MediaInfo, Vec<Sample>), MediaError> {
    let moov = locate::read_moov(source).await?;
    index(&moov.payload, moov.offset, source.size())
}

/// Builds the index from the `moov` payload; `moov_offset` is where its box starts and
/// `file_size` bounds every sample.
fn index(moov: &[u8], moov_offset: u64, file_size: u64) -> Result<(MediaInfo, Vec<Sample>), MediaError> {
    let movie = track::parse_movie(moov, file_size)?;
    if movie.video.is_none() && movie.audio.is_none() {
        return Err(no_usable_track(&movie));
    }
    let video = movie.video.as_ref().map(|t| prepare(&movie, t)).transpose()?;
    let audio = movie.audio.as_ref().map(|t| prepare(&movie, t)).transpose()?;

    // Decode times never decrease within a track, so each track's earliest millisecond is
    // its first sent sample's. One shift for all tracks keeps them in sync.
    let earliest =
        [&video, &audio].into_iter().flatten().map(|(_, plan, timeline)| plan.earliest_ms(timeline)).min().unwrap_or(0);
    let shift = (-earliest).max(0);

    let mut video = video.map(|(track, plan, timeline)| TrackStream::new(track, &plan, timeline, shift, file_size));
    let mut audio = audio.map(|(track, plan, timeline)| TrackStream::new(track, &plan, timeline, shift, file_size));
    let capacity = video.as_ref().map_or(0, TrackStream::len) + audio.as_ref().map_or(0, TrackStream::len);
    let all = samples::interleave(video.iter_mut().flatten(), audio.iter_mut().flatten(), capacity)?;

    let mut sequence_headers = Vec::new();
    let mut facts = Facts { duration_ms: 0, moov_offset, video: None, audio: None };
    let mut end_ms = 0;
    if let Some(stream) = &video
        && let Some(track) = &movie.video
        && let Codec::Avc(avc) = &track.codec
    {
        sequence_headers.push(metadata::avc_sequence_header(avc));
        facts.video = Some(video_facts(track, avc, stream));
        end_ms = end_ms.max(stream.end_ms()?);
    }
    if let Some(stream) = &audio
        && let Some(track) = &movie.audio
    {
        facts.audio = match &track.codec {
            Codec::Aac(aac) => {
                sequence_headers.push(metadata::aac_sequence_header(aac));
                let config = codec::audio_specific_config_format(aac.config);
                Some(audio_facts(track, 10, aac.format, config, stream))
            }
            Codec::Mp3(format) => Some(audio_facts(track, 2, *format, None, stream)),
            _ => None,
        };
        end_ms = end_ms.max(stream.end_ms()?);
    }
    let last_timestamp = all.last().map_or(0, |s| s.timestamp);
    let duration_ms = metadata::announced_duration_ms(end_ms, last_timestamp.into());
    facts.duration_ms = duration_ms;

    let info = MediaInfo {
        format: Format::Mp4,
        duration_ms,
        has_audio: facts.audio.is_some(),
        has_video: facts.video.is_some(),
        metadata: metadata::on_metadata(&facts),
        sequence_headers,
    };
    Ok((info, all))
}

fn prepare<'m, 'a>(movie: &Movie<'a>, track: &'m Track<'a>) -> Result<(&'m Track<'a>, Plan, Timeline), MediaError> {
    let plan = Plan::new(track);
    let timeline = Timeline::new(track.timescale, movie.timescale, plan.edit)?;
    Ok((track, plan, timeline))
}

fn no_usable_track(movie: &Movie<'_>) -> MediaError {
    if movie.fragmented {
        return boxes::unsupported("fragmented MP4 (samples in 'moof' boxes) is not supported");
    }
    let found = if movie.ignored.is_empty() { "no tracks".to_owned() } else { movie.ignored.join("; ") };
    boxes::unsupported(format!("no H.264 video or AAC/MP3 audio track with samples ({found})"))
}

fn video_facts(track: &Track<'_>, avc: &Avc<'_>, samples: &TrackStream<'_, '_>) -> VideoFacts {
    let (mut width, mut height) = (u32::from(avc.width), u32::from(avc.height));
    if width == 0 || height == 0 {
        (width, height) = (track.display_width, track.display_height);
    }
    let duration = samples.media_duration();
    let framerate =
        (duration > 0).then(|| f64::from(track.tables.sample_count()) * f64::from(track.timescale) / duration as f64);
    VideoFacts {
        width,
        height,
        display_width: track.display_width,
        display_height: track.display_height,
        framerate,
        profile: avc.profile(),
        level: avc.level(),
        bytes: samples.bytes,
    }
}

/// `stated` is what the sample entry says, `config` what the AudioSpecificConfig says.
fn audio_facts(
    track: &Track<'_>,
    codec_id: u8,
    stated: AudioFormat,
    config: Option<AudioFormat>,
    samples: &TrackStream<'_, '_>,
) -> AudioFacts {
    // The AudioSpecificConfig is what decoders obey; the sample entry fields are often
    // placeholders (QuickTime v2 entries, >65535 Hz rates); the media timescale is usually
    // the sample rate.
    let config = config.unwrap_or_default();
    let pick = |a: u32, b: u32, c: u32| {
        if a > 0 {
            a
        } else if b > 0 {
            b
        } else {
            c
        }
    };
    AudioFacts {
        codec_id,
        sample_rate: pick(config.sample_rate, stated.sample_rate, track.timescale),
        channels: if config.channels > 0 { config.channels } else { stated.channels },
        bytes: samples.bytes,
    }
}

#[cfg(test)]
mod tests;
