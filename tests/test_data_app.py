"""The app's upload reads files with the same loader: malformed input is listed, not a crash."""

from __future__ import annotations

import json

import pytest
from apptest import start

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class TestUploadReading:
    def test_malformed_geojson_upload_is_listed_per_feature(self) -> None:
        """A GeoJSON upload with a non-object feature and a null geometry is refused with
        each feature's problem listed; the sample network stays in use."""
        at = start("en", view="data")
        doc = {"type": "FeatureCollection", "features": [
            1, {"type": "Feature", "properties": {"outlet_id": "1", "name": "A"}, "geometry": None},
        ]}  # fmt: skip
        upload = ("bad.geojson", json.dumps(doc).encode(), "application/geo+json")
        at.get("file_uploader")[0].set_value(upload).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("2 problem" in e.value for e in at.error)
        problems = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
        reasons = " ".join(problems["Reason"])
        assert "features[0] is a number" in reasons and "features[1] has no geometry" in reasons
        assert any("Sample data" in w.value for w in at.sidebar.warning)
