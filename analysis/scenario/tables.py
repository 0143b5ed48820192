"""Parameter tables: CSV files with a ``source`` on every row, validated on load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError, input_error
from analysis.io.paths import parameters_dir
from analysis.scenario.codings import DISTRIBUTIONS, MORPHOLOGIES, PRESENTATIONS

__all__ = ["TABLE_SPECS", "load_table"]

TABLE_SPECS: dict[str, dict[str, Any]] = {
    "incidence": {"columns": ["age_lower", "age_upper", "annual_incidence_per_100000", "source"]},
    "brca_incidence": {"columns": ["age_lower", "age_upper", "brca1_annual_hazard", "brca2_annual_hazard", "source"]},
    "life_table": {"columns": ["age_lower", "age_upper", "probability_of_death", "source"]},
    "density": {
        "columns": [
            "age_lower",
            "age_upper",
            "postmenopausal",
            "density_a",
            "density_b",
            "density_c",
            "density_d",
            "n_mammograms",
            "source",
        ],
        "sum_to_one": ["density_a", "density_b", "density_c", "density_d"],
    },
    "presentation": {
        "columns": ["cancer_type", *PRESENTATIONS, "source"],
        "sum_to_one": list(PRESENTATIONS),
        "rows": ["dcis", "invasive"],
    },
    "morphology": {
        "columns": ["origin", *MORPHOLOGIES, "source"],
        "sum_to_one": list(MORPHOLOGIES),
        "rows": ["benign", "dcis", "invasive"],
    },
    "distribution": {
        "columns": ["origin", *DISTRIBUTIONS, "source"],
        "sum_to_one": list(DISTRIBUTIONS),
        "rows": ["benign", "dcis", "invasive"],
    },
}


def load_table(kind: str, fname: str, base_dir: Path | None, where: str, key: str) -> pd.DataFrame:
    """Read and validate a parameter table (CSV with a ``source`` column on every row)."""
    candidates = [Path(fname)] if Path(fname).is_absolute() else []
    if base_dir is not None:
        candidates.append(base_dir / fname)
    candidates.append(parameters_dir() / fname)
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        looked = ", ".join(dict.fromkeys(str(c.parent) for c in candidates))
        raise input_error(where, key, fname, f"table file not found (looked in {looked})")
    try:
        df = pd.read_csv(path, comment="#")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise CalcsimInputError(f"{path}: not a readable CSV: {str(exc).splitlines()[0]}") from None
    spec = TABLE_SPECS[kind]
    missing = [c for c in spec["columns"] if c not in df.columns]
    if missing:
        raise input_error(
            str(path), "columns", list(df.columns), f"needs {', '.join(spec['columns'])} (missing {', '.join(missing)})"
        )
    df = df[spec["columns"]].copy()
    if df.empty:
        raise input_error(str(path), "rows", 0, "at least one row")
    if df["source"].isna().any() or (df["source"].astype(str).str.strip() == "").any():
        raise input_error(str(path), "source", "", "every row needs a source (citation key or status)")
    numeric = [c for c in spec["columns"] if c not in ("source", "cancer_type", "origin")]
    for c in numeric:
        col = pd.to_numeric(df[c], errors="coerce")
        bad = col.isna() | ~np.isfinite(col.astype(float))
        if bad.any():
            raise input_error(str(path), c, df.loc[bad.idxmax(), c], "a finite number")
        if (col < 0).any():
            raise input_error(str(path), c, col[col < 0].iloc[0], "a number >= 0")
        df[c] = col.astype(float)
    for c in spec.get("sum_to_one", []):
        if (df[c] > 1).any():
            raise input_error(str(path), c, df.loc[df[c] > 1, c].iloc[0], "a probability in [0, 1]")
    if spec.get("sum_to_one"):
        sums = df[spec["sum_to_one"]].sum(axis=1)
        bad = (sums - 1).abs() > 1e-6
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise input_error(
                str(path),
                f"row {i + 1} " + "+".join(spec["sum_to_one"]),
                round(float(sums.iloc[i]), 6),
                "category probabilities must sum to 1",
            )
    if "rows" in spec:
        label = spec["columns"][0]
        got = list(df[label].astype(str))
        if sorted(got) != sorted(spec["rows"]):
            raise input_error(str(path), label, got, f"exactly the rows {', '.join(spec['rows'])}")
        df = df.set_index(label).loc[spec["rows"]].reset_index()
    _check_kind(df, kind, path)
    df.attrs["file"] = fname
    df.attrs["path"] = str(path)
    return df


def _check_kind(df: pd.DataFrame, kind: str, path: Path) -> None:
    """The checks of one kind of table: menopause codes, contiguous age bands, probabilities."""
    if kind == "density" and not df["postmenopausal"].isin([0, 1]).all():
        bad = df.loc[~df["postmenopausal"].isin([0, 1]), "postmenopausal"].iloc[0]
        raise input_error(str(path), "postmenopausal", bad, "0 (premenopausal) or 1 (postmenopausal)")
    if "age_lower" in df.columns:
        if (df["age_upper"] <= df["age_lower"]).any():
            i = int(np.argmax((df["age_upper"] <= df["age_lower"]).to_numpy()))
            raise input_error(
                str(path),
                f"row {i + 1} age_upper",
                df["age_upper"].iloc[i],
                f"must be > age_lower ({df['age_lower'].iloc[i]:g})",
            )
    if kind in ("incidence", "brca_incidence", "life_table"):
        lowers = df["age_lower"].to_numpy()
        if np.any(np.diff(lowers) <= 0) or np.any(df["age_lower"].to_numpy()[1:] != df["age_upper"].to_numpy()[:-1]):
            raise input_error(
                str(path),
                "age_lower",
                list(lowers),
                "contiguous, increasing age bands (each age_lower = previous age_upper)",
            )
    if kind == "life_table":
        q = df["probability_of_death"]
        if ((q <= 0) | (q >= 1)).any():
            bad = q[(q <= 0) | (q >= 1)].iloc[0]
            raise input_error(str(path), "probability_of_death", bad, "a probability in (0, 1)")
    if kind == "brca_incidence" and ((df[["brca1_annual_hazard", "brca2_annual_hazard"]] > 1).any().any()):
        raise input_error(str(path), "annual_hazard", "> 1", "an annual hazard below 1")
