//! Starting the syslog listeners the configuration asks for.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use nexuslog_common::shutdown::Shutdown;
use nexuslog_config::Config;
use nexuslog_ingest_gateway::syslog::{run_stream_listener, run_udp_listener, ProjectResolver, SyslogContext};
use nexuslog_ingest_gateway::Ingest;
use nexuslog_metastore::{KeyCache, MetaStore};
use tokio::task::JoinSet;

pub async fn spawn_listeners(
    config: &Config,
    ingest: Ingest,
    keys: KeyCache,
    meta: Arc<dyn MetaStore>,
    shutdown: &Shutdown,
    tasks: &mut JoinSet<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let s = &config.syslog;
    if s.tcp_addr.is_empty() && s.tls_addr.is_empty() && s.udp_addr.is_empty() {
        return Ok(());
    }
    let default_project = if s.default_project.is_empty() {
        None
    } else {
        let p = meta
            .project_by_slug(&s.default_project)
            .await
            .context("looking up `syslog.default_project`")?
            .ok_or_else(|| anyhow!("`syslog.default_project` = {:?}: no project has this slug", s.default_project))?;
        Some(p.id)
    };
    let ctx = Arc::new(SyslogContext {
        ingest,
        projects: ProjectResolver::new(keys, meta, default_project).with_cache_ttl(Duration::from_secs(s.project_cache_ttl_secs)),
        max_message: usize::try_from(s.max_message_bytes).unwrap_or(usize::MAX),
        max_batch_bytes: usize::try_from(s.max_batch_bytes).unwrap_or(usize::MAX),
        idle_timeout: Duration::from_secs(s.idle_timeout_secs.max(1)),
        connections: Arc::new(tokio::sync::Semaphore::new(usize::try_from(s.max_connections).unwrap_or(usize::MAX).max(1))),
    });
    if !s.tcp_addr.is_empty() {
        let l = tokio::net::TcpListener::bind(&s.tcp_addr).await.with_context(|| format!("cannot bind `syslog.tcp_addr` = {}", s.tcp_addr))?;
        tracing::info!(addr = %s.tcp_addr, "syslog TCP listener started");
        let (ctx, sd) = (ctx.clone(), shutdown.clone());
        tasks.spawn(async move {
            run_stream_listener(l, None, ctx, sd).await;
            Ok(())
        });
    }
    if !s.tls_addr.is_empty() {
        let files = nexuslog_tls::TlsFiles {
            prefix: "syslog",
            cert: s.tls_cert.clone(),
            key: s.tls_key.clone(),
            client_ca: (!s.tls_client_ca.is_empty()).then(|| s.tls_client_ca.clone()),
        };
        let client_certificates = files.client_ca.is_some();
        let acceptor = nexuslog_tls::ReloadingAcceptor::new(files, &[]).map_err(|e| anyhow!("{e}"))?;
        let l = tokio::net::TcpListener::bind(&s.tls_addr).await.with_context(|| format!("cannot bind `syslog.tls_addr` = {}", s.tls_addr))?;
        tracing::info!(addr = %s.tls_addr, client_certificates, "syslog TLS listener started");
        let sd = shutdown.clone();
        tasks.spawn({
            let acceptor = acceptor.clone();
            async move {
                acceptor.watch(nexuslog_tls::RELOAD_CHECK_EVERY, sd).await;
                Ok(())
            }
        });
        let (ctx, sd) = (ctx.clone(), shutdown.clone());
        tasks.spawn(async move {
            run_stream_listener(l, Some(acceptor), ctx, sd).await;
            Ok(())
        });
    }
    if !s.udp_addr.is_empty() {
        let sock = tokio::net::UdpSocket::bind(&s.udp_addr).await.with_context(|| format!("cannot bind `syslog.udp_addr` = {}", s.udp_addr))?;
        tracing::info!(addr = %s.udp_addr, "syslog UDP listener started");
        let (ctx, sd) = (ctx.clone(), shutdown.clone());
        tasks.spawn(async move {
            run_udp_listener(sock, ctx, sd).await;
            Ok(())
        });
    }
    Ok(())
}
