"""Tests of crema_client: column decoding on hand-built GetResponse messages, and the
client against a real `crema serve` (the debug binary tools/test builds, or $CREMA_BINARY).

Run from the repository root: ``python -m pytest tools/python`` after ``swift build``.
"""

import json
import os
import re
import socket
import struct
import subprocess
import time

import grpc
import numpy as np
import pytest

import crema_client
from crema.v1 import features_pb2 as pb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bitmap(present):
    """LSB-first validity bitmap of a list of booleans."""
    out = bytearray((len(present) + 7) // 8)
    for i, bit in enumerate(present):
        if bit:
            out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def offsets(ends):
    return struct.pack(f"<{len(ends) + 1}i", 0, *ends)


def int64s(name, values):
    """An INT64 column; None entries are nulls (zero bytes, validity bit clear)."""
    present = [v is not None for v in values]
    return pb.Column(
        name=name, dtype=pb.DTYPE_INT64, length=len(values),
        validity=b"" if all(present) else bitmap(present),
        values=struct.pack(f"<{len(values)}q", *[v or 0 for v in values]))


def strings(name, values):
    present = [v is not None for v in values]
    data, ends = b"", []
    for v in values:
        data += (v or "").encode()
        ends.append(len(data))
    return pb.Column(name=name, dtype=pb.DTYPE_STRING, length=len(values),
                     validity=b"" if all(present) else bitmap(present),
                     offsets=offsets(ends), data=data)


def list_of(name, rows, child):
    """A LIST column over `child` (already holding every item); rows are item counts or None."""
    ends, end = [], 0
    for count in rows:
        end += count or 0
        ends.append(end)
    present = [r is not None for r in rows]
    return pb.Column(name=name, dtype=pb.DTYPE_LIST, length=len(rows),
                     validity=b"" if all(present) else bitmap(present),
                     offsets=offsets(ends), children=[child])


def test_int64_with_nulls_is_masked_zero_copy_view():
    values = [1, None, 3, 4, 5, 6, 7, 8, None, 10]
    column = decode(int64s("c", values))
    assert isinstance(column, np.ma.MaskedArray)
    assert column.dtype == np.dtype("<i8")
    assert column.mask.tolist() == [v is None for v in values]
    assert column.tolist() == values
    assert not column.data.flags.writeable  # np.frombuffer over the message bytes


def test_column_without_validity_has_no_mask():
    column = decode(int64s("c", [5, 6]))
    assert column.mask is np.ma.nomask
    assert column.data.tolist() == [5, 6]


def test_all_set_validity_is_the_same_as_none():
    raw = int64s("c", [5, 6])
    raw.validity = bitmap([True, True])
    assert decode(raw).mask is np.ma.nomask


def test_float64_float32_and_bool():
    f64 = pb.Column(name="m", dtype=pb.DTYPE_FLOAT64, length=2,
                    validity=bitmap([True, False]), values=struct.pack("<2d", 2.5, 0))
    f32 = pb.Column(name="f", dtype=pb.DTYPE_FLOAT32, length=2, values=struct.pack("<2f", 1.5, -2))
    flags = pb.Column(name="b", dtype=pb.DTYPE_BOOL, length=3,
                      validity=bitmap([True, True, False]), values=bytes([1, 0, 0]))
    assert decode(f64).tolist() == [2.5, None]
    assert decode(f64).filled(np.nan)[1] != decode(f64).filled(np.nan)[1]  # NaN
    assert decode(f32).dtype == np.float32 and decode(f32).tolist() == [1.5, -2.0]
    assert decode(flags).dtype == np.bool_ and decode(flags).tolist() == [True, False, None]


def test_strings_with_null_and_utf8():
    assert decode(strings("s", ["héllo", None, "", "x"])) == ["héllo", None, "", "x"]


def test_last_n_of_ints_list_rows_are_array_views():
    child = int64s("item", [9, 3, 7])
    rows = decode(list_of("recent", [2, None, 0, 1], child))
    assert [None if r is None else r.tolist() for r in rows] == [[9, 3], None, [], [7]]
    assert isinstance(rows[0], np.ma.MaskedArray)


def test_vector_is_list_of_float32_arrays():
    child = pb.Column(name="item", dtype=pb.DTYPE_FLOAT32, length=6,
                      values=struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    rows = decode(list_of("emb", [3, None, 3], child))
    assert rows[0].dtype == np.float32
    assert rows[0].tolist() == [1, 2, 3] and rows[1] is None and rows[2].tolist() == [4, 5, 6]


def test_quantiles_with_a_null_item():
    child = pb.Column(name="item", dtype=pb.DTYPE_FLOAT64, length=2,
                      validity=bitmap([True, False]), values=struct.pack("<2d", 1.5, 0))
    assert decode(list_of("q", [2], child))[0].tolist() == [1.5, None]


def struct_of(name, members, length, present=None):
    return pb.Column(name=name, dtype=pb.DTYPE_STRUCT, length=length,
                     validity=b"" if present is None else bitmap(present), children=members)


def test_top_k_is_list_of_dicts():
    entries = struct_of("item", [strings("value", ["US", "FR"]), int64s("count", [9, 4])], 2)
    rows = decode(list_of("countries", [2, None], entries))
    assert rows == [[{"value": "US", "count": 9}, {"value": "FR", "count": 4}], None]


def test_histogram_is_list_of_key_count_dicts():
    entries = struct_of("item", [strings("key", ["music"]), int64s("count", [3])], 1)
    assert decode(list_of("mix", [1, 0], entries)) == [[{"key": "music", "count": 3}], []]


def test_sequence_keeps_null_fields_and_vectors():
    vectors = list_of("emb", [2, None],
                      pb.Column(name="item", dtype=pb.DTYPE_FLOAT32, length=2,
                                values=struct.pack("<2f", 0.5, 1)))
    elements = struct_of("item", [strings("video_id", ["v1", "v2"]),
                                  int64s("watch_ms", [None, 40]),
                                  vectors,
                                  int64s("ts", [1_763_900_000_000, 1_763_800_000_000])], 2)
    rows = decode(list_of("recent_views", [2], elements))
    first, second = rows[0]
    assert first["video_id"] == "v1" and first["watch_ms"] is None and first["ts"] == 1_763_900_000_000
    assert first["emb"].tolist() == [0.5, 1.0]
    assert second == {"video_id": "v2", "watch_ms": 40, "emb": None, "ts": 1_763_800_000_000}


def test_null_struct_row():
    column = struct_of("s", [int64s("a", [1, None])], 2, present=[True, False])
    assert decode(column) == [{"a": 1}, None]


def test_nested_lists_last_n_of_vectors():
    floats = pb.Column(name="item", dtype=pb.DTYPE_FLOAT32, length=4,
                       values=struct.pack("<4f", 1, 2, 3, 4))
    vectors = list_of("item", [2, 2], floats)
    rows = decode(list_of("last_embs", [2, None], vectors))
    assert [v.tolist() for v in rows[0]] == [[1, 2], [3, 4]] and rows[1] is None


def test_response_with_broadcast_round_trips_through_bytes():
    response = pb.GetResponse(
        ids=[pb.EntityId(text="v1"), pb.EntityId(number=2)],
        columns=[int64s("video_stats.views_1d", [12, None])],
        broadcast=[list_of("user_history.recent_videos", [2], strings("item", ["v9", "v3"])),
                   int64s("user_stats.views_1d", [None]),
                   int64s("user_stats.count", [7])])
    decoded = crema_client.decode_response(pb.GetResponse.FromString(response.SerializeToString()))
    assert decoded["video_stats.views_1d"].tolist() == [12, None]
    assert decoded["user_history.recent_videos"] == ["v9", "v3"]
    assert decoded["user_stats.views_1d"] is None
    assert decoded["user_stats.count"] == 7


def test_malformed_columns_raise():
    short = int64s("c", [1, 2])
    short.length = 3
    with pytest.raises(ValueError, match="3 rows"):
        decode(short)
    with pytest.raises(ValueError, match="unknown dtype"):
        decode(pb.Column(name="u", length=0))


def test_build_request_ids_broadcast_and_at():
    request = crema_client.build_request(
        "country_category", [("US", "music"), ("FR", 7), "plain", 42], ["cc.views_1d"],
        broadcast={"entity": "user", "id": np.int64(5), "features": ["u.f"]}, at=1_763_900_000_000)
    assert [i.WhichOneof("kind") for i in request.ids] == ["composite", "composite", "text", "number"]
    assert [p.WhichOneof("kind") for p in request.ids[1].composite.parts] == ["text", "number"]
    assert request.broadcast.id.number == 5 and list(request.broadcast.features) == ["u.f"]
    assert request.HasField("at") and request.at == 1_763_900_000_000
    assert not crema_client.build_request("video", ["v1"], ["f"]).HasField("at")
    with pytest.raises(TypeError):
        crema_client.entity_id(True)


def test_build_request_packs_single_part_ids():
    texts = crema_client.build_request("video", ["v1", "v2"], ["f"])
    assert list(texts.text_ids) == ["v1", "v2"] and not texts.ids and not texts.number_ids
    numbers = crema_client.build_request("account", [7, np.int64(-3)], ["f"])
    assert list(numbers.number_ids) == [7, -3] and not numbers.ids and not numbers.text_ids
    mixed = crema_client.build_request("account", [7, "8"], ["f"])
    assert [i.WhichOneof("kind") for i in mixed.ids] == ["number", "text"]


def test_client_against_a_real_server(tmp_path):
    """`crema serve` on the example specs (the binary tools/test built): events in over the
    ingest socket, features out through CremaClient, packed and composite ids alike."""
    binary = os.environ.get("CREMA_BINARY") or os.path.join(ROOT, ".build", "debug", "crema")
    if not os.path.exists(binary):
        pytest.fail(f"no crema binary at {binary}: run tools/test, or set CREMA_BINARY")
    server = subprocess.Popen(
        [binary, "serve", "--specs", os.path.join(ROOT, "specs"), "--data", str(tmp_path / "data"),
         "--ingest", "127.0.0.1:0", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = server.stdout.readline()
        ports = dict(re.findall(r"(ingest|grpc) on 127\.0\.0\.1:(\d+)", ready))
        assert set(ports) == {"ingest", "grpc"}, ready + server.stderr.read()
        now = int(time.time() * 1000)
        lines = [json.dumps({
            "type": "view", "ts": now - 60_000 * i, "user_id": "u1", "video_id": f"v{i % 2}",
            "creator_id": "c1", "country": "US" if i % 3 else "FR", "category": "music",
            "watch_ms": 1_000 * (i + 1), "video_ms": 10_000, "completed": i % 2 == 0,
            "embedding": [0.5] * 8}) for i in range(5)] + [json.dumps({
                "type": "share", "ts": now - 1_000 * i, "user_id": "u1", "video_id": "v0",
                "country": country, "category": "music", "channel": "sms"})
                for i, country in enumerate(["US", "US", "US", "FR", "FR"])]
        with socket.create_connection(("127.0.0.1", int(ports["ingest"]))) as ingest:
            ingest.sendall(("\n".join(lines) + "\n").encode())
            ingest.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := ingest.recv(4096):
                answer += chunk
        assert b'"accepted":10' in answer.replace(b" ", b""), answer
        with crema_client.CremaClient(f"127.0.0.1:{ports['grpc']}", timeout=10) as crema:
            features = crema.get(
                "video", ["v0", "v1", "never-seen"],
                ["video_stats.views_1h", "video_stats.top_countries_7d"],
                broadcast={"entity": "user", "id": "u1", "features": ["user_history.recent_videos"]})
            assert features["video_stats.views_1h"].tolist() == [3, 2, None]
            assert features["video_stats.top_countries_7d"][0] == [
                {"value": "US", "count": 2}, {"value": "FR", "count": 1}]
            assert features["user_history.recent_videos"] == ["v0", "v1"]
            cohort = crema.get("country_category", [("US", "music"), ("FR", "music"), ("FR", "jazz")],
                               ["cohort_trends.shares_1h"])
            assert cohort["cohort_trends.shares_1h"].tolist() == [3, 2, None]
            with pytest.raises(grpc.RpcError) as error:
                crema.get("video", ["v0"], ["video_stats.nope"])
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "video_stats.nope" in error.value.details()
    finally:
        server.terminate()
        server.wait(timeout=30)



def decode(column):
    return crema_client.decode_column(column)
