//! The HTTP server: the axum router served by hyper with the limits `axum::serve` does not set.
//!
//! - **Connection cap** (`http.max_connections`): past it the server stops accepting; new
//!   connections wait in the listen backlog until one closes (and the kernel refuses them once
//!   the backlog is full), so idle or slow clients cannot take every file descriptor.
//! - **Header read timeout** (`http.header_read_timeout_secs`): a request's headers must arrive
//!   within it, or the connection is closed (slow loris). It also closes a kept-alive connection
//!   idle that long, since hyper waits for the next request's headers under the same timer.
//! - **Graceful shutdown**: on `stop`, accepting ends and open connections finish their
//!   in-flight requests; the caller bounds that wait.
//! - **HTTPS** (`http.tls_cert`/`tls_key`): each connection is TLS, with HTTP/2 or HTTP/1.1 by
//!   ALPN and the handshake under the header timeout. The certificate is taken per connection
//!   from a [`ReloadingAcceptor`], so rotated files apply to new connections while open ones
//!   keep theirs. A plain-HTTP request on the TLS port gets a plain-text 400 that says so
//!   instead of a handshake error the client cannot read.
//!
//! Request bodies have their own deadline where they are read (the ingest handler).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use nexuslog_common::shutdown::Shutdown;
use nexuslog_tls::ReloadingAcceptor;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Pause after a failed accept (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Limits of the HTTP server's connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections at most; more wait to be accepted.
    pub max_connections: usize,
    /// Time for a request's headers to arrive (and for an idle kept-alive connection).
    pub header_read_timeout: Duration,
}

/// The first byte of a TLS record carrying a handshake (a ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// What a plain-HTTP client gets on the HTTPS port.
const PLAIN_HTTP_ON_TLS_PORT: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 50\r\n\r\nThis port speaks HTTPS only: use an https:// URL.\n";

/// Serves `app` on `listener` until `stop`, then stops accepting and returns once every open
/// connection has finished its in-flight requests. With `tls`, every connection is HTTPS.
///
/// # Errors
/// None today: accept errors are logged and retried; the `Result` keeps the caller's shape.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, tls: Option<Arc<ReloadingAcceptor>>, stop: Shutdown) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    // Extended CONNECT for WebSockets over HTTP/2 (the live tail), as axum::serve does.
    builder.http2().timer(TokioTimer::new()).enable_connect_protocol();
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the connection semaphore is never closed"),
            () = stop.wait() => break,
        };
        if slots.available_permits() == 0 {
            tracing::debug!(max = limits.max_connections, "connection limit reached; new connections wait in the backlog");
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = stop.wait() => break,
        };
        metrics::gauge!("nexuslog_http_open_connections").increment(1.0);
        let service = TowerToHyperService::new(app.clone().map_request(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            request
        }));
        let (builder, watcher, tls) = (builder.clone(), graceful.watcher(), tls.as_ref().map(|t| t.acceptor()));
        let handshake_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let served = match tls {
                None => watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned()).await,
                Some(acceptor) => match tokio::time::timeout(handshake_timeout, tls_handshake(stream, acceptor)).await {
                    Ok(Ok(Some(tls_stream))) => watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(tls_stream), service).into_owned()).await,
                    Ok(Ok(None)) => Ok(()),
                    Ok(Err(e)) => {
                        metrics::counter!("nexuslog_http_tls_handshake_failures_total").increment(1);
                        tracing::debug!(error = %e, %peer, "TLS handshake failed");
                        Ok(())
                    }
                    Err(_) => {
                        metrics::counter!("nexuslog_http_tls_handshake_failures_total").increment(1);
                        tracing::debug!(%peer, "TLS handshake timed out");
                        Ok(())
                    }
                },
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, %peer, "connection closed with an error");
            }
            metrics::gauge!("nexuslog_http_open_connections").decrement(1.0);
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The TLS handshake on an accepted connection; `None` when the client spoke plain HTTP and was
/// told to use HTTPS.
async fn tls_handshake(stream: TcpStream, acceptor: nexuslog_tls::TlsAcceptor) -> std::io::Result<Option<nexuslog_tls::TlsStream<TcpStream>>> {
    let mut first = [0u8; 1];
    // Waits for the client's first byte without consuming it.
    if stream.peek(&mut first).await? == 1 && first[0] != TLS_HANDSHAKE_RECORD {
        let mut stream = stream;
        if first[0].is_ascii_uppercase() {
            // Looks like an HTTP method: answer in the client's own protocol.
            stream.write_all(PLAIN_HTTP_ON_TLS_PORT).await?;
            stream.shutdown().await?;
        }
        return Ok(None);
    }
    acceptor.accept(stream).await.map(Some)
}
