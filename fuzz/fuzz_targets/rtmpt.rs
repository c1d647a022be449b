//! The RTMPT request path: arbitrary bytes as HTTP requests on the HTTP listener (hyper's
//! parsing, our routing, tunnel sessions, and RTMP bytes in /send bodies). `{id}` in the
//! input is replaced by the id of a session opened before, so the fuzzer reaches the tunnel
//! logic, not only the 404 path.
#![no_main]

use std::net::SocketAddr;
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
                max_connections: 16,
                timeouts: Default::default(),
                tunnels: Default::default(),
                session: Default::default(),
            };
            Edge::new(config, origin)
        });
        World { runtime, edge }
    })
}

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

/// Sends `request` over an in-memory connection and returns the raw response bytes.
async fn exchange(edge: &Arc<Edge>, request: Vec<u8>) -> Vec<u8> {
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let serving = tokio::spawn(sf_edge::http::serve(Arc::clone(edge), server, peer(), BytesMut::new()));
    let _ = client.write_all(&request).await;
    let _ = client.shutdown().await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), client.read_to_end(&mut response)).await;
    serving.abort();
    response
}

fuzz_target!(|data: &[u8]| {
    let world = world();
    world.runtime.block_on(async {
        let open = exchange(&world.edge, b"POST /open/1 HTTP/1.1\r\nContent-Length: 1\r\n\r\n\0".to_vec()).await;
        let text = String::from_utf8_lossy(&open);
        let id = text.rsplit("\r\n\r\n").next().unwrap_or("").trim().to_owned();
        let mut request = Vec::with_capacity(data.len() + 32);
        let mut rest = data;
        while let Some(at) = rest.windows(4).position(|w| w == b"{id}") {
            request.extend_from_slice(&rest[..at]);
            request.extend_from_slice(id.as_bytes());
            rest = &rest[at + 4..];
        }
        request.extend_from_slice(rest);
        let response = exchange(&world.edge, request).await;
        // Whatever came back is HTTP; the server never answers with anything else.
        assert!(response.is_empty() || response.starts_with(b"HTTP/1."), "non-HTTP response");
        let _ =
            exchange(&world.edge, format!("POST /close/{id}/9 HTTP/1.1\r\nContent-Length: 1\r\n\r\n\0").into_bytes())
                .await;
    });
});
