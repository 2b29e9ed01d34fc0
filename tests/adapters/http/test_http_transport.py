"""HttpTransport against httpx.MockTransport: retries, back-off, credentials, messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from audit.adapters.http import HttpTransport, safe_url
from audit.errors import EndpointError, UsageError

URL = "http://127.0.0.1:1234/invocations"
SECRET = "s3cret-VALUE-123"
Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with ``responses`` in turn (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses[min(len(seen), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle, seen


@pytest.fixture
def make_transport() -> Iterator[Callable[..., tuple[HttpTransport, list[float]]]]:
    made: list[HttpTransport] = []

    def make(handler: Handler, **kwargs: object) -> tuple[HttpTransport, list[float]]:
        sleeps: list[float] = []
        options: dict[str, object] = {
            "backoff_base": 0.5,
            "backoff_max": 8.0,
            "sleep": sleeps.append,
            "seed": 1,
        }
        options.update(kwargs)
        transport = HttpTransport(transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]
        made.append(transport)
        return transport, sleeps

    yield make
    for transport in made:
        transport.close()


OK = httpx.Response(200, json={"predictions": [1]})


def test_post_json_sends_json_and_counts(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, seen = scripted(OK)
    transport, sleeps = make_transport(handler)
    assert transport.post_json(URL, {"a": [1, None]}, rows=5) == {"predictions": [1]}
    assert json.loads(seen[0].content) == {"a": [1, None]}
    assert seen[0].headers["content-type"] == "application/json"
    assert (transport.requests_sent, transport.rows_sent, transport.retries) == (1, 5, 0)
    assert sleeps == []


def test_two_503_then_success_takes_three_requests_with_growing_backoff(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, seen = scripted(httpx.Response(503), httpx.Response(503), OK)
    transport, sleeps = make_transport(handler)
    assert transport.post_json(URL, {}, rows=2) == {"predictions": [1]}
    assert len(seen) == 3
    assert (transport.requests_sent, transport.rows_sent, transport.retries) == (3, 6, 2)
    # equal jitter: between half and all of 0.5 s, then of 1 s
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_backoff_is_capped(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, _ = scripted(httpx.Response(502))
    transport, sleeps = make_transport(handler, max_retries=6, backoff_max=2.0)
    with pytest.raises(EndpointError):
        transport.post_json(URL, {})
    assert len(sleeps) == 6
    assert max(sleeps) <= 2.0
    assert sleeps[-1] >= 1.0


def test_retry_after_seconds_replace_the_backoff(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "3"}), OK)
    transport, sleeps = make_transport(handler)
    transport.post_json(URL, {})
    assert sleeps == [3.0]


def test_retry_after_is_capped_at_the_max_backoff(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, _ = scripted(httpx.Response(503, headers={"Retry-After": "3600"}), OK)
    transport, sleeps = make_transport(handler, backoff_max=8.0)
    transport.post_json(URL, {})
    assert sleeps == [8.0]


def test_retry_after_http_date_in_the_past_means_now(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    handler, _ = scripted(httpx.Response(503, headers={"Retry-After": past}), OK)
    transport, sleeps = make_transport(handler)
    transport.post_json(URL, {})
    assert sleeps == [0.0]


def test_exhausted_retries_name_the_attempts_and_the_last_answer(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, seen = scripted(httpx.Response(503))
    transport, _ = make_transport(handler)
    with pytest.raises(EndpointError) as caught:
        transport.post_json(URL, {})
    assert str(caught.value) == (
        f"{URL}: no answer after 4 attempts (last answer HTTP 503 Service Unavailable)"
    )
    assert len(seen) == 4


def test_connection_refused_is_retried_then_reported(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, seen = scripted(httpx.ConnectError("[Errno 111] Connection refused"))
    transport, _ = make_transport(handler)
    with pytest.raises(EndpointError) as caught:
        transport.post_json(URL, {})
    assert str(caught.value) == f"{URL}: no answer after 4 attempts (connection refused)"
    assert len(seen) == 4


def test_timeouts_are_retried_then_reported(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, seen = scripted(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"))
    transport, _ = make_transport(handler, max_retries=1, timeout=2.5)
    with pytest.raises(
        EndpointError, match=r"no answer after 2 attempts \(timed out after 2.5 s\)"
    ):
        transport.post_json(URL, {})
    assert len(seen) == 2


@pytest.mark.parametrize("status", [400, 404, 405, 413, 422])
def test_client_errors_fail_at_once_with_the_body(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]], status: int
) -> None:
    handler, seen = scripted(httpx.Response(status, json={"error": "column 'age' missing"}))
    transport, sleeps = make_transport(handler)
    with pytest.raises(EndpointError, match=rf"^{URL}: HTTP {status} .*column 'age' missing"):
        transport.post_json(URL, {})
    assert len(seen) == 1
    assert sleeps == []


def test_non_json_success_is_an_endpoint_error(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, _ = scripted(httpx.Response(200, text="<html>proxy login</html>"))
    transport, _ = make_transport(handler)
    with pytest.raises(
        EndpointError, match="HTTP 200 with a body that is not JSON: <html>proxy login"
    ):
        transport.post_json(URL, {})


@pytest.mark.parametrize(
    ("answer", "taken"),
    [
        (httpx.Response(200, content=b">50K"), ">50K"),  # TorchServe's str: no Content-Type
        (httpx.Response(200, text="<=50K\r\n"), "<=50K"),
        (httpx.Response(200, text="1"), 1),  # JSON first: TorchServe's "1" cannot be told apart
        (httpx.Response(200, html="<html>proxy login</html>"), None),
        (httpx.Response(200, content=b"{", headers={"Content-Type": "application/json"}), None),
        (httpx.Response(200, text="proxy\nlogin"), None),
        (httpx.Response(200, text=""), None),
    ],
)
def test_text_is_taken_only_as_one_line_sent_as_text_when_asked(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
    answer: httpx.Response,
    taken: object,
) -> None:
    handler, _ = scripted(answer)
    transport, _ = make_transport(handler)
    if taken is None:
        with pytest.raises(EndpointError, match="HTTP 200 with a body that is not JSON"):
            transport.post_json(URL, {}, text=True)
    else:
        assert transport.post_json(URL, {}, text=True) == taken
    if not isinstance(taken, int):  # never without asking
        with pytest.raises(EndpointError, match="HTTP 200 with a body that is not JSON"):
            transport.post_json(URL, {})


def test_get_json_is_one_uncounted_attempt(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, seen = scripted(httpx.Response(503))
    transport, _ = make_transport(handler)
    with pytest.raises(EndpointError, match="no answer after 1 attempts"):
        transport.get_json("http://127.0.0.1:1234/v2/models/m")
    assert len(seen) == 1
    assert transport.requests_sent == 0


# --- credentials ----------------------------------------------------------------------


def test_header_env_sends_the_variable_and_hides_it(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_API_KEY", SECRET)
    echo_body = {"error": f"bad key {SECRET}"}
    handler, seen = scripted(httpx.Response(403, json=echo_body))
    transport, _ = make_transport(handler, header_env={"X-Api-Key": "MY_API_KEY"})
    with pytest.raises(EndpointError) as caught:
        transport.post_json(URL, {})
    assert seen[0].headers["x-api-key"] == SECRET
    message = str(caught.value)
    assert "HTTP 403" in message
    assert "X-Api-Key" in message
    assert "***" in message
    for text in (message, repr(transport), json.dumps(transport.describe())):
        assert SECRET not in text
    assert transport.describe()["auth_headers"] == ["X-Api-Key"]


def test_unset_header_variable_is_a_usage_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(
        UsageError, match=r"environment variable 'NOT_SET_ANYWHERE'.*'Authorization'"
    ):
        HttpTransport(header_env={"Authorization": "NOT_SET_ANYWHERE"})


def test_maas_audit_token_is_the_default_bearer(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", SECRET)
    handler, seen = scripted(OK)
    transport, _ = make_transport(handler, default_token=True)
    transport.post_json(URL, {})
    assert seen[0].headers["authorization"] == f"Bearer {SECRET}"
    assert transport.auth_headers == ["Authorization"]
    assert SECRET not in repr(transport)


def test_maas_audit_token_is_sent_only_when_asked_for(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A transport to a URL the user did not name (a policy's probe) gets no token.
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", SECRET)
    handler, seen = scripted(OK)
    transport, _ = make_transport(handler)
    transport.post_json(URL, {})
    assert "authorization" not in seen[0].headers
    assert transport.auth_headers == []


def test_configured_authorization_wins_over_maas_audit_token(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", "ambient")
    monkeypatch.setenv("MY_AUTH", "Basic abc")
    handler, seen = scripted(OK)
    transport, _ = make_transport(
        handler, header_env={"authorization": "MY_AUTH"}, default_token=True
    )
    transport.post_json(URL, {})
    assert seen[0].headers.get_list("authorization") == ["Basic abc"]


def test_messages_drop_user_info_and_query(
    make_transport: Callable[..., tuple[HttpTransport, list[float]]],
) -> None:
    handler, seen = scripted(httpx.Response(500))
    transport, _ = make_transport(handler, max_retries=0)
    url = f"https://user:{SECRET}@scoring.example:8443/invocations?code={SECRET}"
    with pytest.raises(EndpointError) as caught:
        transport.post_json(url, {})
    assert str(caught.value).startswith("https://scoring.example:8443/invocations: no answer")
    assert SECRET not in str(caught.value)
    assert seen[0].url.params["code"] == SECRET  # still sent


def test_safe_url_keeps_ipv6_hosts() -> None:
    assert (
        safe_url("http://u:p@[::1]:8080/v2/models/m/infer?x=1#f")
        == "http://[::1]:8080/v2/models/m/infer"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "'timeout' parameter of HttpTransport must be a number > 0; got 0"),
        (
            {"max_retries": -1},
            "'max_retries' parameter of HttpTransport must be an int >= 0; got -1",
        ),
        ({"max_retries": 1.5}, "'max_retries'.*got 1.5"),
        ({"backoff_base": -0.1}, "'backoff_base'.*>= 0"),
        ({"max_answer_bytes": 0}, "'max_answer_bytes' parameter of HttpTransport.*got 0"),
        ({"max_answer_bytes": 1.5}, "'max_answer_bytes'.*got 1.5"),
    ],
)
def test_settings_are_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        HttpTransport(**kwargs)  # type: ignore[arg-type]
