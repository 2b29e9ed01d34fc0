"""JUnit XML: valid against the Jenkins xunit plugin's JUnit schema, read back by junitparser.

Both checks are independent of this code: the XSD is the one Jenkins' xunit plugin validates
JUnit reports with (tests/reporting/data/README.md says where it comes from), and junitparser is
the reader GitHub's publish-unit-test-result action and others use.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import junitparser
import pytest
import xmlschema

from audit.core.findings import Verdict
from audit.reporting.junit import render_junit, write_junit
from tests.reporting.conftest import HOSTILE, make_hostile_result, make_result

XSD = Path(__file__).parent / "data" / "jenkins-junit-10.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


@pytest.mark.parametrize("build", [make_result, make_hostile_result])
def test_the_document_is_valid_against_the_jenkins_junit_schema(schema, build, tmp_path):
    path = write_junit(build(), tmp_path / "audit.xml")
    schema.validate(str(path))  # raises on any violation


def test_each_finding_is_a_test_case_with_the_outcome_its_verdict_and_severity_give(tmp_path):
    result = make_result()
    path = write_junit(result, tmp_path / "audit.xml")
    xml = junitparser.JUnitXml.fromfile(str(path))
    (suite,) = list(xml)
    cases = list(suite)
    assert len(cases) == len(result.findings)
    for case, finding in zip(cases, result.findings, strict=True):
        kinds = {type(r).__name__ for r in case.result}
        if finding.verdict is Verdict.PASS:
            assert kinds == set()
        elif finding.severity.value == "advisory":
            assert kinds == {"Skipped"}
            assert case.result[0].message.startswith("advisory")
        elif finding.verdict is Verdict.FAIL:
            assert kinds == {"Failure"}
            assert case.result[0].message == finding.summary
            assert finding.citation in case.result[0].text
        else:
            assert kinds == {"Error"}
            assert all(reason in case.result[0].text for reason in finding.reasons)
        assert case.name.startswith(finding.requirement_id)
    failures = sum(f.verdict is Verdict.FAIL and f.blocks for f in result.findings)
    errors = sum(f.verdict is Verdict.INCONCLUSIVE and f.blocks for f in result.findings)
    assert (suite.tests, suite.failures, suite.errors) == (len(cases), failures, errors)
    assert failures and errors  # the fixture exercises both


def test_markup_in_policy_and_data_strings_round_trips_as_text():
    result = make_hostile_result()
    root = ET.fromstring(render_junit(result).encode("utf-8"))
    assert {element.tag for element in root.iter()} <= {
        "testsuites",
        "testsuite",
        "properties",
        "property",
        "testcase",
        "failure",
        "error",
        "skipped",
        "system-out",
    }
    messages = [e.get("message") for e in root.iter() if e.tag in {"failure", "error"}]
    summaries = [f.summary for f in result.findings if f.blocks]
    assert messages == summaries
    assert any(hostile in m for m in messages for hostile in HOSTILE)
