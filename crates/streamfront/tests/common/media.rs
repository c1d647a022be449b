//! Test media, generated with ffmpeg's lavfi sources (deterministic flags) into a cache
//! directory under cargo's target temp dir, keyed by a hash of the recipes and the ffmpeg
//! version, so every test process of a run (and later runs) reuse one copy.
//!
//! The origin directory served in the tests looks like this:
//! ```text
//! origin/clip.mp4 clip_moovend.mp4 clip_bframes.mp4 audio.m4a video_only.mp4 clip.mov clip.f4v
//!        clip.flv clip_index.flv classic.flv cbr.mp3 vbr.mp3 long.mp4 sample.mp4
//!        movie.mp4 dir/movie.mp4 dir/clip.flv dir/sub/movie.mp4            (movie = clip_bframes)
//!        My Videos/Café Ünïcode 日本.mp4  dir/My Videos/Café Ünïcode 日本.mp4  (movie)
//!        Vidéos/日本語.mp4                                                    (movie)
//! outside.mp4 outside.flv      (next to origin/: must never be reachable)
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::framemd5::FrameMd5;
use super::{INSTALL_HINT, require_tool, run};

/// Seconds of every short clip.
pub const CLIP_SECONDS: f64 = 5.0;
/// Key frame interval of the short H.264 clips (30 frames at 25 fps): key frames at
/// 0, 1.2, 2.4, 3.6, 4.8 s, so seek targets at whole and half seconds are never near one.
pub const CLIP_GOP_SECONDS: f64 = 1.2;
/// Length of `long.mp4`.
pub const LONG_SECONDS: f64 = 600.0;
/// Key frame interval of `long.mp4` (35 frames at 5 fps): ..., 294, 301, ... s.
pub const LONG_GOP_SECONDS: f64 = 7.0;

/// The subfolder/space/non-ASCII file, relative to the origin.
pub const UNICODE_DIR: &str = "My Videos";
pub const UNICODE_FILE: &str = "Café Ünïcode 日本.mp4";
/// Non-ASCII without spaces (ffmpeg cannot put a space in a URL's play path: it splits
/// librtmp-style options at spaces).
pub const NON_ASCII_PATH: &str = "Vidéos/日本語.mp4";

fn video_input(size: &str, fps: u32, secs: f64) -> Vec<String> {
    strings(&["-f", "lavfi", "-i", &format!("testsrc2=size={size}:rate={fps}:duration={secs}")])
}

/// A chirp, so consecutive audio frames differ (a plain sine gives repeated packets, which
/// would hide reordering or off-by-one errors).
fn audio_input(rate: u32, sweep: u32, secs: f64) -> Vec<String> {
    strings(&["-f", "lavfi", "-i", &format!("aevalsrc=sin(2*PI*(300+{sweep}*t)*t):s={rate}:d={secs}")])
}

fn h264(gop: u32, bframes: u32) -> Vec<String> {
    strings(&[
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-threads",
        "1",
        "-g",
        &gop.to_string(),
        "-keyint_min",
        &gop.to_string(),
        "-sc_threshold",
        "0",
        "-bf",
        &bframes.to_string(),
        "-pix_fmt",
        "yuv420p",
    ])
}

fn aac(bitrate: &str) -> Vec<String> {
    strings(&["-c:a", "aac", "-b:a", bitrate, "-ac", "1"])
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

const BITEXACT: &[&str] = &["-fflags", "+bitexact", "-map_metadata", "-1"];
const FASTSTART: &[&str] = &["-movflags", "+faststart"];

/// (file name, ffmpeg arguments between `ffmpeg -v error -y` and the output path).
fn recipes() -> Vec<(&'static str, Vec<String>)> {
    let s = CLIP_SECONDS;
    let av = |extra: &[&str], bframes: u32| -> Vec<String> {
        let mut a = video_input("160x120", 25, s);
        a.extend(audio_input(44100, 200, s));
        a.extend(h264(30, bframes));
        a.extend(aac("48k"));
        a.extend(strings(BITEXACT));
        a.extend(strings(extra));
        a
    };
    let mut out = vec![
        ("clip.mp4", av(FASTSTART, 0)),
        ("clip_moovend.mp4", av(&[], 0)),
        ("clip_bframes.mp4", av(FASTSTART, 2)),
        ("clip.mov", av(&["-f", "mov"], 0)),
        ("clip.f4v", av(&["-f", "f4v"], 0)),
        ("clip.flv", av(&["-f", "flv"], 0)),
        ("clip_index.flv", av(&["-f", "flv", "-flvflags", "add_keyframe_index"], 0)),
    ];
    out.push(("audio.m4a", {
        let mut a = audio_input(44100, 200, s);
        a.extend(aac("48k"));
        a.extend(strings(BITEXACT));
        a.extend(strings(FASTSTART));
        a
    }));
    out.push(("video_only.mp4", {
        let mut a = video_input("160x120", 25, s);
        a.extend(h264(30, 0));
        a.extend(strings(BITEXACT));
        a.extend(strings(FASTSTART));
        a
    }));
    out.push(("classic.flv", {
        let mut a = video_input("160x120", 25, s);
        a.extend(audio_input(44100, 200, s));
        a.extend(strings(&["-c:v", "flv1", "-q:v", "6", "-g", "30"]));
        a.extend(strings(&["-c:a", "libmp3lame", "-b:a", "64k", "-ar", "44100", "-ac", "1"]));
        a.extend(strings(BITEXACT));
        a.extend(strings(&["-f", "flv"]));
        a
    }));
    out.push(("cbr.mp3", {
        // CBR with LAME's Info frame and an ID3v1 tag at the end.
        let mut a = audio_input(44100, 200, s);
        a.extend(strings(&["-c:a", "libmp3lame", "-b:a", "64k", "-ac", "1"]));
        a.extend(strings(BITEXACT));
        a.extend(strings(&["-id3v2_version", "0", "-write_id3v1", "1", "-metadata", "title=CBR test"]));
        a
    }));
    out.push(("vbr.mp3", {
        // VBR with a Xing frame and an ID3v2.3 tag in front.
        let mut a = audio_input(44100, 200, s);
        a.extend(strings(&["-c:a", "libmp3lame", "-q:a", "4", "-ac", "1"]));
        a.extend(strings(BITEXACT));
        a.extend(strings(&["-id3v2_version", "3", "-metadata", "title=VBR test", "-metadata", "artist=streamfront"]));
        a
    }));
    out.push(("long.mp4", {
        let mut a = video_input("64x48", 5, LONG_SECONDS);
        a.extend(audio_input(8000, 2, LONG_SECONDS));
        a.extend(h264(35, 0));
        a.extend(aac("16k"));
        a.extend(strings(BITEXACT));
        a.extend(strings(FASTSTART));
        a
    }));
    out
}

/// The committed sample clip, `media/sample.mp4` at the repository root.
pub fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../media/sample.mp4")
}

fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// The generated media set.
pub struct Media {
    /// The directory given to `--origin`.
    pub origin: PathBuf,
    /// The origin's parent directory, holding `outside.mp4` and `outside.flv`, which
    /// traversal attempts aim at.
    pub outside_dir: PathBuf,
}

/// Generates (once per cache key) and returns the media set.
pub fn media() -> &'static Media {
    static MEDIA: OnceLock<Media> = OnceLock::new();
    MEDIA.get_or_init(build_media)
}

fn ffmpeg_version() -> String {
    let r = run(
        {
            let mut c = Command::new("ffmpeg");
            c.arg("-version");
            c
        },
        Duration::from_secs(30),
    );
    r.stdout_text().lines().next().unwrap_or_default().to_string()
}

fn build_media() -> Media {
    require_tool("ffmpeg");
    require_tool("ffprobe");
    let sample = sample_path();
    let sample_bytes = fs::read(&sample).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the sample clip is committed in the repository (regenerate it with \
             scripts/make-sample.sh)",
            sample.display()
        )
    });
    let recipes = recipes();
    let mut key = 0xcbf2_9ce4_8422_2325u64;
    fnv1a(&mut key, b"streamfront-it-media-v3");
    fnv1a(&mut key, ffmpeg_version().as_bytes());
    for (name, args) in &recipes {
        fnv1a(&mut key, name.as_bytes());
        for a in args {
            fnv1a(&mut key, a.as_bytes());
            fnv1a(&mut key, b"\0");
        }
    }
    fnv1a(&mut key, &sample_bytes);

    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sf-media");
    fs::create_dir_all(&base).unwrap();
    let root = base.join(format!("{key:016x}"));
    if !root.join("complete").exists() {
        let tmp = base.join(format!("{key:016x}.tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        let origin = tmp.join("origin");
        fs::create_dir_all(&origin).unwrap();
        // Generate two at a time: ffmpeg is single-threaded here and the machine small.
        let chunks: Vec<Vec<(&'static str, Vec<String>)>> =
            recipes.chunks(recipes.len().div_ceil(2)).map(|c| c.to_vec()).collect();
        std::thread::scope(|scope| {
            for chunk in chunks {
                let origin = origin.clone();
                scope.spawn(move || {
                    for (name, args) in chunk {
                        let mut cmd = Command::new("ffmpeg");
                        cmd.args(["-nostdin", "-v", "error", "-y"]).args(&args).arg(origin.join(name));
                        let r = run(cmd, Duration::from_secs(300));
                        assert!(r.success(), "generating {name} failed: {}\n{INSTALL_HINT}", r.describe());
                    }
                });
            }
        });
        fs::write(origin.join("sample.mp4"), &sample_bytes).unwrap();
        let unicode = format!("{UNICODE_DIR}/{UNICODE_FILE}");
        let unicode_deep = format!("dir/{UNICODE_DIR}/{UNICODE_FILE}");
        // The URL-form tests play `movie.mp4` (a copy of the B-frame clip) under several
        // names and folders.
        for (src, dst) in [
            ("clip_bframes.mp4", "movie.mp4"),
            ("clip_bframes.mp4", "dir/movie.mp4"),
            ("clip.flv", "dir/clip.flv"),
            ("clip_bframes.mp4", "dir/sub/movie.mp4"),
            ("clip_bframes.mp4", unicode.as_str()),
            ("clip_bframes.mp4", unicode_deep.as_str()),
            ("clip_bframes.mp4", NON_ASCII_PATH),
            ("clip.mp4", "../outside.mp4"),
            ("clip.flv", "../outside.flv"),
        ] {
            let to = origin.join(dst);
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::copy(origin.join(src), &to).unwrap();
        }
        fs::write(tmp.join("complete"), b"").unwrap();
        // Another test process may have finished the same set first: keep whichever landed.
        if fs::rename(&tmp, &root).is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        assert!(root.join("complete").exists(), "media cache {} incomplete", root.display());
        // Drop sets made by older recipes or ffmpeg versions a day ago or more (not newer
        // ones: another checkout's tests may be using them right now).
        for entry in fs::read_dir(&base).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            if name != format!("{key:016x}") && age.is_some_and(|a| a > Duration::from_secs(86_400)) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    Media { origin: root.join("origin"), outside_dir: root.clone() }
}

/// The reference for one source file: what `ffmpeg -i FILE -c copy -f framemd5 -` prints,
/// plus the key-frame flag of every video packet (from ffprobe).
pub struct Source {
    pub name: String,
    pub path: PathBuf,
    pub frames: FrameMd5,
}

/// The reference of a file in the origin (computed once per process).
pub fn source(name: &str) -> Arc<Source> {
    static CACHE: OnceLock<Mutex<std::collections::HashMap<String, Arc<Source>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache.lock().unwrap().get(name) {
        return s.clone();
    }
    let path = media().origin.join(name);
    assert!(path.exists(), "no such test file {}", path.display());
    let frames = framemd5_of_file(&path);
    let src = Arc::new(Source { name: name.to_string(), path, frames });
    cache.lock().unwrap().insert(name.to_string(), src.clone());
    src
}

/// The reference of a file outside the generated set (e.g. a large file a test made), under
/// the name `name` in failure messages. Not cached: compute it once.
pub fn source_at(name: &str, path: &Path) -> Arc<Source> {
    let frames = framemd5_of_file(path);
    Arc::new(Source { name: name.to_string(), path: path.to_path_buf(), frames })
}

fn framemd5_of_file(path: &Path) -> FrameMd5 {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-i"]).arg(path).args(["-c", "copy", "-f", "framemd5", "-"]);
    let r = run(cmd, Duration::from_secs(120));
    assert!(r.success(), "framemd5 of {} failed: {}", path.display(), r.describe());
    let mut fm = FrameMd5::parse(&r.stdout_text()).unwrap_or_else(|e| panic!("framemd5 of {}: {e}", path.display()));

    // Key-frame flags per media type, in demux order (the per-stream order framemd5 keeps;
    // its stream numbering is ffmpeg's output order, so match streams by media type).
    let mut cmd = Command::new("ffprobe");
    cmd.args(["-v", "error", "-show_entries", "stream=index,codec_type:packet=stream_index,flags", "-of", "csv=p=1"])
        .arg(path);
    let r = run(cmd, Duration::from_secs(120));
    assert!(r.success(), "ffprobe of {} failed: {}", path.display(), r.describe());
    let text = r.stdout_text();
    let mut types: std::collections::HashMap<String, String> = Default::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() >= 3 && f[0] == "stream" {
            types.insert(f[1].to_string(), f[2].to_string());
        }
    }
    let mut flags: std::collections::HashMap<String, Vec<bool>> = Default::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() >= 3 && f[0] == "packet" {
            let ty =
                types.get(f[1]).unwrap_or_else(|| panic!("ffprobe {}: unknown stream in {line:?}", path.display()));
            flags.entry(ty.clone()).or_default().push(f[2].starts_with('K'));
        }
    }
    for st in &fm.streams {
        let n = fm.packets.iter().filter(|p| p.stream == st.index).count();
        let k = flags.get(&st.media_type).map_or(0, |f| f.len());
        assert_eq!(k, n, "{}: ffprobe lists {k} {} packets, framemd5 {n}", path.display(), st.media_type);
    }
    let mut seen: std::collections::HashMap<usize, usize> = Default::default();
    for p in &mut fm.packets {
        let ty = &fm.streams[p.stream].media_type;
        let i = seen.entry(p.stream).or_default();
        p.key = flags[ty][*i];
        *i += 1;
    }
    fm
}
