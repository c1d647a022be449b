//! The URL and stream-name forms players use (CloudFront/FMS conventions), each played to the
//! end and compared packet by packet; and the same play on the other listeners.
//!
//! What each client sends for a URL path (FFmpeg's `rtmp_open` in libavformat/rtmpproto.c;
//! librtmp's `RTMP_ParseURL` and `RTMP_ParsePlaypath` in parseurl.c): ffmpeg keeps `cfx/st` as
//! the app and turns `x.mp4`/`x.f4v` into `mp4:x.mp4`, strips `.flv`, sends anything else
//! verbatim and does not decode `%XX`; rtmpdump takes up to three path components as the app
//! (`cfx/st/dir`), turns `x.mp4` into `mp4:x`, `x.mp3` into `mp3:x`, strips `.flv` and decodes
//! `%XX` in the play path.

mod common;

use common::*;

fn ffmpeg_plays(path: &str, file: &str) {
    let server = Server::start(&media().origin);
    eprintln!("{}", check_ffmpeg(&server.url(path), file, &Expect::Whole, &[], &[]));
}

fn rtmpdump_plays(path: &str, file: &str) {
    let server = Server::start(&media().origin);
    eprintln!("{}", check_rtmpdump(&server.url(path), file, &Expect::Whole, &[], &[0]));
}

#[test]
fn ffmpeg_mp4_prefix_with_extension() {
    ffmpeg_plays("mp4:movie.mp4", "movie.mp4");
}

#[test]
fn rtmpdump_mp4_prefix_with_extension() {
    rtmpdump_plays("mp4:movie.mp4", "movie.mp4");
}

#[test]
fn ffmpeg_mp4_prefix_without_extension() {
    // ffmpeg sends `mp4:movie` verbatim: resolves to movie.mp4.
    ffmpeg_plays("mp4:movie", "movie.mp4");
}

#[test]
fn ffmpeg_flv_prefix() {
    ffmpeg_plays("flv:clip", "clip.flv");
}

#[test]
fn ffmpeg_bare_name_is_flv() {
    ffmpeg_plays("clip", "clip.flv");
}

#[test]
fn ffmpeg_mp3_prefix() {
    ffmpeg_plays("mp3:vbr", "vbr.mp3");
}

#[test]
fn rtmpdump_mp3_extension_becomes_mp3_prefix() {
    // rtmpdump sends `mp3:cbr`.
    rtmpdump_plays("cbr.mp3", "cbr.mp3");
}

#[test]
fn ffmpeg_plain_mp3_extension() {
    // ffmpeg sends `cbr.mp3` verbatim (no prefix). Beyond the literal name table (no prefix
    // means .flv), but it is what `ffmpeg -i rtmp://host/cfx/st/song.mp3` sends, and FMS-style
    // resolvers take the type from a known extension.
    ffmpeg_plays("cbr.mp3", "cbr.mp3");
}

#[test]
fn ffmpeg_query_string_is_stripped() {
    // ffmpeg sends `movie.mp4?Expires=...` without a prefix (the query defeats its extension test).
    ffmpeg_plays("movie.mp4?Expires=2145916800&Signature=abc~def&Key-Pair-Id=APKAEXAMPLE", "movie.mp4");
}

#[test]
fn ffmpeg_query_string_after_prefixed_name() {
    ffmpeg_plays("mp4:movie.mp4?token=1", "movie.mp4");
}

#[test]
fn rtmpdump_query_string_is_stripped() {
    // rtmpdump sends `mp4:movie?Expires=...`.
    rtmpdump_plays("movie.mp4?Expires=2145916800&Signature=abc", "movie.mp4");
}

#[test]
fn ffmpeg_flv_query_string_is_stripped() {
    // `clip.flv?x=1` keeps its extension for ffmpeg: sent as `clip.flv?x=1`.
    ffmpeg_plays("clip.flv?x=1", "clip.flv");
}

#[test]
fn ffmpeg_subfolder() {
    // app cfx/st, play mp4:dir/movie.mp4
    ffmpeg_plays("dir/movie.mp4", "dir/movie.mp4");
}

#[test]
fn rtmpdump_subfolder_goes_into_the_app() {
    // app cfx/st/dir, play mp4:movie
    rtmpdump_plays("dir/movie.mp4", "dir/movie.mp4");
}

#[test]
fn ffmpeg_subfolder_flv() {
    ffmpeg_plays("dir/clip.flv", "dir/clip.flv");
}

#[test]
fn rtmpdump_subfolder_flv() {
    // app cfx/st/dir, play clip
    rtmpdump_plays("dir/clip.flv", "dir/clip.flv");
}

#[test]
fn ffmpeg_nested_subfolders() {
    ffmpeg_plays("dir/sub/movie.mp4", "dir/sub/movie.mp4");
}

#[test]
fn rtmpdump_nested_subfolders() {
    // app cfx/st/dir, play mp4:sub/movie
    rtmpdump_plays("dir/sub/movie.mp4", "dir/sub/movie.mp4");
}

#[test]
fn ffmpeg_non_ascii() {
    // Raw UTF-8 in the URL: ffmpeg sends it as it is (mp4:Vidéos/日本語.mp4).
    ffmpeg_plays(NON_ASCII_PATH, NON_ASCII_PATH);
}

#[test]
fn ffmpeg_spaces_and_non_ascii_with_rtmp_playpath() {
    // ffmpeg cannot carry a space in the URL path (it splits librtmp-style options there),
    // so a player passes the stream name with -rtmp_playpath (and the app with -rtmp_app).
    let server = Server::start(&media().origin);
    let path = format!("{UNICODE_DIR}/{UNICODE_FILE}");
    let playpath = format!("mp4:{path}");
    let opts = ["-rtmp_app", "cfx/st", "-rtmp_playpath", playpath.as_str()];
    eprintln!("{}", check_ffmpeg(&server.url("x"), &path, &Expect::Whole, &opts, &[]));
}

#[test]
fn rtmpdump_spaces_and_non_ascii_url_encoded() {
    // URL-encoded; the folder with the space sits below `dir/` so that it lands in the play
    // path (which librtmp decodes), not in the app (which it sends as typed).
    let path = format!("dir/{UNICODE_DIR}/{UNICODE_FILE}");
    rtmpdump_plays(&url_encode(&path), &path);
}

#[test]
fn ffmpeg_on_the_http_listener() {
    let server = Server::start(&media().origin);
    eprintln!("{}", check_ffmpeg(&server.http_port_url("movie.mp4"), "movie.mp4", &Expect::Whole, &[], &[]));
}

#[test]
fn rtmpdump_on_the_http_listener() {
    let server = Server::start(&media().origin);
    eprintln!("{}", check_rtmpdump(&server.http_port_url("movie.mp4"), "movie.mp4", &Expect::Whole, &[], &[0]));
}

#[test]
fn every_rtmp_listener_serves() {
    let server = Server::start_with(&media().origin, ServerOptions { extra_rtmp_listeners: 1, ..Default::default() });
    let second = format!("rtmp://127.0.0.1:{}/cfx/st/movie.mp4", server.rtmp_ports[1]);
    eprintln!("{}", check_ffmpeg(&server.url("movie.mp4"), "movie.mp4", &Expect::Whole, &[], &[]));
    eprintln!("{}", check_rtmpdump(&second, "movie.mp4", &Expect::Whole, &[], &[0]));
}

#[test]
fn rtmpdump_with_the_play_path_apart_connects_with_app_cfx() {
    // `rtmpdump -r rtmp://host/cfx/st -y mp4:movie.mp4`: librtmp keeps only `cfx` as the app
    // (`rtmpdump -V` prints "app : cfx", "tcUrl : rtmp://host/cfx"), as CloudFront's own
    // examples are written; `cfx` must mean `cfx/st`.
    let server = Server::start(&media().origin);
    let url = format!("rtmp://127.0.0.1:{}/cfx/st", server.rtmp_port());
    eprintln!("{}", check_rtmpdump(&url, "movie.mp4", &Expect::Whole, &["-y", "mp4:movie.mp4", "-V"], &[0]));
}
