"""Table 1: characteristics of the screened women at their first screen, by recall status.

One column per group of women — never recalled, recalled at least once over their
screening history, all — with ``n`` in the header. Risk factors are taken at the
woman's FIRST screen in the table (density and menopause change with age); the
number of screens and "benign cluster at any screen" summarise her whole history.
Categorical characteristics are ``n (%)`` of the women in the column (every level
is shown, so the percentages of a characteristic add up to 100%); continuous ones
are ``median [IQR]``. A column with no women shows "–" instead of a percentage.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError, did_you_mean
from analysis.stats.regression import covariates

#: Columns the table needs.
NEEDED = (
    "woman",
    "age_years",
    "postmenopausal",
    "family_history",
    "brca",
    "births",
    "breastfeeding_months",
    "density",
    "benign_cluster",
)

#: Column labels (without n) for the groups of women, by grouping column.
GROUP_LABELS: dict[str, tuple[str, str]] = {
    "recalled": ("Never recalled", "Recalled ≥1"),
    "recall_calc": ("Never recalled for calcifications", "Recalled for calcifications ≥1"),
    "calc_only_recall": ("Never recalled for calcifications only", "Recalled for calcifications only ≥1"),
    "any_cluster": ("No cluster at any screen", "Cluster ≥1"),
    "benign_cluster": ("No benign cluster at any screen", "Benign cluster ≥1"),
    "false_positive": ("No false-positive recall", "False-positive recall ≥1"),
    "biopsy": ("Never biopsied", "Biopsied ≥1"),
    "screen_detected": ("No screen-detected cancer", "Screen-detected cancer"),
}

_PRETTY = {">=2": "≥2", ">=3": "≥3", "6-12 months": "6–12 months"}
DASH = "–"


def _count(k: int, n: int) -> str:
    return f"{k:,} ({100.0 * k / n:.1f}%)" if n > 0 else f"{k:,} ({DASH})"


def _median_iqr(values: np.ndarray, decimals: int | None = 1) -> str:
    """``median [q1–q3]``; ``decimals=None`` shows whole numbers without decimals."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return DASH
    q = np.percentile(v, [50, 25, 75])
    if decimals is None:
        decimals = 0 if np.all(q == np.round(q)) else 1
    return f"{q[0]:.{decimals}f} [{q[1]:.{decimals}f}{DASH}{q[2]:.{decimals}f}]"


def _bool_column(screens: pd.DataFrame, by: str) -> np.ndarray:
    col = screens[by]
    if col.dtype == bool:
        return col.to_numpy()
    num = pd.to_numeric(col, errors="coerce")
    if num.isna().any() or not num.isin([0, 1]).all():
        raise CalcsimInputError(
            f"table1: by = {by!r}: the column must be True/False (or 0/1),"
            f" found {col.dtype} values such as {col.iloc[0]!r}"
        )
    return num.to_numpy().astype(bool)


def _checked_flag(screens: pd.DataFrame, by: str) -> np.ndarray:
    """Check the screens table and the grouping column; return the grouping flag of every screen."""
    if not isinstance(screens, pd.DataFrame):
        raise CalcsimInputError(f"table1: screens must be a pandas DataFrame, not {type(screens).__name__}")
    if screens.empty:
        raise CalcsimInputError(
            "table1: no screens; run simulate(..., keep_screens=True) with at least one attending woman"
        )
    missing = [c for c in NEEDED if c not in screens.columns]
    if missing:
        raise CalcsimInputError(f"table1: screens table lacks column(s) {', '.join(missing)}; pass Results.screens")
    if not isinstance(by, str) or by not in screens.columns:
        known = [c for c in GROUP_LABELS if c in screens.columns]
        raise CalcsimInputError(
            f"table1: by = {by!r}: not a column of the screens{did_you_mean(str(by), known)}; e.g. {', '.join(known)}"
        )
    return _bool_column(screens, by)


class _Rows:
    """Rows of Table 1 as they are added, one formatted cell per group."""

    def __init__(self, groups: dict[str, np.ndarray]) -> None:
        self.groups = groups
        self.index: list[tuple[str, str]] = []
        self.cells: dict[str, list[str]] = {g: [] for g in groups}

    def add(self, characteristic: str, level: str, fn) -> None:
        self.index.append((characteristic, level))
        for g, mask in self.groups.items():
            self.cells[g].append(fn(mask))

    def categorical(
        self, characteristic: str, values: pd.Categorical | np.ndarray, levels: list, labels: list[str] | None = None
    ) -> None:
        values = np.asarray(values)
        for level, label in zip(levels, labels or levels, strict=True):
            hit = values == level
            self.add(
                characteristic,
                _PRETTY.get(label, label),
                lambda m, hit=hit: _count(int(np.count_nonzero(hit & m)), int(np.count_nonzero(m))),
            )

    def frame(self) -> tuple[pd.DataFrame, dict[str, int]]:
        n = {g: int(np.count_nonzero(mask)) for g, mask in self.groups.items()}
        out = pd.DataFrame(
            {f"{g} (n={n[g]:,})": self.cells[g] for g in self.groups},
            index=pd.MultiIndex.from_tuples(self.index, names=["characteristic", "level"]),
        )
        return out, n


def table1(screens: pd.DataFrame, by: str = "recalled") -> pd.DataFrame:
    """Cohort characteristics at the first screen, by recall status over the screening history.

    Parameters
    ----------
    screens : pandas.DataFrame
        Screens table (``Results.screens``; one row per attended screen).
    by : str
        Boolean screens column defining the groups: a woman is in the second
        column if any of her screens has it (default ``"recalled"``: "Recalled ≥1").

    Returns
    -------
    pandas.DataFrame
        Formatted strings; rows a MultiIndex ``(characteristic, level)``; columns
        e.g. ``"Never recalled (n=12,345)"``, ``"Recalled ≥1 (n=1,234)"``,
        ``"All (n=13,579)"``. ``attrs``: ``by``, ``n`` (women per column, in column
        order), ``screens`` (rows used).

    Raises
    ------
    CalcsimInputError
        Not a DataFrame, no screens, missing columns, or ``by`` not a boolean column.
    """
    flag = _checked_flag(screens, by)
    order = ["woman", *[c for c in ("round_index", "age_years") if c in screens.columns][:1]]
    data = screens.assign(_by=flag).sort_values(order, kind="stable")
    per_woman = data.groupby("woman", sort=True)
    ever = per_woman["_by"].any()
    first = data.loc[~data["woman"].duplicated()].set_index("woman").loc[ever.index]
    cov = covariates(first, ["family_history", "brca", "parity", "breastfeeding", "density", "postmenopausal"])
    never_label, ever_label = GROUP_LABELS.get(by, (f"Never {by}", f"{by} ≥1"))
    rows = _Rows({never_label: ~ever.to_numpy(), ever_label: ever.to_numpy(), "All": np.ones(len(ever), dtype=bool)})
    age = first["age_years"].to_numpy(dtype=float)
    months = first["breastfeeding_months"].to_numpy(dtype=float)
    parous = first["births"].to_numpy() > 0
    rows.add("Age at first screen, years", "median [IQR]", lambda m: _median_iqr(age[m]))
    rows.categorical(
        "Menopausal status at first screen",
        cov["postmenopausal"].to_numpy(),
        [0, 1],
        ["premenopausal", "postmenopausal"],
    )
    for name, title in (
        ("family_history", "First-degree relatives with breast cancer"),
        ("brca", "BRCA carrier status"),
        ("parity", "Parity (births)"),
        ("breastfeeding", "Lifetime breastfeeding"),
    ):
        rows.categorical(title, cov[name].astype(str).to_numpy(), list(cov[name].cat.categories))
    rows.add(
        "Lifetime breastfeeding among parous women, months", "median [IQR]", lambda m: _median_iqr(months[m & parous])
    )
    rows.categorical(
        "BI-RADS density at first screen", cov["density"].astype(str).to_numpy(), list(cov["density"].cat.categories)
    )
    screens_n = per_woman.size().to_numpy()
    rows.add("Screens per woman", "median [IQR]", lambda m: _median_iqr(screens_n[m], decimals=None))
    rows.categorical(
        "Benign microcalcification cluster at any screen",
        per_woman["benign_cluster"].any().to_numpy(),
        [False, True],
        ["no", "yes"],
    )
    out, n = rows.frame()
    out.attrs.update({"by": by, "n": list(n.values()), "screens": len(screens)})
    return out


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em; color: #222; }
table.table1 { border-collapse: collapse; font-size: 0.92em; }
table.table1 caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.5em; }
table.table1 th, table.table1 td { padding: 0.3em 0.9em; text-align: right; vertical-align: top; }
table.table1 tbody th { text-align: left; font-weight: normal; }
table.table1 tbody th[rowspan] { font-weight: 600; }
table.table1 thead th { border-bottom: 1.5px solid #444; border-top: 1.5px solid #444; }
table.table1 tbody tr:last-child th, table.table1 tbody tr:last-child td { border-bottom: 1.5px solid #444; }
table.table1 tbody tr:nth-child(even) td { background: #f6f6f6; }
p.note { font-size: 0.85em; color: #555; max-width: 50em; }
"""


def table1_html(df: pd.DataFrame, title: str | None = None) -> str:
    """Render a :func:`table1` result as a standalone HTML page (a table and a little CSS, no JavaScript).

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`table1`.
    title : str, optional
        Caption; default "Table 1. Characteristics of the women at their first screen".

    Returns
    -------
    str
        A complete HTML document.
    """
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise CalcsimInputError("table1_html: pass the DataFrame returned by table1()")
    title = title or "Table 1. Characteristics of the women at their first screen"
    by = df.attrs.get("by", "recalled")
    body = df.to_html(border=0, classes="table1", escape=True, na_rep=DASH, index_names=False)
    body = re.sub(r"<table[^>]*>", f'<table class="table1">\n  <caption>{html.escape(title)}</caption>', body, count=1)
    body = body.replace(' style="text-align: right;"', "")
    note = (
        f"Groups by <code>{html.escape(str(by))}</code> at any screen of the woman's history; risk factors"
        " at her first screen. n (%) of the women in the column; median [interquartile range]."
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        f'<p class="note">{note}</p>\n</body>\n</html>\n'
    )
