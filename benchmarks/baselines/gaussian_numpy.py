#!/usr/bin/env python3
"""numpy reference for the multivariate-Gaussian model-collapse grid.

Reproduces the "multivariate Gaussian" setting of Kazdan et al. (2024),
"Collapse or Thrive? Perils and Promises of Synthetic Data in a
Self-Generating World", so its wall time can be compared with the C#
implementation. All S seeds of a (setting, d, n) cell run together as
batched float64 arrays of shape [S, points, d]; there is no per-seed loop.

Per iteration t = 1..T: fit the MLE (sample mean, covariance divided by the
number of points fitted), record the metrics, then draw n new points from
the fit. Iteration 1 fits n real points drawn from the truth N(0, I_d).

  replace               next fit uses only the newest n points
  accumulate            next fit uses the whole pool (t*n points at iteration t)
  accumulate-subsample  pool grows as in accumulate; each fit uses n points
                        drawn without replacement from it, per seed

Metrics per seed and iteration (Sigma_0 = I, mu_0 = 0):
  ||mu_t||^2, det(Sigma_t) (via slogdet), tr(Sigma_t) / d
"""
import argparse
import sys
import time

import numpy as np

SETTINGS = ("replace", "accumulate", "accumulate-subsample")
METRICS = ("mean_sq_dist", "det_ratio", "trace_ratio")


def int_list(text):
    return [int(v) for v in text.split(",") if v]


def fit(x):
    """Batched MLE over axis 1: mean [S, d] and biased covariance [S, d, d]."""
    mu = x.mean(axis=1)
    xc = x - mu[:, None, :]
    sigma = np.matmul(xc.transpose(0, 2, 1), xc)
    sigma /= x.shape[1]
    return mu, sigma


FACTOR = "eigh"


def sample(rng, mu, sigma, n):
    """Draw n points per seed from N(mu, sigma).

    sigma is singular whenever the fit had m <= d points. The default square
    root is the eigendecomposition with negative round-off eigenvalues clipped
    to 0: exact for PSD matrices, no jitter. With --factor cholesky the batch
    is factored by Cholesky (about 10x cheaper at d = 100) and falls back to
    eigh only for a batch Cholesky refuses (a singular fit).
    """
    if FACTOR == "cholesky":
        try:
            root = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            root = None
    else:
        root = None
    if root is None:
        w, v = np.linalg.eigh(sigma)
        np.clip(w, 0.0, None, out=w)
        root = v * np.sqrt(w)[:, None, :]      # sigma = root @ root.T
    z = rng.standard_normal((mu.shape[0], n, mu.shape[1]))
    return mu[:, None, :] + np.matmul(z, root.transpose(0, 2, 1))


def record(out, t, mu, sigma, d):
    out[t, :, 0] = np.einsum("sd,sd->s", mu, mu)
    sign, logdet = np.linalg.slogdet(sigma)
    out[t, :, 1] = sign * np.exp(logdet)       # det(Sigma_0) = 1
    out[t, :, 2] = np.trace(sigma, axis1=1, axis2=2) / d


def run_replace(rng, S, n, d, T, out):
    x = rng.standard_normal((S, n, d))
    for t in range(T):
        mu, sigma = fit(x)
        record(out, t, mu, sigma, d)
        if t + 1 < T:
            x = sample(rng, mu, sigma, n)


def run_accumulate_naive(rng, S, n, d, T, out):
    # Refit on the whole pool every iteration, as np.concatenate + refit
    # would, but into a preallocated buffer: concatenating copies the pool
    # each step and would need two pools (2 x 8 GB at d=100, n=1000) alive.
    pool = np.empty((S, T * n, d))
    pool[:, :n] = rng.standard_normal((S, n, d))
    for t in range(T):
        m = (t + 1) * n
        mu, sigma = fit(pool[:, :m])
        record(out, t, mu, sigma, d)
        if t + 1 < T:
            pool[:, m:m + n] = sample(rng, mu, sigma, n)


def run_accumulate_suffstats(rng, S, n, d, T, out):
    # Same estimator as the naive refit, O(S n d^2) per step instead of
    # O(S t n d^2): merge each new batch into the pooled mean and centred
    # scatter matrix with Chan et al.'s pairwise update.
    x = rng.standard_normal((S, n, d))
    mean, scatter = fit(x)
    scatter *= n
    count = n
    for t in range(T):
        sigma = scatter / count
        record(out, t, mean, sigma, d)
        if t + 1 < T:
            b_mean, b_scatter = fit(sample(rng, mean, sigma, n))
            b_scatter *= n
            delta = b_mean - mean
            total = count + n
            scatter += b_scatter
            scatter += (count * n / total) * (delta[:, :, None] * delta[:, None, :])
            mean = mean + delta * (n / total)
            count = total


def run_accumulate_subsample(rng, S, n, d, T, out):
    pool = np.empty((S, T * n, d))
    pool[:, :n] = rng.standard_normal((S, n, d))
    for t in range(T):
        m = (t + 1) * n
        # n of m without replacement, independently per seed: the n smallest
        # of m uniform keys are a uniform random n-subset.
        idx = np.argpartition(rng.random((S, m)), n - 1, axis=1)[:, :n]
        x = np.take_along_axis(pool[:, :m], idx[:, :, None], axis=1)
        mu, sigma = fit(x)
        record(out, t, mu, sigma, d)
        if t + 1 < T:
            pool[:, m:m + n] = sample(rng, mu, sigma, n)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dims", type=int_list, default=[1, 3, 10, 31, 100])
    p.add_argument("--samples", type=int_list, default=[10, 32, 100, 316, 1000])
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--iterations", type=int, default=100)
    p.add_argument("--settings", type=lambda s: s.split(","), default=list(SETTINGS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--accumulate-impl", choices=("naive", "suffstats"), default="naive",
                   help="naive: refit on the whole pool; suffstats: Chan merge")
    p.add_argument("--factor", choices=("eigh", "cholesky"), default="eigh",
                   help="square root for sampling: eigh always, or Cholesky with eigh for singular fits")
    p.add_argument("--print-means", action="store_true",
                   help="print the seed-mean of each metric per iteration")
    a = p.parse_args(argv)
    for s in a.settings:
        if s not in SETTINGS:
            p.error(f"unknown setting {s!r}; choose from {','.join(SETTINGS)}")

    runners = {
        "replace": run_replace,
        "accumulate": (run_accumulate_naive if a.accumulate_impl == "naive"
                       else run_accumulate_suffstats),
        "accumulate-subsample": run_accumulate_subsample,
    }
    global FACTOR
    FACTOR = a.factor
    S, T = a.seeds, a.iterations
    print(f"numpy {np.__version__}, S={S}, T={T}, seed={a.seed}, "
          f"accumulate-impl={a.accumulate_impl}, factor={a.factor}", flush=True)

    checksum = 0.0
    per_setting = {}
    start = time.perf_counter()
    for s in a.settings:
        setting_start = time.perf_counter()
        for d in a.dims:
            for n in a.samples:
                # A stream per cell, so a cell's numbers do not depend on
                # which other cells were run.
                rng = np.random.default_rng([a.seed, SETTINGS.index(s), d, n])
                out = np.empty((T, S, len(METRICS)))
                t0 = time.perf_counter()
                runners[s](rng, S, n, d, T, out)
                dt = time.perf_counter() - t0
                # Consume every result so none of the work is dead.
                checksum += float(np.nansum(out))
                print(f"cell setting={s} d={d} n={n} seconds={dt:.3f} "
                      f"final_trace_ratio_mean={out[-1, :, 2].mean():.6g}", flush=True)
                if a.print_means:
                    means = out.mean(axis=1)
                    for t in range(T):
                        print(f"  t={t + 1} " + " ".join(
                            f"{k}={v:.6g}" for k, v in zip(METRICS, means[t])))
        per_setting[s] = time.perf_counter() - setting_start
        print(f"setting={s} seconds={per_setting[s]:.3f}", flush=True)
    total = time.perf_counter() - start
    print(f"checksum={checksum:.12g}")
    print(f"total_seconds={total:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
