"""Time `frechet_distance` (symmetric eigen route) against the scipy `sqrtm` route, side by side in one run.

    python -m jobs.bench.frechet_speed [--dims 2048] [--repeats 3]

Writes reports/frechet_speed.md. The covariances are sample covariances of random features, both at full rank
(n = 4d samples) and rank-deficient (n = d/8 samples, as for FVD on a few hundred clips), so the report also shows how
far the two routes are from each other (and from zero for identical sets) on realistic inputs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmark.metrics.frechet_distance import frechet_distance, frechet_distance_sqrtm
from jobs.bench.report import write_report


def _case(d: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((d, d)) / np.sqrt(d)
    x1 = rng.standard_normal((n, d)) @ mix
    x2 = rng.standard_normal((n, d)) @ mix * 1.1 + 0.05
    return x1.mean(0), np.cov(x1, rowvar=False), x2.mean(0), np.cov(x2, rowvar=False)


def _best_time(fn, repeats: int) -> tuple[float, float]:
    times, value = [], float("nan")
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2048])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rows = [
        "| d | samples | rank | eigen route (s) | sqrtm route (s) | sqrtm / eigen | value (eigen) | rel. diff |"
        " identical sets: eigen | identical sets: sqrtm |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d in args.dims:
        for n in (4 * d, max(d // 8, 2)):
            mu1, s1, mu2, s2 = _case(d, n, seed=d + n)
            t_eig, v_eig = _best_time(lambda: frechet_distance(mu1, s1, mu2, s2), args.repeats)  # noqa: B023
            t_sqm, v_sqm = _best_time(lambda: frechet_distance_sqrtm(mu1, s1, mu2, s2), args.repeats)  # noqa: B023
            zero_eig = frechet_distance(mu1, s1, mu1, s1)
            zero_sqm = frechet_distance_sqrtm(mu1, s1, mu1, s1)
            rank = min(n - 1, d)
            rows.append(
                f"| {d} | {n} | {rank} | {t_eig:.3f} | {t_sqm:.3f} | {t_sqm / t_eig:.2f}x | {v_eig:.6f} |"
                f" {abs(v_eig - v_sqm) / abs(v_sqm):.2e} | {zero_eig:.2e} | {zero_sqm:.2e} |"
            )
            print(rows[-1], flush=True)
    body = (
        "# Fréchet distance: symmetric eigen route vs scipy sqrtm route\n\n"
        f"Best of {args.repeats} runs each, same inputs, same process. 'rel. diff' is |eigen − sqrtm| / sqrtm;"
        " 'identical sets' is the distance of a Gaussian to itself (exactly 0 in theory).\n\n" + "\n".join(rows) + "\n"
    )
    print(f"wrote {write_report('frechet_speed', 'jobs.bench.frechet_speed', body)}")


if __name__ == "__main__":
    main()
