//! Onboarding Fluent Bit agents: the configuration NexusLog recommends, and the ways to install
//! it — a script for one server (`curl … | sudo bash`), a Kubernetes DaemonSet, an Ansible
//! play, an AWS Systems Manager command for EC2 fleets.
//!
//! The agent keeps what it read on disk until NexusLog acknowledged it: file positions in a
//! database (nothing is sent twice after a restart), chunks buffered on the file system
//! (`storage.type filesystem`, nothing lost while NexusLog is unreachable), retried without a
//! limit with exponential backoff, sent gzip-compressed over HTTPS to `/v1/logs/bulk`. The API
//! key never appears in a generated file: the agent reads it from the environment
//! (`NEXUSLOG_API_KEY`), which each installer sets from a root-only file or a Secret.

use axum::extract::Query;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Where the agent runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// One Linux server: an install script.
    Linux,
    /// Every node of a cluster: a DaemonSet tailing container logs.
    Kubernetes,
    /// Servers managed by Ansible: a play.
    Ansible,
    /// EC2 instances through AWS Systems Manager (their IAM role allows SSM): a send-command.
    AwsSsm,
}

/// What to collect and where to send it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub platform: Platform,
    /// NexusLog's address as the agents reach it, e.g. `https://logs.example.com` (default: the
    /// address this request came to).
    #[serde(default)]
    pub url: Option<String>,
    /// Files to tail (globs); ignored on Kubernetes, which tails every container's log.
    #[serde(default)]
    pub paths: Vec<String>,
    /// The `service` of every event, when the files belong to one.
    #[serde(default)]
    pub service: Option<String>,
    /// Only with `aws_ssm`: the EC2 tag (`key=value`) selecting the instances.
    #[serde(default)]
    pub ec2_tag: Option<String>,
}

/// One generated file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AgentFile {
    pub name: &'static str,
    /// `ini`, `bash`, `yaml` or `json`: how to show it.
    pub language: &'static str,
    pub content: String,
}

/// Where NexusLog is, as the agents reach it.
struct Target {
    host: String,
    port: u16,
    tls: bool,
}

/// Longest accepted field; the files are templates, not a place for arbitrary text.
const MAX_FIELD: usize = 512;
const MAX_PATHS: usize = 32;

fn bad(why: impl Into<String>) -> ApiError {
    ApiError::BadRequest(why.into())
}

/// Values go into configuration files and shell scripts: only characters none of them treat
/// specially (no quotes, `$`, backslashes, spaces, newlines, `,` inside a path list).
fn plain(what: &str, value: &str, extra: &str) -> Result<(), ApiError> {
    let ok = !value.is_empty() && value.len() <= MAX_FIELD && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:*@=".contains(c) || extra.contains(c));
    if ok {
        Ok(())
    } else {
        Err(bad(format!("{what} {value:?}: use letters, digits and - _ . / : * @ = only (at most {MAX_FIELD} characters)")))
    }
}

fn target(url: &str) -> Result<Target, ApiError> {
    let (tls, rest) = match url.split_once("://") {
        Some(("https", rest)) => (true, rest),
        Some(("http", rest)) => (false, rest),
        _ => return Err(bad(format!("url {url:?}: expected http:// or https:// and a host"))),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let default_port = if tls { 443 } else { 80 };
    // `[::1]` is an IPv6 host without a port; `[::1]:8000` and `host:8000` have one.
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !authority.ends_with(']') => (h, p.parse::<u16>().map_err(|_| bad(format!("url {url:?}: bad port")))?),
        _ => (authority, default_port),
    };
    plain("url host", host, "[]")?;
    // Fluent Bit takes an IPv6 address as it is, without the URL's brackets.
    Ok(Target { host: host.trim_start_matches('[').trim_end_matches(']').to_owned(), port, tls })
}

/// Checks the spec and renders every file of its platform.
///
/// # Errors
/// A bad request naming the field that cannot go into a file.
pub fn render(spec: &AgentSpec, default_url: &str) -> Result<Vec<AgentFile>, ApiError> {
    let url = spec.url.as_deref().unwrap_or(default_url);
    let target = target(url)?;
    if let Some(s) = &spec.service {
        plain("service", s, "")?;
    }
    if spec.paths.len() > MAX_PATHS {
        return Err(bad(format!("at most {MAX_PATHS} paths")));
    }
    for p in &spec.paths {
        plain("path", p, "?[]{}")?;
    }
    let paths = if spec.paths.is_empty() { vec!["/var/log/*.log".to_owned()] } else { spec.paths.clone() };
    Ok(match spec.platform {
        Platform::Linux => {
            let conf = fluent_bit_conf(&target, &paths, spec.service.as_deref(), false);
            vec![install_script(&conf, url), file("fluent-bit.conf", "ini", conf)]
        }
        Platform::Kubernetes => {
            let conf = fluent_bit_conf(&target, &["/var/log/containers/*.log".to_owned()], spec.service.as_deref(), true);
            vec![file("nexuslog-agent.yaml", "yaml", daemonset(&conf))]
        }
        Platform::Ansible => {
            let conf = fluent_bit_conf(&target, &paths, spec.service.as_deref(), false);
            let script = install_script(&conf, url);
            vec![file("nexuslog-agent.yml", "yaml", ansible(&script.content)), script]
        }
        Platform::AwsSsm => {
            let tag = spec.ec2_tag.as_deref().unwrap_or("nexuslog=agent");
            plain("ec2_tag", tag, "")?;
            let Some((key, value)) = tag.split_once('=') else { return Err(bad("ec2_tag: expected key=value")) };
            let conf = fluent_bit_conf(&target, &paths, spec.service.as_deref(), false);
            let script = install_script(&conf, url);
            vec![file("ssm-send-command.json", "json", ssm(&script.content, key, value)), script]
        }
    })
}

fn file(name: &'static str, language: &'static str, content: String) -> AgentFile {
    AgentFile { name, language, content }
}

/// Fluent Bit's classic configuration: tail with a position database and file-system
/// buffering, then the `http` output to `/v1/logs/bulk`.
fn fluent_bit_conf(t: &Target, paths: &[String], service: Option<&str>, kubernetes: bool) -> String {
    let state = if kubernetes { "/var/fluent-bit/state" } else { "/var/lib/fluent-bit/nexuslog" };
    let mut c = format!(
        "# Fluent Bit for NexusLog. The API key comes from the environment (NEXUSLOG_API_KEY).
[SERVICE]
    Flush                     1
    Log_Level                 info
    # Chunks wait on disk until NexusLog acknowledged them; retries back off from 2 s to 5 min.
    storage.path              {state}/buffer
    storage.sync              normal
    storage.backlog.mem_limit 16M
    scheduler.base            2
    scheduler.cap             300
    HTTP_Server               On
    HTTP_Listen               0.0.0.0
    HTTP_Port                 2020
    Health_Check              On

[INPUT]
    Name              tail
    Tag               nexuslog.*
    Path              {paths}
    # Read positions survive restarts: nothing is sent twice, nothing skipped.
    DB                {state}/tail.db
    DB.locking        true
    storage.type      filesystem
    Skip_Long_Lines   On
    Refresh_Interval  5
",
        paths = paths.join(",")
    );
    if kubernetes {
        c.push_str("    multiline.parser  cri, docker\n\n[FILTER]\n    Name         kubernetes\n    Match        nexuslog.*\n    Merge_Log    On\n    Keep_Log     Off\n    Labels       On\n    Annotations  Off\n");
    }
    c.push_str("\n[FILTER]\n    Name   record_modifier\n    Match  nexuslog.*\n    Record host ${HOSTNAME}\n");
    if let Some(s) = service {
        c.push_str(&format!("    Record service {s}\n"));
    }
    c.push_str(&format!(
        "
[OUTPUT]
    Name                     http
    Match                    nexuslog.*
    Host                     {host}
    Port                     {port}
    URI                      /v1/logs/bulk
    Format                   json_lines
    json_date_key            timestamp
    json_date_format         iso8601
    compress                 gzip
    Header                   Authorization Bearer ${{NEXUSLOG_API_KEY}}
    tls                      {tls}
    tls.verify               On
    # Never give up on a chunk (NexusLog answers 429/503 when busy); at most 1 GiB waits on disk.
    Retry_Limit              no_limits
    storage.total_limit_size 1G
",
        host = t.host,
        port = t.port,
        tls = if t.tls { "On" } else { "Off" },
    ));
    c
}

/// The one-server installer: Fluent Bit from its official packages, the configuration, the key
/// in a root-only environment file, the systemd unit pointed at both.
fn install_script(conf: &str, url: &str) -> AgentFile {
    file(
        "install.sh",
        "bash",
        format!(
            r#"#!/usr/bin/env bash
# Installs Fluent Bit and ships logs to NexusLog at {url}.
# Run as root with the project's ingest key:  NEXUSLOG_API_KEY=nxl_... bash install.sh
set -euo pipefail
: "${{NEXUSLOG_API_KEY:?set NEXUSLOG_API_KEY to an ingest key of the project}}"
if ! command -v fluent-bit >/dev/null 2>&1 && [ ! -x /opt/fluent-bit/bin/fluent-bit ]; then
  # Fluent Bit's own installer: adds its package repository, installs the package.
  curl -fsSL https://raw.githubusercontent.com/fluent/fluent-bit/master/install.sh | sh
fi
install -d -m 0755 /etc/fluent-bit
install -d -m 0700 /var/lib/fluent-bit/nexuslog
cat > /etc/fluent-bit/nexuslog.conf <<'NEXUSLOG_CONF'
{conf}NEXUSLOG_CONF
( umask 077; printf 'NEXUSLOG_API_KEY=%s\n' "$NEXUSLOG_API_KEY" > /etc/fluent-bit/nexuslog.env )
install -d -m 0755 /etc/systemd/system/fluent-bit.service.d
cat > /etc/systemd/system/fluent-bit.service.d/nexuslog.conf <<'NEXUSLOG_UNIT'
[Service]
EnvironmentFile=/etc/fluent-bit/nexuslog.env
ExecStart=
ExecStart=/opt/fluent-bit/bin/fluent-bit -c /etc/fluent-bit/nexuslog.conf
NEXUSLOG_UNIT
systemctl daemon-reload
systemctl enable fluent-bit
systemctl restart fluent-bit
echo "Fluent Bit is shipping to NexusLog ({url}); check with: systemctl status fluent-bit"
"#
        ),
    )
}

/// Indents every line of `text` by `n` spaces (YAML block scalars).
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| if l.is_empty() { String::new() } else { format!("{pad}{l}") }).collect::<Vec<_>>().join("\n")
}

/// Namespace, service account with read access to pod metadata, the configuration, the key's
/// Secret (to fill in) and the DaemonSet with a host-path buffer.
fn daemonset(conf: &str) -> String {
    format!(
        r#"# NexusLog agent: Fluent Bit on every node. Set the key first:
#   kubectl create namespace nexuslog-agent
#   kubectl -n nexuslog-agent create secret generic nexuslog-api-key --from-literal=NEXUSLOG_API_KEY=nxl_...
#   kubectl apply -f nexuslog-agent.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: nexuslog-agent
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: nexuslog-agent
  namespace: nexuslog-agent
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: nexuslog-agent
rules:
  - apiGroups: [""]
    resources: ["namespaces", "pods"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: nexuslog-agent
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: nexuslog-agent
subjects:
  - kind: ServiceAccount
    name: nexuslog-agent
    namespace: nexuslog-agent
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: nexuslog-agent
  namespace: nexuslog-agent
data:
  fluent-bit.conf: |
{conf}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: nexuslog-agent
  namespace: nexuslog-agent
  labels:
    app.kubernetes.io/name: nexuslog-agent
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: nexuslog-agent
  template:
    metadata:
      labels:
        app.kubernetes.io/name: nexuslog-agent
    spec:
      serviceAccountName: nexuslog-agent
      tolerations:
        - operator: Exists
      containers:
        - name: fluent-bit
          image: cr.fluentbit.io/fluent/fluent-bit:4.0
          args: ["-c", "/fluent-bit/etc/nexuslog/fluent-bit.conf"]
          env:
            - name: HOSTNAME
              valueFrom:
                fieldRef:
                  fieldPath: spec.nodeName
          envFrom:
            - secretRef:
                name: nexuslog-api-key
          ports:
            - name: http
              containerPort: 2020
          livenessProbe:
            httpGet:
              path: /api/v1/health
              port: http
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 256Mi
          volumeMounts:
            - name: config
              mountPath: /fluent-bit/etc/nexuslog
            - name: varlog
              mountPath: /var/log
              readOnly: true
            - name: state
              mountPath: /var/fluent-bit/state
      volumes:
        - name: config
          configMap:
            name: nexuslog-agent
        - name: varlog
          hostPath:
            path: /var/log
        # Buffer and read positions outlive the pod: nothing lost or re-sent on a restart.
        - name: state
          hostPath:
            path: /var/lib/nexuslog-agent
            type: DirectoryOrCreate
"#,
        conf = indent(conf, 4)
    )
}

/// A play running the install script on every host of the `nexuslog_agents` group, the key
/// from a variable (keep it in Ansible Vault).
fn ansible(script: &str) -> String {
    format!(
        r#"# ansible-playbook -i inventory nexuslog-agent.yml -e nexuslog_api_key=nxl_...
# (better: keep nexuslog_api_key in Ansible Vault)
- name: NexusLog agent (Fluent Bit)
  hosts: nexuslog_agents
  become: true
  tasks:
    - name: Install and configure Fluent Bit for NexusLog
      ansible.builtin.shell: |
{script}
      args:
        executable: /bin/bash
      environment:
        NEXUSLOG_API_KEY: "{{{{ nexuslog_api_key }}}}"
      no_log: true
"#,
        script = indent(script, 8)
    )
}

/// `aws ssm send-command --cli-input-json file://ssm-send-command.json`: the install script on
/// every instance with the tag, through `AWS-RunShellScript`. The key is read from SSM
/// Parameter Store (a SecureString named `/nexuslog/api-key`), never written in the command.
fn ssm(script: &str, tag_key: &str, tag_value: &str) -> String {
    // SSM runs the commands with `sh`, which is not bash everywhere: the script goes to bash
    // whole, as one entry (its heredocs stay intact).
    let command = format!(
        "export NEXUSLOG_API_KEY=\"$(aws ssm get-parameter --with-decryption --name /nexuslog/api-key --query Parameter.Value --output text)\"\nbash <<'NEXUSLOG_INSTALL'\n{script}NEXUSLOG_INSTALL"
    );
    let doc = serde_json::json!({
        "DocumentName": "AWS-RunShellScript",
        "Comment": "NexusLog agent (Fluent Bit)",
        "Targets": [{ "Key": format!("tag:{tag_key}"), "Values": [tag_value] }],
        "Parameters": { "commands": [command] },
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The address a request came to, for the default `url`.
fn request_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:8000");
    let proto = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    format!("{proto}://{host}")
}

/// `POST /v1/projects/{project}/agents/fluent-bit`: the files for a platform.
pub async fn generate(headers: HeaderMap, crate::extract::JsonBody(spec): crate::extract::JsonBody<AgentSpec>) -> Result<Json<serde_json::Value>, ApiError> {
    let files = render(&spec, &request_url(&headers))?;
    Ok(Json(serde_json::json!({ "platform": spec.platform, "files": files })))
}

/// Query of the public install script.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptParams {
    /// NexusLog's address as the agent reaches it (default: the address of this request).
    #[serde(default)]
    url: Option<String>,
    /// Files to tail, comma-separated globs.
    #[serde(default)]
    paths: Option<String>,
    #[serde(default)]
    service: Option<String>,
}

/// `GET /v1/agents/fluent-bit/install.sh`: the one-server installer, for
/// `curl -fsSL …/install.sh?paths=… | sudo NEXUSLOG_API_KEY=… bash`. Public: it holds no secret.
pub async fn script(headers: HeaderMap, Query(q): Query<ScriptParams>) -> Result<Response, ApiError> {
    let spec = AgentSpec {
        platform: Platform::Linux,
        url: q.url,
        paths: q.paths.map(|p| p.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()).unwrap_or_default(),
        service: q.service,
        ec2_tag: None,
    };
    let files = render(&spec, &request_url(&headers))?;
    let script = files.into_iter().find(|f| f.name == "install.sh").map(|f| f.content).unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "text/x-shellscript; charset=utf-8")], script).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(platform: Platform) -> AgentSpec {
        AgentSpec { platform, url: Some("https://logs.example.com".into()), paths: vec!["/var/log/nginx/*.log".into()], service: Some("shop".into()), ec2_tag: None }
    }

    #[test]
    fn the_configuration_buffers_on_disk_keeps_positions_and_retries_forever() {
        let files = render(&spec(Platform::Linux), "http://ignored").expect("render");
        let conf = &files.iter().find(|f| f.name == "fluent-bit.conf").expect("conf").content;
        for line in [
            "Path              /var/log/nginx/*.log",
            "DB                /var/lib/fluent-bit/nexuslog/tail.db",
            "storage.type      filesystem",
            "Host                     logs.example.com",
            "Port                     443",
            "URI                      /v1/logs/bulk",
            "tls                      On",
            "Retry_Limit              no_limits",
            "Header                   Authorization Bearer ${NEXUSLOG_API_KEY}",
            "Record service shop",
        ] {
            assert!(conf.contains(line), "missing {line:?} in\n{conf}");
        }
        let script = &files.iter().find(|f| f.name == "install.sh").expect("script").content;
        assert!(script.contains(conf.as_str()), "the script writes the configuration as shown");
        assert!(!script.contains("nxl_") || script.contains("nxl_..."), "no key in the script");
    }

    #[test]
    fn plain_http_and_ports_come_from_the_url() {
        let mut s = spec(Platform::Linux);
        s.url = Some("http://10.0.0.5:8000/".into());
        let conf = render(&s, "").expect("render").into_iter().find(|f| f.name == "fluent-bit.conf").expect("conf").content;
        assert!(conf.contains("Port                     8000") && conf.contains("tls                      Off") && conf.contains("Host                     10.0.0.5"), "{conf}");
        s.url = None;
        let conf = render(&s, "https://nexuslog.internal:9443").expect("render")[1].content.clone();
        assert!(conf.contains("Host                     nexuslog.internal") && conf.contains("Port                     9443"), "the request's address by default");
        for (url, host, port) in [("https://[fd00::5]:8443", "fd00::5", "8443"), ("http://[fd00::5]", "fd00::5", "80")] {
            s.url = Some(url.into());
            let conf = render(&s, "").expect("render")[1].content.clone();
            assert!(conf.contains(&format!("Host                     {host}\n")) && conf.contains(&format!("Port                     {port}\n")), "{url}: {conf}");
        }
    }

    #[test]
    fn kubernetes_tails_containers_and_takes_the_key_from_a_secret() {
        let yaml = render(&spec(Platform::Kubernetes), "").expect("render")[0].content.clone();
        assert!(yaml.contains("Path              /var/log/containers/*.log"));
        assert!(yaml.contains("name: nexuslog-api-key") && yaml.contains("kind: DaemonSet") && yaml.contains("Name         kubernetes"));
        // The configuration is a block scalar of the ConfigMap: every line indented under it.
        let block = yaml.split("fluent-bit.conf: |\n").nth(1).expect("config map").split("\n---\n").next().expect("block");
        assert!(block.lines().all(|l| l.is_empty() || l.starts_with("    ")), "{block}");
    }

    #[test]
    fn ansible_and_ssm_run_the_same_script() {
        let play = render(&spec(Platform::Ansible), "").expect("render");
        assert!(play[0].content.contains(&indent(&play[1].content, 8)), "the play runs the script as shown");
        let mut s = spec(Platform::AwsSsm);
        s.ec2_tag = Some("team=shop".into());
        let ssm = render(&s, "").expect("render");
        let doc: serde_json::Value = serde_json::from_str(&ssm[0].content).expect("JSON");
        assert_eq!(doc["Targets"][0]["Key"], "tag:team");
        assert!(doc["Parameters"]["commands"][0].as_str().is_some_and(|c| c.contains("get-parameter --with-decryption") && c.contains("/v1/logs/bulk")));
    }

    #[test]
    fn values_that_could_break_out_of_a_file_are_refused() {
        for (field, value) in [("service", "a b"), ("service", "x\n[OUTPUT]"), ("path", "/var/log/$(reboot)"), ("path", "/var/'x'"), ("url", "ftp://x")] {
            let mut s = spec(Platform::Linux);
            match field {
                "service" => s.service = Some(value.into()),
                "path" => s.paths = vec![value.into()],
                _ => s.url = Some(value.into()),
            }
            let err = render(&s, "").expect_err(value);
            assert!(err.to_string().contains(field), "{err}");
        }
    }
}
