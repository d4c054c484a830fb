"""Reads a few features of two videos, plus the user's history, from a running Crema.

    crema serve --specs specs/ &            # gRPC on 127.0.0.1:9090 by default
    python example.py [--target HOST:PORT] [--entity video] [--ids v1 v2] \
        [--features video_stats.views_1d video_stats.countries_7d] \
        [--user u1 --user-features user_history.recent_videos]
"""

import argparse

import numpy as np

from crema_client import CremaClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="127.0.0.1:9090")
    parser.add_argument("--entity", default="video")
    parser.add_argument("--ids", nargs="+", default=["v1", "v2"])
    parser.add_argument("--features", nargs="+",
                        default=["video_stats.views_1d", "video_stats.countries_7d"])
    parser.add_argument("--user", help="broadcast: a user id whose features are read once")
    parser.add_argument("--user-features", nargs="+", default=["user_history.recent_videos"])
    parser.add_argument("--at", type=int, help="read time, epoch milliseconds")
    args = parser.parse_args()

    broadcast = None
    if args.user:
        broadcast = {"entity": "user", "id": args.user, "features": args.user_features}
    with CremaClient(args.target, timeout=5) as crema:
        features = crema.get(args.entity, args.ids, args.features, broadcast=broadcast, at=args.at)

    for name, column in features.items():
        if isinstance(column, np.ma.MaskedArray):
            # Numeric column: a zero-copy view of the response bytes, nulls masked.
            print(f"{name} [{column.dtype}]: {column.tolist()}  (nulls as NaN: {column.astype(float).filled(np.nan)})")
        else:
            print(f"{name}: {plain(column)}")


def plain(value):
    """A decoded value with its arrays turned into lists, for printing."""
    if isinstance(value, np.ma.MaskedArray):
        return value.tolist()
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


if __name__ == "__main__":
    main()
