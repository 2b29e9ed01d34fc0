"""The maas-audit demo: train a model on UCI Adult, serve it over HTTP, audit it.

1. trains a scikit-learn classifier on half of UCI Adult (examples/data/adult.csv);
2. saves it as a .skops file and serves it on localhost in a subprocess, speaking the
   MLflow scoring protocol (``POST /invocations``);
3. audits it through the HTTP adapter, on the other half of the data, against the shipped
   four-fifths and NYC Local Law 144 policies (examples/demo-policy.yaml);
4. writes reports/demo/report.html and reports/demo/report.json, and report.pdf when a
   Chromium is installed to print it.

Run from the repository root: ``python examples/demo.py``.  Exits 0 when the report was
written, whatever the verdict (a failing verdict is what the demo shows); 2 on an error.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import skops.io
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.cli.main import main as maas_audit
from audit.errors import UsageError
from audit.reporting.pdf import find_chromium

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "adult.csv"
POLICY = HERE / "demo-policy.yaml"
TARGET = "income"
CATEGORICAL = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
]
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
SEED = 20240501


def train(frame: pd.DataFrame) -> Pipeline:
    """A one-hot + logistic-regression income classifier."""
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=2000))])
    model.fit(frame[CATEGORICAL + NUMERIC], frame[TARGET])
    return model


def serve(model_path: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the scoring server in a subprocess; returns it and its base URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "audit.testing.endpoint", "--model", str(model_path), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline().strip()
    if not line.startswith("serving on "):
        server.kill()
        raise SystemExit(f"demo: the scoring server did not start ({line or 'no output'})")
    return server, line.removeprefix("serving on ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports") / "demo")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    adult = pd.read_csv(DATA)
    train_rows, audit_rows = train_test_split(
        adult, test_size=0.5, random_state=SEED, stratify=adult[TARGET]
    )
    print(f"demo: training on {len(train_rows):,} rows of UCI Adult")
    model_path = args.out / "adult-model.skops"
    skops.io.dump(train(train_rows), model_path)
    data_path = args.out / "audit-data.csv"
    audit_rows.to_csv(data_path, index=False)

    try:
        find_chromium()
        pdf = ["--pdf"]
    except UsageError:
        pdf = []
        print("demo: no Chromium found, so no report.pdf (apt-get install chromium)")
    server, base_url = serve(model_path)
    print(f"demo: model served at {base_url}/invocations (MLflow scoring protocol)")
    try:
        code = maas_audit(
            [
                "run",
                "--model",
                f"{base_url}/invocations",
                "--data",
                str(data_path),
                "--target",
                TARGET,
                "--positive-label",
                ">50K",
                "--features",
                ",".join(CATEGORICAL + NUMERIC),
                "--sensitive",
                "sex,race",
                "--policy",
                str(POLICY),
                "--out",
                str(args.out),
                "--data-description",
                "UCI Adult (1994 US Census extract), held-out half; income above $50K "
                "stands in for a favourable screening decision",
                "--data-dates",
                "1994 Current Population Survey",
                "--data-kind",
                "test",
                "--test-data-reason",
                "a demonstration: no screening tool was used on real applicants",
                "--test-data-origin",
                "the held-out half of UCI Adult (examples/data/README.md), as published",
                "--rows-are",
                "census respondents",
                *pdf,
            ]
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    if code not in (0, 1):
        return code
    also = f", or {args.out / 'report.pdf'}" if pdf else ""
    print(f"demo: open {args.out / 'report.html'} in a browser{also}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
