"""Fixtures shared by the whole suite: real data from UCI Adult, HTML parsing, Chromium,
the example LLM config pointed at the stand-in LLM."""

from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
import yaml

from audit.reporting.pdf import CHROMIUM_ARGS

if TYPE_CHECKING:
    from audit.testing.llm import StandInLLM

REPO = Path(__file__).resolve().parents[1]
ADULT_CSV = REPO / "examples" / "data" / "adult.csv"
LLM_EXAMPLE = REPO / "examples" / "screening-llm.yaml"


def llm_config(llm: "StandInLLM", folder: Path, **changes: object) -> Path:
    """Write examples/screening-llm.yaml aimed at the stand-in ``llm``, with ``changes``."""
    settings = yaml.safe_load(LLM_EXAMPLE.read_text(encoding="utf-8"))
    settings.update(url=llm.url.removesuffix("/chat/completions"), **changes)
    path = folder / "screening-llm.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    """UCI Adult, training split, 32,561 rows (examples/data/adult.csv)."""
    return pd.read_csv(ADULT_CSV)


@pytest.fixture
def adult_sample(adult) -> pd.DataFrame:
    """A fixed sample of 2,000 Adult rows."""
    return adult.sample(n=2000, random_state=7).reset_index(drop=True)


class ParsedHTML(HTMLParser):
    """Elements (tag, attributes) and text of a document, as a browser's tokenizer sees them."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]

    def attribute_values(self, name: str) -> list[str | None]:
        return [attrs[name] for _, attrs in self.elements if name in attrs]


@pytest.fixture
def parse():
    """Parse an HTML document as a browser's tokenizer sees it (see ParsedHTML)."""
    return ParsedHTML


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium_path() -> Path:
    """Debian's Chromium; the test is skipped when it or Playwright is missing."""
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture
def browser_page(chromium_path):
    """A fresh page in headless Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser.new_page(viewport={"width": 1366, "height": 900})
        finally:
            browser.close()
