"""Checks of the BCSC readers (analysis/io/bcsc/) and the BCSC summary tables they feed."""

from __future__ import annotations

import importlib.util
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _paths import PARAMETERS, REPO, SHARED_DATA

from analysis.errors import CalcsimInputError
from analysis.io import bcsc
from analysis.io.bcsc import common

SCRIPT = REPO / "scripts" / "derive_bcsc_summaries.py"
RISK_ZIP = SHARED_DATA / "bcsc-risk-estimation" / "risk_dataset.zip"
RISK_V2_ZIP = SHARED_DATA / "bcsc-risk-estimation" / "risk_dataset_v2.zip"
PERF_CSV = SHARED_DATA / "bcsc-screening-performance" / "BCSC_Mammography_Screening_Performance_Dataset.csv"


def _needs(path: Path):
    return pytest.mark.skipif(
        not path.is_file(),
        reason=f"BCSC file not found: {path} (set CALCSIM_SHARED_DATA)",
    )


needs_risk = _needs(RISK_ZIP)
needs_risk_v2 = _needs(RISK_V2_ZIP)
needs_perf = _needs(PERF_CSV)


def _load_script():
    spec = importlib.util.spec_from_file_location("derive_bcsc_summaries", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def risk() -> pd.DataFrame:
    return bcsc.read_risk_estimation(RISK_ZIP)


@pytest.fixture(scope="module")
def perf() -> pd.DataFrame:
    return bcsc.read_screening_performance(PERF_CSV)


def _assert_one_line_naming(exc: pytest.ExceptionInfo, path: Path) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# --- the package layout ----------------------------------------------------------------------


def test_public_api_is_importable_from_the_package():
    from analysis.io.bcsc import (  # noqa: F401 (the import is the check)
        PERFORMANCE_COLUMNS,
        RISK_CODES,
        RISK_COLUMNS,
        agegrp_bounds,
        read_risk_estimation,
        read_screening_performance,
        risk_profiles,
    )

    assert bcsc.__all__ == [
        "PERFORMANCE_COLUMNS",
        "RISK_CODES",
        "RISK_COLUMNS",
        "agegrp_bounds",
        "read_risk_estimation",
        "read_screening_performance",
        "risk_profiles",
    ]
    assert bcsc.agegrp_bounds(1) == (35, 39) and bcsc.agegrp_bounds(10) == (80, 84)


def test_shared_helpers():
    assert common.one_line(ValueError("two\n  lines")) == "two lines"
    assert common.one_line(ValueError("x" * 300)) == "x" * 200
    assert common.one_line(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert common.first_bad_row(np.array([False, False, True, True])) == 2


@pytest.mark.parametrize(
    ("read", "kind"),
    [(bcsc.read_risk_estimation, ".zip or .txt"), (bcsc.read_screening_performance, ".csv")],
)
def test_directory_is_not_a_file(tmp_path: Path, read, kind: str):
    path = tmp_path / "folder.txt"
    path.mkdir()
    with pytest.raises(CalcsimInputError) as exc:
        read(path)
    assert f"not a regular file': expected a {kind} file" in _assert_one_line_naming(exc, path)


# --- a tiny valid risk file ------------------------------------------------------------------

GOOD_ROWS = [
    "0  4 1 1 0 1 0 0 0 0 9 9 0 0 1      4",
    "1  4 2 1 0 1 2 1 0 9 1 1 0 0 0      2",
    "1  4 3 2 9 2 1 2 1 1 0 0 1 1 1      3",
    "0  4 9 1 0 1 9 0 0 0 9 9 0 0 1      5",
    "1 10 4 1 0 1 0 9 0 0 0 1 0 0 1      1",
]


def _write(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\r\n".join(rows) + "\r\n")
    return path


def test_small_txt_reads(tmp_path: Path):
    df = bcsc.read_risk_estimation(_write(tmp_path, "risk.txt", GOOD_ROWS))
    assert tuple(df.columns) == bcsc.RISK_COLUMNS
    assert len(bcsc.RISK_COLUMNS) == 16
    assert all(pd.api.types.is_integer_dtype(t) for t in df.dtypes)
    assert df["count"].sum() == 15
    assert df.loc[4, "agegrp"] == 10


def test_small_zip_reads(tmp_path: Path):
    txt = _write(tmp_path, "x.txt", GOOD_ROWS)
    archive = tmp_path / "risk_dataset_v2.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(txt, "risk_rand.txt")
    df = bcsc.read_risk_estimation(archive)
    assert len(df) == 5
    assert "risk_rand.txt" in df.attrs["source"]


# --- the real files --------------------------------------------------------------------------


@needs_risk
def test_risk_txt_totals(risk: pd.DataFrame):
    assert len(risk) == 280_660
    assert int(risk["count"].sum()) == 2_392_998
    assert int((risk["count"] * risk["cancer"]).sum()) == 11_638
    assert int((risk["count"] * risk["invasive"]).sum()) == 9_335
    assert tuple(risk.columns) == bcsc.RISK_COLUMNS


@needs_risk_v2
def test_risk_rand_totals():
    df = bcsc.read_risk_estimation(RISK_V2_ZIP)
    assert len(df) == 181_903
    assert int(df["count"].sum()) == 1_007_660
    assert int((df["count"] * df["cancer"]).sum()) == 7_319


@needs_perf
def test_screening_performance_totals(perf: pd.DataFrame):
    assert perf.shape == (3071, 12)
    exams = int(perf["count"].sum())
    assert exams == 2_512_577
    recalls = int((perf["count"] * perf["resinit_c"]).sum())
    assert round(100 * recalls / exams, 2) == 8.62
    for column in ("resinit_c", "resfnl_c", "cancscrfu1yr_c", "stage_advanced"):
        assert set(perf[column].unique()) <= {0, 1}
        assert pd.api.types.is_integer_dtype(perf[column].dtype)
    assert set(perf["density_c"]) == {"a", "b", "c", "d", "unknown"}
    # documented consistency: cancer = DCIS xor invasive; final positive implies initial positive
    assert (perf["cancscrfu1yr_c"] == (perf["dcisscrfu1yr_c"] ^ perf["invscrfu1yr_c"])).all()
    assert (perf["resfnl_c"] <= perf["resinit_c"]).all()


@needs_risk
@pytest.mark.parametrize(("lower", "upper", "groups"), [(50, 54, {4}), (40, 74, set(range(2, 9)))])
def test_risk_profiles(risk: pd.DataFrame, lower: int, upper: int, groups: set[int]):
    prof = bcsc.risk_profiles(risk, lower, upper)
    assert list(prof.columns) == [
        "family_history",
        "nulliparous",
        "first_birth_age_30_plus",
        "density",
        "postmenopausal",
        "surgical_menopause",
        "weight",
    ]
    assert abs(prof["weight"].sum() - 1.0) < 1e-12
    assert (prof["weight"] > 0).all()
    assert set(prof["family_history"]) <= {0, 1, 2}
    assert set(prof["density"]) <= {"a", "b", "c", "d"}
    for column in (
        "nulliparous",
        "first_birth_age_30_plus",
        "postmenopausal",
        "surgical_menopause",
    ):
        assert prof[column].dtype == bool
    assert not (prof["nulliparous"] & prof["first_birth_age_30_plus"]).any()
    assert not (prof["surgical_menopause"] & ~prof["postmenopausal"]).any()
    assert not prof.duplicated(list(prof.columns[:-1])).any()
    # deterministic: same call, same frame
    pd.testing.assert_frame_equal(prof, bcsc.risk_profiles(risk, lower, upper))
    # weights equal the summed counts of the selected, complete rows
    sel = risk[risk["agegrp"].isin(groups) & (risk[["nrelbc", "density", "agefirst", "menopaus"]] != 9).all(axis=1)]
    fh2 = sel.loc[sel["nrelbc"] == 2, "count"].sum() / sel["count"].sum()
    assert prof.loc[prof["family_history"] == 2, "weight"].sum() == pytest.approx(fh2)


# --- error paths -----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path):
    path = tmp_path / "nope.zip"
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_risk_estimation(path)
    assert "missing" in _assert_one_line_naming(exc, path)


def test_wrong_column_count(tmp_path: Path):
    path = _write(tmp_path, "risk.txt", [r.rsplit(" ", 1)[0] for r in GOOD_ROWS])
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_risk_estimation(path)
    message = _assert_one_line_naming(exc, path)
    assert "15" in message and "16" in message


def test_row_with_extra_field(tmp_path: Path):
    path = _write(tmp_path, "risk.txt", [*GOOD_ROWS[:2], GOOD_ROWS[2] + " 7", *GOOD_ROWS[3:]])
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_risk_estimation(path)
    assert "line 3" in _assert_one_line_naming(exc, path)


def test_bad_density_code(tmp_path: Path):
    rows = list(GOOD_ROWS)
    rows[2] = "1  4 7 2 9 2 1 2 1 1 0 0 1 1 1      3"
    path = _write(tmp_path, "risk.txt", rows)
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_risk_estimation(path)
    message = _assert_one_line_naming(exc, path)
    assert "density" in message and "7" in message and "row 3" in message


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("1  4 3 2 9 2 1 2 1 1 0 0 1 1 1     -3", "count"),
        ("1  4 x 2 9 2 1 2 1 1 0 0 1 1 1      3", "'x'"),
        ("1  4 3 2 9 2 1 2 1 1 0 0 1 1 1    2.5", "count"),
        ("1  4 3 2 9 2 1", "too few fields"),
    ],
)
def test_bad_values(tmp_path: Path, row: str, needle: str):
    path = _write(tmp_path, "risk.txt", [*GOOD_ROWS[:2], row, *GOOD_ROWS[3:]])
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_risk_estimation(path)
    assert needle in _assert_one_line_naming(exc, path)


@pytest.mark.parametrize("name", ["risk.csv", "broken.zip", "empty.txt"])
def test_unreadable_files(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text("" if name == "empty.txt" else "not a zip\n")
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_risk_estimation(path)
    _assert_one_line_naming(exc, path)


def test_zip_without_risk_member(tmp_path: Path):
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello\n")
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_risk_estimation(archive)
    assert "risk.txt" in _assert_one_line_naming(exc, archive)


@pytest.mark.parametrize(("lower", "upper"), [(52, 53), (90, 99), (60, 50)])
def test_empty_age_range(tmp_path: Path, lower: int, upper: int):
    path = _write(tmp_path, "risk.txt", GOOD_ROWS)
    df = bcsc.read_risk_estimation(path)
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.risk_profiles(df, lower, upper)
    assert f"{lower}-{upper}" in _assert_one_line_naming(exc, path)


def test_no_complete_rows_in_range(tmp_path: Path):
    # agegrp 10 row has unknown family history, so 80-84 has nothing left
    path = _write(tmp_path, "risk.txt", GOOD_ROWS)
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.risk_profiles(bcsc.read_risk_estimation(path), 80, 84)
    _assert_one_line_naming(exc, path)


def test_small_profiles(tmp_path: Path):
    prof = bcsc.risk_profiles(bcsc.read_risk_estimation(_write(tmp_path, "r.txt", GOOD_ROWS)), 50, 54)
    # rows 1-3 are complete; row 4 has unknown density
    assert prof["weight"].tolist() == pytest.approx([4 / 9, 2 / 9, 3 / 9])
    assert prof["density"].tolist() == ["a", "b", "c"]
    assert prof["surgical_menopause"].tolist() == [False, True, False]
    assert prof["family_history"].tolist() == [0, 1, 2]
    assert prof["nulliparous"].tolist() == [False, True, False]
    assert prof["first_birth_age_30_plus"].tolist() == [False, False, True]


PERF_HEADER = (
    "agegrp,density_c,examyear_cat,riskBCSC_v2_5y_cat,resinit_c,resfnl_c,resfnl_c3,"
    "cancscrfu1yr_c,dcisscrfu1yr_c,invscrfu1yr_c,stage_advanced,count"
)
PERF_ROW = "40-49,b,2005-2008,1.00 to 1.66,1: Positive,0: Negative,0: Negative,0: No,0: No,0: No,0: No,12"


def test_small_performance_csv(tmp_path: Path):
    path = tmp_path / "perf.csv"
    path.write_text(f"{PERF_HEADER}\n{PERF_ROW}\n")
    df = bcsc.read_screening_performance(path)
    assert df.loc[0, "resinit_c"] == 1 and df.loc[0, "resfnl_c"] == 0
    assert df.loc[0, "count"] == 12


@pytest.mark.parametrize(
    ("header", "row", "needle"),
    [
        (PERF_HEADER, PERF_ROW.replace("40-49", "35-39"), "agegrp"),
        (PERF_HEADER, PERF_ROW.replace("1: Positive", "Positive"), "resinit_c"),
        (PERF_HEADER, PERF_ROW.replace(",12", ",-1"), "count"),
        (PERF_HEADER.replace(",count", ",n"), PERF_ROW, "count"),
    ],
)
def test_bad_performance_csv(tmp_path: Path, header: str, row: str, needle: str):
    path = tmp_path / "perf.csv"
    path.write_text(f"{header}\n{row}\n")
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_screening_performance(path)
    assert needle in _assert_one_line_naming(exc, path)


def test_missing_performance_csv(tmp_path: Path):
    path = tmp_path / "absent.csv"
    with pytest.raises(CalcsimInputError) as exc:
        bcsc.read_screening_performance(path)
    _assert_one_line_naming(exc, path)


# --- the shipped summary tables --------------------------------------------------------------


@needs_risk
@needs_perf
def test_shipped_tables_match_script(tmp_path: Path):
    script = _load_script()
    assert script.main(["--shared-data", str(SHARED_DATA), "--out", str(tmp_path)]) == 0
    for name in script.OUTPUT_FILES:
        fresh = (tmp_path / name).read_bytes()
        shipped = (PARAMETERS / name).read_bytes()
        assert b"\r" not in fresh
        assert fresh == shipped, f"{name} is stale: rerun scripts/derive_bcsc_summaries.py"


def test_script_reports_missing_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    script = _load_script()
    assert script.main(["--shared-data", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "risk_dataset.zip" in err


def _shipped(name: str) -> pd.DataFrame:
    return pd.read_csv(PARAMETERS / name)


def test_density_rows_sum_to_one():
    df = _shipped("bcsc_density_by_age_menopause.csv")
    assert list(df.columns) == [
        "age_lower",
        "age_upper",
        "postmenopausal",
        "density_a",
        "density_b",
        "density_c",
        "density_d",
        "n_mammograms",
        "source",
    ]
    sums = df[["density_a", "density_b", "density_c", "density_d"]].sum(axis=1)
    assert np.allclose(sums, 1.0, atol=1e-6, rtol=0)
    assert (df["source"] == "barlow2006").all()
    assert set(df["postmenopausal"]) == {0, 1}
    assert (df["age_upper"] - df["age_lower"] == 4).all()
    # women of 55+ are post-menopausal by BCSC coding
    assert (df.loc[df["age_lower"] >= 55, "postmenopausal"] == 1).all()


def test_family_history_rows_sum_to_one():
    df = _shipped("bcsc_family_history_by_age.csv")
    assert np.allclose(df[["fh_0", "fh_1", "fh_2plus"]].sum(axis=1), 1.0, atol=1e-6, rtol=0)
    assert len(df) == 10 and (df["source"] == "barlow2006").all()


def test_menopause_shares_in_range():
    df = _shipped("bcsc_menopause_by_age.csv")
    for column in (
        "postmenopausal_share",
        "surgical_share_of_postmenopausal",
        "nulliparous_share",
    ):
        values = df[column].dropna()
        assert ((values >= 0) & (values <= 1)).all()
    assert (df.loc[df["age_lower"] >= 55, "postmenopausal_share"] == 1).all()


def test_performance_table():
    df = _shipped("bcsc_performance_by_age_density.csv")
    assert len(df) == 20 and (df["source"] == "bcsc2017perf").all()
    assert set(df["density"]) == {"a", "b", "c", "d", "all"}
    assert (df["screen_detected"] + df["interval_or_missed"] == df["cancers"]).all()
    overall = df[df["density"] == "all"]
    exams = overall["exams"].sum()
    assert exams == 2_512_577
    # dataset README: recall 8.62%, detection 4.14/1000, sensitivity 85.7%
    assert round(100 * overall["recalls"].sum() / exams, 2) == 8.62
    assert round(1000 * overall["screen_detected"].sum() / exams, 2) == 4.14
    assert round(100 * overall["screen_detected"].sum() / overall["cancers"].sum(), 1) == 85.7
    # recall by age group (README: 11.2, 8.5, 7.3, 6.9 %)
    assert [round(100 * r, 1) for r in overall["recall_rate"]] == [11.2, 8.5, 7.3, 6.9]
    known = df[df["density"] != "all"]
    by_density = known.groupby("density")[["recalls", "exams"]].sum()
    recall = (100 * by_density["recalls"] / by_density["exams"]).round(1)
    assert recall.tolist() == [4.8, 8.0, 10.3, 9.4]


@needs_risk
def test_read_is_fast():
    start = time.perf_counter()
    bcsc.read_risk_estimation(RISK_ZIP)
    assert time.perf_counter() - start < 3.0
