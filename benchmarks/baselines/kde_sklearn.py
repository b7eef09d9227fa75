#!/usr/bin/env python3
"""scikit-learn reference for the KDE model-collapse grid.

Reproduces the kernel-density setting of Kazdan et al. (2024), "Collapse or
Thrive? Perils and Promises of Synthetic Data in a Self-Generating World",
the way a scikit-learn user would write it, so the C# suite's wall time can
be compared with it and its numbers cross-checked against an independent
implementation (they agree only statistically: the random numbers differ).

Per (dataset, bandwidth, setting, n) cell and seed, iterations t = 1..T:
fit KernelDensity(kernel="gaussian", bandwidth=h), score the test set, then
draw n points with kde.sample. Iteration 1 fits n real points.

  replace               next fit uses only the newest n points
  accumulate            next fit uses the whole pool (t*n points at iteration
                        t), refitted from scratch every iteration
  accumulate-subsample  pool grows as in accumulate; each fit uses n points
                        drawn without replacement from it

Datasets are sklearn's generators: blobs (2-D, 3 centers uniform in
[-10, 10]^2, std 1; the centers are drawn once per seed and shared by the
training data and the test set), circles (noise 0.05, factor 0.8), moons
(noise 0.05), swiss-roll (3-D, noise 0.05). The test set is --test-size
fresh points from the same distribution, per seed.

Metric per seed and iteration: nll_test = -mean(kde.score_samples(test)).
sklearn 1.2's tree scorer loses accuracy for test points far (in units of
h) from every fitted point once the fit has more than one leaf (> 40
points): at h = 0.1 its nll can be off by 10-40% (compare scikit-learn
issue #7492). --score exact keeps sklearn's fit and sample but scores with a
plain float64 log-sum-exp over all fitted points, for cross-checking numbers;
the default --score sklearn is what a sklearn user runs and what is timed.
Output: a tidy CSV with the columns dataset,bandwidth,setting,n,seed,
iteration,nll_test, the same columns `collapse run kde` writes.
"""
import argparse
import csv
import sys
import time
import zlib

import numpy as np
import sklearn
from scipy.special import logsumexp
from sklearn.datasets import make_blobs, make_circles, make_moons, make_swiss_roll
from sklearn.neighbors import KernelDensity

DATASETS = ("blobs", "circles", "moons", "swiss-roll")
SETTINGS = ("replace", "accumulate", "accumulate-subsample")
RULES = ("scott", "silverman")
HEADER = ("dataset", "bandwidth", "setting", "n", "seed", "iteration", "nll_test")


def int_list(text):
    return [int(v) for v in text.split(",") if v]


def str_list(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def parse_bandwidth(text):
    """'scott'/'silverman' pass through to sklearn; anything else is a float h."""
    t = text.lower()
    if t in RULES:
        return t, t
    h = float(t)
    if not (h > 0 and np.isfinite(h)):
        raise ValueError(f"bandwidth must be positive: {text!r}")
    # Spell it as the C# suite does (shortest round-trip, no trailing ".0"),
    # so the two CSVs join on this column.
    label = repr(h)
    return h, label[:-2] if label.endswith(".0") else label


def random_state(*key):
    """A RandomState seeded from a tuple of ints, so every stream is a pure
    function of its key: a cell's numbers do not depend on which other cells
    ran. sklearn 1.2's generators take an int or RandomState, not a Generator."""
    return np.random.RandomState(np.random.SeedSequence(list(key)).generate_state(4))


def make_data(dataset, n, test_size, rs):
    """n training points and test_size test points from one seed's distribution."""
    if dataset == "blobs":
        # Draw the 3 centers once, exactly as make_blobs(centers=3,
        # center_box=(-10, 10)) would, and reuse them for the test set.
        centers = rs.uniform(-10.0, 10.0, size=(3, 2))
        def gen(m):
            return make_blobs(m, n_features=2, centers=centers, cluster_std=1.0, random_state=rs)[0]
    elif dataset == "circles":
        def gen(m):
            return make_circles(m, noise=0.05, factor=0.8, random_state=rs)[0]
    elif dataset == "moons":
        def gen(m):
            return make_moons(m, noise=0.05, random_state=rs)[0]
    elif dataset == "swiss-roll":
        def gen(m):
            return make_swiss_roll(m, noise=0.05, random_state=rs)[0]
    else:
        raise ValueError(dataset)
    return gen(n), gen(test_size)


def exact_score(kde, x_test, block=64):
    """log density of each test point, float64 log-sum-exp over every fitted
    point: the same quantity as kde.score_samples without the tree. Blocks of
    test points bound the memory to block x m doubles."""
    x = np.asarray(kde.tree_.data)
    m, d = x.shape
    h = kde.bandwidth_
    x_sq = np.einsum("ij,ij->i", x, x)
    out = np.empty(len(x_test))
    for i in range(0, len(x_test), block):
        y = x_test[i:i + block]
        # |y - x|^2 by expansion (one GEMM); clip the round-off below 0.
        d2 = np.einsum("ij,ij->i", y, y)[:, None] + x_sq[None, :] - 2.0 * (y @ x.T)
        np.maximum(d2, 0.0, out=d2)
        out[i:i + block] = logsumexp(d2 * (-0.5 / (h * h)), axis=1)
    return out - np.log(m) - 0.5 * d * np.log(2.0 * np.pi * h * h)


SCORERS = {"sklearn": lambda kde, x_test: kde.score_samples(x_test), "exact": exact_score}


def run_chain(x_real, x_test, h, setting, T, rs, nll, score):
    """One seed's chain of T fits; writes nll[t]; returns test x fitted pairs scored."""
    n, d = x_real.shape
    pairs = 0
    # The pool lives in one preallocated buffer: a sklearn user would
    # np.concatenate, which copies the pool every iteration; the refit below
    # is what accumulate costs either way, so keep the copying out of it.
    pool = np.empty((T * n, d)) if setting != "replace" else None
    if pool is not None:
        pool[:n] = x_real
    x = x_real
    for t in range(T):
        m = (t + 1) * n
        if setting == "accumulate":
            x = pool[:m]
        elif setting == "accumulate-subsample":
            x = pool[:m][rs.choice(m, n, replace=False)]
        kde = KernelDensity(kernel="gaussian", bandwidth=h).fit(x)
        nll[t] = -score(kde, x_test).mean()
        pairs += len(x_test) * len(x)
        if t + 1 == T:
            break
        new = kde.sample(n, random_state=rs)
        if setting == "replace":
            x = new
        else:
            pool[m:m + n] = new
    return pairs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", type=str_list, default=list(DATASETS))
    p.add_argument("--bandwidths", type=str_list, default=["0.1", "0.5", "1.0"],
                   help="floats, or scott / silverman (sklearn's rules)")
    p.add_argument("--samples", type=int_list, default=[10, 32, 100, 316, 1000])
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--iterations", type=int, default=100)
    p.add_argument("--settings", type=str_list, default=list(SETTINGS))
    p.add_argument("--test-size", type=int, default=500)
    p.add_argument("--seed", type=int, default=0, help="base seed of every stream")
    p.add_argument("--score", choices=tuple(SCORERS), default="sklearn",
                   help="sklearn: kde.score_samples (timed baseline); exact: float64 log-sum-exp over all fitted points")
    p.add_argument("--out", required=True, help="CSV file to write")
    a = p.parse_args(argv)
    for ds in a.datasets:
        if ds not in DATASETS:
            p.error(f"unknown dataset {ds!r}; choose from {','.join(DATASETS)}")
    for s in a.settings:
        if s not in SETTINGS:
            p.error(f"unknown setting {s!r}; choose from {','.join(SETTINGS)}")
    try:
        bandwidths = [parse_bandwidth(b) for b in a.bandwidths]
    except ValueError as e:
        p.error(str(e))

    S, T = a.seeds, a.iterations
    print(f"sklearn {sklearn.__version__}, numpy {np.__version__}, "
          f"datasets={','.join(a.datasets)} bandwidths={','.join(b for _, b in bandwidths)} "
          f"samples={','.join(map(str, a.samples))} settings={','.join(a.settings)} "
          f"S={S} T={T} test_size={a.test_size} seed={a.seed} score={a.score}", flush=True)
    score = SCORERS[a.score]

    total_pairs = 0
    # Wall time is what the comparison uses; CPU time is printed beside it
    # because the 2-core machine is shared and CPU time suffers less from it.
    start, cpu_start = time.perf_counter(), time.process_time()
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for ds in a.datasets:
            ds_i = DATASETS.index(ds)
            for h, label in bandwidths:
                bw_key = zlib.crc32(label.encode())
                for s in a.settings:
                    for n in a.samples:
                        t0, c0 = time.perf_counter(), time.process_time()
                        nll = np.empty((S, T))
                        cell_pairs = 0
                        for seed in range(S):
                            # Data depend on (dataset, n, seed) only, so every
                            # bandwidth and setting starts from the same real
                            # points and is scored on the same test set.
                            x_real, x_test = make_data(ds, n, a.test_size,
                                                       random_state(a.seed, 0, ds_i, n, seed))
                            rs = random_state(a.seed, 1, ds_i, bw_key, SETTINGS.index(s), n, seed)
                            cell_pairs += run_chain(x_real, x_test, h, s, T, rs, nll[seed], score)
                        dt, dc = time.perf_counter() - t0, time.process_time() - c0
                        total_pairs += cell_pairs
                        for seed in range(S):
                            for t in range(T):
                                w.writerow((ds, label, s, n, seed, t + 1, repr(float(nll[seed, t]))))
                        print(f"cell dataset={ds} bandwidth={label} setting={s} n={n} "
                              f"seconds={dt:.3f} cpu_seconds={dc:.3f} pairs={cell_pairs} pairs_per_s={cell_pairs / dt:.4g} "
                              f"final_nll_mean={nll[:, -1].mean():.6g}", flush=True)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"pairs={total_pairs}")
    print(f"pairs_per_second={total_pairs / total:.4g}")
    print(f"cpu_seconds={cpu:.3f}")
    print(f"total_seconds={total:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
