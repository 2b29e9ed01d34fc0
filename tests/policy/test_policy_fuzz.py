"""Whatever text or bytes a policy file holds, the loader raises PolicyFileError or succeeds."""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.policy import PolicyFileError, load_policy, parse_policy

YAML_PIECES = st.sampled_from(
    [
        "name: ",
        "version: ",
        "requirements:",
        "\n",
        "  ",
        "- ",
        "id: ",
        "threshold: ",
        "compare: ",
        "ratio_to_max",
        "0.8",
        "&a ",
        "*a",
        "!!",
        "!x ",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "? ",
        "<<: ",
        "'",
        '"',
        "#",
        "---",
        "...",
        "|",
        ">",
        "\t",
        "~",
        "1e999",
        ".nan",
        "extends: ",
        "four-fifths",
        "../x.yaml",
        "/etc/x.yaml",
        "auditors:",
        "fairness:",
        "group_by: ",
        "%YAML 1.1",
        "\x00",
        "\ufeff",
        "é",
    ]
)


def check(text: str) -> None:
    failure: PolicyFileError | None = None
    try:
        parse_policy(text)
    except PolicyFileError as err:
        failure = err
    if failure is not None:
        assert failure.errors
        assert all(e.startswith("<string>:") for e in failure.errors)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_only_policy_error(text):
    check(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_yaml_like_text_raises_only_policy_error(text):
    check(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_in_a_file_raise_only_policy_error(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_bytes(data)
        failure: PolicyFileError | None = None
        try:
            load_policy(path)
        except PolicyFileError as err:
            failure = err
        if failure is not None:
            assert str(failure).startswith(str(path))
