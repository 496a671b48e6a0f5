"""``POST /v1/load``: outlet load from an uploaded orders file (:mod:`locator.load`).

Orders are private: the endpoint needs a **viewer** token (:mod:`.auth`), even when the
read endpoints are public. The body is a multipart upload (``file``: CSV or Parquet,
at most :data:`MAX_LOAD_BYTES`; optional ``capacity``: CSV with ``outlet_id``,
``capacity_per_day``), read in memory and never stored. The answer is
:meth:`locator.load.LoadReport.to_dict` on the network this server answers from. A bad
file is a ``422`` naming the rows and columns (never echoing values: they are private).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response

from ..errors import ConfigurationError, DataError
from .auth import Principal, require_role
from .params import CoordSys
from .routes import _json, reject_unknown_params
from .routes_write import _AUTH, _422, _data_error, _plain
from .service import ApiError

__all__ = ["MAX_LOAD_BYTES", "router"]

#: Largest orders file (bytes); the app's default body limit does not apply to it.
MAX_LOAD_BYTES = 20 * 1024 * 1024
_SUFFIXES = (".csv", ".parquet")

router = APIRouter(dependencies=[Depends(reject_unknown_params)], tags=["planning"])


def _read(upload: UploadFile, field: str, suffixes: tuple[str, ...]) -> bytes:
    if Path(upload.filename or "").suffix.lower() not in suffixes:
        raise ApiError(
            422,
            "invalid field",
            reason=f"the file name must end in {', '.join(suffixes)}",
            extra={"field": field},
        )
    data = upload.file.read(MAX_LOAD_BYTES + 1)
    if len(data) > MAX_LOAD_BYTES:
        raise ApiError(413, "file too large", extra={"limit_bytes": MAX_LOAD_BYTES})
    return data


_EXAMPLE = {
    "freq": "day",
    "start": "2026-03-02",
    "end": "2026-04-26",
    "days": 56,
    "orders_total": 20000,
    "orders_used": 20000,
    "share_beyond_promise": 0.0435,
    "outlets_overloaded": 11,
    "outlets": [{"outlet_id": "00048", "orders_total": 664, "overloaded": True}],
}


@router.post(
    "/v1/load",
    summary="Outlet load from an orders file (viewer)",
    description="A multipart upload: `file` (CSV or Parquet: the output of `locator assign`, "
    "or raw orders with `lat`/`lon` in `coord_sys`; a date column named date, order_date, "
    "created_at, 日期 or 下单时间, or named by `date_col`) and optionally `capacity` (CSV: "
    "outlet_id, capacity_per_day). Answers orders per outlet per day and week, distances, the "
    "share "
    "beyond the 2-hour estimate and overloaded outlets, on this server's network.",
    responses={
        200: {
            "description": "The load report.",
            "content": {"application/json": {"example": _EXAMPLE}},
        },
        **_AUTH,
        **_422,
    },
)
def load_report(
    request: Request,
    principal: Annotated[Principal, Depends(require_role("viewer"))],
    file: Annotated[UploadFile, File(description="The orders file (.csv or .parquet).")],
    capacity: Annotated[
        UploadFile | None, File(description="Capacity per outlet (.csv), optional.")
    ] = None,
    date_col: Annotated[
        str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f]+$", description="Date column.")
    ] = None,
    freq: Annotated[str, Query(pattern="^(day|week)$", description="day or week.")] = "day",
    skip_undated: Annotated[
        bool, Query(description="Leave out orders with an empty date (counted).")
    ] = False,
    coord_sys: CoordSys = "wgs84",
) -> Response:
    from ..load import outlet_load, read_capacity, read_orders

    data = _read(file, "file", _SUFFIXES)
    cap_data = None if capacity is None else _read(capacity, "capacity", (".csv",))
    name = Path(file.filename or "orders.csv").name
    try:
        orders = read_orders(data, name=name)
        cap = None
        if cap_data is not None:
            cap = read_capacity(read_orders(cap_data, name="capacity.csv"))
        report = outlet_load(
            orders,
            request.app.state.locator.outlets,
            date_col=date_col,
            freq=freq,
            capacity=cap,
            undated="skip" if skip_undated else "error",
            coord_sys=coord_sys,
            source="file",
        )
    except DataError as err:
        raise _data_error(err) from None
    except ConfigurationError as err:
        raise ApiError(422, "invalid field", reason=_plain(err), extra={"field": "file"}) from None
    except (ValueError, UnicodeDecodeError, OSError):
        raise ApiError(
            422, "invalid field", reason="the file cannot be read", extra={"field": "file"}
        ) from None
    return _json(_body(report))


def _body(report: Any) -> dict[str, Any]:
    from ..outputs import jsonable

    body: dict[str, Any] = jsonable(report.to_dict())
    return body
