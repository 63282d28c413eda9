//! Email notifications through the SMTP server of the instance configuration.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use nexuslog_alerting::channel::Notification;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

/// `alerting.smtp.*`.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: String,
    pub password: String,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings").field("host", &self.host).field("port", &self.port).field("security", &self.security).field("user", &self.user).finish_non_exhaustive()
    }
}

/// Subject and plain-text body of a notification mail.
pub fn render_mail(n: &Notification) -> (String, String) {
    let subject = format!("[{}] {} ({})", n.state.to_uppercase(), n.rule.name, n.severity);
    let group = if n.group.is_empty() { String::new() } else { format!("Group:     {}\n", n.group.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")) };
    let value = n.value.map_or_else(|| "none".to_owned(), |v| v.to_string());
    let body = format!(
        "{}\n\nRule:      {}\nState:     {}\n{group}Value:     {value} (threshold {})\nWindow:    {} to {}\nSeverity:  {}\nSamples:   {}\n\nSearch:    {}\n\nDelivery:  {}\n",
        n.message,
        n.rule.name,
        n.state,
        n.threshold,
        n.window.start,
        n.window.end,
        n.severity,
        n.samples.join(", "),
        n.link,
        n.delivery_id,
    );
    (subject, body)
}

/// Sends one notification to `to`; `Err` says why (worth a retry: connection, 4xx/5xx answers).
pub(crate) async fn send_mail(smtp: &SmtpSettings, to: &[String], n: &Notification) -> Result<String, String> {
    let (subject, body) = render_mail(n);
    send_text(smtp, to, subject, body).await
}

/// Sends a plain-text mail to `to`; `Err` says why.
pub(crate) async fn send_text(smtp: &SmtpSettings, to: &[String], subject: String, body: String) -> Result<String, String> {
    let mut message = Message::builder().from(smtp.from.parse().map_err(|e| format!("alerting.smtp.from: {e}"))?).subject(subject).header(ContentType::TEXT_PLAIN);
    for address in to {
        message = message.to(address.parse().map_err(|e| format!("recipient {address}: {e}"))?);
    }
    let message = message.body(body).map_err(|e| e.to_string())?;
    let builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(|e| e.to_string())?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(Duration::from_secs(15)));
    if !smtp.user.is_empty() {
        builder = builder.credentials(Credentials::new(smtp.user.clone(), smtp.password.clone()));
    }
    let response = builder.build().send(message).await.map_err(|e| format!("SMTP: {e}"))?;
    Ok(format!("SMTP {}", response.code()))
}
