"""Derive summary parameter tables from the public BCSC datasets.

Reads (never copies) the raw public files under ``--shared-data`` and writes
small, deterministic CSV summaries to ``--out`` (default ``data/parameters``):

``bcsc_density_by_age_menopause.csv``
    BI-RADS density distribution (a-d) by 5-year age group (35-39 ... 80-84)
    and menopausal status, from the BCSC Risk Estimation Dataset ``risk.txt``
    (all 2,392,998 mammograms, weighted by ``count``). Mammograms with unknown
    density (9) or unknown menopausal status (9) are dropped. Age/menopause
    cells without any mammogram are omitted: BCSC codes every woman aged 55 or
    over as post-menopausal, and the data contain no post-menopausal women
    under 45, so only 45-49 and 50-54 have both a pre- and a post-menopausal
    row. Proportions are rounded to 6 decimals by largest remainder so that
    each row sums to exactly 1.
``bcsc_family_history_by_age.csv``
    Number of first-degree relatives with breast cancer (0, 1, 2+) by age
    group; unknown (9) dropped. Rounded like the density table.
``bcsc_menopause_by_age.csv``
    By age group, each share over its own known-only denominator:

    * ``postmenopausal_share`` = post / (pre + post); unknown menopausal status
      (9, which occurs only under 55) is dropped. Because BCSC codes age >= 55
      (and current hormone therapy) as post-menopausal, the share is 1 from
      55-59 on by construction.
    * ``surgical_share_of_postmenopausal`` = surgical / (surgical + natural)
      among post-menopausal mammograms; ``surgmeno`` 9 (unknown) dropped.
      Empty (no post-menopausal women) below 45.
    * ``nulliparous_share`` = nulliparous / known ``agefirst``; 9 dropped
      (more than half of all mammograms have unknown age at first birth).
    * ``n_mammograms`` = all mammograms in the age group, unknowns included.
``bcsc_performance_by_age_density.csv``
    From the BCSC Mammography Screening Performance Dataset (2005-2017):
    exam, recall and cancer counts and derived rates by age group (40-49,
    50-59, 60-69, 70-74) and density (a-d; unknown dropped), plus a row with
    density ``all`` per age group that includes exams of unknown density.
    recall = initial assessment positive (``resinit_c``); cancer = DCIS or
    invasive within one year (``cancscrfu1yr_c``); screen_detected = recall and
    cancer; interval_or_missed = no recall and cancer; sensitivity =
    screen_detected / cancers; specificity = (no recall and no cancer) / (no
    cancer). Counts are kept for count-based calibration targets.

Every table has a ``source`` column holding a citation key: ``barlow2006`` for
the risk estimation data, ``bcsc2017perf`` for the screening performance data
(see ``data/parameters/README-bcsc-summaries.md``). Shares are per mammogram,
not per woman: ``risk.txt`` holds several mammograms of many women.

Usage (from the repository root)::

    .venv/bin/python scripts/derive_bcsc_summaries.py
    .venv/bin/python scripts/derive_bcsc_summaries.py --shared-data ../shared/data --out data/parameters
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "data" / "parameters"

RISK_ZIP = Path("bcsc-risk-estimation") / "risk_dataset.zip"
PERFORMANCE_CSV = Path("bcsc-screening-performance") / "BCSC_Mammography_Screening_Performance_Dataset.csv"

SOURCE_RISK = "barlow2006"
SOURCE_PERFORMANCE = "bcsc2017perf"

DENSITY_FILE = "bcsc_density_by_age_menopause.csv"
FAMILY_HISTORY_FILE = "bcsc_family_history_by_age.csv"
MENOPAUSE_FILE = "bcsc_menopause_by_age.csv"
PERFORMANCE_FILE = "bcsc_performance_by_age_density.csv"
OUTPUT_FILES: tuple[str, ...] = (
    DENSITY_FILE,
    FAMILY_HISTORY_FILE,
    MENOPAUSE_FILE,
    PERFORMANCE_FILE,
)

PROPORTION_DECIMALS = 6
FLOAT_FORMAT = "%.6g"

AGE_GROUPS: tuple[int, ...] = tuple(range(1, 11))
PERF_AGE_GROUPS: tuple[str, ...] = ("40-49", "50-59", "60-69", "70-74")
PERF_DENSITIES: tuple[str, ...] = ("a", "b", "c", "d")


def _bcsc():
    """Import :mod:`analysis.io.bcsc`, making the repository importable first."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from analysis.io import bcsc

    return bcsc


def _age_bounds(agegrp: int) -> tuple[int, int]:
    lower = 35 + 5 * (agegrp - 1)
    return lower, lower + 4


def round_proportions(counts: np.ndarray, decimals: int = PROPORTION_DECIMALS) -> np.ndarray:
    """Turn non-negative counts into proportions rounded to ``decimals`` places summing to 1.

    Uses the largest-remainder method so the printed values add up to exactly 1.

    Parameters
    ----------
    counts : numpy.ndarray
        Non-negative counts with a positive sum.
    decimals : int
        Decimal places of the result.

    Returns
    -------
    numpy.ndarray
        Proportions, each a multiple of ``10**-decimals``, summing to 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    scale = 10**decimals
    exact = counts / counts.sum() * scale
    units = np.floor(exact).astype(np.int64)
    short = scale - int(units.sum())
    if short > 0:
        # largest remainders first; ties broken by position (stable)
        order = np.argsort(-(exact - units), kind="stable")
        units[order[:short]] += 1
    return units / scale


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator > 0 else float("nan")


def density_by_age_menopause(risk: pd.DataFrame) -> pd.DataFrame:
    """Density distribution by age group and menopausal status (known values only)."""
    known = risk[(risk["density"] != 9) & (risk["menopaus"] != 9)]
    table = known.pivot_table(
        index=["agegrp", "menopaus"],
        columns="density",
        values="count",
        aggfunc="sum",
        fill_value=0,
    ).reindex(columns=[1, 2, 3, 4], fill_value=0)
    rows = []
    for agegrp in AGE_GROUPS:
        for menopaus in (0, 1):
            if (agegrp, menopaus) not in table.index:
                continue
            counts = table.loc[(agegrp, menopaus)].to_numpy(dtype=np.int64)
            total = int(counts.sum())
            if total == 0:
                continue
            props = round_proportions(counts)
            lower, upper = _age_bounds(agegrp)
            rows.append(
                {
                    "age_lower": lower,
                    "age_upper": upper,
                    "postmenopausal": menopaus,
                    "density_a": props[0],
                    "density_b": props[1],
                    "density_c": props[2],
                    "density_d": props[3],
                    "n_mammograms": total,
                    "source": SOURCE_RISK,
                }
            )
    return pd.DataFrame(rows)


def family_history_by_age(risk: pd.DataFrame) -> pd.DataFrame:
    """First-degree family history (0, 1, 2+) by age group (known values only)."""
    known = risk[risk["nrelbc"] != 9]
    table = known.pivot_table(index="agegrp", columns="nrelbc", values="count", aggfunc="sum", fill_value=0).reindex(
        index=list(AGE_GROUPS), columns=[0, 1, 2], fill_value=0
    )
    rows = []
    for agegrp in AGE_GROUPS:
        counts = table.loc[agegrp].to_numpy(dtype=np.int64)
        total = int(counts.sum())
        if total == 0:
            continue
        props = round_proportions(counts)
        lower, upper = _age_bounds(agegrp)
        rows.append(
            {
                "age_lower": lower,
                "age_upper": upper,
                "fh_0": props[0],
                "fh_1": props[1],
                "fh_2plus": props[2],
                "n_mammograms": total,
                "source": SOURCE_RISK,
            }
        )
    return pd.DataFrame(rows)


def menopause_by_age(risk: pd.DataFrame) -> pd.DataFrame:
    """Post-menopausal, surgical-menopause and nulliparous shares by age group.

    Each share uses its own known-only denominator (see the module docstring);
    ``n_mammograms`` counts every mammogram of the age group.
    """
    rows = []
    for agegrp in AGE_GROUPS:
        g = risk[risk["agegrp"] == agegrp]
        total = int(g["count"].sum())
        if total == 0:
            continue
        w = g["count"]
        pre = w[g["menopaus"] == 0].sum()
        post = w[g["menopaus"] == 1].sum()
        post_rows = g["menopaus"] == 1
        surgical = w[post_rows & (g["surgmeno"] == 1)].sum()
        natural = w[post_rows & (g["surgmeno"] == 0)].sum()
        nulliparous = w[g["agefirst"] == 2].sum()
        parity_known = w[g["agefirst"] != 9].sum()
        lower, upper = _age_bounds(agegrp)
        rows.append(
            {
                "age_lower": lower,
                "age_upper": upper,
                "postmenopausal_share": _ratio(post, pre + post),
                "surgical_share_of_postmenopausal": _ratio(surgical, surgical + natural),
                "nulliparous_share": _ratio(nulliparous, parity_known),
                "n_mammograms": total,
                "source": SOURCE_RISK,
            }
        )
    return pd.DataFrame(rows)


def _performance_row(age_group: str, density: str, g: pd.DataFrame) -> dict[str, object]:
    w = g["count"]
    recall = g["resinit_c"] == 1
    cancer = g["cancscrfu1yr_c"] == 1
    exams = int(w.sum())
    recalls = int(w[recall].sum())
    cancers = int(w[cancer].sum())
    screen_detected = int(w[recall & cancer].sum())
    interval_or_missed = int(w[~recall & cancer].sum())
    true_negative = int(w[~recall & ~cancer].sum())
    return {
        "age_group": age_group,
        "density": density,
        "exams": exams,
        "recalls": recalls,
        "cancers": cancers,
        "screen_detected": screen_detected,
        "interval_or_missed": interval_or_missed,
        "recall_rate": _ratio(recalls, exams),
        "cancer_detection_per_1000": 1000.0 * _ratio(screen_detected, exams),
        "sensitivity": _ratio(screen_detected, cancers),
        "specificity": _ratio(true_negative, exams - cancers),
        "source": SOURCE_PERFORMANCE,
    }


def performance_by_age_density(perf: pd.DataFrame) -> pd.DataFrame:
    """Screening performance counts and rates by age group and density."""
    rows = []
    for age_group in PERF_AGE_GROUPS:
        by_age = perf[perf["agegrp"] == age_group]
        for density in PERF_DENSITIES:
            rows.append(_performance_row(age_group, density, by_age[by_age["density_c"] == density]))
        rows.append(_performance_row(age_group, "all", by_age))
    return pd.DataFrame(rows)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` deterministically: no index, ``\\n`` line endings, 6 significant digits."""
    text = df.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    path.write_bytes(text.encode("utf-8"))


def derive(shared_data: Path) -> dict[str, pd.DataFrame]:
    """Compute all summary tables from the raw files under ``shared_data``.

    Parameters
    ----------
    shared_data : pathlib.Path
        Directory holding ``bcsc-risk-estimation/`` and
        ``bcsc-screening-performance/``.

    Returns
    -------
    dict of str to pandas.DataFrame
        Output file name -> table.
    """
    bcsc = _bcsc()
    risk = bcsc.read_risk_estimation(shared_data / RISK_ZIP)
    perf = bcsc.read_screening_performance(shared_data / PERFORMANCE_CSV)
    return {
        DENSITY_FILE: density_by_age_menopause(risk),
        FAMILY_HISTORY_FILE: family_history_by_age(risk),
        MENOPAUSE_FILE: menopause_by_age(risk),
        PERFORMANCE_FILE: performance_by_age_density(perf),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 on bad input)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=DEFAULT_SHARED_DATA,
        help="directory with the public datasets (default: ../shared/data relative to the repo root)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output directory (default: <repo>/data/parameters)",
    )
    args = parser.parse_args(argv)
    _bcsc()  # makes the analysis package importable
    from analysis.errors import CalcsimInputError

    try:
        tables = derive(args.shared_data)
    except CalcsimInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        path = args.out / name
        write_csv(table, path)
        print(f"wrote {path} ({len(table)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
