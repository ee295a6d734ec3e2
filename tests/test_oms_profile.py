"""The OMS part of a target profile: defaults, and one clear line for a wrong value."""

from __future__ import annotations

import pytest
import yaml

from ssi.errors import UsageError
from ssi.profile import PROFILES_DIR, load_profile


def write_profile(tmp_path, oms: dict):
    data = yaml.safe_load((PROFILES_DIR / "reference.yaml").read_text())
    data["oms"] = {**data["oms"], **oms}
    data["role_matrix"] = str(PROFILES_DIR / "role_matrix.yaml")
    path = tmp_path / "dcc.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_the_reference_profile_states_every_oms_value():
    oms = load_profile("reference").oms
    assert oms.regions == ["North", "Central", "South"]
    assert oms.lock_months < oms.horizon_months and oms.tolerance_percent == 10
    assert oms.status("returns", "triage") == "Triage"
    assert oms.item("4G CH dual band").code == "CH4G-DB"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"lock_months": 24}, "lock_months must be smaller than horizon_months"),
        ({"regions": ["North", "North"]}, "regions must be a non-empty list without duplicates"),
        (
            {"statuses": {"order": {"draft": "Draft"}}},
            "order status names must name draft, submitted, confirmed",
        ),
        ({"tolerance_percent": -1}, "oms.tolerance_percent"),
    ],
)
def test_a_wrong_oms_value_is_one_clear_line(tmp_path, change, expected):
    with pytest.raises(UsageError) as err:
        load_profile(write_profile(tmp_path, change))
    line = err.value.line()
    assert expected in line and "\n" not in line


def test_an_unknown_catalogue_item_names_the_known_ones():
    with pytest.raises(UsageError, match='"4G CH single band", "4G CH dual band"'):
        load_profile("reference").oms.item("5G hub")


def _without_oms_page_labels(tmp_path, **restated):
    from ssi.profile import OMS_LABEL_DEFAULTS

    data = yaml.safe_load((PROFILES_DIR / "reference.yaml").read_text())
    data["labels"]["oms"] = {k: v for k, v in data["labels"]["oms"].items() if k not in OMS_LABEL_DEFAULTS}
    data["labels"]["oms"].update(restated)
    data["role_matrix"] = str(PROFILES_DIR / "role_matrix.yaml")
    path = tmp_path / "dcc.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_profile(str(path))


def test_the_oms_page_labels_default_to_the_reference_ssis_wording(tmp_path):
    profile = _without_oms_page_labels(tmp_path)
    assert profile.label("oms.menu_region") == "OMS menu"
    assert profile.label("oms.forecast_table").format(region="North") == "Forecast for North"
    assert profile.label("oms.menu") == "Order Management"  # the labels the profile states are kept
    assert profile.labels["oms"] == load_profile("reference").labels["oms"]  # which restates the defaults


def test_a_profile_may_word_an_oms_page_label_its_own_way(tmp_path):
    profile = _without_oms_page_labels(tmp_path, orders_table="Your orders")
    assert profile.label("oms.orders_table") == "Your orders"
    assert profile.label("oms.returns_table") == "Returns"
