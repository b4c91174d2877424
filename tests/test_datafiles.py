"""Own data files (issue 14): one orientation, clear errors, the stated weight mapping."""

import numpy as np
import pytest

from memspice.circuits.datafiles import WeightMapping, load_inputs, load_matrix, map_weights, outputs_csv
from memspice.circuits.weights import G_MAX, G_MIN


def test_csv_with_header_semicolons_spaces_and_npy_read_the_same(tmp_path):
    a = np.array([[1.0, -2.5, 3e-6], [4.0, 5.0, 6.0]])
    (tmp_path / "h.csv").write_text("a,b,c\n" + "\n".join(",".join(repr(float(x)) for x in r) for r in a) + "\n")
    (tmp_path / "s.csv").write_text("\n".join(";".join(repr(float(x)) for x in r) for r in a))
    (tmp_path / "w.txt").write_text("# comment\n" + "\n".join("  ".join(repr(float(x)) for x in r) for r in a))
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "a.npz", weights=a)
    for name in ("h.csv", "s.csv", "w.txt", "a.npy", "a.npz"):
        assert np.array_equal(load_matrix(tmp_path / name), a), name


@pytest.mark.parametrize(
    "content, message",
    [
        ("1,2\n3\n", "different lengths"),
        ("1,2\n3,x\n", "'x' is not a number"),
        ("1,nan\n", "non-finite"),
        ("", "empty"),
    ],
)
def test_bad_tables_are_named(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_matrix(path, "--weights")
    assert str(info.value).startswith("--weights")


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="--inputs: no such file"):
        load_matrix(tmp_path / "nope.csv", "--inputs")
    (tmp_path / "x.xlsx").write_text("1")
    with pytest.raises(ValueError, match="suffix '.xlsx'"):
        load_matrix(tmp_path / "x.xlsx")


def test_inputs_are_vectors_by_word_lines_and_a_transposed_file_is_explained(tmp_path):
    v = np.arange(12.0).reshape(3, 4) / 100  # 3 vectors, 4 word lines
    np.save(tmp_path / "v.npy", v)
    assert load_inputs(tmp_path / "v.npy", 4).shape == (3, 4)
    np.save(tmp_path / "one.npy", v[0])
    assert load_inputs(tmp_path / "one.npy", 4).shape == (1, 4)
    np.save(tmp_path / "t.npy", v.T)
    with pytest.raises(ValueError, match="looks transposed"):
        load_inputs(tmp_path / "t.npy", 4)


def test_unsigned_weights_map_linearly_onto_the_conductance_range():
    w = np.array([[0.0, 1.0], [0.5, 2.0]])
    g, mapping = map_weights(w)
    assert np.allclose(g, G_MIN + w / 2.0 * (G_MAX - G_MIN)) and not mapping.signed
    assert mapping.scale == pytest.approx((G_MAX - G_MIN) / 2.0)
    assert "G = 6.1e-06 S + w/max(w)" in mapping.describe()


def test_signed_weights_become_column_pairs_whose_difference_is_the_product():
    w = np.array([[1.0, -2.0, 0.5], [-0.5, 1.0, 2.0]])
    g, mapping = map_weights(w, g_min=1e-6, g_max=1e-4)
    assert g.shape == (2, 6) and mapping.signed and mapping.weight_columns == 3
    v = np.array([[0.1, 0.2], [0.3, -0.1]])  # (vectors, word lines)
    currents = v @ g  # ideal array
    assert np.allclose(mapping.outputs(currents), mapping.scale * (v @ w))
    assert mapping.scale == pytest.approx(99e-6 / 2.0)
    assert "column pairs" in mapping.describe() and "I+ - I- = s W^T v" in mapping.describe()


def test_state_cells_get_states_in_unit_range():
    x, mapping = map_weights(np.array([[2.0, -1.0]]), data="state")
    assert np.allclose(x, [[1.0, 0.0, 0.0, 0.5]]) and mapping.data == "state" and mapping.signed
    with pytest.raises(ValueError, match="data must be"):
        map_weights(np.ones((2, 2)), data="volts")


def test_outputs_csv_keeps_codes_integer_and_floats_exact():
    currents = np.array([[1.0e-5 / 3, 2.0e-5], [3.0e-5, 4.0e-5]])
    codes = np.array([[1, -2], [3, 4]])
    text = outputs_csv([(currents, ["i0", "i1"], "A"), (codes, ["code0", "code1"], "")])
    lines = text.splitlines()
    assert lines[0] == "vector,i0 [A],i1 [A],code0,code1"
    assert lines[1].split(",")[3:] == ["1", "-2"] and float(lines[1].split(",")[1]) == currents[0, 0]
    assert isinstance(WeightMapping(False, 1e-6, 1e-4, 1.0, 2).outputs(currents), np.ndarray)


@pytest.mark.parametrize(
    "content, message",
    [
        # issue 20: a typo in the first row of a file without a header was read as a header, dropping a vector
        ("O.1,0.2\n0.3,0.4\n", r"line 1, field 1: 'O\.1' is not a number \(the row holds a mix"),
        ("0.1,0.2\n0.3,O.4\n", r"line 2, field 2: 'O\.4'"),
        ("# note\n\na,b\n0.1,0.2\nc,d\n", r"line 5, field 1: 'c' is not a number \(the row holds text\)"),
        ("a,b,c\n0.1,0.2\n", "line 1 has no numbers, so it would be a header, but it has 3 fields"),
        ("1_000,2\n", "'1_000' is not a number"),  # float() reads it as 1000
        ("a,b\n", "header but no numbers"),
    ],
)
def test_header_rule_is_unambiguous(tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_matrix(path, "--inputs")
    assert str(path) in str(info.value)


def test_a_header_is_a_row_without_numbers_and_keeps_every_vector(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("v0, v1\n0.1,-0.2\n.3,4e-3\n")
    assert np.array_equal(load_matrix(path), [[0.1, -0.2], [0.3, 4e-3]])
    path.write_text("0.1,-0.2\n+.3,-4E-3\n")  # no header: both rows are vectors
    assert np.array_equal(load_matrix(path), [[0.1, -0.2], [0.3, -4e-3]])
