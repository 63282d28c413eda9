//! Sending one notification to one channel, as the notifier (and the API's "send a test")
//! do it: HTTP channels after checking where their URL resolves now, email through the
//! instance's SMTP server. Whether to retry is the caller's decision, from [`Failure`].

mod email;

use std::time::Duration;

use nexuslog_alerting::channel::{check_target_ip, target_url, ChannelConfig, HttpNotification, Notification};

pub use email::{render_mail, SmtpSecurity, SmtpSettings};

/// Why a send did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth another attempt: 5xx, timeout, connection refused, a mail server error.
    Retry(String),
    /// Never going to work as configured: a refused target, no mail server.
    Refused(String),
}

impl Failure {
    pub fn detail(&self) -> &str {
        match self {
            Failure::Retry(d) | Failure::Refused(d) => d,
        }
    }
}

/// Delivers notifications; cheap to clone (one HTTP connection pool).
#[derive(Debug, Clone)]
pub struct Sender {
    http: reqwest::Client,
    smtp: Option<SmtpSettings>,
    allow_private: bool,
}

impl Default for Sender {
    fn default() -> Self {
        Self::new(None, false)
    }
}

impl Sender {
    /// `allow_private`: HTTP channels may reach loopback and private addresses
    /// (`alerting.allow_private_targets`).
    pub fn new(smtp: Option<SmtpSettings>, allow_private: bool) -> Self {
        // Redirects are not followed: a 3xx could point past the target check.
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default();
        Self { http, smtp, allow_private }
    }

    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// Whether a mail server is configured (`alerting.smtp.host`).
    pub fn can_mail(&self) -> bool {
        self.smtp.is_some()
    }

    /// Sends a plain-text mail to one address through the configured mail server.
    ///
    /// # Errors
    /// [`Failure::Refused`] without a mail server, [`Failure::Retry`] when sending failed.
    pub async fn send_text_mail(&self, to: &str, subject: &str, body: &str) -> Result<String, Failure> {
        match &self.smtp {
            Some(smtp) => email::send_text(smtp, &[to.to_owned()], subject.to_owned(), body.to_owned()).await.map_err(Failure::Retry),
            None => Err(Failure::Refused("e-mail needs a mail server: set alerting.smtp.host".into())),
        }
    }

    /// Sends `n` through `channel`; `Ok` carries the receiver's answer (`HTTP 200`, `SMTP 250`).
    ///
    /// # Errors
    /// [`Failure::Retry`] or [`Failure::Refused`], with what happened.
    pub async fn send(&self, channel: &ChannelConfig, n: &Notification, now_ms: i64) -> Result<String, Failure> {
        match (channel, channel.http_request(n, now_ms)) {
            (ChannelConfig::Email { to }, _) => match &self.smtp {
                Some(smtp) => email::send_mail(smtp, to, n).await.map_err(Failure::Retry),
                None => Err(Failure::Refused("email needs a mail server: set alerting.smtp.host".into())),
            },
            (_, Some(request)) => self.post(&request).await,
            (_, None) => Err(Failure::Refused("this channel type has no HTTP request".into())),
        }
    }

    async fn post(&self, request: &HttpNotification) -> Result<String, Failure> {
        // Checked at every send, not only when the channel was saved: a name can resolve
        // elsewhere since.
        let (host, port) = target_url(&request.url).map_err(Failure::Refused)?;
        let addrs: Vec<std::net::SocketAddr> =
            tokio::net::lookup_host((host.as_str(), port)).await.map_err(|e| Failure::Retry(format!("cannot resolve {host}: {e}")))?.collect();
        for a in &addrs {
            check_target_ip(a.ip(), self.allow_private).map_err(Failure::Refused)?;
        }
        let mut req = self.http.post(&request.url).body(request.body.clone());
        for (k, v) in &request.headers {
            req = req.header(k, v);
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => Ok(format!("HTTP {}", resp.status().as_u16())),
            Ok(resp) => Err(Failure::Retry(format!("HTTP {}", resp.status().as_u16()))),
            // Without the URL: it may carry the channel's token, and this text is stored in the
            // delivery history and shown by the API.
            Err(e) => Err(Failure::Retry(error_chain(&e.without_url()))),
        }
    }
}

/// An error with its causes, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}
