"""A compact index of place names for searching offline inside a map page.

The self-contained locator page (:func:`locator.embed.embed_page` with ``search=True``)
finds a city or district typed in Chinese (``杭州西湖区``, ``西湖区``), pinyin
(``hangzhou``, ``xihu``) or English (``Xi'an``, ``Xian``) without any network request.
It does so with this index, baked into the page as JSON. It is made from the offline
geocoder's gazetteer (:func:`locator.geocoders._gazetteer.gazetteer`), so the page and
``locator geocode`` agree on what a name means:

* the **current** divisions only (provinces, prefectures, districts/counties; no former
  names, no GeoNames towns), each with its centre (WGS-84, 4 decimals: ~10 m) and its
  parent (a district's prefecture, a prefecture's province);
* the gazetteer's names of each, in its two tiers: *strong* (a full name ``西湖区``, a
  prefecture's bare name ``杭州``, ``hangzhou``, ``xihuqu``, English names) and *weak*
  (a district's bare name ``西湖`` / ``xihu``). A name whose strong meaning is one
  division picks it; several (``朝阳区`` x2, ``鼓楼区`` x4) are all offered to choose.

The page folds Latin text as :func:`locator.geocoders._pinyin.latin_key` does (accents
and apostrophes dropped, lower case, letters and digits), and reads a compound name
(``杭州西湖区``, ``hangzhou xihu``) as a parent's name followed by one of its
divisions' names. The JSON is 288 KB, 109 KB gzipped, for 3,214 divisions (see
:func:`index_size`; ``tests/test_embed_search.py`` keeps it under 350 KB; README.md
states it). Most of it is the GeoNames Latin alternates of prefecture seats
(``peking``, ``sian``), kept as weak names.

Format (``{"v": 1, "e": [...], "lv": [...]}``): ``e`` is a list of entries
``[name, level, lat_e4, lon_e4, parent, strong, weak]`` where ``level`` indexes ``lv``
(``province``, ``city``, ``district``), coordinates are integers of 1e-4 degree,
``parent`` is an entry index or -1, and ``strong``/``weak`` are the entry's names other
than ``name`` itself (always strong), joined by ``|``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

__all__ = ["LEVELS", "index_size", "name_index"]

#: The levels of the entries, as the ``level`` field indexes them.
LEVELS = ("province", "city", "district")


@functools.cache
def name_index() -> dict[str, Any]:
    """The compact name index (see the module docstring), built once per process."""
    from .geocoders._gazetteer import STRONG, gazetteer

    g = gazetteer()
    current = [e for e in g.entries if e.level in LEVELS and e.renamed_from is None]
    pos = {e.id: i for i, e in enumerate(current)}
    strong: dict[int, list[str]] = {e.id: [] for e in current}
    weak: dict[int, list[str]] = {e.id: [] for e in current}
    for table in (g.cjk, g.latin):
        for key, bucket in sorted(table.items()):
            for eid, tier in bucket.items():
                if eid not in pos or key == g.entries[eid].name:
                    continue
                (strong if tier == STRONG else weak)[eid].append(key)
    rows: list[list[Any]] = []
    for e in current:
        rows.append(
            [
                e.name,
                LEVELS.index(e.level),
                round(e.lat * 1e4),
                round(e.lon * 1e4),
                _parent(e, g.entries, pos),
                "|".join(strong[e.id]),
                "|".join(weak[e.id]),
            ]
        )
    return {"v": 1, "lv": list(LEVELS), "e": rows}


def _parent(e: Any, entries: list[Any], pos: dict[int, int]) -> int:
    """The index of the entry directly containing ``e`` (the nearest ancestor), or -1."""
    best = -1
    best_rank = -1
    for aid in e.anc:
        if aid == e.id or aid not in pos:
            continue
        rank = entries[aid].rank
        if best_rank < rank < e.rank:
            best, best_rank = pos[aid], rank
    return best


def index_size() -> int:
    """Bytes of the index as the page embeds it (compact UTF-8 JSON)."""
    text = json.dumps(name_index(), ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8"))
