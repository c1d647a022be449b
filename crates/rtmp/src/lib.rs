//! The RTMP protocol core of streamfront, sans-IO: bytes and the current time go in, bytes to
//! send and events come out. No sockets, no clock reads, no async.
//!
//! ```text
//!  socket bytes ─▶ handshake ─▶ [RC4 decrypt] ─▶ ChunkReader ─▶ Message ─▶ ServerSession ─▶ Event
//!  socket bytes ◀─ [RC4 encrypt] ◀─ ChunkWriter ◀─ Message ◀─ ServerSession ◀─ method calls
//! ```
//!
//! - [`handshake`]: C0/C1/C2 ⇄ S0/S1/S2, simple, digest (scheme 0 and 1) and RTMPE (types 6,
//!   8, 9: Diffie-Hellman + RC4).
//! - [`chunk`]: the chunk stream, both directions.
//! - [`message`]: message type ids, protocol control and user control messages.
//! - [`session`]: the server side of NetConnection/NetStream for video on demand.

#![forbid(unsafe_code)]

pub mod chunk;
pub mod handshake;
pub mod message;
pub mod session;
