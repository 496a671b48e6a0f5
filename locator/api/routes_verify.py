"""``GET /v1/verify``: is a listing (phone, name, address) an authorized outlet?

The answer is :func:`locator.verify.verify`'s, as JSON; this module reads the query
parameters, lends the service's geocoder and index, and maps errors to statuses (a
:class:`~locator.verify.VerifyError` is a 422 naming the parameter).
"""

from __future__ import annotations

import threading
import weakref
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Query as _Query
from fastapi.responses import Response

from ..errors import GeocodeError, GeocoderServiceError
from ..verify import MAX_INPUT_LENGTH, ListingIndex, VerifyError, verify
from .params import Q_PATTERN, Lat, Lon, _422
from .routes import _json, _service, reject_unknown_params
from .service import ApiError, LocatorService, log

router = APIRouter(dependencies=[Depends(reject_unknown_params)])


def _text(description: str, example: str) -> Any:
    return _Query(
        max_length=MAX_INPUT_LENGTH,
        pattern=Q_PATTERN,
        description=f"{description} (1-{MAX_INPUT_LENGTH} characters, not blank).",
        examples=[example],
    )


Phone = Annotated[
    str | None,
    _text(
        "The phone number as found, in any spelling: +86/0086, spaces, dashes, brackets, "
        "with or without the trunk 0 of an area code, 400/800 numbers, mobiles; an "
        "extension (转123, ext. 5) is ignored",
        "400-555-0123",
    ),
]
Name = Annotated[
    str | None,
    _text(
        "The shop name as listed; matched within `city` (or the city of `q`), exactly "
        "anywhere without one. Traditional characters and 有限公司-style suffixes fold",
        "ACME家电桂林秀峰区服务中心",
    ),
]
VerifyQ = Annotated[
    str | None,
    _text(
        "An address or shop name as listed; matched against outlet addresses and names, "
        "and geocoded offline as the place when `city` and `lat`/`lon` are not given",
        "桂林市秀峰区建设路245号",
    ),
]
VerifyCity = Annotated[
    str | None,
    _text("The city the listing claims: Chinese (桂林, 桂林市), pinyin or English", "桂林"),
]

_EXAMPLE = {
    "authorized": False,
    "verdict": "not_listed",
    "message": "4005550123 is not an authorized outlet of this network",
    "query": {
        "phone": "4005550123",
        "phone_normalized": {
            "text": "4005550123",
            "key": "4005550123",
            "kind": "shared_cost",
            "extension": None,
        },
        "name": None,
        "q": None,
        "city": "桂林",
        "lat": None,
        "lon": None,
    },
    "matches": [],
    "origin": {"lat": 25.237256, "lon": 110.17532, "source": "city", "label": "桂林市"},
    "nearest": [
        {
            "outlet_id": "00344",
            "name": "ACME家电桂林秀峰区服务中心",
            "kind": "service_center",
            "city": "桂林",
            "address": "广西壮族自治区桂林市秀峰区建设路245号",
            "phone": "000-555-0344",
            "hours": "周一至周日 09:00-18:00",
            "lat": 25.273589,
            "lon": 110.262482,
            "distance_km": 9.7,
            "drive_minutes": 25.6,
        }
    ],
    "findings": [],
    "notes": [],
    "note": "Sample data: ...",
}


_LISTINGS: weakref.WeakKeyDictionary[LocatorService, ListingIndex] = weakref.WeakKeyDictionary()
_LISTINGS_LOCK = threading.Lock()


def _listings(svc: LocatorService) -> ListingIndex:
    """The service's :class:`ListingIndex`, built on first use. A service holds one
    network for its life (a change to the store makes a new service), so the index
    lives as long as its service."""
    with _LISTINGS_LOCK:
        found = _LISTINGS.get(svc)
    if found is None:
        found = ListingIndex(svc.outlets, svc.closed)
        with _LISTINGS_LOCK:
            found = _LISTINGS.setdefault(svc, found)
    return found


class _ServiceGeocoder:
    """The service's geocoder, its failures as 503s (a geocoder bug is not a 500)."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def geocode(self, query: str) -> Any:
        geocoder = _service(self._request).geocoder()  # 503 if it cannot be built
        try:
            return geocoder.geocode(query)
        except (GeocodeError, ApiError):
            raise
        except Exception as err:  # any geocoder failure is a 503, logged
            log.exception("geocoder failed for a verify query")
            raise ApiError(503, "geocoding failed", reason=type(err).__name__) from None


@router.get(
    "/v1/verify",
    summary="Is this listing an authorized outlet?",
    description="Check a phone number, shop name (`name`) or address (`q`) found on a "
    "search page, a flyer or a map app against the network. Give at least one of "
    "`phone`, `name`, `q` (else 422 naming `phone`). `authorized` is true only when it "
    "matches an open, authorized outlet and nothing given contradicts it (the right "
    "name with another phone is not authorized). `verdict`: `authorized`, "
    "`listed_not_authorized`, `closed`, `mismatch` or `not_listed`; `matches` say "
    "which listings matched and by what (`phone`, `name`, `address`). When not "
    "authorized, `nearest` lists the nearest authorized outlets to `city` (its "
    "centre), `lat`/`lon` (WGS-84) or `q`; `findings` hold what the audit says about "
    "that phone (a hotline shared across cities, a listing far from its city) and, "
    "when the API serves the network store, the flags `locator audit --record` left "
    "on it (`recorded: true`, or `source: flag`).",
    responses={
        200: {"content": {"application/json": {"example": _EXAMPLE}}},
        422: _422,
        503: {"description": "The geocoder (needed for `city` or `q`) is unavailable."},
    },
)
def verify_listing(
    request: Request,
    phone: Phone = None,
    name: Name = None,
    q: VerifyQ = None,
    city: VerifyCity = None,
    lat: Lat = None,
    lon: Lon = None,
) -> Response:
    """The verify answer (a sync endpoint: runs in the thread pool)."""
    svc = _service(request)
    store = getattr(request.app.state, "store", None)  # the network store, when served
    try:
        flags = store.flags() if store is not None else None
        result = verify(
            svc.outlets,
            phone=phone,
            name=name,
            q=q,
            city=city,
            lat=lat,
            lon=lon,
            index=svc.index,
            geocoder=_ServiceGeocoder(request),
            flags=flags,
            listings=_listings(svc),
        )
    except VerifyError as err:
        raise ApiError(
            422, "invalid parameter", parameter=err.parameter, reason=err.reason
        ) from None
    except GeocoderServiceError as err:
        raise ApiError(503, "geocoding failed", reason=type(err).__name__) from None
    body = result.to_dict()
    body["note"] = svc.note()
    return _json(body)
