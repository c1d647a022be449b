//! Many viewers at once: 20 simultaneous plays of different files, half ffmpeg (paced) and
//! half rtmpdump (bursting), every one packet-exact.

mod common;

use std::sync::Arc;

use common::*;

#[test]
fn twenty_simultaneous_viewers_all_exact() {
    let mut server = Server::start(&media().origin);
    // (file, ffmpeg path, rtmpdump path)
    let files: &[(&str, &str, &str)] = &[
        ("clip.mp4", "clip.mp4", "clip.mp4"),
        ("clip.flv", "clip.flv", "clip.flv"),
        ("clip_bframes.mp4", "clip_bframes.mp4", "clip_bframes.mp4"),
        ("cbr.mp3", "mp3:cbr", "mp3:cbr"),
        ("audio.m4a", "mp4:audio.m4a", "mp4:audio.m4a"),
        ("classic.flv", "classic.flv", "classic.flv"),
        ("clip_moovend.mp4", "clip_moovend.mp4", "clip_moovend.mp4"),
        ("sample.mp4", "sample.mp4", "sample.mp4"),
        ("clip_index.flv", "clip_index.flv", "clip_index.flv"),
        ("vbr.mp3", "mp3:vbr", "mp3:vbr"),
    ];
    // Compute the references first, so the clients start together.
    for (file, _, _) in files {
        source(file);
    }
    let urls: Vec<(String, String, bool)> = (0..20)
        .map(|i| {
            let (file, ff, rd) = files[i % files.len()];
            let use_ffmpeg = i % 2 == 0;
            // Shift the pairing so every file gets both clients.
            let (file, ff, rd) = if (i / files.len()) % 2 == 1 { files[(i + 1) % files.len()] } else { (file, ff, rd) };
            let url = server.url(if use_ffmpeg { ff } else { rd });
            (file.to_string(), url, use_ffmpeg)
        })
        .collect();
    let barrier = Arc::new(std::sync::Barrier::new(urls.len()));
    let jobs: Vec<Box<dyn FnOnce() -> String + Send>> = urls
        .into_iter()
        .map(|(file, url, use_ffmpeg)| {
            let barrier = barrier.clone();
            Box::new(move || {
                barrier.wait();
                let checked = if use_ffmpeg {
                    check_ffmpeg(&url, &file, &Expect::Whole, &[], &[])
                } else {
                    check_rtmpdump(&url, &file, &Expect::Whole, &[], &[0])
                };
                checked.summary
            }) as Box<dyn FnOnce() -> String + Send>
        })
        .collect();
    for line in parallel(jobs) {
        eprintln!("{line}");
    }
    server.assert_healthy();
}
