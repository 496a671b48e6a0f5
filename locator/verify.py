""" "Is this listing authorized?": check a phone number, shop name or address a customer
found (on a search page, a flyer, a map app) against the network of record.

:func:`verify` answers with a :class:`VerifyResult`: whether the listing is an
authorized outlet of this network, which outlet(s) it matched and how (``phone``,
``name``, ``address``), a plain ``message``, and, when it is not authorized, the
nearest authorized outlets to the place given, plus what the audit
(:func:`locator.audit.audit_outlets`) and any recorded flags say about that phone.

Decisions made here, and only here:

* **Phones** (:func:`normalize_phone`) are compared on a key: the national number as
  Google's libphonenumber (the maintained ``phonenumbers`` package, region CN) parses
  it, so ``+86 773 555 0123``, ``0086-773-5550123``, ``(0773) 5550123`` and
  ``7735550123`` (trunk ``0`` left off) are one number; 400 numbers (shared cost) and
  800 numbers (toll free) are 10 digits without a trunk prefix; mobiles 11 digits. An
  extension (``转123``, ``ext. 5``, ``x5``, ``分机5``) is dropped for matching. A number
  libphonenumber does not consider valid (the sample's synthetic ``000-555-xxxx``) is
  compared on its digits, with the ``+86``/``0086`` prefix and one trunk ``0`` removed.
* **Names** (:func:`normalize_name`): NFKC, traditional characters read as simplified
  (OpenCC ``t2s``, the converter the geocoder uses), case, spaces and punctuation
  folded, legal-form suffixes (有限公司, 分公司 ...) dropped; then an exact match, or a
  close one (similarity >= :data:`NAME_SIMILARITY`) **within the city** given (or
  found from ``q``). Without a city only an exact name matches.
* **Verdicts**: ``authorized`` only when the phone (or, with no phone given, the name
  or address) matches an open, authorized outlet, and nothing given contradicts it:
  a name matching an authorized outlet with a phone that is not that outlet's number
  is *not* authorized. A match on a listing that is closed or not authorized says so
  ("listed but not authorized").
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import LocatorError
from .network import Network, outlets_frame

__all__ = [
    "FLAG_KINDS",
    "NAME_SIMILARITY",
    "ListingIndex",
    "PhoneNumber",
    "VerifyError",
    "VerifyResult",
    "finding_flags",
    "normalize_name",
    "normalize_phone",
    "record_findings",
    "verify",
    "verify_listing",
]

#: Two normalized names at least this similar (difflib ratio) match within one city.
NAME_SIMILARITY = 0.9
#: How many nearest authorized outlets an unauthorized answer lists.
NEAREST_K = 3
#: Longest text accepted for any one input (a phone, name, address or city).
MAX_INPUT_LENGTH = 300

Verdict = Literal["authorized", "listed_not_authorized", "closed", "mismatch", "not_listed"]


class VerifyError(LocatorError, ValueError):
    """An input :func:`verify` cannot use; ``parameter`` names it (phone, name, q, city,
    lat, lon)."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


# --------------------------------------------------------------------------- phones

#: An extension after the number: 转123, 分机 123, ext. 5, x5, #5 (dropped for matching).
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|extension|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―.·/()\[\]（）【】]+")


@dataclass(frozen=True)
class PhoneNumber:
    """A phone number as compared: ``key`` (national number digits, or ``+CC...`` for
    a foreign one), ``kind`` (mobile, fixed_line, shared_cost for 400, toll_free for
    800, other) and the ``extension`` that was dropped, if any."""

    text: str
    key: str
    kind: str
    extension: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_KINDS = {
    "FIXED_LINE": "fixed_line",
    "MOBILE": "mobile",
    "FIXED_LINE_OR_MOBILE": "fixed_line",
    "TOLL_FREE": "toll_free",
    "SHARED_COST": "shared_cost",
}


def _digits_key(digits: str) -> str:
    """The fallback key of a number libphonenumber does not know: country code and
    one trunk 0 removed."""
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 7:
            digits = digits[len(prefix) :]
            break
    return digits[1:] if digits.startswith("0") and len(digits) > 1 else digits


@functools.lru_cache(maxsize=65536)
def normalize_phone(text: str) -> PhoneNumber | None:
    """The comparison key of a phone number as people write it; ``None`` when the
    text holds no digit.

    >>> normalize_phone("+86 (773) 555-0123").key
    '7735550123'
    >>> normalize_phone("400-555-0123 转 8").kind, normalize_phone("400-555-0123 转 8").key
    ('shared_cost', '4005550123')
    """
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    extension = None
    m = _EXTENSION.search(raw)
    if m and re.search(r"\d", raw[: m.start()]):
        extension, raw = m.group(1), raw[: m.start()]
    compact = _SEPARATORS.sub("", raw)
    digits = re.sub(r"\D", "", compact)
    if not digits:
        return None
    found = _valid_number(compact)
    dash = _DASH_EXTENSION.match(raw) if found is None and extension is None else None
    if dash is not None:  # 0773-5550101-8: switchboard number, extension 8
        found = _valid_number(_SEPARATORS.sub("", dash.group(1)))
        extension = dash.group(2) if found is not None else None
    if found is not None:
        return PhoneNumber(str(text), found[0], found[1], extension)
    return PhoneNumber(str(text), _digits_key(digits), "other", extension)


#: A trailing "-8" / "-123" after a number (the switchboard-extension way of writing).
_DASH_EXTENSION = re.compile(r"^(.*\d)\s*[-‐‑–—]\s*(\d{1,5})$")


def _valid_number(compact: str) -> tuple[str, str] | None:
    """``(key, kind)`` if libphonenumber (region CN) reads ``compact`` as a valid number."""
    import phonenumbers

    try:
        num = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException:
        return None
    # number_type is UNKNOWN exactly when is_valid_number is false (one metadata pass
    # instead of two: this runs for every listed number when a network is indexed)
    code = phonenumbers.number_type(num)
    if code == phonenumbers.PhoneNumberType.UNKNOWN:
        return None
    ntype = phonenumbers.PhoneNumberType.to_string(code)
    nn = str(num.national_number)
    key = nn if num.country_code == 86 else f"+{num.country_code}{nn}"
    return key, _KINDS.get(ntype or "", "other")


#: Several numbers in one cell: "0773-5550123 / 13800000000", "a；b".
_PHONE_LIST = re.compile(r"[,，;；/、|]|\bor\b|或")


def _phone_keys(cell: Any) -> set[str]:
    """The keys of every number in a listing's phone cell."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return set()
    keys = set()
    for part in _PHONE_LIST.split(str(cell)):
        num = normalize_phone(part) if part.strip() else None
        if num is not None:
            keys.add(num.key)
    return keys


# --------------------------------------------------------------------------- names

_LEGAL_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "分公司",
    "公司",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
)
#: Words a listing adds to look official; they say nothing about which outlet it is.
_NOISE = ("官方", "官网", "正规", "授权", "指定", "售后")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    return text if text.isascii() else str(_t2s().convert(text))


@functools.lru_cache(maxsize=65536)
def normalize_name(text: str) -> str:
    """A shop name folded for comparison: NFKC, simplified characters, lower case, no
    spaces or punctuation, no legal-form suffix (有限公司 ...) and no "official"
    noise words (官方, 授权 ...).

    >>> normalize_name("ACME家電 桂林秀峰區服務中心（官方）有限公司")
    'acme家电桂林秀峰区服务中心'
    """
    s = _simplified(unicodedata.normalize("NFKC", str(text))).lower()
    s = re.sub(r"\s+", "", s)
    changed = True
    while changed:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if s.endswith(suffix) and len(s) > len(suffix) + 1:
                s, changed = s[: -len(suffix)], True
    s = _PUNCT.sub("", s)
    for word in _NOISE:
        s = s.replace(word, "") if len(s) > len(word) + 1 else s
    return s


def _norm_city(text: Any) -> str:
    from .reference import short_name

    s = _simplified(unicodedata.normalize("NFKC", str(text or ""))).strip()
    return short_name(s) if s else ""


def _norm_address(text: Any) -> str:
    s = _simplified(unicodedata.normalize("NFKC", str(text or ""))).lower()
    return _PUNCT.sub("", s)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Match:
    """One listed outlet the input matched, ``by`` which fields, and its state."""

    outlet_id: str
    name: str
    city: str
    address: str
    phone: str
    authorized: bool
    status: str  # "open" | "closed"
    by: list[str]
    name_similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VerifyResult:
    """The answer: ``authorized``, a ``verdict`` (authorized, listed_not_authorized,
    closed, mismatch, not_listed), a plain ``message``, the ``matches``, and for an
    unauthorized answer the ``nearest`` authorized outlets to ``origin``. ``findings``:
    audit findings and recorded flags on the phone. ``notes``: anything else to know
    (an ambiguous city, a number listed in another city)."""

    authorized: bool
    verdict: Verdict
    message: str
    query: dict[str, Any]
    matches: list[Match] = field(default_factory=list)
    origin: dict[str, Any] | None = None
    nearest: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (strict: no NaN)."""
        from .outputs import jsonable

        return jsonable(
            {
                "authorized": self.authorized,
                "verdict": self.verdict,
                "message": self.message,
                "query": self.query,
                "matches": [m.to_dict() for m in self.matches],
                "origin": self.origin,
                "nearest": self.nearest,
                "findings": self.findings,
                "notes": self.notes,
            }
        )


# --------------------------------------------------------------------------- inputs


def _text_arg(value: Any, parameter: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise VerifyError(parameter, f"must be text, not {type(value).__name__}")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    if len(text) > MAX_INPUT_LENGTH:
        raise VerifyError(parameter, f"is longer than {MAX_INPUT_LENGTH} characters")
    if "\x00" in text or re.search(r"[\ud800-\udfff]", text):
        raise VerifyError(parameter, "contains a NUL or a lone surrogate character")
    return text


def _coord_args(lat: Any, lon: Any) -> tuple[float, float] | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise VerifyError("lat" if lat is None else "lon", "give lat and lon together")
    out = []
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise VerifyError(name, f"must be a number, got {value!r}") from None
        if not np.isfinite(x) or abs(x) > bound:
            raise VerifyError(name, f"must be a finite number within ±{bound:g}")
        out.append(x)
    return out[0], out[1]


def _geocode(geocoder: Any, text: str, parameter: str) -> dict[str, Any] | None:
    """The geocoder's best match as an origin dict (None when nothing matches)."""
    from .errors import GeocodeError
    from .geocode import origin_from_location

    try:
        loc = geocoder.geocode(text)
    except GeocodeError as err:
        from .geocoders.redact import redact

        raise VerifyError(parameter, redact(err)[:200]) from None
    return None if loc is None else origin_from_location(loc, text)


# --------------------------------------------------------------------------- matching


def _status(frame: pd.DataFrame) -> np.ndarray:
    if "status" not in frame.columns:
        return np.full(len(frame), "open", dtype=object)
    s = frame["status"].fillna("open").astype(str).str.strip().str.lower()
    return np.where(s == "closed", "closed", "open").astype(object)


def _listings(network: Network | pd.DataFrame, closed: pd.DataFrame | None) -> pd.DataFrame:
    """Every listing to match against: the network's outlets (``status`` open unless
    its column says closed) and the ``closed`` ones (status closed)."""
    df = outlets_frame(network).reset_index(drop=True)
    df = df.assign(status=_status(df))
    if closed is not None and len(closed):
        extra = pd.DataFrame(closed).reset_index(drop=True).copy()
        for col in ("outlet_id", "name", "province", "city", "address", "phone"):
            if col not in extra.columns:
                extra[col] = ""
        if "authorized" not in extra.columns:
            extra["authorized"] = False
        extra["status"] = "closed"
        extra = extra[~extra["outlet_id"].astype(str).isin(set(df["outlet_id"].astype(str)))]
        df = pd.concat([df, extra[[c for c in df.columns if c in extra.columns]]])
        df = df.reset_index(drop=True)
    return df


class ListingIndex:
    """The listings of a network (and any ``closed`` ones) with their comparison keys
    (phone keys, folded names, addresses, city keys), built once: a :func:`verify`
    then costs dictionary look-ups, not a parse of every phone number. Pass it as
    ``verify(..., listings=...)`` to skip even the network's checksum (a long-lived
    service builds one per network); without it, :func:`verify` keeps the last few,
    keyed by checksum."""

    def __init__(self, network: Network | pd.DataFrame, closed: pd.DataFrame | None = None) -> None:
        df = _listings(network, closed)
        self.df = df
        self.city = np.array([_norm_city(c) for c in df["city"].tolist()], dtype=object)
        self.phones: dict[str, list[int]] = {}
        for i, cell in enumerate(df["phone"].tolist()):
            for key in _phone_keys(cell):
                self.phones.setdefault(key, []).append(i)
        self.names = [normalize_name(str(c or "")) for c in df["name"].tolist()]
        self.exact: dict[str, list[int]] = {}
        for i, n in enumerate(self.names):
            if n:
                self.exact.setdefault(n, []).append(i)
        self.addresses = [_norm_address(c) for c in df["address"].tolist()]
        self.cores = [
            _address_core(a, p, c)
            for a, p, c in zip(
                self.addresses, df["province"].tolist(), df["city"].tolist(), strict=True
            )
        ]

    def rows_in(self, city_key: str) -> np.ndarray:
        return np.flatnonzero(self.city == city_key) if city_key else np.arange(len(self.df))


_LOOKUPS: dict[str, ListingIndex] = {}
_LOOKUPS_LOCK = threading.Lock()


def _lookup(network: Network | pd.DataFrame, closed: pd.DataFrame | None) -> ListingIndex:
    """The :class:`ListingIndex` of these listings, cached by the network's checksum
    (the last four networks; ``closed`` listings are looked up fresh)."""
    version = Network.coerce(network).version
    if closed is None:
        with _LOOKUPS_LOCK:
            found = _LOOKUPS.get(version)
        if found is not None:
            return found
    built = ListingIndex(network, closed)
    if closed is None:
        with _LOOKUPS_LOCK:
            _LOOKUPS[version] = built
            while len(_LOOKUPS) > 4:
                _LOOKUPS.pop(next(iter(_LOOKUPS)))
    return built


def _match(
    lk: ListingIndex, phone_key: str | None, name: str | None, addr: str | None, city_key: str
) -> list[Match]:
    """Listings matching by phone, name (in the city) or address, best first."""
    by: dict[int, list[str]] = {}
    sim: dict[int, float] = {}
    for i in lk.phones.get(phone_key or "", []):
        by.setdefault(i, []).append("phone")
    want = normalize_name(name) if name else ""
    want_addr = _norm_address(addr) if addr else ""
    local = lk.rows_in(city_key) if (want and city_key) or want_addr else np.zeros(0, int)
    if want:
        for i in lk.exact.get(want, []):
            if not city_key or lk.city[i] == city_key:
                by.setdefault(i, []).append("name")
                sim[i] = 1.0
        if city_key:  # close spellings, only within the city
            for i in local.tolist():
                have = lk.names[i]
                if i in sim or not have:
                    continue
                ratio = difflib.SequenceMatcher(None, want, have).ratio()
                if ratio >= NAME_SIMILARITY:
                    by.setdefault(i, []).append("name")
                    sim[i] = round(ratio, 3)
    if want_addr:
        for i in local.tolist():
            have, core = lk.addresses[i], lk.cores[i]
            if have and (have == want_addr or (len(core) >= 6 and core in want_addr)):
                by.setdefault(i, []).append("address")
    out = []
    for i, fields in by.items():
        row = lk.df.iloc[i]
        out.append(
            Match(
                outlet_id=str(row["outlet_id"]),
                name=str(row["name"]),
                city=str(row["city"]),
                address=str(row["address"]),
                phone=str(row["phone"]),
                authorized=bool(row["authorized"]),
                status=str(row["status"]),
                by=fields,
                name_similarity=sim.get(i),
            )
        )
    rank = {"phone": 0, "name": 1, "address": 2}
    out.sort(key=lambda m: (-len(m.by), min(rank[b] for b in m.by), m.outlet_id))
    return out


def _address_core(addr: str, province: Any, city: Any) -> str:
    """A normalized address without its leading province and city (the part that
    identifies the place: district, street, number); only if it holds a number."""
    s = addr
    for prefix in (_norm_address(province), _norm_address(city), _norm_city(city)):
        if prefix and s.startswith(prefix):
            s = s[len(prefix) :]
    s = s.removeprefix("市")
    return s if re.search(r"\d", s) else ""


# --------------------------------------------------------------------------- verdict


def _counts(m: Match) -> bool:
    return m.authorized and m.status == "open"


def _label(m: Match) -> str:
    return f"{m.name} ({m.outlet_id}, {m.city})" if m.city else f"{m.name} ({m.outlet_id})"


def _verdict(
    matches: list[Match], *, phone: str | None, what: str, city_key: str, notes: list[str]
) -> tuple[bool, Verdict, str]:
    """Decide: authorized or not, and the plain message."""
    by_phone = [m for m in matches if "phone" in m.by]
    if phone is not None:
        if by_phone:
            good = [m for m in by_phone if _counts(m)]
            if good:
                others = [m for m in matches if "phone" not in m.by]
                if others and not any(m in good for m in matches if len(m.by) > 1):
                    return (
                        False,
                        "mismatch",
                        f"{what}: the phone belongs to the authorized outlet {_label(good[0])}, "
                        f"but the name or address given is that of another listing "
                        f"({_label(others[0])}); treat this listing as not authorized and "
                        "call the outlet's own number",
                    )
                local = [m for m in good if not city_key or _norm_city(m.city) == city_key]
                if not local:
                    notes.append(
                        f"this number is listed for {_label(good[0])}, not for an outlet in "
                        "the city given"
                    )
                best = local[0] if local else good[0]
                return (
                    True,
                    "authorized",
                    f"{what} is an authorized outlet of this network: " + (_label(best)),
                )
            return _listed_not_authorized(what, by_phone)
        named = [m for m in matches if _counts(m)]
        if named:
            return (
                False,
                "mismatch",
                f"{what} is not an authorized outlet of this network: the name or address "
                f"matches {_label(named[0])}, but the phone is not that outlet's number "
                f"({named[0].phone})",
            )
        if matches:
            return _listed_not_authorized(what, matches)
        return False, "not_listed", f"{what} is not an authorized outlet of this network"
    good = [m for m in matches if _counts(m)]
    if good:
        return (
            True,
            "authorized",
            f"{what} is an authorized outlet of this network: " + (_label(good[0])),
        )
    if matches:
        return _listed_not_authorized(what, matches)
    return False, "not_listed", f"{what} is not an authorized outlet of this network"


def _listed_not_authorized(what: str, found: list[Match]) -> tuple[bool, Verdict, str]:
    """No match counts: say which listing(s) it matched and why they do not count."""
    m = found[0]
    if len(found) > 1:
        cities = sorted({x.city for x in found if x.city})
        where = f" in {len(cities)} cities" if len(cities) > 1 else ""
        closed = sum(x.status == "closed" for x in found)
        why = f"; {closed} of them closed" if closed else ""
        return (
            False,
            "closed" if closed == len(found) else "listed_not_authorized",
            f"{what} is listed but not authorized: it matches {len(found)} listings{where} "
            f"(e.g. {_label(m)}), none of them an authorized outlet of this network{why}",
        )
    if m.status == "closed":
        return (
            False,
            "closed",
            f"{what} is listed but not authorized: it matches {_label(m)}, which is closed",
        )
    return (
        False,
        "listed_not_authorized",
        f"{what} is listed but not authorized: it matches {_label(m)}, which is not an "
        "authorized outlet of this network",
    )


# --------------------------------------------------------------------------- findings


def _phone_findings(lk: ListingIndex, phone_key: str) -> list[dict[str, Any]]:
    """What the audit says about the listings with this phone: a hotline shared across
    cities, a listing far from the city it claims."""
    from .audit import audit_outlets

    rows = lk.phones.get(phone_key, [])
    if not rows:
        return []
    sub = lk.df.iloc[rows].drop(columns=["status"], errors="ignore")
    found = audit_outlets(sub)
    return [
        {"source": "audit", **f.to_dict()}
        for f in found
        if f.kind in ("shared_phone", "far_from_city")
    ]


def _flag_findings(
    flags: Iterable[Mapping[str, Any]] | None, phone_key: str | None, outlet_ids: set[str]
) -> list[dict]:
    """Recorded flags (e.g. ``store.flags()``) on this phone (in any spelling) or on
    one of the matched listings, one entry per kind and note (a finding recorded on
    eight listings is one entry naming the eight)."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for flag in flags or ():
        num = normalize_phone(str(flag.get("phone"))) if flag.get("phone") else None
        on_phone = phone_key is not None and num is not None and num.key == phone_key
        oid = str(flag.get("outlet_id") or "")
        if not (on_phone or oid in outlet_ids):
            continue
        key = (str(flag.get("kind") or ""), str(flag.get("note") or ""))
        entry = grouped.setdefault(
            key,
            {"source": "flag", "kind": key[0], "message": key[1], "outlet_ids": [],
             "actor": flag.get("actor"), "at": flag.get("at")},
        )  # fmt: skip
        if oid and oid not in entry["outlet_ids"]:
            entry["outlet_ids"].append(oid)
    return list(grouped.values())


def _merge_findings(audit: list[dict], recorded: list[dict]) -> list[dict]:
    """Audit findings, each marked ``recorded`` (with who and when) when a flag holds
    it, then the flags the audit does not find (any more)."""
    out = []
    flags = {(f["kind"], f["message"]): f for f in recorded}
    for f in audit:
        flag = flags.pop((f["kind"], f["message"]), None)
        entry = {**f, "recorded": flag is not None}
        if flag is not None:
            entry |= {"recorded_by": flag["actor"], "recorded_at": flag["at"]}
        out.append(entry)
    return out + list(flags.values())


# --------------------------------------------------------------------------- verify


def verify(
    network: Network | pd.DataFrame,
    *,
    phone: str | None = None,
    name: str | None = None,
    q: str | None = None,
    city: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    index: Any = None,
    geocoder: Any = None,
    closed: pd.DataFrame | None = None,
    flags: Iterable[Mapping[str, Any]] | None = None,
    k: int = NEAREST_K,
    listings: ListingIndex | None = None,
) -> VerifyResult:
    """Is a listing (``phone``, shop ``name``, or ``q``: an address or shop name) an
    authorized outlet of ``network``?

    ``city`` (Chinese, pinyin or English) limits name matching to that city and is
    the place the nearest authorized outlets are measured from; else ``lat``/``lon``
    (WGS-84), else ``q`` geocoded. ``index``: an :class:`~locator.index.OutletIndex`
    of ``network`` to reuse; ``geocoder``: a geopy-style geocoder (default the offline
    one, built only when a city or ``q`` needs it). ``closed``: listings no longer open
    (e.g. from the store) so a match on one says so; ``flags``: recorded findings
    (dicts with ``phone``, ``kind``, ``note``), those on this phone are returned.
    ``listings``: a :class:`ListingIndex` of ``network`` built beforehand.

    Raises :class:`VerifyError` naming the parameter when none of phone, name and q
    is given, or a value cannot be used.
    """
    phone_t = _text_arg(phone, "phone")
    name_t = _text_arg(name, "name")
    q_t = _text_arg(q, "q")
    city_t = _text_arg(city, "city")
    point = _coord_args(lat, lon)
    if phone_t is None and name_t is None and q_t is None:
        raise VerifyError("phone", "give a phone number, a name or q (an address or shop name)")
    number = normalize_phone(phone_t) if phone_t is not None else None
    if phone_t is not None and number is None:
        raise VerifyError("phone", "has no digits")

    notes: list[str] = []
    geo = _Geo(geocoder)
    city_key, origin = _place(geo, city_t, q_t, point, notes)
    lk = listings if listings is not None else _lookup(network, closed)
    phone_key = number.key if number is not None else None
    matches = _match(lk, phone_key, name_t or q_t, q_t, city_key)
    what = phone_t or name_t or q_t or ""
    authorized, verdict, message = _verdict(
        matches, phone=phone_key, what=what, city_key=city_key, notes=notes
    )
    findings = _merge_findings(
        _phone_findings(lk, phone_key) if phone_key else [],
        _flag_findings(flags, phone_key, {m.outlet_id for m in matches}),
    )
    nearest: list[dict[str, Any]] = []
    if not authorized:
        if origin is None and matches:
            m = lk.df[lk.df["outlet_id"].astype(str) == matches[0].outlet_id].iloc[0]
            origin = {"lat": float(m["lat"]), "lon": float(m["lon"]), "source": "listing"}
            origin["label"] = f"the listing {matches[0].outlet_id}"
        if origin is not None:
            nearest = _nearest(network, index, origin, k)
        else:
            notes.append("give a city or lat/lon to see the nearest authorized outlets")
    query = {
        "phone": phone_t,
        "phone_normalized": number.to_dict() if number is not None else None,
        "name": name_t,
        "q": q_t,
        "city": city_t,
        "lat": point[0] if point else None,
        "lon": point[1] if point else None,
    }
    return VerifyResult(
        authorized, verdict, message, query, matches, origin, nearest, findings, notes
    )


class _Geo:
    """The geocoder, built on first use."""

    def __init__(self, geocoder: Any) -> None:
        self._g = geocoder

    def get(self) -> Any:
        if self._g is None:
            from .geocode import OfflineGeocoder

            self._g = OfflineGeocoder()
        return self._g


def _place(
    geo: _Geo,
    city: str | None,
    q: str | None,
    point: tuple[float, float] | None,
    notes: list[str],
) -> tuple[str, dict[str, Any] | None]:
    """The city key names are matched in, and the origin of the nearest search."""
    city_key = ""
    origin: dict[str, Any] | None = None
    if city is not None:
        found = _geocode(geo.get(), city, "city")
        if found is None or not found.get("city"):
            raise VerifyError(
                "city", "no city of this name found (Chinese, pinyin or English, e.g. 桂林)"
            )
        if found.get("ambiguous"):
            cands = sorted({str(c.get("city")) for c in found.get("candidates", [])} - {"None"})
            if len(cands) > 1:
                raise VerifyError(
                    "city",
                    f"names several cities ({', '.join(cands)}); give one in Chinese",
                )
        city_key = _norm_city(found["city"])
        origin = {
            "lat": found["lat"],
            "lon": found["lon"],
            "source": "city",
            "label": found["city"],
        }
    if point is not None:
        origin = {"lat": point[0], "lon": point[1], "source": "coordinates", "label": "the point"}
    if q is not None and (origin is None or not city_key):
        found = _geocode(geo.get(), q, "q")
        if found is not None:
            if origin is None:
                origin = {
                    "lat": found["lat"],
                    "lon": found["lon"],
                    "source": "q",
                    "label": found.get("address") or q,
                }
            if not city_key and found.get("city") and not found.get("ambiguous"):
                city_key = _norm_city(found["city"])
    return city_key, origin


def _nearest(network: Any, index: Any, origin: Mapping[str, Any], k: int) -> list[dict[str, Any]]:
    from .index import OutletIndex
    from .outputs import jsonable

    idx = index if index is not None else OutletIndex(network, workers=1)
    res = idx.nearest(float(origin["lat"]), float(origin["lon"]), k=k, authorized_only=True)
    cols = [
        c
        for c in ("outlet_id", "name", "kind", "city", "address", "phone", "hours", "lat", "lon")
        if c in res.columns
    ]
    out = res[[*cols, "distance_km", "drive_minutes"]].copy()
    out["distance_km"] = out["distance_km"].round(3)
    out["drive_minutes"] = out["drive_minutes"].round(1)
    return jsonable(out.to_dict("records"))


# --------------------------------------------------------------------------- flags

#: Audit finding kinds recorded as flags (``not_authorized`` is a state the store keeps
#: as authorization records, not a finding about a listing).
FLAG_KINDS = ("shared_phone", "far_from_city", "duplicate_location", "duplicate_address")


def finding_flags(findings: Iterable[Any], network: Network | pd.DataFrame) -> list[dict]:
    """The flags to record for audit findings: one per finding and listing involved,
    with that listing's phone, name, address, city and outlet id (so that
    :func:`verify` finds a flag by the phone, in any spelling)."""
    df = outlets_frame(network)
    rows = {str(r["outlet_id"]): r for r in df.to_dict("records")}
    out = []
    for f in findings:
        if f.kind not in FLAG_KINDS:
            continue
        for oid in f.outlet_ids:
            row = rows.get(str(oid))
            if row is None:
                continue
            out.append(
                {
                    "kind": f.kind,
                    "note": f.message,
                    "phone": str(row.get("phone") or "") or None,
                    "name": str(row.get("name") or "") or None,
                    "address": str(row.get("address") or "") or None,
                    "city": str(row.get("city") or "") or None,
                    "outlet_id": str(oid),
                }
            )
    return out


def record_findings(store: Any, findings: Iterable[Any], *, actor: str) -> tuple[int, int]:
    """Record audit findings on the store's open network as flags
    (``store.add_flag``); a flag already recorded (same kind, listing and note) is not
    added again. Returns ``(added, already_recorded)``."""
    wanted = finding_flags(findings, store.network())
    seen = {(f.get("kind"), f.get("outlet_id"), f.get("note")) for f in store.flags()}
    added = 0
    for flag in wanted:
        key = (flag["kind"], flag["outlet_id"], flag["note"])
        if key in seen:
            continue
        store.add_flag(actor=actor, **flag)
        seen.add(key)
        added += 1
    return added, len(wanted) - added


#: :func:`verify` under the name the package exports (``locator.verify`` is this module).
verify_listing = verify
