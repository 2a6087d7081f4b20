"""Reference data the domain validates against: districts, industries, compliance areas."""

from __future__ import annotations

from enum import StrEnum

NATIONAL_CENTRE = "00"

DISTRICTS: dict[str, str] = {
    f"{index:02d}": name
    for index, name in enumerate(
        [
            "Beijing", "Tianjin", "Shijiazhuang", "Taiyuan", "Manzhouli", "Hohhot",
            "Shenyang", "Dalian", "Changchun", "Harbin", "Shanghai", "Nanjing",
            "Hangzhou", "Ningbo", "Hefei", "Fuzhou", "Xiamen", "Nanchang", "Qingdao",
            "Jinan", "Zhengzhou", "Wuhan", "Changsha", "Guangzhou", "Huangpu",
            "Shenzhen", "Gongbei", "Shantou", "Haikou", "Zhanjiang", "Jiangmen",
            "Nanning", "Chengdu", "Chongqing", "Guiyang", "Kunming", "Lhasa", "Xi'an",
            "Urumqi", "Lanzhou", "Xining", "Yinchuan",
        ],
        start=1,
    )
}
"""The 42 customs districts under the national centre (code -> name)."""

_NAMED_CHAPTERS = {
    "02": "Meat", "03": "Fish and seafood", "08": "Fruit and nuts", "10": "Cereals",
    "22": "Beverages", "27": "Mineral fuels", "29": "Organic chemicals",
    "30": "Pharmaceuticals", "39": "Plastics", "40": "Rubber", "42": "Leather goods",
    "44": "Wood", "48": "Paper", "52": "Cotton", "61": "Apparel, knitted",
    "62": "Apparel, woven", "64": "Footwear", "72": "Iron and steel",
    "73": "Articles of iron or steel (fasteners)", "76": "Aluminium",
    "84": "Machinery and bearings", "85": "Electrical and telecom equipment",
    "87": "Vehicles and parts", "90": "Optical and medical instruments",
    "94": "Furniture", "95": "Toys and sports goods",
}

INDUSTRIES: dict[str, str] = {
    f"{chapter:02d}": _NAMED_CHAPTERS.get(f"{chapter:02d}", f"HS chapter {chapter:02d}")
    for chapter in range(1, 98)
    if chapter != 77  # chapter 77 is reserved in the Harmonized System
}
"""Industry = HS chapter (code -> name)."""


class ComplianceArea(StrEnum):
    """Areas an assessment scopes and tests; also the discrepancy types of samples."""

    VALUE = "value"
    CLASSIFICATION = "classification"
    ORIGIN = "origin"
    QUANTITY = "quantity"
    SPECIAL_PROGRAMMES = "special_programmes"
    IPR = "ipr"
    ADCVD = "adcvd"
    ADMISSIBILITY = "admissibility"
    RECORD_KEEPING = "record_keeping"


class ControlRating(StrEnum):
    """Pre-assessment survey rating of an area's internal controls."""

    STRONG = "strong"
    ADEQUATE = "adequate"
    WEAK = "weak"
    NONE = "none"


def district_name(code: str) -> str:
    return "National centre" if code == NATIONAL_CENTRE else DISTRICTS[code]
