"""The bilingual display labels of outlet kinds and product categories (map popups)."""

from __future__ import annotations

__all__ = ["CATEGORY_LABELS", "KIND_LABELS", "NOT_AUTHORIZED"]

KIND_LABELS: dict[str, str] = {
    "service_center": "Service center 维修中心",
    "repair_point": "Authorized repair point 特约维修点",
}
CATEGORY_LABELS: dict[str, str] = {
    "refrigerator": "refrigerator 冰箱",
    "washer": "washer 洗衣机",
    "air_conditioner": "air conditioner 空调",
    "water_heater": "water heater 热水器",
    "tv": "TV 电视",
}
NOT_AUTHORIZED = "Not authorized 非授权"
