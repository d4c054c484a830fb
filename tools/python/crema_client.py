"""Python client for Crema's gRPC read API (`crema.v1.Features/Get`).

The server answers with one column per feature (see Protos/crema/v1/features.proto);
this module turns each column into numpy arrays without decoding value by value:

* INT64 / FLOAT64 / FLOAT32 / BOOL columns become a ``numpy.ma.MaskedArray`` whose
  ``.data`` is a zero-copy ``np.frombuffer`` view of the packed bytes (dtypes
  ``<i8``, ``<f8``, ``<f4``, ``bool``; read-only) and whose mask is set on null rows.
  A column without nulls has ``mask`` equal to ``numpy.ma.nomask``, so
  ``column.data`` is the plain array and ``column.filled(np.nan)`` fills nulls.
  Masked arrays were chosen over a separate ``valid`` array so that a column stays a
  single value that numpy operations (``mean``, ``sum``…) treat null-aware.
* STRING columns become a ``list`` of ``str`` (``None`` for a null row).
* LIST columns become a ``list`` with one entry per row, ``None`` for a null row:
  a masked-array slice (a view, no copy) for numeric items (last_n of numbers,
  approx_quantile, a vector embedding), a ``list`` of ``str`` for string items, a
  ``list`` of ``dict`` for STRUCT items (top_k ``{"value", "count"}``, histogram
  ``{"key", "count"}``, sequence ``{<fields>, "ts"}``) and a ``list`` of the
  items' rows for nested lists (last_n of a vector field).
* STRUCT columns become a ``list`` of ``dict`` (``None`` for a null row); member values
  are Python scalars (``None`` when null), or the entries above for list members.

Usage::

    from crema_client import CremaClient

    with CremaClient("127.0.0.1:9090") as crema:
        features = crema.get("video", ["v1", "v2"],
                             ["video_stats.views_1d", "video_stats.countries_7d"],
                             broadcast={"entity": "user", "id": "u1",
                                        "features": ["user_history.recent_videos"]})
        views = features["video_stats.views_1d"]          # MaskedArray of int64
        recent = features["user_history.recent_videos"]   # one value: list of str
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable, Mapping, Sequence

import grpc
import numpy as np

from crema.v1 import features_pb2, features_pb2_grpc

__all__ = ["CremaClient", "decode_column", "entity_id", "build_request"]

_FIXED_WIDTH = {
    features_pb2.DTYPE_INT64: np.dtype("<i8"),
    features_pb2.DTYPE_FLOAT64: np.dtype("<f8"),
    features_pb2.DTYPE_FLOAT32: np.dtype("<f4"),
    features_pb2.DTYPE_BOOL: np.dtype(np.bool_),
}


class CremaClient:
    """A connection to one Crema server's gRPC endpoint (plaintext HTTP/2).

    Args:
        target: ``host:port`` of the server's gRPC listener (``crema serve --grpc``).
        timeout: Default deadline of each call in seconds (``None``: no deadline).
        channel: An existing ``grpc.Channel`` to use instead of opening one
            (for TLS or custom options); ``target`` is then ignored.

    Failed calls raise ``grpc.RpcError``: ``INVALID_ARGUMENT`` names an unknown entity
    or feature, or an id of the wrong shape.
    """

    def __init__(self, target: str = "127.0.0.1:9090", *, timeout: float | None = None,
                 channel: grpc.Channel | None = None) -> None:
        self._owns_channel = channel is None
        self._channel = channel if channel is not None else grpc.insecure_channel(
            target,
            options=[("grpc.max_receive_message_length", -1)],
        )
        self._stub = features_pb2_grpc.FeaturesStub(self._channel)
        self._timeout = timeout

    def get(self, entity: str, ids: Sequence[Any], features: Sequence[str],
            broadcast: Mapping[str, Any] | None = None,
            at: int | None = None) -> dict[str, Any]:
        """Reads ``features`` for every id of ``entity``.

        Args:
            entity: The entity the ids belong to (e.g. ``"video"``).
            ids: One id per row: a ``str``, an ``int``, or for a cohort entity a
                tuple/list of ``str``/``int`` parts.
            features: Feature names (``"video_stats.views_1d"``).
            broadcast: Optional ``{"entity": ..., "id": ..., "features": [...]}``:
                features of one other entity (typically the user), read once.
            at: Optional read time in epoch milliseconds (default: the server's clock).

        Returns:
            A dict from feature name to its decoded column (``len(ids)`` rows; see the
            module docstring for the types). Broadcast features are included under
            their names as the single value of their one-row column (a scalar or
            ``None``, a ``str``, an array, a list…).
        """
        broadcast_features = list(broadcast["features"]) if broadcast else []
        clash = set(features) & set(broadcast_features)
        if clash:
            raise ValueError(f"features requested both per id and broadcast: {sorted(clash)}")
        request = build_request(entity, ids, features, broadcast, at)
        response = self._stub.Get(request, timeout=self._timeout)
        return decode_response(response)

    def close(self) -> None:
        """Closes the channel if this client opened it."""
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "CremaClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def entity_id(value: Any) -> features_pb2.EntityId:
    """Builds the proto ``EntityId`` of a ``str``, an ``int`` or a composite (tuple/list)."""
    if isinstance(value, str):
        return features_pb2.EntityId(text=value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return features_pb2.EntityId(number=int(value))
    if isinstance(value, (tuple, list)):
        parts = [_id_part(part) for part in value]
        return features_pb2.EntityId(composite=features_pb2.CompositeId(parts=parts))
    raise TypeError(f"an entity id is a str, an int or a tuple of them, not {value!r}")


def _id_part(value: Any) -> features_pb2.IdPart:
    if isinstance(value, str):
        return features_pb2.IdPart(text=value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return features_pb2.IdPart(number=int(value))
    raise TypeError(f"a composite id part is a str or an int, not {value!r}")


def build_request(entity: str, ids: Iterable[Any], features: Iterable[str],
                  broadcast: Mapping[str, Any] | None = None,
                  at: int | None = None) -> features_pb2.GetRequest:
    """Builds the ``GetRequest`` that ``CremaClient.get`` sends: all-``str`` or all-``int``
    ids go packed in ``text_ids`` / ``number_ids``, others one ``EntityId`` each."""
    ids = list(ids)
    request = features_pb2.GetRequest(entity=entity, features=list(features))
    if ids and all(isinstance(value, str) for value in ids):
        request.text_ids.extend(ids)
    elif ids and all(isinstance(value, numbers.Integral) and not isinstance(value, bool) for value in ids):
        request.number_ids.extend(int(value) for value in ids)
    else:
        request.ids.extend(entity_id(value) for value in ids)
    if broadcast is not None:
        request.broadcast.CopyFrom(features_pb2.Broadcast(
            entity=broadcast["entity"],
            id=entity_id(broadcast["id"]),
            features=list(broadcast["features"]),
        ))
    if at is not None:
        request.at = int(at)
    return request


def decode_response(response: features_pb2.GetResponse) -> dict[str, Any]:
    """Decodes every column of a ``GetResponse``; broadcast columns give their one value."""
    result = {column.name: decode_column(column) for column in response.columns}
    for column in response.broadcast:
        rows = decode_column(column)
        result[column.name] = _row(rows, 0) if len(rows) else None
    return result


def decode_column(column: features_pb2.Column) -> Any:
    """Decodes one column into a masked array (fixed-width dtypes) or a list (others)."""
    length = column.length
    valid = _validity(column)
    dtype = column.dtype
    if dtype in _FIXED_WIDTH:
        values = np.frombuffer(column.values, dtype=_FIXED_WIDTH[dtype])
        _expect(column, len(values) == length, f"{len(values)} values for {length} rows")
        return np.ma.MaskedArray(values, mask=np.ma.nomask if valid is None else ~valid)
    if dtype == features_pb2.DTYPE_STRING:
        offsets = _offsets(column).tolist()
        data = column.data
        _expect(column, offsets[-1] <= len(data), "offsets past the end of data")
        return [data[offsets[i]:offsets[i + 1]].decode("utf-8")
                if valid is None or valid[i] else None
                for i in range(length)]
    if dtype == features_pb2.DTYPE_LIST:
        _expect(column, len(column.children) == 1, "a list column has one child")
        offsets = _offsets(column).tolist()
        items = decode_column(column.children[0])
        _expect(column, offsets[-1] <= len(items), "offsets past the end of the items")
        return [items[offsets[i]:offsets[i + 1]] if valid is None or valid[i] else None
                for i in range(length)]
    if dtype == features_pb2.DTYPE_STRUCT:
        names = [child.name for child in column.children]
        members = []
        for child in column.children:
            rows = decode_column(child)
            _expect(child, len(rows) == length, f"{len(rows)} rows in a struct of {length}")
            members.append(rows.tolist() if isinstance(rows, np.ma.MaskedArray) else rows)
        return [{name: rows[i] for name, rows in zip(names, members)}
                if valid is None or valid[i] else None
                for i in range(length)]
    raise ValueError(f"column {column.name!r}: unknown dtype {dtype}")


def _validity(column: features_pb2.Column) -> np.ndarray | None:
    """The presence of each row as a bool array, or None when every row is present."""
    if not column.validity:
        return None
    bits = np.unpackbits(np.frombuffer(column.validity, dtype=np.uint8), bitorder="little")
    _expect(column, len(bits) >= column.length, "validity shorter than the column")
    valid = bits[:column.length].astype(bool)
    return None if valid.all() else valid


def _offsets(column: features_pb2.Column) -> np.ndarray:
    offsets = np.frombuffer(column.offsets, dtype="<i4")
    _expect(column, len(offsets) == column.length + 1,
            f"{len(offsets)} offsets for {column.length} rows")
    return offsets


def _row(rows: Any, index: int) -> Any:
    """One row of a decoded column, as a Python value (None when null)."""
    if isinstance(rows, np.ma.MaskedArray):
        return None if rows.mask is not np.ma.nomask and rows.mask[index] else rows.data[index].item()
    return rows[index]


def _expect(column: features_pb2.Column, condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"column {column.name!r}: malformed: {message}")
