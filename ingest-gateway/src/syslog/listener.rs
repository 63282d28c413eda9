//! The accept loops and the per-connection read loop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nexuslog_common::shutdown::Shutdown;
use nexuslog_schemas::SourceKind;
use nexuslog_syslog::Framer;
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use nexuslog_tls::ReloadingAcceptor;

use super::project::{NoProject, ProjectResolver};
use crate::ingest::{Event, Ingest, Refused};

/// Most frames written to the bus in one batch from one connection.
const MAX_BATCH_FRAMES: usize = 5_000;

/// Most datagrams written to the bus in one batch by the UDP listener.
const MAX_UDP_BATCH_FRAMES: usize = 1_000;

/// What every syslog listener shares.
pub struct SyslogContext {
    pub ingest: Ingest,
    pub projects: ProjectResolver,
    pub max_message: usize,
    /// A batch stops growing once its frames hold this many bytes (it may pass it by what one
    /// socket read held), so one connection holds at most about this much before a bus write,
    /// not `MAX_BATCH_FRAMES` maximal messages (hundreds of MiB).
    pub max_batch_bytes: usize,
    pub idle_timeout: Duration,
    pub connections: Arc<Semaphore>,
}

/// One read's worth of frames, turned into events and refusals.
async fn classify(ctx: &SyslogContext, listener: &'static str, frames: Vec<Vec<u8>>, peer_name: Option<&str>) -> (Vec<Event>, Vec<Refused>) {
    let mut events = Vec::with_capacity(frames.len());
    let mut refused = Vec::new();
    let now = nexuslog_common::now_micros();
    for frame in frames {
        metrics::counter!("nexuslog_syslog_messages_total", "listener" => listener).increment(1);
        metrics::counter!("nexuslog_syslog_bytes_total", "listener" => listener).increment(frame.len() as u64);
        let msg = match nexuslog_syslog::parse_strict(&frame, now) {
            Ok(m) => m,
            Err(e) => {
                metrics::counter!("nexuslog_syslog_parse_failures_total", "listener" => listener).increment(1);
                refused.push(Refused { project_id: None, reason: format!("not a syslog message: {e}"), error_kind: "invalid_syslog", original: frame });
                continue;
            }
        };
        match ctx.projects.resolve(&msg, peer_name).await {
            Ok(project_id) => {
                let metadata = [("syslog.listener".to_owned(), listener.to_owned())].into_iter().collect();
                events.push(Event { ingest_id: nexuslog_common::new_ingest_id(), project_id, payload: frame, metadata });
            }
            Err(why) => {
                metrics::counter!("nexuslog_syslog_refused_total", "listener" => listener).increment(1);
                let kind = if why == NoProject::BadKey { "invalid_api_key" } else { "no_project" };
                refused.push(Refused { project_id: None, reason: why.reason().to_owned(), error_kind: kind, original: frame });
            }
        }
    }
    (events, refused)
}

/// Writes a batch, retrying until it is acknowledged or shutdown; returns false on shutdown.
async fn deliver(ctx: &SyslogContext, listener: &'static str, peer: &str, frames: Vec<Vec<u8>>, peer_name: Option<&str>, shutdown: &Shutdown) -> bool {
    if frames.is_empty() {
        return true;
    }
    metrics::histogram!("nexuslog_syslog_batch_bytes", "listener" => listener).record(frames.iter().map(Vec::len).sum::<usize>() as f64);
    let (events, refused) = classify(ctx, listener, frames, peer_name).await;
    let (accepted, rejected) = (events.len() as u64, refused.len() as u64);
    // Events first, then dead letters; each part is written once: after the events are
    // acknowledged a dead-letter failure retries only the dead letters (re-sending the events
    // would duplicate them).
    let mut events = Some(events);
    let mut backoff = Duration::from_millis(100);
    loop {
        let result = match events.take() {
            Some(batch) => match ctx.ingest.send(SourceKind::Syslog, Some(peer), batch.clone()).await {
                Ok(_) => {
                    metrics::counter!("nexuslog_gateway_events_accepted_total", "source" => "syslog").increment(accepted);
                    ctx.ingest.dead_letter(refused.clone()).await
                }
                Err(e) => {
                    events = Some(batch);
                    Err(e)
                }
            },
            None => ctx.ingest.dead_letter(refused.clone()).await,
        };
        match result {
            Ok(()) => {
                metrics::counter!("nexuslog_gateway_events_rejected_total", "source" => "syslog").increment(rejected);
                return true;
            }
            Err(e) => tracing::warn!(error = %e, listener, "cannot write syslog batch; retrying (not reading meanwhile)"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shutdown.wait() => return false,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Reads one connection until EOF, idle timeout or shutdown.
async fn serve_connection<S: AsyncRead + Unpin>(
    ctx: &SyslogContext,
    listener: &'static str,
    mut stream: S,
    peer: String,
    peer_name: Option<String>,
    shutdown: &Shutdown,
) {
    let mut framer = Framer::new(ctx.max_message);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // Backpressure: while the pipeline is behind, the socket is not read and the sender
        // is slowed by TCP flow control instead of by growing the backlog.
        if !ctx.ingest.backlog().wait_below(shutdown).await {
            break;
        }
        let read = tokio::select! {
            r = tokio::time::timeout(ctx.idle_timeout, stream.read(&mut buf)) => r,
            () = shutdown.wait() => break,
        };
        let n = match read {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, peer, "syslog connection error");
                break;
            }
            Err(_idle) => {
                tracing::debug!(peer, "closing idle syslog connection");
                break;
            }
        };
        framer.push(&buf[..n]);
        let mut frames = Vec::new();
        let mut bytes = 0;
        let mut refused = Vec::new();
        let mut eof = false;
        loop {
            while let Some(frame) = framer.next_frame() {
                match frame {
                    Ok(f) => {
                        bytes += f.len();
                        frames.push(f);
                    }
                    Err(e) => refused.push(Refused { project_id: None, reason: e.to_string(), error_kind: "bad_frame", original: Vec::new() }),
                }
            }
            // Take what the socket already holds, so one bus write covers many reads: a busy
            // sender then gets large batches, a quiet one is not delayed.
            if frames.len() >= MAX_BATCH_FRAMES || bytes >= ctx.max_batch_bytes {
                break;
            }
            match stream.read(&mut buf).now_or_never() {
                Some(Ok(0)) => {
                    eof = true;
                    break;
                }
                Some(Ok(n)) => framer.push(&buf[..n]),
                Some(Err(_)) | None => break,
            }
        }
        if !refused.is_empty() {
            metrics::counter!("nexuslog_syslog_parse_failures_total", "listener" => listener).increment(refused.len() as u64);
            if let Err(e) = ctx.ingest.dead_letter(refused).await {
                tracing::warn!(error = %e, "cannot dead-letter bad frames");
            }
        }
        if !deliver(ctx, listener, &peer, frames, peer_name.as_deref(), shutdown).await {
            return;
        }
        if eof {
            break;
        }
    }
    // The tail of the stream: a last message without a newline is still a message.
    if let Some(tail) = framer.finish() {
        deliver(ctx, listener, &peer, vec![tail], peer_name.as_deref(), shutdown).await;
    }
}

/// Accepts TCP (or, with `tls`, TLS) connections until shutdown.
pub async fn run_stream_listener(listener: TcpListener, tls: Option<Arc<ReloadingAcceptor>>, ctx: Arc<SyslogContext>, shutdown: Shutdown) {
    let name: &'static str = if tls.is_some() { "tls" } else { "tcp" };
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = shutdown.wait() => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, listener = name, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = ctx.connections.clone().try_acquire_owned() else {
            metrics::counter!("nexuslog_syslog_connections_refused_total", "listener" => name).increment(1);
            tracing::warn!(listener = name, %peer, "too many syslog connections; refusing");
            continue;
        };
        metrics::counter!("nexuslog_syslog_connections_total", "listener" => name).increment(1);
        let (ctx, shutdown, tls) = (ctx.clone(), shutdown.clone(), tls.as_ref().map(|t| t.acceptor()));
        tokio::spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            match tls {
                None => serve_connection(&ctx, name, stream, peer.to_string(), None, &shutdown).await,
                Some(acceptor) => match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => {
                        let peer_name = nexuslog_tls::peer_common_name(tls_stream.get_ref().1);
                        serve_connection(&ctx, name, tls_stream, peer.to_string(), peer_name, &shutdown).await;
                    }
                    Ok(Err(e)) => tracing::info!(error = %e, %peer, "TLS handshake failed"),
                    Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                },
            }
        });
    }
}

/// Receives UDP datagrams (one message each) until shutdown, batching what is queued.
pub async fn run_udp_listener(socket: UdpSocket, ctx: Arc<SyslogContext>, shutdown: Shutdown) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let first = tokio::select! {
            r = socket.recv_from(&mut buf) => r,
            () = shutdown.wait() => break,
        };
        let (n, peer): (usize, SocketAddr) = match first {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "udp receive failed");
                continue;
            }
        };
        let mut frames = vec![trim_datagram(&buf[..n], ctx.max_message)];
        let mut bytes = frames[0].len();
        // Take whatever else is already queued, so one bus write covers many datagrams.
        while frames.len() < MAX_UDP_BATCH_FRAMES && bytes < ctx.max_batch_bytes {
            match socket.try_recv_from(&mut buf) {
                Ok((n, _)) => {
                    let frame = trim_datagram(&buf[..n], ctx.max_message);
                    bytes += frame.len();
                    frames.push(frame);
                }
                Err(_) => break,
            }
        }
        deliver(&ctx, "udp", &peer.to_string(), frames, None, &shutdown).await;
    }
}

/// A datagram is one message; trailing newlines and NULs some senders add are not part of it.
fn trim_datagram(d: &[u8], max: usize) -> Vec<u8> {
    let mut end = d.len().min(max);
    while end > 0 && matches!(d[end - 1], b'\n' | b'\r' | 0) {
        end -= 1;
    }
    d[..end].to_vec()
}
