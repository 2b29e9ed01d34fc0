"""The three engines on UCI German Credit and Adult written as folders of Parquet files.

Bad input that only shows up in a later file must give the in-memory engine's findings,
or its refusal, on every engine: sensitive values missing only from the third file
(left out of the comparison, with the bound on what those rows could do), scores that
one file holds as bare 0s and 1s, a file that does not store a column the audit reads,
and a file that writes the favourable label as Adult's test split does (``>50K.``).
Figures are checked against pandas group-bys, a closed form and SciPy's Fisher test.

Data: ``examples/data/german.data``, Statlog (German Credit Data), Hofmann, H. (1994),
UCI Machine Learning Repository, https://doi.org/10.24432/C5NC77; ``examples/data/adult.csv``,
Becker, B. and Kohavi, R. (1996), Adult, UCI Machine Learning Repository,
https://doi.org/10.24432/C5XW20; both CC BY 4.0.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from scipy.stats import fisher_exact
from sklearn.linear_model import LogisticRegression

from audit import run_audit
from audit.cli.main import main
from audit.core.result import AuditResult
from audit.errors import DataError

from .conftest import REPO

COLUMNS = [
    "status",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "present_employment",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "present_residence",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "num_people_liable",
    "telephone",
    "foreign_worker",
    "class",
]
NUMERIC = [
    "duration",
    "credit_amount",
    "installment_rate",
    "present_residence",
    "existing_credits",
    "num_people_liable",
]
THRESHOLD = 0.72
ENGINES = [("pandas", None), ("chunked", 97), ("dask", 61)]
AUDIT = {
    "model": "column:score",
    "threshold": THRESHOLD,
    "target": "good",
    "positive_label": 1,
    "sensitive": ["sex", "age_band"],
    "policy": "four-fifths",
}


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    """German Credit with sex, an age band, 0/1 ``good`` and a logistic regression's score."""
    frame = pd.read_csv(REPO / "examples/data/german.data", sep=" ", header=None, names=COLUMNS)
    frame["sex"] = np.where(frame["personal_status_sex"].isin(["A92", "A95"]), "female", "male")
    frame["age_band"] = np.where(frame["age"] < 25, "under 25", "25 and over")
    frame["good"] = (frame["class"] == 1).astype(int)
    model = LogisticRegression(max_iter=2000).fit(frame[NUMERIC], frame["good"])
    frame["score"] = model.predict_proba(frame[NUMERIC])[:, 1]
    return frame[["sex", "age_band", "purpose", *NUMERIC, "good", "score"]]


def _write(folder: Path, parts: list[pd.DataFrame]) -> Path:
    folder.mkdir()
    for index, part in enumerate(parts):
        part.to_parquet(folder / f"part-{index}.parquet", index=False)
    return folder


def _quarters(frame: pd.DataFrame) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + 250].copy() for start in range(0, 1000, 250)]


def _each_engine(folder: Path, **changes: object) -> dict[str, AuditResult]:
    audit = {**AUDIT, **changes}
    return {
        engine: run_audit(
            data=folder, **audit, **({"engine": engine, "chunk_rows": rows} if rows else {})
        )
        for engine, rows in ENGINES
    }


def _same_as_in_memory(results: dict[str, AuditResult]) -> None:
    whole = results["pandas"]
    for engine in ("chunked", "dask"):
        result = results[engine]
        assert result.findings == whole.findings, engine
        assert [o.metrics for o in result.outputs] == [o.metrics for o in whole.outputs], engine
        assert [o.tables for o in result.outputs] == [o.tables for o in whole.outputs], engine
        assert [o.warnings for o in result.outputs] == [o.warnings for o in whole.outputs], engine


def _finding(result, requirement: str, grouping: tuple[str, ...]):
    return next(
        f
        for f in result.findings
        if f.requirement_id == requirement and tuple(f.grouping) == grouping
    )


def test_sex_missing_only_in_the_third_file_is_bounded_alike(german, tmp_path):
    parts = _quarters(german)
    third = parts[2]
    unknown = third.index[third["score"] < THRESHOLD][:40]  # 40 rows, none selected
    third.loc[unknown, "sex"] = None
    folder = _write(tmp_path / "log", parts)
    results = _each_engine(folder)
    _same_as_in_memory(results)

    table = pd.concat(parts)
    selected = (table["score"] >= THRESHOLD).astype(int)
    known = table["sex"].notna()
    counts = selected[known].groupby(table.loc[known, "sex"]).agg(["sum", "count"])
    rates = counts["sum"] / counts["count"]
    ratio = rates.min() / rates.max()
    # the 40 unknown rows, all unselected, joining the lower group: its rate falls further
    worst = counts.loc["male", "sum"] / (counts.loc["male", "count"] + 40) / rates.max()
    assert worst < 0.8 < ratio  # the rows left out could change the verdict
    fisher = fisher_exact(
        [
            [counts.loc["male", "sum"], counts.loc["male", "count"] - counts.loc["male", "sum"]],
            [
                counts.loc["female", "sum"],
                counts.loc["female", "count"] - counts.loc["female", "sum"],
            ],
        ],
        alternative="less",
    )
    for engine, result in results.items():
        ratio_finding = _finding(result, "four-fifths-selection-rate", ("sex",))
        assert ratio_finding.verdict.value == "INCONCLUSIVE", engine
        assert ratio_finding.measured == pytest.approx(ratio, abs=1e-12)
        assert f"would be {worst:.2f}" in " ".join(ratio_finding.reasons)
        significance = _finding(result, "four-fifths-significance", ("sex",))
        assert significance.measured == pytest.approx(fisher.pvalue, rel=1e-9)

    # compared instead (the default), the unknown rows are a group of their own, none selected
    policy = tmp_path / "compare.yaml"
    policy.write_text(
        'name: compare-unknown\nversion: "1"\nextends: four-fifths\n'
        "auditors:\n  fairness:\n    unknown_group: compare\n"
    )
    compared = _each_engine(folder, policy=str(policy))
    _same_as_in_memory(compared)
    finding = _finding(compared["dask"], "four-fifths-selection-rate", ("sex",))
    assert (finding.verdict.value, finding.measured) == ("FAIL", 0.0)
    assert finding.worst_group == "sex=unknown"


def test_a_later_file_of_bare_zero_one_scores_is_read_as_scores_on_every_engine(german, tmp_path):
    # the whole table's scores are fractions, so every engine reads them as scores; the
    # chunked engines once refused the chunks of the last file, which holds only 0s and 1s
    parts = _quarters(german)
    parts[3]["score"] = (parts[3]["score"] >= THRESHOLD).astype(float)
    folder = _write(tmp_path / "log", parts)
    results = _each_engine(folder)
    _same_as_in_memory(results)
    table = pd.concat(parts)
    rates = (table["score"] >= THRESHOLD).groupby(table["age_band"]).mean()
    finding = _finding(results["chunked"], "four-fifths-selection-rate", ("age_band",))
    assert finding.measured == pytest.approx(rates.min() / rates.max(), abs=1e-12)


def test_scores_of_only_zero_and_one_are_refused_by_every_engine(german, tmp_path):
    parts = _quarters(german)
    for part in parts:
        part["score"] = (part["score"] >= THRESHOLD).astype(float)
    folder = _write(tmp_path / "log", parts)
    for engine, rows in ENGINES:
        kwargs = {"engine": engine, "chunk_rows": rows} if rows else {}
        with pytest.raises(DataError, match=r"threshold \(0.72\) was given but the model returns"):
            run_audit(data=folder, **AUDIT, **kwargs)


def _cli(folder: Path, out: Path, engine: str, capsys, *model: str) -> tuple[int, str]:
    argv = ["run", "--data", str(folder), "--out", str(out), "--no-progress"]
    argv += [*(model or ("--model", "column:score", "--threshold", str(THRESHOLD)))]
    argv += ["--target", "good", "--positive-label", "1", "--sensitive", "sex,age_band"]
    argv += ["--policy", "four-fifths", "--engine", engine, "--chunk-rows", "97"]
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("engine", [engine for engine, _ in ENGINES])
@pytest.mark.parametrize("dropped", ["sex", "duration"])
def test_a_file_without_a_column_the_audit_reads_is_a_one_line_error(
    german, tmp_path, capsys, engine, dropped
):
    # a missing sensitive column once put the file's rows in the unknown group; a missing
    # model input was given to the model as missing values
    model = str(tmp_path / "model.skops")
    fitted = LogisticRegression(max_iter=2000).fit(german[NUMERIC], german["good"])
    skops.io.dump(fitted, model)
    parts = _quarters(german)
    parts[2] = parts[2].drop(columns=[dropped])
    parts.insert(1, german.iloc[:0][["good"]])  # a file with no rows may lack any column
    folder = _write(tmp_path / "log", parts)
    code, err = _cli(folder, tmp_path / "out", engine, capsys, "--model", model)
    assert code == 2
    assert err.count("\n") == 1
    assert f"'{folder / 'part-3.parquet'}' has no column '{dropped}'" in err


@pytest.mark.parametrize("engine", [engine for engine, _ in ENGINES])
def test_a_hive_key_and_an_empty_file_lack_no_column(german, tmp_path, engine):
    root = tmp_path / "lake"
    for key, part in zip(["a", "__HIVE_DEFAULT_PARTITION__"], _quarters(german)[:2], strict=False):
        folder = root / f"site={key}"
        folder.mkdir(parents=True)
        part.to_parquet(folder / "part.parquet", index=False)
    (root / "site=b").mkdir()
    german.iloc[:0][["good"]].to_parquet(root / "site=b" / "empty.parquet", index=False)
    argv = ["run", "--data", str(root), "--out", str(tmp_path / engine), "--no-progress"]
    argv += ["--model", "column:score", "--threshold", str(THRESHOLD), "--target", "good"]
    argv += ["--positive-label", "1", "--sensitive", "sex,site", "--policy", "four-fifths"]
    argv += ["--engine", engine, "--chunk-rows", "97"]
    assert main(argv) in (0, 1)
    report = json.loads((tmp_path / engine / "report.json").read_text())
    sites = next(
        m
        for m in report["auditors"][0]["metrics"]
        if m["metric"] == "selection_rate" and m["grouping"] == ["site"]
    )
    assert [(g["group"], g["count"]) for g in sites["groups"]] == [
        ("site=a", 250),
        ("site=unknown", 250),
    ]


def test_a_later_file_spelling_the_favourable_label_otherwise_is_said_by_every_engine(
    adult, tmp_path, capsys
):
    # UCI Adult's test split writes '>50K.' where its training split writes '>50K'; a
    # binary audit counts those rows as unfavourable, and every engine now says so
    log = adult.head(3000).copy()
    numeric = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    fitted = LogisticRegression(max_iter=1000).fit(log[numeric], log["income"])
    log["decision"] = fitted.predict(log[numeric])
    log = log[["sex", "race", "income", "decision"]]
    later = log.index >= 2000
    log.loc[later, "income"] = log.loc[later, "income"] + "."
    folder = tmp_path / "log"
    folder.mkdir()
    log.iloc[:2000].to_parquet(folder / "a.parquet", index=False)
    log.iloc[2000:].to_parquet(folder / "b.parquet", index=False)
    argv = ["run", "--model", "column:decision", "--data", str(folder), "--no-progress"]
    argv += ["--target", "income", "--positive-label", ">50K", "--sensitive", "sex,race"]
    argv += ["--policy", "four-fifths", "--chunk-rows", "700"]
    reports = {}
    for engine, _ in ENGINES:
        out = tmp_path / engine
        assert main([*argv, "--out", str(out), "--engine", engine]) == 1
        err = capsys.readouterr().err
        assert err.count("'>50K.' beside the favourable label '>50K'") == 1, engine
        reports[engine] = json.loads((out / "report.json").read_text())
    findings = [
        [(f["requirement_id"], f["grouping"], f["verdict"], f["measured"]) for f in r["findings"]]
        for r in reports.values()
    ]
    assert findings[0] == findings[1] == findings[2]
    # the favourable rows are those of '>50K' alone: the first file's
    errors = next(
        t for t in reports["dask"]["auditors"][0]["tables"] if t["title"] == "Error rates by sex"
    )
    positives = {row[0]: row[2] for row in errors["rows"]}
    expected = (log["income"] == ">50K").groupby(log["sex"]).sum()
    assert positives == {f"sex={sex}": int(n) for sex, n in expected.items()}


@pytest.mark.parametrize(
    ("labels", "positive", "named"),
    [
        ([">50K", "<=50K", ">50K.", "<=50K."], ">50K", "'>50K.'"),
        (["Approved", "approved", "Denied"], "Approved", "'approved'"),
        ([">50K", " >50K", "<=50K"], ">50K", None),  # read as '>50K': counted favourable
        ([">50K", "<=50K", "<=50K."], ">50K", None),  # unfavourable either way
        ([0, 1, "1"], "1", None),
        ([1.0, 2.0], 1, None),
    ],
)
def test_only_other_spellings_of_the_favourable_label_are_warned_of(labels, positive, named):
    from audit.engine.steps import label_warning

    warning = label_warning("y", labels, positive)
    if named is None:
        assert warning is None
    else:
        assert warning is not None
        assert warning.startswith(f"target column 'y' holds {named} beside the favourable label")


@pytest.mark.parametrize("engine", ["pandas", "chunked", "dask"])
def test_a_stray_target_value_in_a_later_file_is_named_not_blamed_on_regression(
    german, tmp_path, engine
):
    # five rows of the last file hold 2 in a 0/1 target: read as a regression target it
    # measured no selection rate in memory, and out of core was refused as a regression;
    # now every engine asks for the task to be named
    parts = _quarters(german)
    parts[3].loc[parts[3].index[:5], "good"] = 2
    folder = _write(tmp_path / "log", parts)
    audit = {**AUDIT, "positive_label": None}
    with pytest.raises(DataError, match=r"'good' has 3 distinct whole numbers \(0, 1, 2\)"):
        run_audit(data=folder, engine=engine, chunk_rows=97, **audit)


def _statsmodels_strata(frame: pd.DataFrame, group: str, reference: str):
    """statsmodels' table of ``group`` against ``reference`` within ``purpose``, and the strata.

    Groups are labels such as ``sex=male, age_band=under 25``.  Missing and blank purposes
    are one stratum, as the in-memory encoding makes them.
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    def rows_of(label: str) -> pd.Series:
        pairs = [part.split("=") for part in label.split(", ")]
        return np.logical_and.reduce([frame[column] == value for column, value in pairs])

    purpose = frame["purpose"].where(frame["purpose"].str.strip().astype(bool), None)
    purpose = purpose.fillna("(missing)")
    selected = frame["score"] >= THRESHOLD
    tables = []
    for stratum in purpose.unique():
        cells = []
        for label in (group, reference):
            rows = (purpose == stratum) & rows_of(label)
            chosen = int(selected[rows].sum())
            cells.append([chosen, int(rows.sum()) - chosen])
        cells = np.array(cells, dtype=float)
        # a stratum without both groups, or with nobody or everybody selected, adds nothing
        # to the CMH sums and breaks statsmodels' Breslow-Day (a division by zero)
        if cells.sum(axis=0).all() and cells.sum(axis=1).all():
            tables.append(cells)
    return StratifiedTable(tables), purpose.nunique()


def test_strata_give_statsmodels_figures_on_every_engine(german, tmp_path, capsys):
    # the stratified tests once needed the rows, so the chunked engines skipped them with a
    # warning; they now add up each group's rows per stratum over chunks. Four uneven files,
    # chunks of 97 and 61 rows that cut strata, missing and blank purposes in two files.
    table = german.copy()
    table.loc[table.index[300:330], "purpose"] = None
    table.loc[table.index[820:826], "purpose"] = " "
    bounds = [0, 137, 480, 731, 1000]
    parts = [table.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    folder = _write(tmp_path / "log", parts)
    argv = ["run", "--data", str(folder), "--no-progress", "--model", "column:score"]
    argv += ["--threshold", str(THRESHOLD), "--target", "good", "--positive-label", "1"]
    argv += ["--sensitive", "sex,age_band", "--strata", "purpose", "--policy", "four-fifths"]
    runs = {
        engine: ["--engine", engine] + (["--chunk-rows", str(rows)] if rows else [])
        for engine, rows in ENGINES
    }
    distributed = pytest.importorskip("distributed")
    reports, errors = {}, {}
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        runs["cluster"] = ["--engine", "dask", "--chunk-rows", "61"]
        runs["cluster"] += ["--dask-scheduler", cluster.scheduler_address]
        for engine, extra in runs.items():
            out = tmp_path / engine
            assert main([*argv, "--out", str(out), *extra]) in (0, 1)
            errors[engine] = capsys.readouterr().err
            reports[engine] = json.loads((out / "report.json").read_text())
    whole = reports["pandas"]["auditors"][0]
    for engine, report in reports.items():
        assert report["findings"] == reports["pandas"]["findings"], engine
        fairness = report["auditors"][0]
        for key in ("metrics", "tables", "warnings"):
            assert fairness[key] == whole[key], (engine, key)
        assert "stratified" not in errors[engine], engine
    strata = [t for t in whole["tables"] if "within strata of purpose" in t["title"]]
    assert [t["title"].rsplit(" by ", 1)[1] for t in strata] == [
        "sex",
        "age_band",
        "sex × age_band",
    ]
    for found in strata:
        reference = found["caption"].split("Each group against ")[1].split(" within each")[0]
        for cells in found["rows"]:
            row = dict(zip(found["columns"], cells, strict=True))
            expected, n_strata = _statsmodels_strata(table, row["group"], reference)
            used = expected.table.shape[2]
            assert n_strata == 11  # ten purposes and the missing one
            assert (row["strata used"], row["strata left out"]) == (used, 11 - used)
            cmh = expected.test_null_odds(correction=False)
            assert row["CMH chi-squared"] == pytest.approx(cmh.statistic, rel=1e-9)
            assert row["p (CMH)"] == pytest.approx(cmh.pvalue, rel=1e-9)
            assert row["common odds ratio"] == pytest.approx(expected.oddsratio_pooled, rel=1e-9)
            low, high = expected.oddsratio_pooled_confint()
            assert row["odds ratio 95% low"] == pytest.approx(low, rel=1e-9)
            assert row["odds ratio 95% high"] == pytest.approx(high, rel=1e-9)
            if used > 1:
                bd = expected.test_equal_odds()
                assert row["p (Breslow-Day)"] == pytest.approx(bd.pvalue, rel=1e-9)


def test_a_policys_strata_column_missing_from_the_data_is_warned_of_alike(german, tmp_path):
    # a policy may name a strata column that this table lacks: every engine warns, none fails
    policy = tmp_path / "strata.yaml"
    policy.write_text(
        'name: strata\nversion: "1"\nextends: four-fifths\n'
        "auditors:\n  fairness:\n    strata: site\n"
    )
    folder = _write(tmp_path / "log", _quarters(german))
    results = _each_engine(folder, policy=str(policy))
    _same_as_in_memory(results)
    for engine, result in results.items():
        warned = [w for w in result.outputs[0].warnings if "'site' is not in the data" in w]
        assert len(warned) == 1, engine


def test_a_group_found_only_in_the_last_file_and_a_tiny_group_agree(adult, tmp_path):
    log = adult.head(3000).copy()
    numeric = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    fitted = LogisticRegression(max_iter=1000).fit(log[numeric], log["income"])
    log["decision"] = fitted.predict(log[numeric])
    log = log[["sex", "race", "income", "decision"]]
    # every 'Other' row in the last file, and three rows of a sex value no other row has
    log = pd.concat([log[log["race"] != "Other"], log[log["race"] == "Other"]])
    log.iloc[-3:, log.columns.get_loc("sex")] = "X"
    folder = _write(tmp_path / "log", [log.iloc[:1000], log.iloc[1000:2000], log.iloc[2000:]])
    audit = {
        "model": "column:decision",
        "target": "income",
        "positive_label": ">50K",
        "sensitive": ["sex", "race"],
        "policy": "four-fifths",
    }
    results = {
        engine: run_audit(
            data=folder,
            **audit,
            **({"engine": engine, "chunk_rows": 701} if engine != "pandas" else {}),
        )
        for engine, _ in ENGINES
    }
    _same_as_in_memory(results)
    output = results["chunked"].outputs[0]
    races = next(
        m for m in output.metrics if m.metric == "selection_rate" and m.grouping == ("race",)
    )
    chosen = (log["decision"] == ">50K").groupby(log["race"]).agg(["sum", "count"])
    assert [(g.group, g.count) for g in races.groups] == [
        (f"race={race}", int(n)) for race, n in chosen["count"].sort_index().items()
    ]
    for group in races.groups:
        race = group.group.removeprefix("race=")
        assert group.value == pytest.approx(chosen.loc[race, "sum"] / chosen.loc[race, "count"])
    sexes = next(
        m for m in output.metrics if m.metric == "selection_rate" and m.grouping == ("sex",)
    )
    tiny = next(g for g in sexes.groups if g.group == "sex=X")
    assert tiny.count == 3 and tiny.status.value != "ok"


def test_decisions_missing_in_two_files_are_counted_over_the_table_by_every_engine(
    adult, tmp_path, capsys
):
    # the chunked engines once named only the first failing chunk's count ("1 missing
    # value(s) in this batch of 97 rows"); every engine now names the whole table's
    log = adult.head(3000)[["sex", "race", "income"]].copy()
    log["decision"] = log["income"]
    rng = np.random.default_rng(11)
    for start, n in [(0, 23), (2000, 9)]:  # files 1 and 3; file 2 has a decision everywhere
        rows = rng.choice(np.arange(start, start + 1000), size=n, replace=False)
        log.iloc[rows, log.columns.get_loc("decision")] = np.nan
    folder = _write(tmp_path / "log", [log.iloc[:1000], log.iloc[1000:2000], log.iloc[2000:]])
    stored = pd.read_parquet(folder)
    expected = (
        f"decision column 'decision' has {stored['decision'].isna().sum()} missing value(s) "
        f"in {len(stored):,} rows; every row needs a decision"
    )
    assert "has 32 missing value(s) in 3,000 rows" in expected
    argv = ["run", "--data", str(folder), "--no-progress", "--model", "column:decision"]
    argv += ["--target", "income", "--positive-label", ">50K", "--sensitive", "sex,race"]
    argv += ["--policy", "four-fifths"]
    for engine, rows in ENGINES:
        extra = ["--engine", engine] + (["--chunk-rows", str(rows)] if rows else [])
        assert main([*argv, "--out", str(tmp_path / engine), *extra]) == 2, engine
        assert capsys.readouterr().err == f"maas-audit: error: {expected}\n", engine
    # in memory too when the decision log is read in batches: the first batch's count was said
    assert main([*argv, "--out", str(tmp_path / "batched"), "--batch-size", "500"]) == 2
    assert capsys.readouterr().err == f"maas-audit: error: {expected}\n"


@pytest.mark.parametrize("engine", [engine for engine, _ in ENGINES])
def test_a_file_without_the_strata_column_is_a_one_line_error(german, tmp_path, capsys, engine):
    # the strata column was read out of core without being required, so the third
    # file's 250 rows silently became the missing stratum on every engine
    parts = _quarters(german)
    parts[2] = parts[2].drop(columns=["purpose"])
    folder = _write(tmp_path / "log", parts)
    model = ["--model", "column:score", "--threshold", str(THRESHOLD), "--strata", "purpose"]
    code, err = _cli(folder, tmp_path / "out", engine, capsys, *model)
    assert code == 2
    assert err.count("\n") == 1
    assert f"'{folder / 'part-2.parquet'}' has no column 'purpose'" in err
