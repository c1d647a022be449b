//! CloudFront's access logs: records in the formats CloudFront writes ([`record`]), gzip
//! files named by distribution and hour ([`file`]), a disk spool that survives crashes and
//! unreachable buckets ([`spool`]), and the service that writes and delivers them
//! ([`service`]). The formats and names are pure; only the spool and the service do I/O.

pub mod escape;
pub mod file;
pub mod record;
pub mod service;
pub mod spool;

pub use file::LogTarget;
pub use record::{ConnectFields, LogKind, Record, StreamFields, StreamingEvent, StreamingRecord, WebRecord};
pub use service::{AccessLogs, LogSettings, LogStats, Service, start};
