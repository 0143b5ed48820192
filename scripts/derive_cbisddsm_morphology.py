"""CBIS-DDSM calcification malignancy rates by morphology and by distribution.

Reads the official CBIS-DDSM calcification case-description tables (train and
test), reduces them to one row per lesion, maps the CBIS ``calc type`` and
``calc distribution`` strings to the classes the calcsim model uses and writes
two small summary tables to ``data/parameters``:

* ``cbisddsm_calcification_morphology.csv``   (by morphology class)
* ``cbisddsm_calcification_distribution.csv`` (by distribution class)

CBIS-DDSM is a series of selected, mostly biopsied lesions, not a screening
population: the rates are a plausibility check on the model, not an input.

Lesion (de-duplication)
    The tables have one row per ROI per image view, so a lesion seen on both CC
    and MLO appears twice. A lesion is keyed by (``patient_id``,
    ``left or right breast``, ``abnormality id``). When the two views of a
    lesion carry different labels, the row of the first view in the order
    CC, MLO is kept (i.e. CC wins); the number of such discordant lesions is
    printed. Note that DDSM numbers abnormalities per image, so in a breast with
    several abnormalities the id need not denote the same lesion on both views.

Morphology (``calc type``)
    A CBIS value is one or more tokens joined with ``-``. Every token is mapped
    with :data:`MORPHOLOGY_TOKENS`; a combined value takes its most suspicious
    component, in the order of :data:`MORPHOLOGY_ORDER`
    (fine_linear_branching > fine_pleomorphic > coarse_heterogeneous > amorphous
    > other). ``N/A`` (no morphology recorded) is kept apart as ``unknown``.
    DDSM was coded with the pre-2003 BI-RADS lexicon, which had no "coarse
    heterogeneous" descriptor ("pleomorphic or heterogeneous" was one class and
    "coarse" meant benign popcorn-like calcification), so CBIS ``PLEOMORPHIC``
    maps to fine_pleomorphic, ``COARSE`` to other, and coarse_heterogeneous has
    no lesions.

Distribution (``calc distribution``)
    Mapped with :data:`DISTRIBUTION_TOKENS` (CLUSTERED = grouped,
    DIFFUSELY_SCATTERED = diffuse, N/A = unknown); combined values take the
    most suspicious component in the order of :data:`DISTRIBUTION_ORDER`
    (segmental > linear > grouped > regional > diffuse).

Pathology
    MALIGNANT is malignant; BENIGN and BENIGN_WITHOUT_CALLBACK are both benign
    (reported in separate columns, combined in ``share_of_benign``).

Usage::

    python scripts/derive_cbisddsm_morphology.py [--shared-data DIR] [--out DIR]
    python scripts/derive_cbisddsm_morphology.py --show-mapping
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from statsmodels.stats.proportion import proportion_confint

REPO = Path(__file__).resolve().parents[1]
DATASET_DIR = "cbis-ddsm-descriptions"
CALC_FILES = (
    "calc_case_description_train_set.csv",
    "calc_case_description_test_set.csv",
)
SOURCE = "cbisddsm2017"
MORPHOLOGY_FILE = "cbisddsm_calcification_morphology.csv"
DISTRIBUTION_FILE = "cbisddsm_calcification_distribution.csv"

PATIENT, SIDE, ABNORMALITY, VIEW = (
    "patient_id",
    "left or right breast",
    "abnormality id",
    "image view",
)
CALC_TYPE, CALC_DISTRIBUTION, PATHOLOGY = "calc type", "calc distribution", "pathology"
LESION_KEY = (PATIENT, SIDE, ABNORMALITY)
VIEW_ORDER = ("CC", "MLO")  # dedup rule: the first view in this order wins
MISSING = "N/A"

# Model classes, most suspicious first; the output rows follow this order.
MORPHOLOGY_ORDER = (
    "fine_linear_branching",
    "fine_pleomorphic",
    "coarse_heterogeneous",
    "amorphous",
    "other",
)
MORPHOLOGY_ROWS = (
    "amorphous",
    "coarse_heterogeneous",
    "fine_pleomorphic",
    "fine_linear_branching",
    "other",
    "unknown",
)
MORPHOLOGY_TOKENS: Mapping[str, str] = {
    "AMORPHOUS": "amorphous",
    "PLEOMORPHIC": "fine_pleomorphic",  # BI-RADS <2003 "pleomorphic or heterogeneous"
    "FINE_LINEAR_BRANCHING": "fine_linear_branching",
    "PUNCTATE": "other",
    "ROUND_AND_REGULAR": "other",
    "LUCENT_CENTER": "other",
    "LUCENT_CENTERED": "other",
    "VASCULAR": "other",
    "COARSE": "other",  # coarse or popcorn-like (benign), not coarse heterogeneous
    "DYSTROPHIC": "other",
    "EGGSHELL": "other",
    "MILK_OF_CALCIUM": "other",
    "SKIN": "other",
    "LARGE_RODLIKE": "other",
}

DISTRIBUTION_ORDER = ("segmental", "linear", "grouped", "regional", "diffuse")
DISTRIBUTION_ROWS = ("grouped", "regional", "linear", "segmental", "diffuse", "unknown")
DISTRIBUTION_TOKENS: Mapping[str, str] = {
    "CLUSTERED": "grouped",
    "REGIONAL": "regional",
    "LINEAR": "linear",
    "SEGMENTAL": "segmental",
    "DIFFUSELY_SCATTERED": "diffuse",
}

PATHOLOGY_COLUMNS: Mapping[str, str] = {
    "MALIGNANT": "malignant",
    "BENIGN": "benign",
    "BENIGN_WITHOUT_CALLBACK": "benign_without_callback",
}
OUTPUT_COLUMNS = (
    "morphology",
    "lesions",
    "malignant",
    "benign",
    "benign_without_callback",
    "malignancy_rate",
    "wilson_lower",
    "wilson_upper",
    "share_of_malignant",
    "share_of_benign",
    "source",
)
DECIMALS = 6


class DataError(ValueError):
    """A problem with the input tables; the message is one line."""


def _map_combined(value: str, tokens: Mapping[str, str], order: Sequence[str], column: str) -> str:
    """Most suspicious class of a ``-``-joined CBIS value; ``N/A`` is unknown."""
    value = value.strip()
    if value == MISSING:
        return "unknown"
    classes = []
    for token in value.split("-"):
        if token.strip() not in tokens:
            raise DataError(
                f"{column} = {value!r}: unknown component {token!r}; allowed: {', '.join(sorted(tokens))} or {MISSING}"
            )
        classes.append(tokens[token.strip()])
    return min(classes, key=order.index)


def map_calc_type(value: str) -> str:
    """Morphology class of a CBIS ``calc type`` value."""
    return _map_combined(value, MORPHOLOGY_TOKENS, MORPHOLOGY_ORDER, CALC_TYPE)


def map_distribution(value: str) -> str:
    """Distribution class of a CBIS ``calc distribution`` value."""
    return _map_combined(value, DISTRIBUTION_TOKENS, DISTRIBUTION_ORDER, CALC_DISTRIBUTION)


def default_shared_data() -> Path:
    return REPO.parent / "shared" / "data"


def load_calc_rows(shared_data: Path) -> pd.DataFrame:
    """All calcification ROI rows (train, then test) as strings; ``N/A`` kept as is."""
    frames = []
    for name in CALC_FILES:
        path = Path(shared_data) / DATASET_DIR / name
        if not path.is_file():
            raise DataError(f"{path}: file not found (the CBIS-DDSM description table)")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        needed = [*LESION_KEY, VIEW, CALC_TYPE, CALC_DISTRIBUTION, PATHOLOGY]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing}")
        frame = frame[needed].apply(lambda s: s.str.strip())
        frame.insert(0, "split", name.split("_")[-2])
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    bad_view = sorted(set(rows[VIEW]) - set(VIEW_ORDER))
    if bad_view:
        raise DataError(f"{VIEW}: unexpected value(s) {bad_view}; allowed: {list(VIEW_ORDER)}")
    bad_path = sorted(set(rows[PATHOLOGY]) - set(PATHOLOGY_COLUMNS))
    if bad_path:
        raise DataError(f"{PATHOLOGY}: unexpected value(s) {bad_path}; allowed: {list(PATHOLOGY_COLUMNS)}")
    rows[ABNORMALITY] = rows[ABNORMALITY].astype(int)
    rows["morphology"] = rows[CALC_TYPE].map(map_calc_type)
    rows["distribution"] = rows[CALC_DISTRIBUTION].map(map_distribution)
    return rows


def deduplicate(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per lesion: the first view in :data:`VIEW_ORDER` (CC before MLO)."""
    key = list(LESION_KEY)
    view_rank = rows[VIEW].map({v: i for i, v in enumerate(VIEW_ORDER)})
    ordered = rows.assign(_view_rank=view_rank).sort_values([*key, "_view_rank"], kind="mergesort")
    dupes = ordered.duplicated([*key, VIEW])
    if dupes.any():
        first = ordered.loc[dupes, [*key, VIEW]].iloc[0].tolist()
        raise DataError(f"{first}: the same lesion and view appears more than once")
    lesions = ordered.drop_duplicates(key, keep="first").drop(columns="_view_rank")
    return lesions.reset_index(drop=True)


def discordance(rows: pd.DataFrame) -> pd.DataFrame:
    """For each label, how many two-view lesions differ between CC and MLO."""
    groups = rows.groupby(list(LESION_KEY))
    two_view = groups[VIEW].transform("size") > 1
    labels = [CALC_TYPE, "morphology", CALC_DISTRIBUTION, "distribution", PATHOLOGY]
    out = []
    for label in labels:
        differs = rows[two_view].groupby(list(LESION_KEY))[label].nunique() > 1
        out.append({"label": label, "lesions_differing": int(differs.sum())})
    malignant = rows[PATHOLOGY].eq("MALIGNANT")
    status = rows[two_view].assign(_m=malignant).groupby(list(LESION_KEY))["_m"].nunique() > 1
    out.append({"label": "malignant vs benign", "lesions_differing": int(status.sum())})
    return pd.DataFrame(out)


def summarise(lesions: pd.DataFrame, by: str, order: Sequence[str]) -> pd.DataFrame:
    """Counts, malignancy rate (Wilson 95% interval) and shares, one row per class."""
    unexpected = sorted(set(lesions[by]) - set(order))
    if unexpected:
        raise DataError(f"{by}: class(es) {unexpected} have no output row")
    counts = (
        pd.crosstab(lesions[by], lesions[PATHOLOGY])
        .reindex(index=list(order), columns=list(PATHOLOGY_COLUMNS), fill_value=0)
        .rename(columns=PATHOLOGY_COLUMNS)
        .astype(int)
    )
    table = counts.rename_axis(by).reset_index()
    table.insert(1, "lesions", table[list(PATHOLOGY_COLUMNS.values())].sum(axis=1))
    n, k = table["lesions"], table["malignant"]
    safe_n = n.where(n > 0, 1)
    lower, upper = proportion_confint(k, safe_n, alpha=0.05, method="wilson")
    empty = n == 0
    table["malignancy_rate"] = (k / safe_n).mask(empty)
    table["wilson_lower"] = pd.Series(lower, index=table.index, dtype=float).mask(empty)
    table["wilson_upper"] = pd.Series(upper, index=table.index, dtype=float).mask(empty)
    benign_all = table["benign"] + table["benign_without_callback"]
    table["share_of_malignant"] = k / k.sum()
    table["share_of_benign"] = benign_all / benign_all.sum()
    table["source"] = SOURCE
    floats = [
        "malignancy_rate",
        "wilson_lower",
        "wilson_upper",
        "share_of_malignant",
        "share_of_benign",
    ]
    table[floats] = table[floats].astype(float).round(DECIMALS)
    return table[[by, *OUTPUT_COLUMNS[1:]]]


def write_table(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = table.to_csv(index=False, lineterminator="\n", na_rep="")
    path.write_text(text, encoding="utf-8", newline="\n")


def derive(shared_data: Path, out: Path) -> dict[str, pd.DataFrame]:
    """Build both tables, write them to ``out`` and return everything for reporting."""
    rows = load_calc_rows(shared_data)
    lesions = deduplicate(rows)
    morphology = summarise(lesions, "morphology", MORPHOLOGY_ROWS)
    distribution = summarise(lesions, "distribution", DISTRIBUTION_ROWS)
    write_table(morphology, Path(out) / MORPHOLOGY_FILE)
    write_table(distribution, Path(out) / DISTRIBUTION_FILE)
    return {
        "rows": rows,
        "lesions": lesions,
        "morphology": morphology,
        "distribution": distribution,
        "discordance": discordance(rows),
    }


def mapping_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Every raw ``calc type`` string with its class and ROI-row count."""
    table = rows.groupby([CALC_TYPE, "morphology"]).size().rename("rows").reset_index()
    return table.sort_values(["morphology", CALC_TYPE], kind="mergesort").reset_index(drop=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=default_shared_data(),
        help="directory holding cbis-ddsm-descriptions/ (default: <repo>/../shared/data)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "data" / "parameters",
        help="output directory (default: <repo>/data/parameters)",
    )
    parser.add_argument(
        "--show-mapping",
        action="store_true",
        help="print every raw calc type string with its class and exit",
    )
    args = parser.parse_args(argv)
    try:
        if args.show_mapping:
            print(mapping_table(load_calc_rows(args.shared_data)).to_string(index=False))
            return 0
        result = derive(args.shared_data, args.out)
    except DataError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    rows, lesions = result["rows"], result["lesions"]
    views = rows.groupby(list(LESION_KEY)).size()
    two, one = int((views == 2).sum()), int((views == 1).sum())
    print(f"{len(rows)} ROI rows -> {len(lesions)} lesions ({two} seen on CC and MLO, {one} on one view)")
    print("two-view lesions whose labels differ between views (CC kept):")
    print(result["discordance"].to_string(index=False))
    for name in ("morphology", "distribution"):
        print(f"\n{name}:")
        print(result[name].drop(columns="source").to_string(index=False))
    print(f"\nwrote {args.out / MORPHOLOGY_FILE} and {args.out / DISTRIBUTION_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
