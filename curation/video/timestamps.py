"""Frame rates from the frames' timestamps, not from the container's header.

A header can claim a rate its timestamps do not have (a Matroska file whose default duration says 1000 fps while its
frames are 1/24 s apart), and Matroska and WebM store timestamps in milliseconds, so at 24 fps the intervals are
41 and 42 ms, never 1/24 s: a rate or a frame choice that trusts the header, or compares times with a tolerance
finer than the rounding, duplicates and drops frames. The rate of a video is the mean rate of its first frames'
presentation times. A rate the container states (its average rate, or FFmpeg's guess of the base rate) is kept when
it agrees with that within `HEADER_AGREEMENT`, so 30000/1001 stays exact; otherwise the measured rate is used,
snapped to a common rate when within `SNAP` of one (millisecond timestamps at 24 fps measure 24.003).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: Relative difference under which the header's rate is taken as the timestamps' rate written exactly.
HEADER_AGREEMENT = 0.02
#: Packets read to measure the rate (demuxed, not decoded: cheap).
RATE_PACKETS = 240


def rate_from_timestamps(times_s: Iterable[float]) -> float | None:
    """Frames per second from presentation times in seconds (any order, as packets come in decode order): the
    number of intervals over the span they cover. None when fewer than two distinct times."""
    times = np.unique(np.asarray([t for t in times_s if np.isfinite(t)], np.float64))
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return float((len(times) - 1) / (times[-1] - times[0]))


#: Common frame rates a measured rate snaps to, and how close it must be.
COMMON_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48.0, 50.0, 60000 / 1001, 60.0, 100.0, 120.0)
SNAP = 0.002


def choose_rate(stated: Iterable[float | None], measured: float | None) -> float | None:
    """The rate to use: the first stated rate that agrees with the timestamps' (the first stated one when there are
    no timestamps), else the measured rate; snapped to a common rate when it is that rate rounded."""
    stated = [float(r) for r in stated if r]
    if measured is None:
        return _snapped(stated[0]) if stated else None
    for rate in stated:
        if abs(rate - measured) <= HEADER_AGREEMENT * measured:
            return _snapped(rate)
    return _snapped(measured)


def _snapped(rate: float) -> float:
    nearest = min(COMMON_RATES, key=lambda common: abs(common - rate))
    return nearest if abs(nearest - rate) <= SNAP * nearest else rate
