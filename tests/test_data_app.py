"""The app's upload reads files with the same loader: malformed input is listed, not a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class TestUploadReading:
    def test_malformed_geojson_upload_is_listed_per_feature(self) -> None:
        """A GeoJSON upload with a non-object feature and a null geometry is refused with
        each feature's problem listed; the sample network stays in use."""
        at = AppTest.from_file(APP, default_timeout=180)
        at.run()
        doc = {"type": "FeatureCollection", "features": [
            1, {"type": "Feature", "properties": {"outlet_id": "1", "name": "A"}, "geometry": None},
        ]}  # fmt: skip
        upload = ("bad.geojson", json.dumps(doc).encode(), "application/geo+json")
        at.get("file_uploader")[0].set_value(upload).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("2 problem" in e.value for e in at.error)
        problems = next(d.value for d in at.dataframe if "reason" in d.value.columns)
        reasons = " ".join(problems["reason"])
        assert "features[0] is a number" in reasons and "features[1] has no geometry" in reasons
        assert any("Sample data" in w.value for w in at.sidebar.warning)
