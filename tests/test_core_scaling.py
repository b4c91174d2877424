"""Training-split scaling (memspice.core.scaling): the range or moments of the training samples, test values clipped."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from memspice.core.scaling import ConstantFeature, MinMaxScaler, Standardiser, training_range
from memspice.systems.ddk.data import Scaler
from memspice.systems.snn.data import MinMax

_VALUES = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    arrays(float, st.tuples(st.integers(2, 6), st.integers(1, 4), st.integers(1, 3)), elements=_VALUES),
    arrays(float, st.tuples(st.integers(1, 4), st.just(1), st.just(1)), elements=_VALUES),
    st.sampled_from(list(ConstantFeature)),
)
def test_min_max_maps_the_training_range_to_0_1_and_clips_the_rest(x, offsets, constant):
    x[:, 0] = 3.0  # a feature constant on the training split
    low, high = training_range(x)
    assert np.array_equal(low, x.min(axis=(0, 2))) and np.array_equal(high, x.max(axis=(0, 2)))
    scale = MinMaxScaler(low, high, constant)
    train = scale(x)
    assert train.shape == x.shape and train.min() >= 0.0 and train.max() <= 1.0
    varied = high > low
    assert np.all(train[:, varied].min(axis=(0, 2)) == 0.0) and np.all(train[:, varied].max(axis=(0, 2)) == 1.0)
    test = scale(x[:1] + offsets)  # values outside the training range saturate
    assert test.min() >= 0.0 and test.max() <= 1.0
    expected_constant = 0.0 if constant is ConstantFeature.ZERO else np.clip(x[:1, 0] + offsets[:, 0] - 3.0, 0, 1)
    np.testing.assert_array_equal(test[:, 0], np.broadcast_to(expected_constant, test[:, 0].shape))


def test_the_systems_keep_their_constant_feature_rules_and_the_global_range():
    train = np.array([[-2.0, 5.0, 1.0], [2.0, 7.0, 1.0]])
    test = np.array([[0.0, 9.0, 1.5]])
    assert MinMax.fit(train)(test)[0, 2] == 0.0  # snn: a constant feature never drives an input
    assert Scaler.fit(train)(test)[0, 2] == 0.5  # ddk: x - low, clipped
    np.testing.assert_array_equal(MinMax.fit(train, "global").low, [-2.0] * 3)
    np.testing.assert_array_equal(MinMax.fit(train).span, [4.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="constantfeature must be one of"):
        MinMaxScaler(np.zeros(1), np.ones(1), "clip")(np.zeros((1, 1)))


def test_standardiser_centres_and_scales_on_the_training_split_only():
    train = np.array([[1.0, 4.0], [3.0, 4.0]])
    std = Standardiser.fit(train)
    np.testing.assert_array_equal(std(train), [[-1.0, 0.0], [1.0, 0.0]])  # the constant feature stays 0
    np.testing.assert_array_equal(std([[5.0, 6.0]]), [[3.0, 2.0]])
