//! Syslog over TCP, TLS and UDP.
//!
//! Delivery: syslog has no application-level acknowledgment, so "acknowledged" here means
//! read from the socket. We stop reading a TCP/TLS connection while its frames are being
//! written to the bus (TCP flow control pushes back on the sender) and write each read's frames
//! as one acknowledged batch before reading more; on a bus outage we keep retrying, still not
//! reading. A connection's last message without a trailing newline is flushed at EOF. Plain
//! TCP and UDP can still lose what a crash catches in flight: use TLS with octet counting and
//! sender-side queues (rsyslog's disk-assisted queues) where that matters.
//!
//! Project of a message: an API key in RFC 5424 structured data (`[nexuslog@<PEN> key="..."]`),
//! else the TLS client certificate's common name as a project slug, else the listener's default
//! project. Messages with none, or with a bad key, are refused: counted and dead-lettered.

mod listener;
mod project;

pub use listener::{run_stream_listener, run_udp_listener, SyslogContext};
pub use project::{ProjectResolver, DEFAULT_PROJECT_CACHE_TTL};
