"""Person names by named-entity recognition, when spaCy and a pipeline are installed.

The pattern recognizers find names only with context (a title, "my name is", a column
named for names).  When spaCy is installed with a pipeline that labels ``PERSON`` (an
``ner`` component, an ``entity_ruler``...), that pipeline also runs, over the distinct
values of free-text and name columns, in batches (``nlp.pipe``).  Nothing is ever
downloaded: the pipeline is the one the policy names (``ner_model``: an installed
package or a directory written by ``nlp.to_disk``), else the first installed
``en_core_web_*`` package (the small one first).  Without one, the pattern fallback runs
alone and the report's method says so.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["NerEngine", "NerResult", "load_ner", "person_names"]

PERSON_LABELS = frozenset({"PERSON", "PER"})
"""Entity labels meaning a person's name (OntoNotes and CoNLL/WikiNER schemes)."""

_SIZES = ("sm", "md", "lg", "trf")
"""Installed English pipelines are tried smallest first: NER over a column must be fast."""

ERR_NO_SPACY = "spaCy is not installed (pip install spacy)"
ERR_NO_MODEL = "no spaCy pipeline is installed (none named by 'ner_model', no en_core_web_*)"
ERR_LOAD = "the spaCy pipeline {name!r} could not be loaded: {error}"
ERR_NO_PERSON = "the spaCy pipeline {name!r} labels no PERSON entities"
NOTE_CAPPED = (
    "person names by NER: {done:,} of {total:,} distinct values were run through the "
    "pipeline; the others were scanned by patterns only"
)


@dataclass(frozen=True)
class NerEngine:
    """A loaded spaCy pipeline that labels person names."""

    name: str
    """The package name or directory it was loaded from."""
    nlp: Any
    batch_size: int = 256
    max_values: int = 50_000
    """Most distinct values of one column run through the pipeline."""


@dataclass(frozen=True)
class NerResult:
    """Cells of one column holding a person's name, by NER."""

    rows: npt.NDArray[np.int64]
    texts: pa.Array
    notes: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _installed_english() -> str | None:
    # reading every distribution's metadata takes about a second: once per process, not
    # once per chunk of a table audited chunk by chunk
    found = set()
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").replace("-", "_").lower()
        if re.fullmatch(r"en_core_web_(?:sm|md|lg|trf)", name):
            found.add(name)
    return next((f"en_core_web_{s}" for s in _SIZES if f"en_core_web_{s}" in found), None)


def _labels(nlp: Any) -> set[str]:
    labels: set[str] = set()
    for _, pipe in nlp.pipeline:
        labels |= set(getattr(pipe, "labels", ()) or ())
    return labels


@lru_cache(maxsize=4)
def _load(name: str) -> Any:
    import spacy

    return spacy.load(name)


def load_ner(
    model: str | None, *, batch_size: int = 256, max_values: int = 50_000
) -> tuple[NerEngine | None, str]:
    """The pipeline to use for person names, or ``None`` and why not.

    Parameters
    ----------
    model : str or None
        An installed pipeline package or a pipeline directory; ``None`` takes the first
        installed ``en_core_web_*`` package.
    batch_size, max_values : int
        Texts per ``nlp.pipe`` batch, and most distinct values of a column processed.

    Returns
    -------
    tuple
        The engine (or ``None``) and a one-line statement: the pipeline used, or why
        the pattern fallback runs alone.  Never raises and never downloads.
    """
    if importlib.util.find_spec("spacy") is None:
        return None, ERR_NO_SPACY
    name = model or _installed_english()
    if name is None:
        return None, ERR_NO_MODEL
    try:
        nlp = _load(name)
    except Exception as exc:  # any failure to load (missing, broken, wrong version): fall back
        error = " ".join(str(exc).split())[:200]
        return None, ERR_LOAD.format(name=name, error=error)
    if not _labels(nlp) & PERSON_LABELS:
        return None, ERR_NO_PERSON.format(name=name)
    engine = NerEngine(name, nlp, batch_size=batch_size, max_values=max_values)
    return engine, f"spaCy pipeline {name!r}"


def _first_person(engine: NerEngine, values: Sequence[str]) -> list[str | None]:
    found: list[str | None] = []
    for doc in engine.nlp.pipe(values, batch_size=engine.batch_size):
        found.append(next((e.text for e in doc.ents if e.label_ in PERSON_LABELS), None))
    return found


def person_names(engine: NerEngine, array: pa.Array, rows: npt.NDArray[np.int64]) -> NerResult:
    """Cells among ``rows`` of ``array`` whose text holds a person's name, by NER.

    The pipeline runs once per distinct value (at most ``engine.max_values`` of them, in
    order of first appearance), and each cell gets its value's first ``PERSON``.
    """
    cells = array.take(pa.array(rows, type=pa.int64())) if len(rows) != len(array) else array
    encoded = pc.dictionary_encode(cells)
    values: list[str] = encoded.dictionary.to_pylist()
    notes: tuple[str, ...] = ()
    if len(values) > engine.max_values:
        notes = (NOTE_CAPPED.format(done=engine.max_values, total=len(values)),)
        values = values[: engine.max_values]
    names = _first_person(engine, values)
    has_name = np.array([n is not None for n in names] + [False], dtype=np.bool_)
    codes = encoded.indices.fill_null(len(names)).to_numpy(zero_copy_only=False)
    codes = np.minimum(codes, len(names))  # values past the cap: no name
    found = np.flatnonzero(has_name[codes])
    texts = pa.array([*names, None], type=pa.string()).take(pa.array(codes[found]))
    return NerResult(rows[found], texts, notes)
