"""Exact error messages, with file and line, for malformed policy files."""

from pathlib import Path

import pytest

from audit.errors import PolicyError, UsageError
from audit.policy import PolicyFileError, load_policy, parse_policy
from audit.yaml_marks import MAX_FILE_BYTES

GOOD = """\
name: acme
version: "1"
requirements:
  - id: first
    title: Selection rates
    citation: 29 CFR 1607.4(D)
    auditor: fairness
    metric: selection_rate
    compare: ratio_to_max
    threshold: 0.8
  - id: second
    title: TPR gap
    citation: internal standard 4.2
    auditor: fairness
    metric: true_positive_rate
    compare: max_difference
    threshold: 0.1
"""


def errors_of(write, content, name="policies/x.yaml"):
    path = write(name, content)
    with pytest.raises(PolicyFileError) as info:
        load_policy(path)
    err = info.value
    assert str(err) == err.errors[0]
    assert isinstance(err, PolicyError)
    assert isinstance(err, UsageError)
    return err.errors


def test_good_file_loads(write):
    loaded = load_policy(write("policies/x.yaml", GOOD))
    assert [r.id for r in loaded.policy.requirements] == ["first", "second"]
    assert loaded.sources == ("policies/x.yaml",)
    assert loaded.locate(("requirements", 1, "threshold")) == "policies/x.yaml:17:5"
    assert loaded.locate(("requirements", 1)) == "policies/x.yaml:11:5"
    assert loaded.locate(("requirements", 1, "severity")) == "policies/x.yaml:11:5"
    assert loaded.locate(("name",)) == "policies/x.yaml:1:1"


def test_wrong_type(write):
    text = GOOD.replace("threshold: 0.1", "threshold: high")
    assert errors_of(write, text) == (
        "policies/x.yaml:17:5: requirements[1].threshold: expected a number, got 'high'",
    )


def test_unknown_field_suggests_closest(write):
    text = GOOD.replace("threshold: 0.1", "treshold: 0.1")
    assert errors_of(write, text) == (
        "policies/x.yaml:11:5: requirements[1].threshold: field required",
        "policies/x.yaml:17:5: requirements[1].treshold: unknown field 'treshold' "
        "(did you mean 'threshold'?)",
    )


def test_unknown_field_without_close_match_lists_fields(write):
    text = GOOD + "colour: blue\n"
    assert errors_of(write, text) == (
        "policies/x.yaml:18:1: colour: unknown field 'colour'; known fields: "
        "name, version, description, extends, auditors, requirements, report",
    )


def test_missing_field_points_at_enclosing_item(write):
    text = GOOD.replace("    citation: internal standard 4.2\n", "")
    assert errors_of(write, text) == (
        "policies/x.yaml:11:5: requirements[1].citation: field required",
    )


def test_every_error_collected(write):
    text = GOOD.replace("threshold: 0.8", "threshold: low").replace(
        "compare: max_difference", "compare: most"
    )
    errors = errors_of(write, text)
    assert errors == (
        "policies/x.yaml:10:5: requirements[0].threshold: expected a number, got 'low'",
        "policies/x.yaml:16:5: requirements[1].compare: expected 'ratio_to_max', "
        "'max_difference', 'at_most', 'at_least', 'significance' or 'established', "
        "got 'most'",
    )


def test_unquoted_version_says_quote_it(write):
    text = GOOD.replace('version: "1"', "version: 1.10")
    assert errors_of(write, text) == (
        'policies/x.yaml:2:1: version: expected a string, got 1.10 (quote it: version: "1.10")',
    )


def test_threshold_range_located_on_threshold(write):
    text = GOOD.replace("threshold: 0.8", "threshold: 80")
    assert errors_of(write, text) == (
        "policies/x.yaml:10:5: requirements[0].threshold: a ratio_to_max threshold must be "
        "in (0, 1], got 80.0",
    )


def test_duplicate_requirement_id_located_on_second(write):
    text = GOOD.replace("id: second", "id: first")
    assert errors_of(write, text) == (
        "policies/x.yaml:11:5: requirements[1].id: duplicate requirement id 'first' "
        "(first used at requirements[0])",
    )


def test_bad_id(write):
    text = GOOD.replace("id: second", "id: Second Req")
    assert errors_of(write, text) == (
        "policies/x.yaml:11:5: requirements[1].id: expected lowercase letters, digits, "
        "'-' and '_', got 'Second Req'",
    )


def test_yaml_syntax_error(write):
    text = GOOD.replace("    title: TPR gap\n", "    title: [TPR gap\n")
    (message,) = errors_of(write, text)
    assert message.startswith("policies/x.yaml:13:13: invalid YAML: ")


def test_yaml_syntax_error_exact(write):
    assert errors_of(write, "name: a\n  version: b\n") == (
        "policies/x.yaml:2:10: invalid YAML: mapping values are not allowed here",
    )


def test_duplicate_key(write):
    text = GOOD.replace("    threshold: 0.1\n", "    threshold: 0.1\n    threshold: 0.2\n")
    assert errors_of(write, text) == (
        "policies/x.yaml:18:5: requirements[1].threshold: duplicate key 'threshold' "
        "(first on line 17)",
    )


def test_duplicate_top_level_key(write):
    assert errors_of(write, GOOD + "name: other\n") == (
        "policies/x.yaml:18:1: name: duplicate key 'name' (first on line 1)",
    )


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(write, content):
    assert errors_of(write, content) == (
        "policies/x.yaml:1:1: the file is empty; a policy needs name, version and requirements",
    )


def test_top_level_list(write):
    assert errors_of(write, "- name: a\n") == (
        "policies/x.yaml:1:1: a policy must be a mapping of fields "
        "(name, version, requirements, ...), got a list",
    )


def test_top_level_scalar(write):
    assert errors_of(write, "hello\n") == (
        "policies/x.yaml:1:1: a policy must be a mapping of fields "
        "(name, version, requirements, ...), got 'hello'",
    )


def test_non_utf8(write):
    content = GOOD.encode("utf-8").replace(b"Selection rates", b"S\xe9lection rates")
    assert errors_of(write, content) == (
        "policies/x.yaml:5:13: the file is not UTF-8 text (byte 0xe9); save it as UTF-8",
    )


def test_utf8_bom_accepted(write):
    loaded = load_policy(write("policies/x.yaml", b"\xef\xbb\xbf" + GOOD.encode()))
    assert loaded.policy.name == "acme"


def test_huge_file(write):
    content = GOOD + "# " + "x" * MAX_FILE_BYTES + "\n"
    assert errors_of(write, content) == (
        "policies/x.yaml: the file is larger than 1 MiB; a policy is a few kilobytes",
    )


def test_alias_refused(write):
    text = GOOD.replace("title: TPR gap", "title: &t TPR gap").replace(
        "metric: true_positive_rate", "metric: *t"
    )
    assert errors_of(write, text) == (
        "policies/x.yaml:15:13: aliases (*t) are not allowed in policy files; write the value out",
    )


def test_billion_laughs_refused_quickly(write):
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(9)
    )
    (message,) = errors_of(write, bomb)
    assert "aliases (*a) are not allowed" in message


def test_deep_nesting_refused(write):
    assert errors_of(write, "a: " + "[" * 50 + "]" * 50 + "\n") == (
        "policies/x.yaml:1:23: nesting deeper than 20 levels",
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "a: !!python/object/apply:os.system [echo]\n",
            "1:4: YAML tag '!!python/object/apply:os.system' is not allowed in policy files",
        ),
        ("a: !custom x\n", "1:4: YAML tag '!custom' is not allowed in policy files"),
        ("a: !!set {x}\n", "1:4: YAML tag '!!set' is not allowed in policy files"),
        ("a: !!binary aGVsbG8=\n", "1:4: YAML tag '!!binary' is not allowed in policy files"),
        ("<<: {name: a}\n", "1:1: merge keys ('<<') are not allowed in policy files"),
        ("? [a, b]\n: 1\n", "1:3: mapping keys must be plain text"),
    ],
)
def test_unsafe_yaml_refused(write, content, expected):
    assert errors_of(write, content) == (f"policies/x.yaml:{expected}",)


def test_enormous_integer_refused(write):
    (message,) = errors_of(write, "a: " + "9" * 5000 + "\n")
    assert message.startswith("policies/x.yaml:1:4: cannot read '999")
    assert message.endswith("' as int")


def test_dates_stay_text(write):
    text = GOOD.replace('version: "1"', "version: 2024-05-01")
    assert load_policy(write("policies/x.yaml", text)).policy.version == "2024-05-01"


def test_multiple_documents_refused(write):
    assert errors_of(write, GOOD + "---\nname: b\n") == (
        "policies/x.yaml:18:1: invalid YAML: expected a single document in the stream, "
        "but found another document",
    )


def test_control_character_refused(write):
    assert errors_of(write, "name: a\x07\n") == (
        "policies/x.yaml:1:8: invalid YAML: character U+0007 is not allowed",
    )


def test_no_requirements_at_all(write, policy_text):
    assert errors_of(write, policy_text()) == (
        "policies/x.yaml:1:1: a policy needs at least one requirement, or 'extends:' naming "
        "one that has some",
    )


def test_missing_file(write):
    write("other.yaml", GOOD)
    with pytest.raises(PolicyFileError) as info:
        load_policy("nope.yaml")
    from audit.policy import list_packs

    assert str(info.value) == (
        "policy 'nope.yaml' not found: no such file, and no shipped pack of that name; "
        f"packs are: {', '.join(list_packs())}"
    )


def test_unknown_pack_name():
    with pytest.raises(PolicyFileError, match=r"^policy 'no-such-pack' not found"):
        load_policy("no-such-pack")


def test_directory_is_not_a_policy(write):
    write("d/x.yaml", GOOD)
    with pytest.raises(PolicyFileError, match=r"^d: not a file$"):
        load_policy("d")


def test_parse_policy_names_source():
    with pytest.raises(PolicyFileError) as info:
        parse_policy("name: [", source="inline")
    assert str(info.value).startswith("inline:1:8: invalid YAML: ")


def test_path_object_accepted(write):
    path = write("policies/x.yaml", GOOD)
    assert load_policy(Path.cwd() / path).policy.name == "acme"


@pytest.mark.parametrize(("written", "value"), [("1e-1", 0.1), ("+5E-2", 0.05), (".5e0", 0.5)])
def test_exponent_numbers_are_numbers_as_yaml_1_2_reads_them(write, written, value):
    # YAML 1.1 (PyYAML's) needs a dot before the exponent and would give the text "1e-1"
    loaded = load_policy(
        write("policies/x.yaml", GOOD.replace("threshold: 0.1", f"threshold: {written}"))
    )
    assert loaded.policy.requirements[1].threshold == value
