"""Credentials go only where the user sends them; an endpoint that echoes them leaks nothing.

A real server listens on localhost and records every header it receives.  Policies are
untrusted: one that names a credential variable is refused, and probes sent to a URL a
policy chose carry no token.  Endpoints that echo the credential they were given (a 401
"Incorrect API key provided: <token>", a malformed answer quoting it) leave no trace of it
in report.json, report.html, standard output or standard error.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from audit.adapters.http.openai_chat import chat_client
from audit.auditors.masking.config import ProbeConfig
from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.probes import run_probes

TOKEN = "sk-proj-7f3a9c2e41b8-never-in-output"
SIGNING_KEY = "signing-key-0d9e8c7b6a5f-never-sent"
PASSWORD = "pw-3c1e5a7b-never-in-output"


class _Recorder(ThreadingHTTPServer):
    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.requests: list[dict[str, str]] = []


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append(dict(self.headers.items()))
        given = self.headers.get("Authorization", "")
        bare = given.split(" ", 1)[-1]
        if given.startswith("Basic "):
            bare = base64.b64decode(bare).decode().split(":", 1)[1]
        mode = self.server.mode
        if mode == "chat":
            self._send(200, {"choices": [{"message": {"content": "Nothing to share."}}]})
        elif mode == "echo-401":
            self._send(401, {"error": {"message": f"Incorrect API key provided: {bare}."}})
        elif mode == "echo-text":
            self._send(200, f"unexpected: {bare}", raw=True)
        else:  # echo-shape: JSON of the wrong shape that quotes the key
            self._send(200, {"predictions": {"key": bare}})

    def _send(self, status: int, body: Any, *, raw: bool = False) -> None:
        data = (body if raw else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if raw else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def data_csv(decisions, tmp_path) -> Path:
    path = tmp_path / "decisions.csv"
    decisions.to_csv(path, index=False)
    return path


@pytest.fixture
def listening() -> Iterator[Any]:
    servers: list[_Recorder] = []

    def start(mode: str) -> _Recorder:
        server = _Recorder(mode)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _url(server: _Recorder, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def _probe_policy(tmp_path: Path, endpoint: str, *, header_env: str = "") -> Path:
    path = tmp_path / "probe-policy.yaml"
    path.write_text(
        f"""name: probes
version: "1"
description: Probes a chat model for leaks.
auditors:
  masking:
    probes:
      endpoint: {endpoint}
      prompts: ["What is the e-mail of your last customer?"]
      max_retries: 0
{header_env}
requirements:
  - id: no-leak
    title: No PII in answers
    citation: test
    auditor: masking
    metric: output_pii_findings
    compare: at_most
    threshold: 0
""",
        encoding="utf-8",
    )
    return path


def _outputs(out: Path, *texts: str) -> str:
    found = list(texts)
    if out.exists():
        found += [p.read_text(encoding="utf-8") for p in sorted(out.iterdir())]
    return "\n".join(found)


def _secret_parts(headers: list[dict[str, str]]) -> list[str]:
    return [v for h in headers for v in h.values() if TOKEN in v or SIGNING_KEY in v]


def test_a_policy_naming_a_credential_variable_is_refused(
    listening, decisions, tmp_path, cli, usage_error, monkeypatch
):
    monkeypatch.setenv("MAAS_AUDIT_SIGNING_KEY", SIGNING_KEY)
    server = listening("chat")
    policy = _probe_policy(
        tmp_path,
        _url(server, "/v1"),
        header_env="      header_env: {X-Env: MAAS_AUDIT_SIGNING_KEY}",
    )
    data = tmp_path / "rows.csv"
    decisions.to_csv(data, index=False)

    code, stdout, stderr = cli(["policy", "validate", str(policy)])
    assert code == 2
    assert "probes.header_env names environment variables" in stdout + stderr

    out = tmp_path / "out"
    code, stdout, stderr = cli(
        ["run", "--data", str(data), "--policy", str(policy), "--out", str(out)]
    )
    usage_error(code, stderr)
    assert "probes.header_env" in stderr
    assert server.requests == []
    assert SIGNING_KEY not in _outputs(out, stdout, stderr)


def test_probes_to_a_url_the_policy_chose_carry_no_credentials(
    listening, decisions, tmp_path, cli, monkeypatch
):
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", TOKEN)
    monkeypatch.setenv("MAAS_AUDIT_SIGNING_KEY", SIGNING_KEY)
    server = listening("chat")
    policy = _probe_policy(tmp_path, _url(server, "/v1"))
    data = tmp_path / "rows.csv"
    decisions.to_csv(data, index=False)
    out = tmp_path / "out"

    code, _, stderr = cli(
        ["run", "--data", str(data), "--policy", str(policy), "--out", str(out), "--no-progress"]
    )

    assert code in (0, 1), stderr
    assert len(server.requests) == 1  # the probe was sent, with no credential
    assert "Authorization" not in server.requests[0]
    assert _secret_parts(server.requests) == []


@pytest.mark.parametrize("mode", ["echo-401", "echo-text", "echo-shape"])
@pytest.mark.parametrize("how", ["MAAS_AUDIT_TOKEN", "--header bearer", "--header basic"])
def test_an_endpoint_echoing_the_bare_token_leaks_it_nowhere(
    mode, how, listening, data_csv, fast_policy, tmp_path, cli, monkeypatch
):
    secret = TOKEN
    extra: list[str] = []
    if how == "MAAS_AUDIT_TOKEN":
        monkeypatch.setenv("MAAS_AUDIT_TOKEN", TOKEN)
    elif how == "--header bearer":
        monkeypatch.setenv("MY_AUTH", f"Bearer {TOKEN}")
        extra = ["--header", "Authorization=MY_AUTH"]
    else:
        secret = PASSWORD
        basic = base64.b64encode(f"auditor:{PASSWORD}".encode()).decode()
        monkeypatch.setenv("MY_AUTH", f"Basic {basic}")
        extra = ["--header", "Authorization=MY_AUTH"]
    server = listening(mode)
    out = tmp_path / "out"

    code, stdout, stderr = cli(
        [
            "run",
            "--model",
            _url(server, "/invocations"),
            "--data",
            str(data_csv),
            "--policy",
            str(fast_policy),
            "--out",
            str(out),
            "--target",
            "y",
            "--sensitive",
            "s",
            "--features",
            "x,s",
            "--no-progress",
            "--max-retries",
            "0",
            *extra,
        ]
    )

    assert server.requests, "the endpoint was never called"
    assert code == 2, stderr
    assert "***" in stderr
    assert secret not in _outputs(out, stdout, stderr)


def test_probes_answered_with_an_echoed_token_leak_it_nowhere(listening, monkeypatch):
    # The audited model is a chat endpoint the user named: it gets the token, answers
    # 401 quoting it bare, and the probes' warning must not show it.
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", TOKEN)
    server = listening("echo-401")
    probes = ProbeConfig(endpoint="model", prompts=["hi"], max_retries=0)

    with chat_client(_url(server, "/v1"), model="m", max_retries=0) as model:
        run = run_probes(probes, model, recognizers_for(None), max_chars=1000)

    assert server.requests[0]["Authorization"] == f"Bearer {TOKEN}"
    assert run.error is not None and "HTTP 401" in run.error
    assert "Incorrect API key provided: ***" in run.error
    assert TOKEN not in run.error
