"""Shared test data and a brute-force distance for the locator.coverage tests."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from pyproj import Geod

from locator.data import load_cities, load_outlets, load_places

GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------- data


def synthetic() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A small synthetic network: 6 listed cities in 3 provinces, ~300 places, 30 outlets.

    City F has only an unauthorized listing; city E has outlets but no places; province
    P3 has places but no outlet at all.
    """
    rng = np.random.default_rng(7)
    centres = {  # city: (province, adcode, lat, lon)
        "甲": ("P1", "100100", 30.0, 110.0),
        "乙": ("P1", "100200", 30.6, 111.2),
        "丙": ("P2", "200100", 35.0, 115.0),
        "丁": ("P2", "200200", 34.2, 116.5),
        "戊": ("P2", "200300", 36.0, 117.0),
        "己": ("P3", "300100", 25.0, 103.0),
    }
    cities = pd.DataFrame(
        [
            {"city": c, "name_en": f"City{i}", "province": p, "adcode": a, "lat": la, "lon": lo,
             "population": 1_000_000 * (i + 1)}
            for i, (c, (p, a, la, lo)) in enumerate(centres.items())
        ]
    )  # fmt: skip
    places = []
    pid = 0
    for c, (p, a, la, lo) in centres.items():
        if c == "戊":
            continue  # a listed city with no demand places
        for _ in range(55):
            pid += 1
            places.append(
                {
                    "place_id": str(1000 + pid),
                    "name": f"Place{pid}",
                    "name_zh": f"地{pid}",
                    "province": p,
                    "city": c + "市",
                    "city_adcode": a,
                    "lat": la + rng.normal(0, 0.8),
                    "lon": lo + rng.normal(0, 0.8),
                    "population": int(rng.integers(1_000, 2_000_000)),
                }
            )
    # places outside every listed city, and an exact tie in population
    for j in range(25):
        pid += 1
        places.append(
            {"place_id": str(1000 + pid), "name": f"Rural{j}", "name_zh": "", "province": "P1",
             "city": "外市", "city_adcode": "109900", "lat": 28 + rng.uniform(0, 4),
             "lon": 106 + rng.uniform(0, 4), "population": 5_000}
        )  # fmt: skip
    places = pd.DataFrame(places)
    outlets = []
    oid = 0
    for c, n in (("甲", 6), ("乙", 4), ("丙", 7), ("丁", 5), ("戊", 3)):
        p, a, la, lo = centres[c]
        for _ in range(n):
            oid += 1
            outlets.append(
                {"outlet_id": f"{oid:04d}", "name": f"O{oid}", "city": c, "province": p,
                 "lat": la + rng.normal(0, 0.3), "lon": lo + rng.normal(0, 0.3),
                 "authorized": bool(rng.random() > 0.15)}
            )  # fmt: skip
    outlets.append(  # a fake listing in 己: not authorized
        {"outlet_id": "9999", "name": "Fake", "city": "己", "province": "P3", "lat": 25.0,
         "lon": 103.0, "authorized": False}
    )  # fmt: skip
    outlets = pd.DataFrame(outlets)
    # every listed city except 己 keeps at least one authorized outlet
    for c in ("甲", "乙", "丙", "丁", "戊"):
        first = outlets.index[outlets["city"] == c][0]
        outlets.loc[first, "authorized"] = True
    return outlets, places, cities


@functools.cache
def bundled() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return load_outlets(), load_places(), load_cities()


def pair_km(olat, olon, plat, plon) -> np.ndarray:
    """(n_places, n_outlets) geodesic km, every pair, straight from pyproj."""
    n, m = len(plat), len(olat)
    if m == 0:
        return np.zeros((n, 0))
    p_lat = np.repeat(np.asarray(plat, float), m)
    p_lon = np.repeat(np.asarray(plon, float), m)
    o_lat = np.tile(np.asarray(olat, float), n)
    o_lon = np.tile(np.asarray(olon, float), n)
    _, _, d = GEOD.inv(p_lon, p_lat, o_lon, o_lat)
    return np.asarray(d).reshape(n, m) / 1000.0
