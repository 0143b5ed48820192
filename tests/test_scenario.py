"""Checks of analysis/scenario.py and the scenario-facing commands of analysis/cli.py.

Shipped scenarios: they load, carry provenance for every value, cite only keys of
data/references.toml and hash stably. ``extends`` and ``--set``: overrides land with the
right provenance and nothing else moves. Validation: every bad input is ONE line that
names the file (or ``--set``), the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli.main import main
from analysis.errors import CalcsimInputError
from analysis.scenario import (
    STATUSES,
    list_scenarios,
    load_scenario,
    parse_set_option,
    references,
    undocumented_sources,
)

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "data" / "scenarios"
PARAMETERS = REPO / "data" / "parameters"
SHIPPED = ["england-triennial", "nl-biennial", "us-annual"]

PRESENTATION_HEADER = "cancer_type,calc_only,calc_mass,mass,other,source\n"
MORPHOLOGY_HEADER = "origin,amorphous,coarse_heterogeneous,fine_pleomorphic,fine_linear_branching,source\n"
INCIDENCE_HEADER = "age_lower,age_upper,annual_incidence_per_100000,source\n"


def user_file(folder: Path, body: str, name: str = "user.toml", extends: str | None = "nl-biennial") -> Path:
    """Write a scenario file into ``folder``; by default it extends nl-biennial."""
    path = folder / name
    head = f'extends = "{extends}"\n' if extends is not None else ""
    path.write_text(head + body, encoding="utf-8")
    return path


def load_error(*args, **kwargs) -> str:
    """Load a scenario that must fail; return the message after checking it is one line."""
    with pytest.raises(CalcsimInputError) as info:
        load_scenario(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    return msg


def assert_mentions(msg: str, *fragments: str) -> None:
    missing = [f for f in fragments if f not in msg]
    assert not missing, f"{missing} not in: {msg}"


# --------------------------------------------------------------------------- shipped scenarios
def test_list_scenarios_is_exactly_the_shipped_files():
    assert list_scenarios() == SHIPPED
    assert sorted(p.stem for p in SCENARIOS.glob("*.toml")) == SHIPPED


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request):
    return load_scenario(request.param)


def test_shipped_scenario_loads_with_its_own_name(shipped):
    assert shipped.name in SHIPPED
    assert Path(shipped.origin) == SCENARIOS / f"{shipped.name}.toml"
    assert shipped.description and shipped.setting
    assert set(shipped.tables) == {
        "incidence",
        "brca_incidence",
        "density",
        "presentation",
        "morphology",
        "distribution",
        "life_table",
    }


def test_shipped_provenance_is_a_citation_or_calibrated_or_assumption(shipped):
    refs = references()
    assert set(shipped.provenance) == set(shipped.values())
    bad = {
        k: p
        for k, p in shipped.provenance.items()
        if p.status not in (None, *STATUSES) or not (p.source in refs or p.status in STATUSES)
    }
    assert not bad
    assert not [k for k, p in shipped.provenance.items() if p.status == "user"]


def test_shipped_ranges_contain_their_values(shipped):
    values = shipped.values()
    for key, prov in shipped.provenance.items():
        if prov.status in STATUSES:
            assert prov.range is not None, key
        if prov.range is not None:
            lo, hi = prov.range
            xs = values[key] if isinstance(values[key], list) else [values[key]]
            assert all(lo <= x <= hi for x in xs), (key, xs, prov.range)


def test_shipped_citations_are_all_in_references(shipped):
    refs = references()
    assert refs and all(isinstance(v, str) and v.strip() for v in refs.values())
    assert undocumented_sources(shipped, refs) == []
    # the check itself can fail: drop one key the scenario uses
    used = next(p.source for p in shipped.provenance.values() if p.source)
    assert undocumented_sources(shipped, set(refs) - {used}) == [used]


def test_table_source_column_citations_are_checked():
    s = load_scenario("nl-biennial")
    refs = set(references())
    assert undocumented_sources(s, refs - {"kim2018"}) == ["kim2018"]  # only cited in the morphology table


def test_hash_is_stable_and_tracks_values():
    a, b = load_scenario("nl-biennial"), load_scenario(SCENARIOS / "nl-biennial.toml")
    assert a.hash == b.hash and len(a.hash) == 16
    assert len({load_scenario(n).hash for n in SHIPPED}) == 3
    changed = a.replace({"programme.attendance": 0.75})
    assert changed.programme.attendance == 0.75 and a.programme.attendance == 0.78
    assert changed.hash != a.hash
    # the hash is of values, not provenance: re-setting the same value keeps it
    assert a.replace({"programme.attendance": 0.78}).hash == a.hash


def test_replace_validates_and_records_user_status():
    s = load_scenario("nl-biennial")
    r = s.replace({"programme.interval_years": 1})
    assert r.programme.interval_years == 1.0
    assert r.provenance["programme.interval_years"].status == "user"
    assert r.provenance["programme.start_age_years"] == s.provenance["programme.start_age_years"]
    msg = str(pytest.raises(CalcsimInputError, s.replace, {"programme.attendance": 1.5}).value)
    assert_mentions(msg, "override", "programme.attendance = 1.5", "a probability in [0, 1]")


# --------------------------------------------------------------------------- extends
def test_extends_overrides_only_what_it_names(tmp_path):
    path = user_file(
        tmp_path,
        '[programme]\nattendance = 0.7\n[cancer]\nfamily_history_rr_1 = { value = 2.0, source = "cghfbc2001" }\n',
    )
    base, s = load_scenario("nl-biennial"), load_scenario(path)
    assert s.programme.attendance == 0.7
    assert s.cancer.family_history_rr_1 == 2.0
    plain, cited = s.provenance["programme.attendance"], s.provenance["cancer.family_history_rr_1"]
    assert (plain.status, plain.source, plain.origin) == ("user", None, str(path))
    assert (cited.status, cited.source, cited.origin) == (None, "cghfbc2001", str(path))
    changed = {"programme.attendance", "cancer.family_history_rr_1"}
    assert {k: v for k, v in s.values().items() if k not in changed} == {
        k: v for k, v in base.values().items() if k not in changed
    }
    assert {k: p for k, p in s.provenance.items() if k not in changed} == {
        k: p for k, p in base.provenance.items() if k not in changed
    }
    assert set(s.tables) == set(base.tables)
    for kind in base.tables:
        pd.testing.assert_frame_equal(s.tables[kind], base.tables[kind])
    assert s.hash != base.hash


def test_extends_chain_of_two_user_files(tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    sub.mkdir()
    a = user_file(sub, "[programme]\nattendance = 0.7\n", name="a.toml")
    b = user_file(sub, "[programme]\ncumulative_rounds = 5\n", name="b.toml", extends="a.toml")
    monkeypatch.chdir(tmp_path)  # "a.toml" is relative to b.toml's folder, not to the working folder
    s = load_scenario(b)
    assert (s.programme.attendance, s.programme.cumulative_rounds) == (0.7, 5)
    assert s.provenance["programme.attendance"].origin == str(a)
    assert s.provenance["programme.cumulative_rounds"].origin == str(b)
    assert s.programme.interval_years == 2.0  # from nl-biennial, two levels up
    assert s.provenance["programme.interval_years"].source == "sankatsing2018"


@pytest.mark.parametrize("loop", ["self", "pair"])
def test_circular_extends_is_one_line(tmp_path, loop):
    if loop == "self":
        path = user_file(tmp_path, "", name="a.toml", extends="a.toml")
    else:
        user_file(tmp_path, "", name="b.toml", extends="a.toml")
        path = user_file(tmp_path, "", name="a.toml", extends="b.toml")
    msg = load_error(path)
    assert_mentions(msg, str(path), "extends", "circular")


def test_extends_unknown_name_suggests(tmp_path):
    path = user_file(tmp_path, "", extends="nl-biennal")
    msg = load_error(path)
    assert_mentions(msg, str(path), "extends", "'nl-biennal'", "did you mean 'nl-biennial'")


def test_extends_missing_file(tmp_path):
    path = user_file(tmp_path, "", extends="nowhere.toml")
    assert_mentions(load_error(path), str(path), "extends", "nowhere.toml", "file not found")


def test_tables_are_found_beside_the_file_that_names_them(tmp_path):
    # a same-named table beside the user file wins when the user file names it ...
    custom = PRESENTATION_HEADER + "dcis,0.7,0.1,0.1,0.1,luiten_thesis\ninvasive,0.1,0.1,0.7,0.1,luiten_thesis\n"
    (tmp_path / "presentation_luiten.csv").write_text(custom)
    s = load_scenario(user_file(tmp_path, '[cancer]\npresentation_table = "presentation_luiten.csv"\n'))
    assert s.tables["presentation"].set_index("cancer_type").loc["dcis", "calc_only"] == 0.7
    # ... but not when the name is inherited from nl-biennial (found beside nl-biennial's data)
    inherited = load_scenario(user_file(tmp_path, "", name="plain.toml"))
    assert inherited.tables["presentation"].set_index("cancer_type").loc["dcis", "calc_only"] == 0.807
    assert s.hash != inherited.hash == load_scenario("nl-biennial").hash


# --------------------------------------------------------------------------- --set
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("programme.interval_years=3", 3),
        ("programme.interval_years = 3 ", 3),
        ("programme.attendance=0.7", 0.7),
        ("cohort.brca1_share=1e-3", 0.001),
        ("reading.morphology_odds_ratio=[1, 2.5, 3, 4]", [1, 2.5, 3, 4]),
        ('cancer.incidence_table="my rates.csv"', "my rates.csv"),
        ("cancer.incidence_table=my_rates.csv", "my_rates.csv"),  # not TOML: kept as text
        ("reading.readers=true", True),
        ("name=a=b", "a=b"),
    ],
)
def test_parse_set_option_reads_toml_values(text, expected):
    key, value = parse_set_option(text)
    assert key == text.split("=", 1)[0].strip()
    assert value == expected and type(value) is type(expected)


def test_parse_set_option_needs_an_equals_sign():
    with pytest.raises(CalcsimInputError) as info:
        parse_set_option("programme.interval_years")
    assert_mentions(str(info.value), "--set", "'programme.interval_years'", "section.key=value")


@pytest.mark.parametrize("how", ["mapping", "parsed"])
def test_set_override(how):
    overrides = (
        {"programme.interval_years": 3} if how == "mapping" else dict([parse_set_option("programme.interval_years=3")])
    )
    base, s = load_scenario("us-annual"), load_scenario("us-annual", overrides)
    assert s.programme.interval_years == 3.0
    prov = s.provenance["programme.interval_years"]
    assert (prov.status, prov.source, prov.origin) == ("user", None, "--set")
    assert {k: v for k, v in s.values().items() if k != "programme.interval_years"} == {
        k: v for k, v in base.values().items() if k != "programme.interval_years"
    }


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        ({"programe.interval_years": 3}, ["programe.interval_years = 3", "section one of", "did you mean 'programme'"]),
        (
            {"programme.intervl_years": 3},
            ["programme.intervl_years = 3", "unknown parameter", "did you mean 'interval_years'"],
        ),
        ({"programme.attendance": "high"}, ["programme.attendance = 'high'", "a finite number"]),
        ({"programme.interval_years": 0}, ["programme.interval_years = 0", "a number of years >= 0.5"]),
        ({"programme.attendance": 1.5}, ["programme.attendance = 1.5", "a probability in [0, 1]"]),
        (
            {"reading.density_odds_ratio_benign": [1, 1]},
            ["reading.density_odds_ratio_benign = [1, 1]", "a list of 4 numbers"],
        ),
        ({"cohort.model_end_age_years": 75}, ["cohort.model_end_age_years = 75.0", "stop age + interval (76)"]),
        ({"cancer.incidence_table": "nosuch.csv"}, ["cancer.incidence_table = 'nosuch.csv'", "not found"]),
    ],
)
def test_set_errors_name_set_key_value_and_rule(overrides, fragments):
    msg = load_error("nl-biennial", overrides)
    assert msg.startswith("--set: ")
    assert_mentions(msg, *fragments)


@pytest.mark.parametrize("via", ["--set", "file"])
@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"programme.start_age_years": 80}, id="start-after-stop"),
        pytest.param({"cohort.brca1_share": 0.999}, id="brca1-vs-brca2"),
    ],
)
def test_cross_check_error_names_what_caused_it(tmp_path, via, overrides):
    if via == "--set":
        msg, where = load_error("nl-biennial", overrides), "--set"
    else:
        ((key, value),) = overrides.items()
        section, name = key.split(".")
        path = user_file(tmp_path, f"[{section}]\n{name} = {value}\n")
        msg, where = load_error(path), str(path)
    assert_mentions(msg, where, *overrides)


def test_inherited_cumulative_rounds_follow_a_shorter_schedule():
    """--set programme.interval_years=3 on nl-biennial leaves 9 rounds; the inherited 10 becomes 9."""
    from analysis.scenario import cumulative_rounds

    s = load_scenario("nl-biennial", {"programme.interval_years": 3})
    assert s.programme.cumulative_rounds == 10 and cumulative_rounds(s.programme) == 9


def test_set_without_dot_does_not_suggest_itself():
    msg = load_error("nl-biennial", {"programme": 3})
    assert "did you mean 'programme'" not in msg


def test_set_table_is_found_in_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "my_rates.csv").write_text((PARAMETERS / "incidence_nci_bcrat_white.csv").read_text())
    monkeypatch.chdir(tmp_path)
    s = load_scenario("nl-biennial", {"cancer.incidence_table": "my_rates.csv"})
    assert s.tables["incidence"].attrs["path"] == str(tmp_path / "my_rates.csv")


# --------------------------------------------------------------------------- validation: scenario values
VALUE_ERRORS = [
    pytest.param(
        "[programe]\ninterval_years = 3\n",
        ["programe = {'interval_years': 3}", "unknown section", "did you mean 'programme'"],
        id="unknown-section",
    ),
    pytest.param('nmae = "x"\n', ["nmae = 'x'", "unknown section", "did you mean 'name'"], id="unknown-top-key"),
    pytest.param(
        "[programme]\nintervall_years = 3\n",
        ["programme.intervall_years = 3", "unknown parameter", "did you mean 'interval_years'"],
        id="unknown-key",
    ),
    pytest.param(
        '[programme]\ninterval_years = { value = 2, sorce = "x" }\n',
        ["programme.interval_years.sorce = 'x'", "unknown field", "did you mean 'source'"],
        id="unknown-entry-field",
    ),
    pytest.param("programme = 3\n", ["programme = 3", "a table of parameters"], id="section-not-table"),
    pytest.param(
        '[programme]\nattendance = "high"\n',
        ["programme.attendance = 'high'", "a finite number"],
        id="string-for-number",
    ),
    pytest.param(
        "[programme]\nattendance = true\n", ["programme.attendance = True", "a finite number"], id="bool-for-number"
    ),
    pytest.param("[reading]\nreaders = true\n", ["reading.readers = True", "a whole number >= 1"], id="bool-for-count"),
    pytest.param(
        "[reading]\nreaders = 1.5\n", ["reading.readers = 1.5", "a whole number >= 1"], id="fraction-for-count"
    ),
    pytest.param("[reading]\nreaders = 0\n", ["reading.readers = 0", "a whole number >= 1"], id="zero-count"),
    pytest.param(
        "[reading]\ndensity_odds_ratio_malignant = [1.0, 1.0, 1.0]\n",
        ["reading.density_odds_ratio_malignant = [1.0, 1.0, 1.0]", "a list of 4 numbers"],
        id="vector-too-short",
    ),
    pytest.param(
        "[reading]\ndensity_odds_ratio_malignant = [1.0, 1.0, 1.0, 1.0, 1.0]\n",
        ["reading.density_odds_ratio_malignant = [1.0, 1.0, 1.0, 1.0, 1.0]", "a list of 4 numbers"],
        id="vector-too-long",
    ),
    pytest.param(
        "[reading]\ndensity_odds_ratio_malignant = 1.0\n",
        ["reading.density_odds_ratio_malignant = 1.0", "a list of 4 numbers"],
        id="scalar-for-vector",
    ),
    pytest.param(
        '[reading]\ndensity_odds_ratio_malignant = [1.0, "x", 1.0, 1.0]\n',
        ["reading.density_odds_ratio_malignant = 'x'", "a finite number"],
        id="vector-element-string",
    ),
    pytest.param(
        "[reading]\ndensity_odds_ratio_malignant = [1.0, 0.0, 1.0, 1.0]\n",
        ["reading.density_odds_ratio_malignant = 0.0", "a number > 0"],
        id="vector-element-zero",
    ),
    pytest.param(
        "[programme]\nattendance = 1.5\n",
        ["programme.attendance = 1.5", "a probability in [0, 1]"],
        id="probability-above-1",
    ),
    pytest.param(
        "[programme]\nattendance = -0.1\n",
        ["programme.attendance = -0.1", "a probability in [0, 1]"],
        id="probability-below-0",
    ),
    pytest.param("[programme]\nattendance = nan\n", ["programme.attendance = nan", "a finite number"], id="nan"),
    pytest.param(
        "[programme]\nattendance_logit_sd = -1\n",
        ["programme.attendance_logit_sd = -1", "a number >= 0"],
        id="negative-sd",
    ),
    pytest.param(
        "[cancer]\nfamily_history_rr_1 = 0\n", ["cancer.family_history_rr_1 = 0", "a number > 0"], id="zero-odds-ratio"
    ),
    pytest.param(
        "[programme]\nstart_age_years = 130\n",
        ["programme.start_age_years = 130", "an age in years between 0 and 110"],
        id="age-above-110",
    ),
    pytest.param(
        "[programme]\nstop_age_years = 45\n",
        [
            "programme.stop_age_years = 45.0",
            "must be >= programme.start_age_years",
            "(with programme.start_age_years = 50.0)",
        ],
        id="stop-before-start",
    ),
    pytest.param(
        "[programme]\ninterval_years = 0\n",
        ["programme.interval_years = 0", "a number of years >= 0.5"],
        id="interval-zero",
    ),
    pytest.param(
        "[programme]\ninterval_years = -2\n",
        ["programme.interval_years = -2", "a number of years >= 0.5"],
        id="interval-negative",
    ),
    pytest.param(
        "[cohort]\nmodel_start_age_years = 55\n",
        [
            "cohort.model_start_age_years = 55.0",
            "must be <= programme.start_age_years",
            "(with programme.start_age_years = 50.0)",
        ],
        id="model-starts-after-programme",
    ),
    pytest.param(
        "[cohort]\nmodel_end_age_years = 74\n",
        ["cohort.model_end_age_years = 74.0", "stop age + interval (76)"],
        id="model-ends-too-early",
    ),
    pytest.param(
        "[programme]\ncumulative_rounds = 14\n",
        ["programme.cumulative_rounds = 14", "at most the number of scheduled rounds (13)"],
        id="cumulative-rounds-too-many",
    ),
    pytest.param(
        "[cohort]\nbrca1_share = 0.6\nbrca2_share = 0.5\n",
        ["cohort.brca2_share = 0.5", "brca1_share + brca2_share must be < 1"],
        id="brca-above-1",
    ),
    pytest.param(
        "[cohort]\nbrca1_share = 0.5\nbrca2_share = 0.5\n",
        ["cohort.brca2_share = 0.5", "brca1_share + brca2_share must be < 1"],
        id="brca-equal-1",
    ),
    pytest.param(
        '[programme]\nattendance = { value = 0.95, status = "assumption", range = [0.7, 0.85] }\n',
        ["programme.attendance = 0.95", "outside its stated range [0.7, 0.85]"],
        id="outside-range",
    ),
    pytest.param(
        '[cohort]\nfamily_history_any_share = { value = 0.3, source = "cghfbc2001", range = [0.06, 0.16] }\n',
        ["cohort.family_history_any_share = 0.3", "outside its stated range [0.06, 0.16]"],
        id="sourced-outside-range",
    ),
    pytest.param(
        '[programme]\nattendance = { value = 0.8, status = "assumption", range = [0.9, 0.7] }\n',
        ["programme.attendance.range = [0.9, 0.7]", "low must not exceed high"],
        id="range-inverted",
    ),
    pytest.param(
        '[programme]\nattendance = { value = 0.8, status = "assumption", range = [0.7] }\n',
        ["programme.attendance.range = [0.7]", "a list of two numbers"],
        id="range-one-number",
    ),
    pytest.param(
        '[programme]\nattendance = { value = 0.8, status = "assumption" }\n',
        ["programme.attendance = {", "status 'assumption' needs a plausible 'range'"],
        id="status-without-range",
    ),
    pytest.param(
        '[programme]\nattendance = { value = 0.8, status = "guess", range = [0, 1] }\n',
        ["programme.attendance.status = 'guess'", "one of calibrated, assumption"],
        id="unknown-status",
    ),
    pytest.param(
        '[programme]\nattendance = { value = 0.8, status = "user", range = [0, 1] }\n',
        ["programme.attendance.status = 'user'", "one of calibrated, assumption"],
        id="status-user",
    ),
    pytest.param(
        '[programme]\nattendance = { source = "nhs2019" }\n',
        ["programme.attendance = {'source': 'nhs2019'}", "needs a 'value'"],
        id="entry-without-value",
    ),
    pytest.param(
        '[programme]\nattendance = { value = 0.8, note = "x" }\n',
        ["programme.attendance = {'value': 0.8, 'note': 'x'}", "needs a 'source'", "or a 'status'"],
        id="entry-without-provenance",
    ),
    pytest.param(
        '[cancer]\nincidence_table = "nosuch.csv"\n',
        ["cancer.incidence_table = 'nosuch.csv'", "table file not found"],
        id="table-not-found",
    ),
    pytest.param(
        "[cancer]\nincidence_table = 3\n", ["cancer.incidence_table = 3", "a CSV file name"], id="table-not-string"
    ),
    pytest.param("name = 3\n", ["name = 3", "a string"], id="name-not-string"),
]


@pytest.mark.parametrize(("body", "fragments"), VALUE_ERRORS)
def test_value_error_is_one_line_naming_file_key_value_rule(tmp_path, body, fragments):
    path = user_file(tmp_path, body)
    msg = load_error(path)
    assert msg.startswith(f"{path}: ")
    assert_mentions(msg, *fragments)


def test_extends_must_be_a_string(tmp_path):
    path = user_file(tmp_path, "extends = 3\n", extends=None)
    assert_mentions(load_error(path), str(path), "extends = 3", "a scenario name or path")


def test_missing_key_names_it(tmp_path):
    text = (SCENARIOS / "nl-biennial.toml").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("brca1_share")]
    assert len(lines) == len(text.splitlines()) - 1
    path = tmp_path / "full.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    msg = load_error(path)
    assert_mentions(msg, str(path), "cohort.brca1_share = None", "missing; required", "BRCA1")


def test_invalid_toml_names_the_file(tmp_path):
    path = user_file(tmp_path, "[programme\ninterval_years = 3\n")
    assert_mentions(load_error(path), str(path), "not valid TOML", "line 2")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            '[cohort]\nfemale_first_degree_relatives = { value = 5, status = "assumption", range = [1, 3] }\n',
            id="count",
        ),
        pytest.param(
            '[reading]\nmorphology_odds_ratio = { value = [1.0, 1.5, 3.0, 60.0], status = "assumption", '
            "range = [1.0, 10.0] }\n",
            id="vector",
        ),
    ],
)
def test_range_is_enforced_for_counts_and_vectors(tmp_path, body):
    assert_mentions(load_error(user_file(tmp_path, body)), "outside its stated range")


@pytest.mark.parametrize("source", ['""', '" "', "3"])
def test_source_must_be_a_nonempty_string(tmp_path, source):
    path = user_file(tmp_path, f"[programme]\nattendance = {{ value = 0.5, source = {source} }}\n")
    assert_mentions(load_error(path), str(path), "programme.attendance", "source")


def test_user_file_without_name_is_named_after_the_file(tmp_path):
    assert load_scenario(user_file(tmp_path, "[programme]\nattendance = 0.7\n", name="mine.toml")).name == "mine"


# --------------------------------------------------------------------------- validation: tables
GOOD_INVASIVE = "invasive,0.094,0.100,0.713,0.093,luiten_thesis\n"
TABLE_ERRORS = [
    pytest.param(
        "cancer.presentation_table",
        PRESENTATION_HEADER + "dcis,0.8,0.1,0.05,0.0,x\n" + GOOD_INVASIVE,
        ["row 1 calc_only+calc_mass+mass+other = 0.95", "category probabilities must sum to 1"],
        id="presentation-sum",
    ),
    pytest.param(
        "calcifications.morphology_table",
        MORPHOLOGY_HEADER + "benign,0.6,0.3,0.2,0.1,a\ndcis,0.1,0.1,0.57,0.23,b\ninvasive,0.1,0.1,0.57,0.23,c\n",
        [
            "row 1 amorphous+coarse_heterogeneous+fine_pleomorphic+fine_linear_branching = 1.2",
            "category probabilities must sum to 1",
        ],
        id="morphology-sum",
    ),
    pytest.param(
        "cancer.presentation_table",
        PRESENTATION_HEADER + "dcis,1.2,0.0,0.0,0.0,x\n" + GOOD_INVASIVE,
        ["calc_only = ", "1.2", "a probability in [0, 1]"],
        id="category-above-1",
    ),
    pytest.param(
        "cancer.presentation_table",
        "cancer_type,calc_only,calc_mass,mass,source\ndcis,0.8,0.1,0.1,x\ninvasive,0.1,0.1,0.8,y\n",
        ["columns = ['cancer_type', 'calc_only', 'calc_mass', 'mass', 'source']", "missing other"],
        id="missing-column",
    ),
    pytest.param(
        "cancer.presentation_table",
        PRESENTATION_HEADER + "dcis,abc,0.1,0.05,0.0,x\n" + GOOD_INVASIVE,
        ["calc_only = 'abc'", "a finite number"],
        id="non-numeric-cell",
    ),
    pytest.param(
        "cancer.presentation_table",
        PRESENTATION_HEADER + "dcis,,0.1,0.05,0.0,x\n" + GOOD_INVASIVE,
        ["calc_only = ", "nan", "a finite number"],
        id="empty-cell",
    ),
    pytest.param(
        "cancer.presentation_table",
        PRESENTATION_HEADER + "dcis,0.9,0.2,-0.1,0.0,x\n" + GOOD_INVASIVE,
        ["mass = ", "-0.1", "a number >= 0"],
        id="negative-cell",
    ),
    pytest.param(
        "cancer.presentation_table",
        PRESENTATION_HEADER + "dcis,0.9,0.1,0.0,0.0,\n" + GOOD_INVASIVE,
        ["source = ''", "every row needs a source"],
        id="row-without-source",
    ),
    pytest.param(
        "cancer.presentation_table",
        PRESENTATION_HEADER + "dcis,0.9,0.1,0.0,0.0,x\n" + "dcis,0.9,0.1,0.0,0.0,x\n",
        ["cancer_type = ['dcis', 'dcis']", "exactly the rows dcis, invasive"],
        id="wrong-rows",
    ),
    pytest.param(
        "cancer.incidence_table",
        INCIDENCE_HEADER + "35,40,50,a\n40,40,60,a\n",
        ["row 2 age_upper = ", "40.0", "must be > age_lower (40)"],
        id="empty-age-band",
    ),
    pytest.param(
        "cancer.incidence_table",
        INCIDENCE_HEADER + "35,40,50,a\n40,30,60,a\n",
        ["row 2 age_upper = ", "30.0", "must be > age_lower (40)"],
        id="inverted-age-band",
    ),
    pytest.param(
        "cancer.incidence_table",
        INCIDENCE_HEADER + "35,40,50,a\n45,90,60,a\n",
        ["age_lower = [", "35.0", "45.0", "contiguous, increasing age bands"],
        id="gap-in-bands",
    ),
    pytest.param(
        "cancer.incidence_table",
        INCIDENCE_HEADER + "35,50,50,a\n45,90,60,a\n",
        ["age_lower = [", "contiguous, increasing age bands"],
        id="overlapping-bands",
    ),
    pytest.param(
        "cancer.incidence_table",
        INCIDENCE_HEADER + "35,40,50,a\n40,90,x,a\n",
        ["annual_incidence_per_100000 = 'x'", "a finite number"],
        id="incidence-non-numeric",
    ),
    pytest.param(
        "cancer.brca_incidence_table",
        "age_lower,age_upper,brca1_annual_hazard,brca2_annual_hazard,source\n20,90,1.5,0.02,x\n",
        ["annual_hazard", "an annual hazard below 1"],
        id="brca-hazard-above-1",
    ),
    pytest.param("cancer.incidence_table", "", ["not a readable CSV"], id="empty-file"),
]


@pytest.mark.parametrize(("key", "csv", "fragments"), TABLE_ERRORS)
def test_table_error_is_one_line_naming_file_column_value_rule(tmp_path, key, csv, fragments):
    (tmp_path / "bad.csv").write_text(csv, encoding="utf-8")
    section, name = key.split(".")
    path = user_file(tmp_path, f'[{section}]\n{name} = "bad.csv"\n')
    msg = load_error(path)
    assert msg.startswith(f"{tmp_path / 'bad.csv'}: ")
    assert_mentions(msg, *fragments)


@pytest.mark.parametrize("case", ["category-above-1", "negative-cell", "empty-cell", "empty-age-band", "gap-in-bands"])
def test_table_error_shows_plain_numbers(tmp_path, case):
    key, csv, _ = next(p.values for p in TABLE_ERRORS if p.id == case)
    (tmp_path / "bad.csv").write_text(csv, encoding="utf-8")
    section, name = key.split(".")
    msg = load_error(user_file(tmp_path, f'[{section}]\n{name} = "bad.csv"\n'))
    assert "np." not in msg  # not 'np.float64(40.0)'
    assert_mentions(
        msg,
        {
            "category-above-1": "calc_only = 1.2:",
            "negative-cell": "mass = -0.1:",
            "empty-cell": "calc_only = nan:",
            "empty-age-band": "age_upper = 40.0:",
            "gap-in-bands": "age_lower = [35.0, 45.0]:",
        }[case],
    )


# --------------------------------------------------------------------------- command line
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_cli_error(rc: int, out: str, err: str, *fragments: str) -> None:
    assert rc == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("calcsim: error: ")
    assert "Traceback" not in err
    assert_mentions(err, *fragments)


@pytest.mark.parametrize(
    ("body", "csv", "fragment"),
    [
        ("[programme]\nintervall_years = 3\n", None, "did you mean 'interval_years'"),
        ("[programme]\nattendance = 1.5\n", None, "a probability in [0, 1]"),
        ("[programme\n", None, "not valid TOML"),
        ("[programme]\nstop_age_years = 45\n", None, "must be >= programme.start_age_years"),
        (
            '[cancer]\npresentation_table = "bad.csv"\n',
            PRESENTATION_HEADER + "dcis,0.8,0.1,0.05,0.0,x\n" + GOOD_INVASIVE,
            "category probabilities must sum to 1",
        ),
        (
            '[programme]\nattendance = { value = 0.7, source = "nosuchref" }\n',
            None,
            "'nosuchref': not a key of data/references.toml",
        ),
    ],
)
def test_check_reports_one_line_and_exit_2(tmp_path, capsys, body, csv, fragment):
    if csv is not None:
        (tmp_path / "bad.csv").write_text(csv, encoding="utf-8")
    path = user_file(tmp_path, body)
    where = tmp_path / "bad.csv" if csv is not None else path  # table errors name the table
    assert_cli_error(*run_cli(capsys, "check", str(path)), f"calcsim: error: {where}: ", fragment)


def test_check_circular_extends(tmp_path, capsys):
    path = user_file(tmp_path, "", extends="user.toml")
    assert_cli_error(*run_cli(capsys, "check", str(path)), "circular")


def test_check_bad_set(capsys):
    assert_cli_error(
        *run_cli(capsys, "check", "nl-biennial", "--set", "programme.interval_years=0"),
        "--set: programme.interval_years = 0",
        "a number of years >= 0.5",
    )


def test_check_non_string_source_is_an_input_error(tmp_path, capsys):
    path = user_file(
        tmp_path,
        '[programme]\nattendance = { value = 0.5, source = 3 }\ninterval_years = { value = 2, source = "nope" }\n',
    )
    assert_cli_error(*run_cli(capsys, "check", str(path)))


@pytest.mark.parametrize("name", SHIPPED)
def test_check_shipped_ok(capsys, name):
    rc, out, err = run_cli(capsys, "check", name)
    assert rc == 0 and err == ""
    assert len(out.splitlines()) == 1
    assert_mentions(out, f"{name}.toml: ok", f"scenario {name} ({load_scenario(name).hash})")


def test_scenarios_lists_three(capsys):
    rc, out, err = run_cli(capsys, "scenarios")
    lines = out.splitlines()
    assert rc == 0 and err == ""
    assert [ln.split()[0] for ln in lines] == SHIPPED
    assert "every 2 y" in lines[1] and "every 1 y" in lines[2] and "every 3 y" in lines[0]


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["run", "--women", "0"], ["--women", "a whole number >= 1"]),
        (["run", "--by", "dens"], ["--by", "'dens'", "did you mean 'density'"]),
        (["run", "--screens"], ["--screens", "--out"]),
        (["run", "--women", "10", "--scenario", "nl-biennal"], ["did you mean 'nl-biennial'"]),
        (["run", "--women", "10", "--set", "programme.attendance=2"], ["--set", "programme.attendance = 2"]),
    ],
)
def test_run_rejects_bad_options(capsys, argv, fragments):
    assert_cli_error(*run_cli(capsys, *argv), *fragments)


def test_parameters_are_frozen():
    s = load_scenario("nl-biennial")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.programme.interval_years = 3  # type: ignore[misc]
