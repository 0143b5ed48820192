"""Other-cause death from a period life table: exact inversion, the table's survival, and bad tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import load_scenario
from analysis.errors import CalcsimInputError
from analysis.model.lifetable import life_table


def _table(q: list[float], start: int = 35) -> pd.DataFrame:
    ages = np.arange(start, start + len(q))
    return pd.DataFrame({"age_lower": ages, "age_upper": ages + 1, "probability_of_death": q, "source": "x"})


def test_inversion_is_exact_and_survival_is_the_product_of_one_minus_q():
    lt = life_table(_table([0.01, 0.02, 0.05, 0.1]))
    e = np.array([0.0, 0.005, 0.01005, 0.2, 0.5, 3.0])
    ages = lt.death_ages(35.0, e)
    np.testing.assert_allclose(lt.cumulative(ages) - lt.cumulative(35.0), e, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lt.survival(35.0, 37.0), 0.99 * 0.98, rtol=1e-12)
    np.testing.assert_allclose(lt.survival(35.0, 39.0), 0.99 * 0.98 * 0.95 * 0.9, rtol=1e-12)
    assert ages[-1] > 39.0  # beyond the last band the last hazard goes on
    assert np.all(np.diff(ages) > 0)


def test_death_from_a_later_start_conditions_on_being_alive():
    lt = life_table(_table([0.01, 0.02, 0.05, 0.1]))
    ages = lt.death_ages(36.5, np.array([0.0, 1e-3]))
    assert ages[0] == pytest.approx(36.5)
    assert ages[1] > 36.5


@pytest.mark.parametrize("name", ["nl-biennial", "us-annual", "england-triennial"])
def test_shipped_life_tables_are_plausible(name):
    s = load_scenario(name, calibration=None)
    t = s.tables["life_table"].set_index("age_lower")["probability_of_death"]
    assert t.index[0] <= s.cohort.model_start_age_years
    assert 0.001 < t.loc[50] < 0.004 and 0.02 < t.loc[80] < 0.06
    assert (np.diff(t.loc[60:100].to_numpy()) > 0).all()  # mortality rises with age from 60


def test_a_probability_of_one_is_refused(tmp_path):
    bad = _table([0.01, 1.0])
    bad.to_csv(tmp_path / "lt.csv", index=False)
    toml = tmp_path / "s.toml"
    toml.write_text(f'extends = "nl-biennial"\nname = "x"\n[cohort]\nlife_table = "{tmp_path / "lt.csv"}"\n')
    with pytest.raises(CalcsimInputError, match=r"probability_of_death = 1\.0: a probability in \(0, 1\)"):
        load_scenario(str(toml), calibration=None)
