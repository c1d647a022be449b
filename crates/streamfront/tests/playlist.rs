//! `play(name, start, len, reset = false)` appends to the stream's playlist, as Flash Media
//! Server did: the items play one after the other on one stream, with Play.Switch between
//! them and one continuous timeline.

mod common;

use std::time::{Duration, Instant};

use common::raw::{Amf, RawClient};
use common::*;

/// Plays `first` then (queued with reset=false) `second` on one stream; returns every
/// message received up to Play.Stop.
fn play_playlist(server: &Server, first: &str, second: &str) -> Vec<common::raw::Message> {
    let addr = server.rtmp_addr();
    let mut c = RawClient::connect(addr).unwrap();
    c.handshake().unwrap();
    let reply = c.connect_app("cfx/st", addr.port()).unwrap();
    assert_eq!(reply.name().as_deref(), Some("_result"));
    let sid = c.create_stream().unwrap();
    // A 10-hour buffer, as rtmpdump asks: no pacing wait in the test.
    let mut buffer = vec![0, 3];
    buffer.extend_from_slice(&sid.to_be_bytes());
    buffer.extend_from_slice(&36_000_000u32.to_be_bytes());
    c.send(2, 4, 0, &buffer).unwrap();
    let play = |name: &str, reset: bool| {
        vec![
            Amf::Str("play".into()),
            Amf::Num(0.0),
            Amf::Null,
            Amf::Str(name.into()),
            Amf::Num(0.0),
            Amf::Num(-1.0),
            Amf::Bool(reset),
        ]
    };
    c.send_command(8, sid, &play(first, true)).unwrap();
    c.send_command(8, sid, &play(second, false)).unwrap();
    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    c.read_until(deadline, |m| {
        let stop = m.name().as_deref() == Some("onStatus") && m.code().as_deref() == Some("NetStream.Play.Stop");
        messages.push(m.clone());
        stop
    })
    .unwrap_or_else(|e| panic!("playlist did not finish: {e}"));
    messages
}

#[test]
fn reset_false_queues_the_next_item_with_a_continuous_timeline() {
    let server = Server::start(&media().origin);
    let messages = play_playlist(&server, "clip", "mp4:clip.mp4");

    let codes: Vec<String> = messages.iter().filter_map(|m| m.code()).collect();
    let position =
        |code: &str| codes.iter().position(|c| c == code).unwrap_or_else(|| panic!("no {code} in {codes:?}"));
    assert_eq!(codes.iter().filter(|c| *c == "NetStream.Play.Reset").count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "NetStream.Play.Start").count(), 2, "{codes:?}");
    assert!(position("NetStream.Play.Switch") < position("NetStream.Play.Complete"), "{codes:?}");
    assert!(position("NetStream.Play.Complete") < position("NetStream.Play.Stop"), "{codes:?}");

    // Both items' media arrive, the second after the switch, and no timestamp goes back.
    let switch_at = messages.iter().position(|m| m.code().as_deref() == Some("NetStream.Play.Switch")).unwrap();
    let video = |range: &[common::raw::Message]| range.iter().filter(|m| m.type_id == 9).count();
    let flv_video = source("clip.flv").frames.tracks().unwrap()["video"].pkts.len();
    let mp4_video = source("clip.mp4").frames.tracks().unwrap()["video"].pkts.len();
    // +1 for each item's AVC sequence header; the FLV also ends with an AVC end-of-sequence
    // tag, forwarded like every tag (FFmpeg makes no packet of it).
    assert_eq!(video(&messages[..switch_at]), flv_video + 2, "first item's video");
    assert_eq!(video(&messages[switch_at..]), mp4_video + 1, "second item's video");
    for kind in [8u8, 9] {
        let stamps: Vec<u32> = messages.iter().filter(|m| m.type_id == kind).map(|m| m.timestamp).collect();
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "type {kind} timestamps go back: {stamps:?}");
    }
    let last_first_item = messages[..switch_at].iter().filter(|m| m.type_id == 9).map(|m| m.timestamp).max().unwrap();
    let first_second_item = messages[switch_at..].iter().filter(|m| m.type_id == 9).map(|m| m.timestamp).min().unwrap();
    assert!(first_second_item > last_first_item, "the second item continues the timeline");
    assert!(server.log().contains("play (next in playlist)"), "the switch is logged");
}
