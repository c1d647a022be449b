//! Every media format, played to the end by ffmpeg and by rtmpdump; every packet must arrive
//! byte-identical, in order, with the source's timestamps (plus one constant offset), and
//! both clients must exit 0.

mod common;

use common::*;

/// `ffmpeg_path` / `rtmpdump_path`: what goes after `rtmp://host/cfx/st/` for each client —
/// the form a user of that client would type (ffmpeg turns `x.mp4` into `mp4:x.mp4`, rtmpdump
/// into `mp4:x`; both strip `.flv`).
macro_rules! format_tests {
    ($($ffmpeg_test:ident, $rtmpdump_test:ident: $file:literal, $ffmpeg_path:literal, $rtmpdump_path:literal;)*) => {$(
        #[test]
        fn $ffmpeg_test() {
            let server = Server::start(&media().origin);
            let summary = check_ffmpeg(&server.url($ffmpeg_path), $file, &Expect::Whole, &[], &[]);
            eprintln!("{summary}");
        }

        #[test]
        fn $rtmpdump_test() {
            let server = Server::start(&media().origin);
            let summary = check_rtmpdump(&server.url($rtmpdump_path), $file, &Expect::Whole, &[], &[0]);
            eprintln!("{summary}");
        }
    )*};
}

format_tests! {
    mp4_faststart_ffmpeg, mp4_faststart_rtmpdump: "clip.mp4", "clip.mp4", "clip.mp4";
    mp4_moov_at_end_ffmpeg, mp4_moov_at_end_rtmpdump: "clip_moovend.mp4", "clip_moovend.mp4", "clip_moovend.mp4";
    mp4_bframes_edit_list_ffmpeg, mp4_bframes_edit_list_rtmpdump: "clip_bframes.mp4", "clip_bframes.mp4", "clip_bframes.mp4";
    m4a_audio_only_ffmpeg, m4a_audio_only_rtmpdump: "audio.m4a", "mp4:audio.m4a", "mp4:audio.m4a";
    mp4_video_only_ffmpeg, mp4_video_only_rtmpdump: "video_only.mp4", "video_only.mp4", "video_only.mp4";
    mov_ffmpeg, mov_rtmpdump: "clip.mov", "mp4:clip.mov", "mp4:clip.mov";
    f4v_ffmpeg, f4v_rtmpdump: "clip.f4v", "clip.f4v", "mp4:clip.f4v";
    flv_h264_aac_ffmpeg, flv_h264_aac_rtmpdump: "clip.flv", "clip.flv", "clip.flv";
    flv_with_keyframe_index_ffmpeg, flv_with_keyframe_index_rtmpdump: "clip_index.flv", "clip_index.flv", "clip_index.flv";
    flv_classic_flv1_mp3_ffmpeg, flv_classic_flv1_mp3_rtmpdump: "classic.flv", "classic.flv", "classic.flv";
    mp3_cbr_ffmpeg, mp3_cbr_rtmpdump: "cbr.mp3", "mp3:cbr", "mp3:cbr";
    mp3_vbr_id3_ffmpeg, mp3_vbr_id3_rtmpdump: "vbr.mp3", "mp3:vbr", "mp3:vbr";
    shipped_sample_ffmpeg, shipped_sample_rtmpdump: "sample.mp4", "sample.mp4", "sample.mp4";
}
