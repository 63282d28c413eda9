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
use tokio::net::TcpListener;
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

/// Serves `app` on `listener` until `stop`, then stops accepting and returns once every open
/// connection has finished its in-flight requests.
///
/// # Errors
/// None today: accept errors are logged and retried; the `Result` keeps the caller's shape.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, stop: Shutdown) -> std::io::Result<()> {
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
        let connection = graceful.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
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
