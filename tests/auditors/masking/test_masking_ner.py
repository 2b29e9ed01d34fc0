"""Person names by a real spaCy pipeline (built here, offline), and the stated fallback."""

import importlib.util

import pandas as pd
import pytest

from audit.auditors.masking import MaskingAuditor, MaskingConfig
from audit.auditors.masking.ner import _installed_english, load_ner
from audit.core.context import AuditContext

NOTES = [
    "Please ask Jane Roe about the refund.",  # no title, no phrase: patterns miss it
    "Nothing personal in this note at all.",
    "Please ask Jane Roe about the refund.",  # the same value again: one NER call for both
    "Escalated by Dr. John Smith on Monday.",  # the title pattern finds this one
]


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory):
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [{"label": "PERSON", "pattern": [{"LOWER": "jane"}, {"LOWER": "roe"}]}]
    )  # fmt: skip
    path = tmp_path_factory.mktemp("pipeline") / "person-ruler"
    nlp.to_disk(path)
    return path


def _run(config):
    frame = pd.DataFrame({"notes": NOTES, "amount": [1.5, 2.5, 3.5, 4.5]})
    return MaskingAuditor().run(AuditContext(data=frame), MaskingConfig.model_validate(config))


def _person_rows(output):
    table = next(t for t in output.tables if t.title == "PII found, by column")
    rows = [dict(zip(table.columns, r, strict=True)) for r in table.rows]
    return [r for r in rows if r["Entity"] == "PERSON"]


def test_a_named_spacy_pipeline_finds_names_the_patterns_miss(pipeline_dir):
    output = _run({"ner_model": str(pipeline_dir)})
    (row,) = _person_rows(output)
    assert row["Cells"] == 3  # rows 0 and 2 by the pipeline, row 3 by the title pattern
    assert row["First rows"] == "0, 2, 3"
    assert "spacy_ner" in row["Recognizers"] and "person_title" in row["Recognizers"]
    assert "Jane" not in row["Masked examples"]  # masked: J*** R**
    assert f"spaCy pipeline '{pipeline_dir}'" in output.method
    assert output.limitations[0].startswith("Person names found by the spaCy pipeline")
    (unmasked,) = output.find("unmasked_pii_cells")
    assert {g.group: g.value for g in unmasked.groups}["entity=PERSON"] == 3


def test_with_ner_off_the_pattern_fallback_runs_and_says_so():
    output = _run({"ner": False})
    (row,) = _person_rows(output)
    assert row["First rows"] == "3"
    assert "pattern fallback only" in output.method and "ner: false" in output.method
    assert output.limitations[0].startswith("Person names are found without an NER model")


def test_without_an_installed_pipeline_the_fallback_says_why():
    if importlib.util.find_spec("spacy") is not None and _installed_english() is not None:
        pytest.skip("an en_core_web_* pipeline is installed here")
    output = _run({})
    assert [r["First rows"] for r in _person_rows(output)] == ["3"]
    assert "pattern fallback only" in output.method
    assert "spaCy is not installed" in output.method or "no spaCy pipeline" in output.method
    assert not output.warnings  # not asked for by name: no warning, the method says it


def test_a_pipeline_that_cannot_load_falls_back_with_a_warning(tmp_path):
    pytest.importorskip("spacy")
    output = _run({"ner_model": str(tmp_path / "no-such-pipeline")})
    assert [r["First rows"] for r in _person_rows(output)] == ["3"]
    assert any("could not be loaded" in w for w in output.warnings)
    assert "pattern fallback only" in output.method


def test_a_pipeline_without_person_labels_is_refused(tmp_path):
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "ORG", "pattern": "Acme"}])
    nlp.to_disk(tmp_path / "org-only")
    engine, statement = load_ner(str(tmp_path / "org-only"))
    assert engine is None and "labels no PERSON" in statement
