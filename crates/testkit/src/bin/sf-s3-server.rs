//! `sf-s3-server`: the testkit's S3 server (s3s + s3s-fs, SigV4 checked) as a standalone
//! process, for benchmarks (`scripts/cachebench.sh`).
//!
//! ```sh
//! sf-s3-server --root DIR --listen 127.0.0.1:9000 [--latency-ms 20] [--log-requests]
//! ```
//!
//! Serves bucket `media` (the directory `DIR/media`) path-style, accepting only the testkit's
//! key: `AWS_ACCESS_KEY_ID=streamfront-test`,
//! `AWS_SECRET_ACCESS_KEY=streamfront-test-secret-0123456789`, `AWS_REGION=us-east-1`,
//! `AWS_ENDPOINT_URL=http://127.0.0.1:9000` (it prints these lines on stdout once listening).
//!
//! `--latency-ms N` delays every request by N ms before it is answered, to stand in for the
//! round trip to a real S3 region (the first byte of each response comes N ms later).
//! `--log-requests` prints one line per request on stderr: milliseconds since start, method,
//! path, `Range`.
//!
//! At start it stores an ETag (the MD5 of the content) for every object that has none, as a
//! PUT would have, so that s3s-fs does not hash the whole file on each request (which would
//! add milliseconds per request for large files and distort a benchmark).

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use md5::{Digest, Md5};
use sf_testkit::{ACCESS_KEY, BUCKET, REGION, SECRET_KEY};

#[derive(Debug, Parser)]
#[command(
    name = "sf-s3-server",
    about = "An S3 server (s3s + s3s-fs, SigV4) serving bucket `media` = DIR/media, for benchmarks",
    after_help = "Credentials: AWS_ACCESS_KEY_ID=streamfront-test \
                  AWS_SECRET_ACCESS_KEY=streamfront-test-secret-0123456789 AWS_REGION=us-east-1 \
                  (path-style requests; printed on stdout once listening)."
)]
struct Args {
    /// Directory served; bucket `media` is its subdirectory `media` (created if missing).
    #[arg(long)]
    root: PathBuf,
    /// Address to listen on (port 0: a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Milliseconds to wait before answering each request (an emulated S3 round trip).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Print each request on stderr (ms since start, method, path, Range).
    #[arg(long)]
    log_requests: bool,
    /// Runtime worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

fn main() {
    let args = Args::parse();
    let bucket_dir = args.root.join(BUCKET);
    if let Err(e) = std::fs::create_dir_all(&bucket_dir) {
        fail(&format!("creating {}: {e}", bucket_dir.display()));
    }
    match store_etags(&args.root, &bucket_dir) {
        Ok(n) if n > 0 => eprintln!("sf-s3-server: stored the ETags of {n} objects"),
        Ok(_) => {}
        Err(e) => fail(&format!("storing ETags under {}: {e}", args.root.display())),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .thread_name("sf-s3-server")
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    runtime.block_on(serve(args));
}

fn fail(message: &str) -> ! {
    eprintln!("sf-s3-server: {message}");
    std::process::exit(1);
}

async fn serve(args: Args) {
    let fs = s3s_fs::FileSystem::new(&args.root)
        .unwrap_or_else(|e| fail(&format!("s3s-fs over {}: {e:?}", args.root.display())));
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .unwrap_or_else(|e| fail(&format!("bind {}: {e}", args.listen)));
    let addr = listener.local_addr().unwrap_or_else(|e| fail(&format!("local address: {e}")));
    println!("AWS_ACCESS_KEY_ID={ACCESS_KEY}");
    println!("AWS_SECRET_ACCESS_KEY={SECRET_KEY}");
    println!("AWS_REGION={REGION}");
    println!("AWS_ENDPOINT_URL=http://{addr}");
    println!("BUCKET={BUCKET}");
    eprintln!(
        "sf-s3-server: bucket {BUCKET} = {} on http://{addr}, {} ms added per request",
        args.root.join(BUCKET).display(),
        args.latency_ms
    );
    let latency = Duration::from_millis(args.latency_ms);
    let log = args.log_requests;
    let started = Arc::new(Instant::now());
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors and the like: wait, do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let started = Arc::clone(&started);
        tokio::spawn(async move {
            let handler = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                if log {
                    eprintln!("{}", describe(&request, started.elapsed()));
                }
                let service = service.clone();
                async move {
                    if !latency.is_zero() {
                        tokio::time::sleep(latency).await;
                    }
                    hyper::service::Service::call(&service, request).await
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), handler).await;
        });
    }
}

/// `12.345 GET /media/bench.mp4 bytes=0-1048575`
fn describe(request: &hyper::Request<hyper::body::Incoming>, at: Duration) -> String {
    let range = request.headers().get(hyper::header::RANGE).and_then(|v| v.to_str().ok()).unwrap_or("-");
    format!("{:.3} {} {} {range}", at.as_secs_f64() * 1000.0, request.method(), request.uri().path())
}

/// Writes s3s-fs's sidecar `{"e_tag": MD5}` for every object under `bucket_dir` without one
/// (what s3s-fs stores on PUT). Returns how many it wrote.
fn store_etags(root: &Path, bucket_dir: &Path) -> std::io::Result<usize> {
    let mut written = 0;
    let mut dirs = vec![bucket_dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                dirs.push(path);
                continue;
            }
            let regular = kind.is_file() || (kind.is_symlink() && path.is_file());
            if !regular {
                continue;
            }
            let Ok(rel) = path.strip_prefix(bucket_dir) else {
                continue;
            };
            let Some(key) = rel.to_str() else { continue };
            if key.split('/').any(|part| part.starts_with('.')) {
                continue;
            }
            if sf_testkit::etag_sidecar_path(root, key).exists() {
                continue;
            }
            let mut hasher = Md5::new();
            let mut file = std::fs::File::open(&path)?;
            std::io::copy(&mut file, &mut HashWriter(&mut hasher))?;
            let etag: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
            sf_testkit::write_etag_sidecar(root, key, &etag)?;
            written += 1;
        }
    }
    Ok(written)
}

struct HashWriter<'a>(&'a mut Md5);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
