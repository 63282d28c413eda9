"""HTTPS on the HTTP port (`http.tls_cert`, `http.tls_key`, `http.tls_client_ca`): curl with
the CA ingests and searches (embedded and Kafka/OpenSearch); HTTP/2 is chosen by ALPN; mutual
TLS refuses clients without a certificate; a certificate replaced on disk is served to new
connections while a kept-alive one goes on with the old; TLS 1.0 and 1.1 ClientHellos get a
protocol_version alert; plain HTTP on the port gets a 400 that says to use https; missing files
stop the start with an error naming the setting. The PKI is made with the openssl CLI per test."""

import http.client
import json
import os
import socket
import ssl
import struct
import subprocess
import time
import uuid

import pytest

from conftest import free_port, running_node, search


def openssl(cwd, *args):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, in `dir`."""

    LEAF = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"

    def __init__(self, dir):
        self.dir = dir
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key")
        openssl(dir, "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=NexusLog HTTPS test CA", "-days", "2",
                "-out", "ca.pem", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.ca = str(dir / "ca.pem")
        self.server_cert, self.server_key = self.issue("server", "127.0.0.1", "serverAuth", 2,
                                                       "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        self.client_cert, self.client_key = self.issue("client", "default", "clientAuth", 3)

    def issue(self, name, cn, usage, serial, extra=""):
        (self.dir / f"{name}.ext").write_text(f"{self.LEAF}extendedKeyUsage={usage}\n{extra}")
        openssl(self.dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key")
        openssl(self.dir, "req", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-out", f"{name}.csr")
        openssl(self.dir, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-set_serial", str(serial), "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem")
        return str(self.dir / f"{name}.pem"), str(self.dir / f"{name}.key")

    def env(self, client_ca=False):
        e = {"NEXUSLOG_HTTP_TLS_CERT": self.server_cert, "NEXUSLOG_HTTP_TLS_KEY": self.server_key}
        if client_ca:
            e["NEXUSLOG_HTTP_TLS_CLIENT_CA"] = self.ca
        return e

    def context(self, client_cert=False):
        ctx = ssl.create_default_context(cafile=self.ca)
        if client_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    return Pki(d)


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "20", *args], capture_output=True, text=True, timeout=30)


def serial_of(der):
    """The serial number of a DER certificate, read by openssl."""
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                         capture_output=True, check=True, timeout=10).stdout
    return int(out.decode().strip().split("=")[1], 16)


@pytest.mark.parametrize("mode", ["embedded", "kafka-opensearch"])
def test_curl_ingests_and_searches_over_https(mode, tmp_path, pki):
    ctx = pki.context()
    with running_node(mode, tmp_path, pki.env(), ssl_context=ctx) as (url, key):
        assert url.startswith("https://")
        marker = "tls" + uuid.uuid4().hex[:10]
        lines = "".join(json.dumps({"message": f"{marker} event {i}", "service": "checkout"}) + "\n" for i in range(3))
        r = curl("--cacert", pki.ca, "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/x-ndjson",
                 "--data-binary", lines, "-w", "\n%{http_code} %{http_version}", f"{url}/v1/logs/bulk")
        assert r.returncode == 0, r.stderr
        body, status = r.stdout.rsplit("\n", 1)
        # curl offers h2 by ALPN over TLS and the server picks it.
        assert status == "200 2", (status, body)
        assert json.loads(body)["accepted"] == 3
        hits = search(url, key, marker, 3, ssl_context=ctx)
        assert sorted(h["message"] for h in hits) == [f"{marker} event {i}" for i in range(3)]
        assert {h["service"] for h in hits} == {"checkout"}

        # The search API through curl, over HTTP/1.1 this time.
        r = curl("--cacert", pki.ca, "--http1.1", "-H", f"Authorization: Bearer {key}", "-w", "\n%{http_version}",
                 f"{url}/v1/search?q={marker}&from=now-1d")
        body, version = r.stdout.rsplit("\n", 1)
        assert version == "1.1" and len(json.loads(body)["hits"]) == 3

        # Without the CA the certificate is not trusted: curl stops before sending anything.
        r = curl("-H", f"Authorization: Bearer {key}", f"{url}/readyz")
        assert r.returncode == 60, (r.returncode, r.stderr)


def test_plain_http_on_the_https_port_is_told_to_use_https(tmp_path, pki):
    with running_node("embedded", tmp_path, pki.env(), ssl_context=pki.context()) as (url, _key):
        port = url.rsplit(":", 1)[1]
        r = curl("-w", "\n%{http_code}", f"http://127.0.0.1:{port}/readyz")
        body, status = r.stdout.rsplit("\n", 1)
        assert status == "400"
        assert "HTTPS only" in body and "https://" in body

        # The image's HEALTHCHECK (`nexuslog healthcheck`) counts that answer as alive.
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUSLOG_")}
        env.update(pki.env(), NEXUSLOG_HTTP_ADDR=f"127.0.0.1:{port}")
        assert subprocess.run([os.environ["NEXUSLOG_BIN"], "healthcheck"], env=env, timeout=30).returncode == 0
        env["NEXUSLOG_HTTP_ADDR"] = f"127.0.0.1:{free_port()}"
        assert subprocess.run([os.environ["NEXUSLOG_BIN"], "healthcheck"], env=env, capture_output=True, timeout=30).returncode != 0


def test_mutual_tls_requires_a_client_certificate(tmp_path, pki):
    with running_node("embedded", tmp_path, pki.env(client_ca=True), ssl_context=pki.context(client_cert=True)) as (url, key):
        ok = curl("--cacert", pki.ca, "--cert", pki.client_cert, "--key", pki.client_key, "-w", "%{http_code}", "-o", "/dev/null", f"{url}/readyz")
        assert ok.stdout == "200", ok.stderr
        refused = curl("--cacert", pki.ca, "-w", "%{http_code}", "-o", "/dev/null", f"{url}/readyz")
        assert refused.returncode != 0 and refused.stdout == "000", (refused.returncode, refused.stdout)

        # A certificate from another CA is refused too.
        other = pki.dir / "other"
        other.mkdir()
        stranger = Pki(other)
        r = curl("--cacert", pki.ca, "--cert", stranger.client_cert, "--key", stranger.client_key, "-w", "%{http_code}", "-o", "/dev/null", f"{url}/readyz")
        assert r.returncode != 0 and r.stdout == "000"


def test_rotated_certificate_serves_new_connections_and_spares_open_ones(tmp_path, pki):
    ctx = pki.context()
    with running_node("embedded", tmp_path, pki.env(), ssl_context=ctx) as (url, key):
        port = int(url.rsplit(":", 1)[1])
        kept = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        kept.request("GET", "/readyz")
        assert kept.getresponse().read() is not None
        kept_sock = kept.sock
        assert serial_of(kept_sock.getpeercert(binary_form=True)) == 2

        # Rotate as cert-manager does: new files written next to the old and moved in place.
        new_cert, new_key = pki.issue("rotated", "127.0.0.1", "serverAuth", 7, "subjectAltName=IP:127.0.0.1\n")
        os.replace(new_key, pki.server_key)
        os.replace(new_cert, pki.server_cert)

        deadline = time.time() + 20
        while True:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    serial = serial_of(s.getpeercert(binary_form=True))
            if serial == 7:
                break
            assert time.time() < deadline, "the rotated certificate was not served within 20 s"
            time.sleep(0.5)

        # The kept-alive connection still answers, on the same socket and session.
        kept.request("GET", "/readyz")
        assert kept.getresponse().status == 200
        assert kept.sock is kept_sock and serial_of(kept.sock.getpeercert(binary_form=True)) == 2
        kept.close()

        # A broken rotation (a key that is not the certificate's) keeps serving the last good pair.
        (pki.dir / "garbage.key").write_text("not a key\n")
        os.replace(pki.dir / "garbage.key", pki.server_key)
        deadline = time.time() + 20
        while "keeping the previous certificate" not in (log := (tmp_path / "nexuslog.log").read_text()):
            assert time.time() < deadline, "the broken key was not reported within 20 s"
            time.sleep(0.2)
        assert "http.tls_key" in log
        ok = curl("--cacert", pki.ca, "-w", "%{http_code}", "-o", "/dev/null", f"{url}/readyz")
        assert ok.stdout == "200", ok.stderr


def client_hello(version):
    """A TLS ClientHello that would do for TLS 1.2 in everything but its version: suites, groups
    and signature schemes the server supports, no supported_versions extension."""
    def ext(kind, data):
        return struct.pack(">HH", kind, len(data)) + data

    groups = struct.pack(">H", 4) + b"\x00\x1d\x00\x17"  # x25519, secp256r1
    schemes = struct.pack(">H", 4) + b"\x04\x03\x08\x04"  # ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256
    extensions = ext(10, groups) + ext(11, b"\x01\x00") + ext(13, schemes)
    body = struct.pack(">H", version) + os.urandom(32) + b"\x00"  # version, random, no session id
    body += struct.pack(">H", 4) + b"\xc0\x2b\xc0\x2f"  # ECDHE GCM suites (ECDSA, RSA)
    body += b"\x01\x00"  # null compression
    body += struct.pack(">H", len(extensions)) + extensions
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(handshake)) + handshake


@pytest.mark.parametrize("version,name", [(0x0301, "TLS 1.0"), (0x0302, "TLS 1.1")])
def test_old_tls_versions_are_refused(version, name, tmp_path, pki):
    with running_node("embedded", tmp_path, pki.env(), ssl_context=pki.context()) as (url, _key):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(client_hello(version))
            answer = s.recv(64)
        # An alert record (21), fatal (2), protocol_version (70).
        assert answer[:1] == b"\x15" and answer[5:7] == b"\x02\x46", (name, answer.hex())

        # TLS 1.2 and 1.3 both work.
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = pki.context()
            ctx.minimum_version = ctx.maximum_version = v
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    assert s.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[v]


@pytest.mark.parametrize("env,setting", [
    ({"NEXUSLOG_HTTP_TLS_CERT": "{dir}/server.pem"}, "http.tls_key"),
    ({"NEXUSLOG_HTTP_TLS_CERT": "{dir}/missing.pem", "NEXUSLOG_HTTP_TLS_KEY": "{dir}/server.key"}, "http.tls_cert"),
    ({"NEXUSLOG_HTTP_TLS_CERT": "{dir}/server.pem", "NEXUSLOG_HTTP_TLS_KEY": "{dir}/client.key"}, "http.tls_key"),
    ({"NEXUSLOG_HTTP_TLS_CERT": "{dir}/server.pem", "NEXUSLOG_HTTP_TLS_KEY": "{dir}/server.key",
      "NEXUSLOG_HTTP_TLS_CLIENT_CA": "{dir}/missing-ca.pem"}, "http.tls_client_ca"),
])
def test_unusable_tls_settings_stop_the_start_naming_the_setting(env, setting, tmp_path, pki):
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUSLOG_")}
    run_env.update({
        "NEXUSLOG_DATA_DIR": str(tmp_path / "data"),
        "NEXUSLOG_HTTP_ADDR": f"127.0.0.1:{free_port()}",
        **{k: v.format(dir=pki.dir) for k, v in env.items()},
    })
    r = subprocess.run([os.environ["NEXUSLOG_BIN"], "standalone"], env=run_env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert setting in r.stderr, r.stderr[-2000:]
