//! Notification channels: their configuration as users submit it, the check on where a
//! webhook may point (server-side request forgery), and the request each type sends.

use std::collections::BTreeMap;
use std::net::IpAddr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::spec::SpecError;

/// What a notification says, whatever the channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub delivery_id: String,
    pub rule: NotificationRule,
    /// `firing` or `resolved`.
    pub state: String,
    pub group: BTreeMap<String, String>,
    pub value: Option<f64>,
    pub threshold: f64,
    pub window: NotificationWindow,
    pub severity: String,
    pub labels: BTreeMap<String, String>,
    pub message: String,
    pub samples: Vec<String>,
    /// The search for the window, in the console.
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRule {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationWindow {
    pub start: String,
    pub end: String,
}

/// A channel's configuration, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ChannelConfig {
    Webhook {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
    Email {
        to: Vec<String>,
    },
    Slack {
        url: String,
    },
    Dingtalk {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
    Feishu {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
    Wecom {
        url: String,
    },
}

pub const CHANNEL_TYPES: &[&str] = &["webhook", "email", "slack", "dingtalk", "feishu", "wecom"];

fn bad(field: &str, message: impl Into<String>) -> SpecError {
    SpecError { field: field.to_owned(), message: message.into() }
}

impl ChannelConfig {
    /// Reads `config` for a channel of type `kind`.
    ///
    /// # Errors
    /// Names the field: `type`, `config.url`, `config.to[1]`, ...
    pub fn parse(kind: &str, config: &serde_json::Value) -> Result<Self, SpecError> {
        if !CHANNEL_TYPES.contains(&kind) {
            return Err(bad("type", format!("unknown channel type {kind:?}: one of {}", CHANNEL_TYPES.join(", "))));
        }
        let mut tagged = config.as_object().cloned().ok_or_else(|| bad("config", "must be an object"))?;
        tagged.insert("type".into(), serde_json::Value::String(kind.to_owned()));
        let parsed: Self = serde_json::from_value(serde_json::Value::Object(tagged)).map_err(|e| bad("config", e.to_string()))?;
        match &parsed {
            Self::Email { to } => {
                if to.is_empty() {
                    return Err(bad("config.to", "at least one address"));
                }
                if let Some(i) = to.iter().position(|a| !valid_address(a)) {
                    return Err(bad(&format!("config.to[{i}]"), "not an email address"));
                }
            }
            Self::Webhook { url, headers, .. } => {
                target_url(url).map_err(|e| bad("config.url", e))?;
                if let Some(name) = headers.keys().find(|h| h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')) {
                    return Err(bad("config.headers", format!("invalid header name {name:?}")));
                }
            }
            Self::Slack { url } | Self::Dingtalk { url, .. } | Self::Feishu { url, .. } | Self::Wecom { url } => {
                target_url(url).map_err(|e| bad("config.url", e))?;
            }
        }
        Ok(parsed)
    }

    pub fn url(&self) -> Option<&str> {
        match self {
            Self::Webhook { url, .. } | Self::Slack { url } | Self::Dingtalk { url, .. } | Self::Feishu { url, .. } | Self::Wecom { url } => Some(url),
            Self::Email { .. } => None,
        }
    }

    /// The HTTP request for `n`: URL (with signing parameters where the platform wants them),
    /// headers and body. `now_ms` is the signing time. `None` for email.
    pub fn http_request(&self, n: &Notification, now_ms: i64) -> Option<HttpNotification> {
        let text = format!("{}\n{}", n.message, n.link);
        let title = format!("[{}] {}", n.state, n.rule.name);
        let (url, body, mut headers) = match self {
            Self::Email { .. } => return None,
            Self::Webhook { url, headers, .. } => (url.clone(), serde_json::to_vec(n).unwrap_or_default(), headers.clone()),
            // Slack incoming webhooks: `text` is the message (mrkdwn).
            Self::Slack { url } => (url.clone(), json(&serde_json::json!({"text": format!("*{title}*\n{text}")})), BTreeMap::new()),
            // DingTalk custom robot: markdown message; signed robots take `timestamp` and
            // `sign` = base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")) in the query.
            Self::Dingtalk { url, secret } => {
                let body = json(&serde_json::json!({"msgtype": "markdown", "markdown": {"title": title, "text": format!("### {title}\n\n{text}")}}));
                let url = match secret {
                    Some(s) => {
                        let sign = base64(&hmac_sha256(s.as_bytes(), format!("{now_ms}\n{s}").as_bytes()));
                        let sep = if url.contains('?') { '&' } else { '?' };
                        format!("{url}{sep}timestamp={now_ms}&sign={}", percent_encode(&sign))
                    }
                    None => url.clone(),
                };
                (url, body, BTreeMap::new())
            }
            // Feishu/Lark custom bot: text message; signed bots carry `timestamp` (seconds) and
            // `sign` = base64(HMAC-SHA256(key = "{timestamp}\n{secret}", message = "")) in the body.
            Self::Feishu { url, secret } => {
                let mut body = serde_json::json!({"msg_type": "text", "content": {"text": format!("{title}\n{text}")}});
                if let Some(s) = secret {
                    let ts = now_ms / 1000;
                    body["timestamp"] = serde_json::Value::String(ts.to_string());
                    body["sign"] = serde_json::Value::String(base64(&hmac_sha256(format!("{ts}\n{s}").as_bytes(), b"")));
                }
                (url.clone(), json(&body), BTreeMap::new())
            }
            // WeCom group robot: markdown message.
            Self::Wecom { url } => (url.clone(), json(&serde_json::json!({"msgtype": "markdown", "markdown": {"content": format!("**{title}**\n{text}")}})), BTreeMap::new()),
        };
        headers.insert("Content-Type".into(), "application/json".into());
        headers.insert("X-NexusLog-Delivery".into(), n.delivery_id.clone());
        if let Self::Webhook { secret: Some(s), .. } = self {
            headers.insert("X-NexusLog-Signature".into(), format!("sha256={}", hex::encode(hmac_sha256(s.as_bytes(), &body))));
        }
        Some(HttpNotification { url, headers, body })
    }
}

/// One HTTP notification, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpNotification {
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

fn json(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for query values.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn valid_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !a.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// The host and port of an `http(s)` URL a channel may post to.
///
/// # Errors
/// When it is not an absolute http or https URL with a host.
pub fn target_url(url: &str) -> Result<(String, u16), String> {
    let (scheme, rest) = url.split_once("://").ok_or("must be an absolute http:// or https:// URL")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err("must be an http:// or https:// URL".into()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not carry credentials before the host".into());
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
            (h.to_owned(), after.strip_prefix(':').map(str::parse::<u16>).transpose().map_err(|_| "invalid port")?)
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p.parse::<u16>().map_err(|_| "invalid port")?)),
            None => (authority.to_owned(), None),
        },
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    Ok((host, port.unwrap_or(default_port)))
}

/// Whether a channel may send to `ip`. Link-local addresses (cloud metadata lives there) are
/// always refused; loopback, private and unique-local ranges only with `allow_private`.
///
/// # Errors
/// Why the address is refused.
pub fn check_target_ip(ip: IpAddr, allow_private: bool) -> Result<(), String> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let (link_local, private) = match ip {
        IpAddr::V4(v4) => (v4.is_link_local() || v4.is_broadcast() || v4.is_unspecified() || v4.is_multicast(), v4.is_loopback() || v4.is_private() || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // fd00:ec2::254 is AWS's IPv6 metadata endpoint, inside the unique-local range.
            let metadata = s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254];
            ((s[0] & 0xffc0) == 0xfe80 || v6.is_unspecified() || v6.is_multicast() || metadata, v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00)
        }
    };
    if link_local {
        return Err(format!("{ip} is a link-local, metadata or non-unicast address: never a notification target"));
    }
    if private && !allow_private {
        return Err(format!("{ip} is a loopback or private address: allowed only with alerting.allow_private_targets"));
    }
    Ok(())
}

/// HMAC-SHA256 (RFC 2104) over the SHA-256 the workspace already links.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

/// The delivery id of a transition to a channel: the same in every replay.
pub fn delivery_id(transition_id: &str, channel_id: &str) -> String {
    let h = Sha256::new().chain_update(transition_id.as_bytes()).chain_update([0x1f]).chain_update(channel_id.as_bytes()).finalize();
    hex::encode(&h[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn targets() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(check_target_ip(ip("169.254.169.254"), true).is_err(), "metadata is never allowed");
        assert!(check_target_ip(ip("fe80::1"), true).is_err());
        assert!(check_target_ip(ip("fd00:ec2::254"), true).is_err());
        assert!(check_target_ip(ip("::ffff:169.254.169.254"), true).is_err(), "mapped addresses are unwrapped");
        assert!(check_target_ip(ip("127.0.0.1"), false).is_err());
        assert!(check_target_ip(ip("10.1.2.3"), false).is_err());
        assert!(check_target_ip(ip("127.0.0.1"), true).is_ok());
        assert!(check_target_ip(ip("93.184.216.34"), false).is_ok());
        assert_eq!(target_url("https://hooks.example.com/x?y").expect("ok"), ("hooks.example.com".into(), 443));
        assert_eq!(target_url("http://[::1]:8080/").expect("ok"), ("::1".into(), 8080));
        assert!(target_url("ftp://x").is_err() && target_url("http://user@evil/").is_err() && target_url("hooks").is_err());
    }

    fn sample() -> Notification {
        Notification {
            delivery_id: "d1".into(),
            rule: NotificationRule { id: "r1".into(), name: "checkout errors".into() },
            state: "firing".into(),
            group: BTreeMap::from([("host".to_owned(), "web-1".to_owned())]),
            value: Some(12.0),
            threshold: 10.0,
            window: NotificationWindow { start: "2024-01-01T00:00:00Z".into(), end: "2024-01-01T00:01:00Z".into() },
            severity: "critical".into(),
            labels: BTreeMap::new(),
            message: "12 errors".into(),
            samples: vec!["a".into()],
            link: "http://nexuslog/search".into(),
        }
    }

    fn request(kind: &str, config: serde_json::Value) -> (HttpNotification, serde_json::Value) {
        let r = ChannelConfig::parse(kind, &config).expect("valid").http_request(&sample(), 1_700_000_000_000).expect("http");
        let body = serde_json::from_slice(&r.body).expect("json body");
        (r, body)
    }

    /// The shapes each platform documents for its incoming-webhook bots; signatures checked
    /// against values computed independently (Python's hmac module).
    #[test]
    fn chat_messages_have_each_platforms_documented_shape() {
        let (_, slack) = request("slack", serde_json::json!({"url": "https://hooks.slack.com/services/T/B/X"}));
        assert!(slack["text"].as_str().is_some_and(|t| t.contains("checkout errors") && t.contains("12 errors")), "{slack}");
        assert_eq!(slack.as_object().map(|o| o.len()), Some(1));

        let (r, ding) = request("dingtalk", serde_json::json!({"url": "https://oapi.dingtalk.com/robot/send?access_token=T", "secret": "SEC123"}));
        assert_eq!(ding["msgtype"], "markdown");
        assert!(ding["markdown"]["title"].is_string() && ding["markdown"]["text"].as_str().is_some_and(|t| t.contains("12 errors")));
        assert_eq!(r.url, "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1700000000000&sign=lkcPI1uoxBY1gUnCnnPH1Kkru0Hqjo7rFpA3haIVhEQ%3D");

        let (r, feishu) = request("feishu", serde_json::json!({"url": "https://open.feishu.cn/open-apis/bot/v2/hook/X", "secret": "SEC123"}));
        assert_eq!(feishu["msg_type"], "text");
        assert!(feishu["content"]["text"].as_str().is_some_and(|t| t.contains("12 errors")));
        assert_eq!((feishu["timestamp"].as_str(), feishu["sign"].as_str()), (Some("1700000000"), Some("j/tImR0k8vYXRsYw0+GHVQkV1v/J/8obOuMU7PE/KDo=")));
        assert_eq!(r.url, "https://open.feishu.cn/open-apis/bot/v2/hook/X");

        let (_, wecom) = request("wecom", serde_json::json!({"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"}));
        assert_eq!(wecom["msgtype"], "markdown");
        assert!(wecom["markdown"]["content"].as_str().is_some_and(|t| t.contains("12 errors")));
    }

    #[test]
    fn a_webhook_carries_the_notification_its_delivery_id_and_signature() {
        let (r, body) = request("webhook", serde_json::json!({"url": "https://hooks.example.com/x", "secret": "s", "headers": {"X-Team": "core"}}));
        assert_eq!(body["delivery_id"], "d1");
        assert_eq!((body["rule"]["id"].as_str(), body["state"].as_str(), body["value"].as_f64()), (Some("r1"), Some("firing"), Some(12.0)));
        assert_eq!(r.headers["X-NexusLog-Delivery"], "d1");
        assert_eq!(r.headers["X-Team"], "core");
        assert_eq!(r.headers["X-NexusLog-Signature"], format!("sha256={}", hex::encode(hmac_sha256(b"s", &r.body))));
        assert!(ChannelConfig::parse("email", &serde_json::json!({"to": ["a@b.io"]})).expect("valid").http_request(&sample(), 0).is_none());
    }

    #[test]
    fn config_errors_name_the_field() {
        let e = ChannelConfig::parse("pager", &serde_json::json!({})).expect_err("unknown");
        assert_eq!(e.field, "type");
        let e = ChannelConfig::parse("email", &serde_json::json!({"to": ["a@b.io", "nope"]})).expect_err("address");
        assert_eq!(e.field, "config.to[1]");
        let e = ChannelConfig::parse("webhook", &serde_json::json!({"url": "gopher://x"})).expect_err("scheme");
        assert_eq!(e.field, "config.url");
    }
}
