"""The Ray engine's bag values: plain data in, the same plain data out, and decoding never runs code.

These need neither Ray nor a cluster: `dump` and `load` are what every shuffle step of the engine calls on
each value it sends and receives.
"""

from __future__ import annotations

import contextlib
import pickle
import pickletools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate.engines.ray import bag
from tests.finetune.test_no_pickle import Payload  # the same live payload the checkpoint tests plant

scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) \
    | st.text(max_size=20) | st.binary(max_size=20)
plain = st.recursive(
    scalars,
    lambda inner: st.tuples(inner, inner) | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=5) | st.integers(-5, 5), inner, max_size=4),
    max_leaves=20,
)


@given(plain)
def test_plain_values_come_back_equal(value):
    assert bag.load(bag.dump(value)) == value


def test_lists_come_back_as_tuples_and_tuple_keys_stay_keys():
    got = bag.load(bag.dump({"n": [1, [2, 3]], 7: ("a", b"\x00")}))
    assert got == {"n": (1, (2, 3)), 7: ("a", b"\x00")}
    keyed = bag.load(bag.dump(((("nd", 3), 5), {"x": 1})))
    assert {keyed[0][0]: 1} == {("nd", 3): 1}   # hashable: usable as a step's dict key


def test_numpy_scalars_become_python_values():
    got = bag.load(bag.dump((np.int64(5), np.float32(0.5), np.bool_(True))))
    assert got == (5, 0.5, True)
    assert [type(x) for x in got] == [int, float, bool]


@pytest.mark.parametrize("value", [{1, 2}, object(), np.zeros(2)])
def test_anything_but_plain_data_is_refused_at_dump(value):
    with pytest.raises(TypeError, match="plain data"):
        bag.dump(("key", value))


def test_a_finding_travels_as_its_json_dump():
    from schemas.findings import Finding, Severity

    f = Finding(id="r1", reason="conflicting_labels", severity=Severity.error, labels={"a": 2, "b": 1},
                likely_error=True)
    with pytest.raises(TypeError, match="model_dump"):
        bag.dump(f)
    assert Finding.model_validate(bag.load(bag.dump(f.model_dump(mode="json")))) == f


def test_pickle_bytes_in_a_bag_column_are_never_executed(tmp_path):
    """Bytes that would create a file if unpickled, read as a bag value: refused or read as data."""
    marker = tmp_path / "PWNED"
    raw = pickle.dumps(Payload(marker))
    # the payload is live, shown without running it: unpickling would call io.open(marker, "w")
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(raw)]
    names, args = [n for n, _ in ops], [a for _, a in ops]
    assert {"STACK_GLOBAL", "REDUCE"} <= set(names) and {"io", "open"} <= set(args)
    assert str(marker) in args
    with contextlib.suppress(Exception):   # msgpack may refuse it as malformed: that is fine too
        bag.load(raw)
    assert not marker.exists()
