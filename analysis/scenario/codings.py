"""Category codings: one definition of every categorical variable, shared by the whole package.

The simulator works on small integer codes; users, strata, regression, Table 1, figures and the
teaching exports see the labels. Each :class:`Coding` holds the labels in code order, so
``labels[code]`` is the label and :meth:`Coding.categorical` turns codes into a pandas
Categorical. Banded variables (age group, breastfeeding, parity) have their banding function
here too, so that a ">12 months" in a stratum, a regression level and a Table 1 row is the same
women.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "AGE_GROUP",
    "BIOPSY_METHOD",
    "BRCA",
    "BREASTFEEDING",
    "CALC_DISTRIBUTION",
    "CALC_MORPHOLOGY",
    "CANCER_TYPE",
    "CODINGS",
    "DENSITY",
    "FAMILY_HISTORY",
    "MENOPAUSE",
    "PARITY",
    "PATHOLOGY",
    "PRESENTATION",
    "ROUND",
    "WORKUP",
    "Coding",
    "age_group",
    "breastfeeding_band",
    "parity_band",
]

DENSITIES = ("a", "b", "c", "d")
MORPHOLOGIES = ("amorphous", "coarse_heterogeneous", "fine_pleomorphic", "fine_linear_branching")
DISTRIBUTIONS = ("grouped", "regional", "linear", "segmental", "diffuse")
PRESENTATIONS = ("calc_only", "calc_mass", "mass", "other")


@dataclass(frozen=True)
class Coding:
    """Labels of a categorical variable in code order.

    Attributes
    ----------
    name : str
        The variable (a column of the screens table, or a stratum).
    labels : tuple of str
        ``labels[code]`` is the label of ``code``.
    doc : str
        What the variable is.
    offset : int
        Code of the first label: ``-1`` when ``-1`` means "none" (e.g. no calcification, so no
        morphology), otherwise 0.
    """

    name: str
    labels: tuple[str, ...]
    doc: str
    offset: int = 0

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        """Integer codes as a pandas Categorical with these labels (unordered)."""
        return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64) - self.offset, categories=self.labels)

    def codes(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Integer codes of a Categorical with these labels, of labels, or of integer codes (checked).

        Raises
        ------
        ValueError
            If a value is neither one of the labels nor a valid code.
        """
        s = pd.Series(values)
        if isinstance(s.dtype, pd.CategoricalDtype) and tuple(s.cat.categories) == self.labels and not s.isna().any():
            return s.cat.codes.to_numpy().astype(np.int64) + self.offset  # fast path: our own Categorical
        if pd.api.types.is_integer_dtype(s.dtype):
            s = s.astype(np.int64)
            lo, hi = self.offset, self.offset + len(self.labels) - 1
            bad = (s < lo) | (s > hi)
            if not bad.any():
                return s.to_numpy()
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        lookup = {label: i + self.offset for i, label in enumerate(self.labels)}
        mapped = s.map(lambda v: lookup.get(v, lookup.get(str(v)) if not _is_int(v) else v))
        num = pd.to_numeric(mapped, errors="coerce").to_numpy(dtype=float)
        lo, hi = self.offset, self.offset + len(self.labels) - 1
        bad = ~np.isfinite(num) | (num < lo) | (num > hi) | (num != np.round(num))
        if bad.any():
            raise ValueError(f"{s.iloc[int(np.argmax(bad))]!r}: one of {', '.join(self.labels)} (or a code {lo}..{hi})")
        return num.astype(np.int64)


def _is_int(v: object) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def age_group(age_years: np.ndarray) -> np.ndarray:
    """Five-year age group codes of :data:`AGE_GROUP` (35-39 = 0 ... 80-84 = 9; clipped)."""
    return np.clip((np.asarray(age_years).astype(np.int32) - 35) // 5, 0, 9)


def breastfeeding_band(months: np.ndarray) -> np.ndarray:
    """Codes of :data:`BREASTFEEDING`: none (0 months), < 6, 6-12, > 12 months."""
    m = np.asarray(months)
    return np.select([m <= 0, m < 6, m <= 12], [0, 1, 2], 3)


def parity_band(births: np.ndarray) -> np.ndarray:
    """Codes of :data:`PARITY`: 0, 1, 2, >= 3 births."""
    return np.minimum(np.asarray(births), 3).astype(np.intp)


ROUND = Coding("round", ("first", "subsequent"), "first screen of the woman (no prior images) or a later one")
AGE_GROUP = Coding("age_group", tuple(f"{a}-{a + 4}" for a in range(35, 85, 5)), "five-year age group at the screen")
MENOPAUSE = Coding("menopause", ("premenopausal", "postmenopausal"), "menopausal status at the screen")
FAMILY_HISTORY = Coding("family_history", ("0", "1", ">=2"), "affected first-degree relatives")
BRCA = Coding("brca", ("non-carrier", "BRCA1", "BRCA2"), "BRCA carrier status")
BREASTFEEDING = Coding("breastfeeding", ("none", "<6 months", "6-12 months", ">12 months"), "lifetime breastfeeding")
DENSITY = Coding("density", DENSITIES, "BI-RADS breast density at the screen")
PARITY = Coding("parity", ("0", "1", "2", ">=3"), "number of births")
CANCER_TYPE = Coding("cancer_type", ("none", "DCIS", "invasive"), "preclinical cancer present at the screen")
PRESENTATION = Coding(
    "presentation", ("none", *PRESENTATIONS), "mammographic presentation of the cancer present at the screen", offset=-1
)
CALC_MORPHOLOGY = Coding(
    "calc_morphology",
    ("none", *MORPHOLOGIES),
    "BI-RADS morphology of the most suspicious calcification cluster",
    offset=-1,
)
CALC_DISTRIBUTION = Coding(
    "calc_distribution",
    ("none", *DISTRIBUTIONS),
    "BI-RADS distribution of the most suspicious calcification cluster",
    offset=-1,
)
WORKUP = Coding("workup", ("none", "cleared", "short_interval", "biopsy"), "work-up after the screen")
PATHOLOGY = Coding("pathology", ("none", "benign", "high_risk", "dcis", "invasive"), "biopsy pathology")
BIOPSY_METHOD = Coding("biopsy_method", ("none", "core", "surgical"), "biopsy method")

#: The categorical columns of the screens table, by column name.
CODINGS: dict[str, Coding] = {
    c.name: c
    for c in (
        DENSITY,
        FAMILY_HISTORY,
        BRCA,
        CANCER_TYPE,
        PRESENTATION,
        CALC_MORPHOLOGY,
        CALC_DISTRIBUTION,
        WORKUP,
        PATHOLOGY,
        BIOPSY_METHOD,
    )
}
