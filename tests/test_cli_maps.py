"""``locator map``: the file it writes by default, and the --cdn opt-out."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from locator.cli import app
from locator.embed import EXTERNAL_ASSET_RE, asset_text

runner = CliRunner()


class TestMapDefaults:
    def test_default_map_needs_no_cdn(self, tmp_path: Path) -> None:
        """Without any flag the map inlines Leaflet: no <script src> or stylesheet link
        points to a CDN, so it draws offline and where CDNs are unreachable."""
        out = tmp_path / "map.html"
        result = runner.invoke(app, ["map", "-o", str(out), "--tiles", "none"])
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        assert not EXTERNAL_ASSET_RE.search(page)
        assert "/* leaflet (inlined) */" in page
        assert json.loads(result.stdout)["self_contained"] is True

    def test_cdn_flag_writes_the_small_file(self, tmp_path: Path) -> None:
        """--cdn keeps the CDN links (smaller by the inlined libraries) for those who want it."""
        small, full = tmp_path / "small.html", tmp_path / "full.html"
        assert runner.invoke(app, ["map", "-o", str(small), "--cdn"]).exit_code == 0
        assert runner.invoke(app, ["map", "-o", str(full)]).exit_code == 0
        page = small.read_text(encoding="utf-8")
        assert EXTERNAL_ASSET_RE.search(page)
        inlined = len(asset_text("leaflet").encode()) + len(asset_text("jquery").encode())
        assert full.stat().st_size - small.stat().st_size >= inlined
