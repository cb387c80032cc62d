"""Sweep configs: expansion, validation before any run, and teacher-grouped work units."""

import pytest

from attnphase.config import config_resource
from attnphase.errors import InputError
from attnphase.sweep import load_spec
from attnphase.sweep.groups import plan_units, teacher_key

TINY = {
    "name": "tiny",
    "base": {"d": 50, "sigma": 0.5, "lam": 0.01, "test_samples": 2000},
    "grid": {"alpha": [0.5, 1.0], "omega": [0.3], "init": ["semantic", "positional"],
             "seed": [0, 1, 2]},
}


def test_issue_example_file_expands_to_every_combination():
    spec = load_spec(config_resource("examples", "tiny.yaml"))
    assert spec.name == "tiny" and len(spec.configs) == 12
    assert {(c.alpha, c.init, c.seed) for c in spec.configs} == {
        (a, i, s) for a in (0.5, 1.0) for i in ("semantic", "positional") for s in (0, 1, 2)}
    assert all(c.d == 50 and c.test_samples == 2000 and c.omega == 0.3 for c in spec.configs)
    assert load_spec(TINY).configs == spec.configs


def test_any_field_in_base_or_grid_and_ranges():
    spec = load_spec({"name": "x", "base": {"d": 20, "solver": "gd", "steps": 10},
                      "grid": {"alpha": "0.5:1.5:3", "A": ["paper", [[0.3, 0.7], [0.8, 0.2]]],
                               "rank": [1, 2], "lam": [0.01]}})
    assert len(spec.configs) == 12
    assert sorted({c.alpha for c in spec.configs}) == [0.5, 1.0, 1.5]
    assert {c.rank for c in spec.configs} == {1, 2}


@pytest.mark.parametrize(("raw", "message"), [
    ({**TINY, "grid": {"alpha": [0.5], "colour": [1]}}, "unknown field 'colour'"),
    ({**TINY, "base": {"dd": 3}}, "unknown field 'dd'"),
    ({**TINY, "extra": 1}, "unknown key 'extra'"),
    ({**TINY, "name": ""}, "'name' must be a non-empty string"),
    ({**TINY, "grid": {"omega": [0.3, 1.5]}}, "omega = 1.5: must be in [0.0, 1.0]"),
    ({**TINY, "grid": {"alpha": 0.5}}, "expected a non-empty list"),
    ({**TINY, "grid": {"alpha": []}}, "expected a non-empty list"),
    ({**TINY, "grid": {"alpha": "1:2"}}, "expected '[log:]start:stop:count'"),
    ({**TINY, "grid": {"d": [50]}}, "'d' is both in base and in grid"),
    ({**TINY, "grid": {"init": ["semantic", "informed"]}}, "init = 'informed'"),
    ({**TINY, "base": {"n": 30}, "grid": {"alpha": [0.5, 1.0]}}, "are the same run"),
    ([1, 2], "expected a mapping"),
])
def test_bad_configs_are_refused(raw, message):
    with pytest.raises(InputError, match=None) as err:
        load_spec(raw)
    assert message in str(err.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_spec(tmp_path / "none.yaml")


def test_units_share_a_teacher_and_keep_equal_data_together():
    spec = load_spec({"name": "u", "base": {"d": 20},
                      "grid": {"alpha": [0.5, 1.0, 1.5], "init": ["semantic", "positional"],
                               "seed": [0, 1], "omega": [0.1, 0.3]}})
    units = plan_units(spec.configs)
    assert len(units) == 4 and sum(map(len, units)) == 24
    for unit in units:
        assert len({teacher_key(c) for c in unit}) == 1
    split = plan_units(spec.configs, max_group=3)
    assert len(split) == 12
    for unit in split:  # cut between data sets: the two inits of an alpha stay together
        assert len({teacher_key(c) for c in unit}) == 1
        assert all(sum(c.alpha == a for c in unit) in (0, 2) for a in (0.5, 1.0, 1.5))
    pooled = plan_units(spec.configs, parallel=2)
    assert len(pooled) >= 4 and all(len(u) <= 6 for u in pooled)


def test_gpu_units_hold_many_teachers_of_one_shape_and_whole_data_sets():
    spec = load_spec({"name": "g", "base": {"d": 20, "device": "cuda"},
                      "grid": {"alpha": [0.5, 1.0], "init": ["semantic", "positional"],
                               "seed": [0, 1, 2], "omega": [0.1, 0.3]}})
    units = plan_units(spec.configs)  # 6 data sets of each shape, 12 runs: one unit each
    assert len(units) == 2 and sorted(map(len, units)) == [12, 12]
    for unit in units:
        assert len({c.n_samples for c in unit}) == 1 and len({teacher_key(c) for c in unit}) == 6
    for unit in plan_units(spec.configs, max_group=5):  # cut between data sets only
        assert len(unit) <= 4 and all(sum(c.seed == s and c.omega == o for c in unit) in (0, 2)
                                      for s in (0, 1, 2) for o in (0.1, 0.3))
