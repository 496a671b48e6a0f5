"""The bilingual display labels of outlet kinds and product categories: one set, used everywhere.

The map popups and legend (:mod:`locator.maps`) and the Streamlit app show these; the
API and the data files use the canonical keys (``service_center``, ``washer``, ...),
and :mod:`locator.data` accepts the common spellings (服务中心, 维修中心, 特约维修点,
冰箱, fridge, ...) as input. This module imports nothing, so any layer can use it.

Why these words: each label says the same thing in English and Chinese, and a kind
label never claims authorization. Whether an outlet is authorized is a separate fact
(the ``authorized`` flag), shown apart ("Not authorized 非授权", a grey dashed pin);
"Authorized repair point 特约维修点" on an unauthorized listing would contradict that
warning, and fake listings call themselves exactly that. 服务中心 is also how the
network's own centers are named (``…服务中心`` in the sample data) and what customers
type.
"""

from __future__ import annotations

__all__ = ["CATEGORY_LABELS", "KIND_LABELS", "NOT_AUTHORIZED"]

#: Outlet kind -> label.
KIND_LABELS: dict[str, str] = {
    "service_center": "Service center 服务中心",
    "repair_point": "Repair point 维修点",
}

#: Product category -> label.
CATEGORY_LABELS: dict[str, str] = {
    "refrigerator": "Refrigerator 冰箱",
    "washer": "Washer 洗衣机",
    "air_conditioner": "Air conditioner 空调",
    "water_heater": "Water heater 热水器",
    "tv": "TV 电视",
}

#: The warning shown on an outlet that is not authorized.
NOT_AUTHORIZED = "Not authorized 非授权"
