"""The fixed layout: calibration slots placed by camera and key name."""

from __future__ import annotations

import numpy as np

from xperience_suite.features.static import calibration_values
from xperience_suite.sample.rig import build_views
from xperience_suite.sample.rig import calibration_values as rig_calibration
from xperience_suite.store.layout import CALIBRATION_DIM, CALIBRATION_SLOTS, fit_calibration


def _public_rig() -> dict:
    return rig_calibration(build_views(), 96, 72)


def test_public_rig_fills_every_slot_in_contract_order():
    cal = _public_rig()
    fit = fit_calibration(cal)
    assert CALIBRATION_DIM == 117 == len(fit.values)
    assert not fit.missing and not fit.not_fitting
    np.testing.assert_allclose(fit.values, calibration_values(cal), rtol=1e-6)


def test_missing_slot_is_zero_and_others_stay_in_place():
    cal = _public_rig()
    full = fit_calibration(cal).values
    del cal["cam2"]
    fit = fit_calibration(cal)
    assert fit.missing == ["cam2/K", "cam2/T_c_b"]
    start = sum(s.size for s in CALIBRATION_SLOTS[:6])
    assert not fit.values[start:start + 25].any()
    np.testing.assert_array_equal(np.delete(fit.values, np.arange(start, start + 25)),
                                  np.delete(full, np.arange(start, start + 25)))
    assert not fit.not_fitting


def test_extra_values_and_wrong_sizes_do_not_fit():
    cal = _public_rig()
    cal["cam4"] = {"K": np.eye(3), "model": "fisheye"}
    cal["cam1"]["K"] = np.zeros(12)
    cal["cam0"]["extra"] = {"a": 1.0, "b": "text"}
    fit = fit_calibration(cal)
    assert sorted(m.split(":")[0] for m in fit.not_fitting) == ["cam0/extra", "cam1/K", "cam4/K"]
    assert "cam1/K" not in fit.filled
