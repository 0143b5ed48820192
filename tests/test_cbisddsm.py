"""Checks of scripts/derive_cbisddsm_morphology.py and the tables it ships."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest
from _paths import PARAMETERS, REPO, SHARED_DATA

SCRIPT = REPO / "scripts" / "derive_cbisddsm_morphology.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("derive_cbisddsm_morphology", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


derive = _load_script()

needs_data = pytest.mark.skipif(
    not all((SHARED_DATA / derive.DATASET_DIR / name).is_file() for name in derive.CALC_FILES),
    reason=f"CBIS-DDSM description tables not found under {SHARED_DATA / derive.DATASET_DIR} (set CALCSIM_SHARED_DATA)",
)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return derive.load_calc_rows(SHARED_DATA)


def _shipped(name: str) -> pd.DataFrame:
    return pd.read_csv(PARAMETERS / name, keep_default_na=False, dtype=str)


def test_mapping_is_explicit():
    assert derive.map_calc_type("PLEOMORPHIC") == "fine_pleomorphic"
    assert derive.map_calc_type("COARSE") == "other"
    assert derive.map_calc_type("PLEOMORPHIC-FINE_LINEAR_BRANCHING") == "fine_linear_branching"
    assert derive.map_calc_type("PUNCTATE-AMORPHOUS") == "amorphous"
    assert derive.map_calc_type("N/A") == "unknown"
    assert derive.map_distribution("CLUSTERED-LINEAR") == "linear"
    assert derive.map_distribution("DIFFUSELY_SCATTERED") == "diffuse"
    assert derive.map_distribution("N/A") == "unknown"
    with pytest.raises(derive.DataError, match="unknown component 'POPCORN'"):
        derive.map_calc_type("COARSE-POPCORN")


@needs_data
def test_every_raw_string_is_mapped(rows):
    for value in rows[derive.CALC_TYPE].unique():
        assert derive.map_calc_type(value) in derive.MORPHOLOGY_ROWS, value
    for value in rows[derive.CALC_DISTRIBUTION].unique():
        assert derive.map_distribution(value) in derive.DISTRIBUTION_ROWS, value
    assert rows["morphology"].notna().all() and rows["distribution"].notna().all()


@needs_data
def test_lesion_count_matches_shipped_tables(rows):
    lesions = derive.deduplicate(rows)
    assert not lesions.duplicated(list(derive.LESION_KEY)).any()
    assert len(lesions) == rows.groupby(list(derive.LESION_KEY)).ngroups
    for name in (derive.MORPHOLOGY_FILE, derive.DISTRIBUTION_FILE):
        table = _shipped(name)
        assert table["lesions"].astype(int).sum() == len(lesions), name
        parts = table[["malignant", "benign", "benign_without_callback"]].astype(int)
        assert (parts.sum(axis=1) == table["lesions"].astype(int)).all(), name


@needs_data
def test_shipped_tables_equal_a_fresh_run(tmp_path):
    derive.derive(SHARED_DATA, tmp_path)
    for name in (derive.MORPHOLOGY_FILE, derive.DISTRIBUTION_FILE):
        fresh = (tmp_path / name).read_bytes()
        assert b"\r" not in fresh
        assert (PARAMETERS / name).read_bytes() == fresh, f"{name} is stale: rerun the script"


@needs_data
def test_malignancy_rate_rises_with_suspicion():
    table = pd.read_csv(PARAMETERS / derive.MORPHOLOGY_FILE)
    rate = table.set_index("morphology")["malignancy_rate"]
    assert rate["amorphous"] < rate["fine_pleomorphic"] < rate["fine_linear_branching"]
