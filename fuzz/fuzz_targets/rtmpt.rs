//! The RTMPT request path: arbitrary bytes as HTTP requests on the HTTP listener (hyper's
//! parsing, our routing, tunnel sessions, and RTMP bytes in /send bodies). `{id}` in the
//! input is replaced by the id of a session opened before, so the fuzzer reaches the tunnel
//! logic, not only the 404 path. Every session an input opened is closed before the next
//! input, and each input comes from its own client address, so the per-client and total
//! session limits never fill up across inputs (which left only the refusal path to exercise).
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sf_cache::{CacheConfig, EdgeCache, LocalOrigin, Origin};
use sf_edge::{Edge, EdgeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    runtime: tokio::runtime::Runtime,
    edge: Arc<Edge>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let media = std::env::temp_dir().join("streamfront-fuzz-media");
        std::fs::create_dir_all(&media).unwrap();
        let edge = runtime.block_on(async {
            let origin = EdgeCache::new(CacheConfig::default()).origin_cache(Origin::Local(LocalOrigin::new(media)));
            let config = EdgeConfig {
                rtmp_listen: vec![],
                http_listen: vec![],
                admin_listen: vec![],
                https_listen: vec![],
                tls: None,
                max_connections: 16,
                timeouts: Default::default(),
                tunnels: Default::default(),
                session: Default::default(),
                key_pairs: Default::default(),
                hls_segment_seconds: 6,
            };
            Edge::new(config, origin)
        });
        World { runtime, edge }
    })
}

/// A client address of its own for each input: 10.x.y.z.
fn next_peer() -> SocketAddr {
    static INPUTS: AtomicU32 = AtomicU32::new(0);
    let n = INPUTS.fetch_add(1, Ordering::Relaxed) & 0x00FF_FFFF;
    SocketAddr::from((Ipv4Addr::from(0x0A00_0000 | n), 40000))
}

/// Ends every exchange: hyper answers it and closes the connection, so the client knows when
/// it has every response. (Shutting down the client's write side instead would make hyper
/// drop the connection at the EOF, before it answers.)
const LAST_REQUEST: &[u8] = b"GET /crossdomain.xml HTTP/1.1\r\nConnection: close\r\n\r\n";

/// Sends `request` over an in-memory connection and returns the raw response bytes.
async fn exchange(edge: &Arc<Edge>, peer: SocketAddr, mut request: Vec<u8>) -> Vec<u8> {
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let serving = tokio::spawn(sf_edge::http::serve(Arc::clone(edge), server, sf_edge::http::Viewer::plain(peer), BytesMut::new()));
    request.extend_from_slice(LAST_REQUEST);
    let _ = client.write_all(&request).await;
    let mut response = Vec::new();
    // An input that leaves hyper waiting (a body shorter than its Content-Length) ends here.
    let _ = tokio::time::timeout(Duration::from_secs(2), client.read_to_end(&mut response)).await;
    serving.abort();
    response
}

/// Every session id (32 hex digits) in `responses`.
fn session_ids(responses: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(responses);
    text.split(|c: char| !c.is_ascii_hexdigit()).filter(|t| t.len() == 32).map(str::to_owned).collect()
}

/// The session id in the response to `POST /open/1`: the first body's hex digits.
fn session_id(response: &[u8]) -> String {
    let text = String::from_utf8_lossy(response);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    body.chars().take_while(char::is_ascii_hexdigit).collect()
}

fuzz_target!(|data: &[u8]| {
    let world = world();
    let edge = &world.edge;
    let peer = next_peer();
    world.runtime.block_on(async {
        let open = exchange(edge, peer, b"POST /open/1 HTTP/1.1\r\nContent-Length: 1\r\n\r\n\0".to_vec()).await;
        let id = session_id(&open);
        assert_eq!(id.len(), 32, "POST /open/1 got no session: {:?}", String::from_utf8_lossy(&open));
        let mut request = Vec::with_capacity(data.len() + 32);
        let mut rest = data;
        while let Some(at) = rest.windows(4).position(|w| w == b"{id}") {
            request.extend_from_slice(&rest[..at]);
            request.extend_from_slice(id.as_bytes());
            rest = &rest[at + 4..];
        }
        request.extend_from_slice(rest);
        let response = exchange(edge, peer, request).await;
        // Whatever came back is HTTP; the server never answers with anything else.
        assert!(response.is_empty() || response.starts_with(b"HTTP/1."), "non-HTTP response");
        // Close our session and every one the input opened (their ids are in its responses),
        // so that the next input starts from an empty registry. The highest sequence number
        // is newer than any the input used.
        let mut ids = vec![id];
        ids.extend(session_ids(&response));
        for id in ids {
            let close = format!("POST /close/{id}/{} HTTP/1.1\r\nContent-Length: 1\r\n\r\n\0", u64::MAX);
            let _ = exchange(edge, peer, close.into_bytes()).await;
        }
        // A session leaves the registry when its task ends, just after it answers.
        for _ in 0..1000 {
            if edge.stats.rtmpt_sessions.load(Ordering::Relaxed) == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        let open = edge.stats.rtmpt_sessions.load(Ordering::Relaxed);
        assert_eq!(open, 0, "tunnel sessions left open after closing every one");
    });
});
