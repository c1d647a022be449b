//! The client side of the simple RTMP handshake: C0 (version 3) and C1 with a zero version
//! field (so servers answer with the plain handshake), then C2 echoing S1.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Size of C1, C2, S1 and S2.
pub const PACKET: usize = 1536;

/// Runs the handshake on `stream`. `seed` varies the random part of C1 between viewers.
pub async fn simple(stream: &mut TcpStream, seed: u64) -> std::io::Result<()> {
    let mut c0c1 = vec![0u8; 1 + PACKET];
    c0c1[0] = 3;
    // time (4 bytes) = 0, zero (4 bytes) = 0, then 1528 bytes of noise.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for byte in &mut c0c1[9..] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    stream.write_all(&c0c1).await?;

    let mut s0s1s2 = vec![0u8; 1 + 2 * PACKET];
    stream.read_exact(&mut s0s1s2).await?;
    if s0s1s2[0] != 3 {
        return Err(std::io::Error::other(format!(
            "server answered with RTMP version {}",
            s0s1s2[0]
        )));
    }
    // C2 echoes S1.
    stream.write_all(&s0s1s2[1..1 + PACKET]).await?;
    Ok(())
}
