"""Agent onboarding: what `POST /v1/projects/{p}/agents/fluent-bit` and the public install script
generate is valid for the tool that reads it — the DaemonSet against the Kubernetes schemas, the
Ansible play as YAML running the install script, the scripts under `bash -n`, the Fluent Bit
configuration in its classic format with the settings that keep events (disk buffer, read
positions, retries). Fluent Bit itself is not packaged for Debian, so its configuration is
checked structurally here."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import yaml


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


@pytest.fixture(scope="module")
def nexuslog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("agents")
    port = free_port()
    password = "agents-" + uuid.uuid4().hex[:8]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NEXUSLOG_DATA_DIR": str(tmp / "data"),
        "NEXUSLOG_HTTP_ADDR": f"127.0.0.1:{port}",
        "NEXUSLOG_BOOTSTRAP_ADMIN_PASSWORD": password,
        "NEXUSLOG_LOG_LEVEL": "warn",
    }
    log = open(tmp / "nexuslog.log", "w")
    proc = subprocess.Popen([os.environ["NEXUSLOG_BIN"], "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while http(base + "/readyz")[0] != 200:
            assert proc.poll() is None and time.time() < deadline, (tmp / "nexuslog.log").read_text()
            time.sleep(0.3)
        status, body = http(base + "/v1/auth/login", json.dumps({"email": "admin@localhost", "password": password}).encode(), {"Content-Type": "application/json"})
        assert status == 200, body
        token = json.loads(body)["access_token"]
        yield {"base": base, "auth": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def generate(n, **spec):
    status, body = http(n["base"] + "/v1/projects/default/agents/fluent-bit", json.dumps(spec).encode(), n["auth"])
    assert status == 200, body
    return {f["name"]: f["content"] for f in json.loads(body)["files"]}


def fluent_bit_sections(conf):
    """The classic format: `[SECTION]` lines and indented `Key Value` lines, comments and blanks."""
    sections = []
    for line in conf.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.fullmatch(r"\[[A-Z]+\]", line):
            sections.append((line[1:-1], {}))
            continue
        m = re.fullmatch(r"    (\S+)\s+(.+)", line)
        assert m and sections, f"not a Fluent Bit classic configuration line: {line!r}"
        sections[-1][1].setdefault(m.group(1), []).append(m.group(2))
    return sections


def bash_syntax(script, tmp_path):
    path = tmp_path / "script.sh"
    path.write_text(script)
    p = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_linux_script_and_configuration_keep_every_event(nexuslog, tmp_path):
    files = generate(nexuslog, platform="linux", url="https://logs.example.com", paths=["/var/log/nginx/*.log", "/srv/app/*.log"], service="shop")
    bash_syntax(files["install.sh"], tmp_path)
    sections = dict(fluent_bit_sections(files["fluent-bit.conf"]))
    tail, out, service = sections["INPUT"], sections["OUTPUT"], sections["SERVICE"]
    assert tail["Path"] == ["/var/log/nginx/*.log,/srv/app/*.log"]
    assert tail["DB"] and tail["storage.type"] == ["filesystem"], "read positions and the disk buffer"
    assert service["storage.path"], "chunks wait on disk"
    assert (out["Name"], out["URI"], out["Host"], out["Port"], out["tls"]) == (["http"], ["/v1/logs/bulk"], ["logs.example.com"], ["443"], ["On"])
    assert out["Retry_Limit"] == ["no_limits"] and out["Format"] == ["json_lines"]
    assert out["Header"] == ["Authorization Bearer ${NEXUSLOG_API_KEY}"], "the key comes from the environment"
    assert files["fluent-bit.conf"] in files["install.sh"], "the script installs the configuration shown"


def test_the_public_install_script_is_the_generated_one(nexuslog):
    files = generate(nexuslog, platform="linux", url="http://10.0.0.5:8000", paths=["/var/log/app/*.log"])
    query = urllib.parse.urlencode({"url": "http://10.0.0.5:8000", "paths": "/var/log/app/*.log"})
    status, script = http(nexuslog["base"] + "/v1/agents/fluent-bit/install.sh?" + query)
    assert status == 200
    assert script == files["install.sh"]
    status, body = http(nexuslog["base"] + "/v1/agents/fluent-bit/install.sh?" + urllib.parse.urlencode({"paths": "/var/log/$(reboot)"}))
    assert status == 400 and "path" in body


@pytest.mark.parametrize("kube", ["1.30.0", "1.37.0"])
def test_the_daemonset_validates_against_the_kubernetes_schemas(nexuslog, tmp_path, kube):
    files = generate(nexuslog, platform="kubernetes", url="https://logs.example.com")
    manifest = tmp_path / "agent.yaml"
    manifest.write_text(files["nexuslog-agent.yaml"])
    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    assert {d["kind"] for d in docs} == {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"}
    conf = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["fluent-bit.conf"]
    sections = fluent_bit_sections(conf)
    assert ["kubernetes"] in [v.get("Name") for s, v in sections if s == "FILTER"], "pod metadata"
    p = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "-k", kube, "--no-warn", str(manifest)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_ansible_and_ssm_run_the_install_script(nexuslog, tmp_path):
    play = generate(nexuslog, platform="ansible", url="https://logs.example.com", paths=["/var/log/app/*.log"])
    task = yaml.safe_load(play["nexuslog-agent.yml"])[0]["tasks"][0]
    assert task["ansible.builtin.shell"] == play["install.sh"]
    assert task["no_log"] is True and "nexuslog_api_key" in task["environment"]["NEXUSLOG_API_KEY"]
    ssm = generate(nexuslog, platform="aws_ssm", url="https://logs.example.com", ec2_tag="team=shop")
    doc = json.loads(ssm["ssm-send-command.json"])
    assert doc["DocumentName"] == "AWS-RunShellScript" and doc["Targets"] == [{"Key": "tag:team", "Values": ["shop"]}]
    bash_syntax(doc["Parameters"]["commands"][0], tmp_path)
    assert ssm["install.sh"] in doc["Parameters"]["commands"][0]
