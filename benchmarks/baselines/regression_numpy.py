#!/usr/bin/env python3
"""numpy reference for the linear-regression model-collapse grid.

Reproduces the linear-regression setting of Kazdan et al. (2024), "Collapse or
Thrive?", following the authors' src/fit_linear_regressions/
fit_linear_regressions.py, so its wall time can be compared with the C#
implementation (`collapse run regression`).

Protocol, per (setting, d, n, sigma^2) cell and seed: w* ~ N(0, I_d); one
design X (n x d) reused by every generation; real labels y_0 = X w* + sigma e;
iteration t fits w_t by np.linalg.pinv, is scored, then labels
y_t = X w_t + sigma e_t are drawn with the same X.

  replace               fit the newest n labels
  accumulate            fit every (X, y_k) pair so far, stacked (t*n rows)
  accumulate-subsample  fit n rows drawn without replacement from that stack

Metrics per seed and iteration: test_mse = mean((X_test w_t - X_test w*)^2)
over --test-size fresh test points, weight_error = ||w_t - w*||^2.

--impl authors (default) is the authors' loop as they wrote it, minus wandb:
one seed at a time, np.random.seed(seed), the legacy global RandomState drawn
in their order (w*, X, label noise, X_test, then per iteration the subsample
and the next labels), np.linalg.pinv of the whole stacked design at every
Accumulate iteration, np.concatenate to grow the stack.

--impl fast is the same protocol (same distribution of every output, not the
same random numbers) written for speed: all seeds of a cell at once as
stacked arrays, with these identities (P = X^+ = V S^-1 U^T from the thin SVD
X = U S V^T, r = rank X, H = P X = V V^T the projection onto X's row space):

  * Every fit lies in the row space (range of X^+), so H w_t = w_t, and the
    next fit on y_t = X w_t + sigma e_t is P y_t = w_t + sigma P e_t.
  * P e ~ N(0, V S^-2 V^T), and U^T e ~ N(0, I_r) (U has orthonormal
    columns), so P e is drawn as V S^-1 z with z ~ N(0, I_r): r normals
    instead of n, and no n x d product.
  * Replace: w_t = H w* + sigma V S^-1 (z_0 + ... + z_{t-1}), a cumulative
    sum over iterations -- no loop over t.
  * Accumulate: the stacked design is 1_t (x) X, whose pseudo-inverse is
    (1/t) 1_t^T (x) X^+, so the stacked fit is the mean of P y_k over the
    t generations; with P y_k = w_k + sigma P e_k this gives
    w_{t+1} = w_t + sigma P e_t / (t + 1), i.e. the same cumulative sum with
    the k-th draw weighted 1/(k + 1). No stacked pinv, no stack.
  * Errors in row-space coordinates: w_t - w* = V d_t - w_perp with
    d_t = sigma S^-1 sum_k c_k z_k and w_perp = (I - H) w* (zero when n >= d),
    so weight_error = ||d_t||^2 + ||w_perp||^2 and, with
    G = X_test^T X_test / m, test_mse = (w_t - w*)^T G (w_t - w*)
    = d_t^T (V^T G V) d_t - 2 d_t^T V^T G w_perp + w_perp^T G w_perp.
  * Only (S, V) of X and G of X_test are used, so when n >= d (resp.
    m >= d) they are drawn from X^T X ~ Wishart_d(n, I) by Bartlett's
    decomposition L L^T (L lower triangular, L_ii^2 ~ chi2(n - i + 1),
    L_ij ~ N(0, 1) below the diagonal): the SVD of the d x d factor L gives
    X's singular values and right singular vectors exactly in distribution
    (X = Q L^T), for d(d+1)/2 draws instead of n d. n < d draws X itself.
  * Accumulate-Subsample: the pool is t copies of X's rows with their
    labels. A subsample picks row i of X m_i times (from different
    generations); its least-squares objective is
    sum_i m_i (x_i^T w - ybar_i)^2 + const, so its min-norm solution is that
    of the weighted problem with m and the per-row label sums s_i:
    X^T M X w = X^T s. When the subsample has >= d + max(8, d/4) distinct
    rows (so the Gram is well conditioned) this d x d system is solved directly
    (2 n d^2 per fit, one batched GEMM, instead of an SVD of the subsample);
    otherwise pinv(sqrt(M) X) (s / sqrt(m)), the same min-norm solution.
    The n-subset of the t n pool is drawn per seed by drawing n indices
    with replacement and redrawing duplicates until none are left (a
    permutation-equivariant procedure whose output is always an n-subset,
    hence a uniform one), or by the n smallest of t n uniform keys when
    t < 4. The labels y_k are kept ([S, T, n]) since later subsamples reuse
    them.

pinv's cutoff (singular values below 1e-15 s_max treated as 0) is kept in
both implementations. One place where they differ on purpose: in the
authors' Accumulate with n < d the stacked t n x d design has rank n, and
once t n is large (t ~ 50-80 at d = 32, n = 10) SVD's round-off puts a
zero singular value above the 1e-15 s_max cutoff, pinv inverts it and the
fit explodes (weight_error ~ 1e25 by t = 100). That is numerical error in
their loop, not the protocol; --impl fast computes the exact min-norm fit
(row-space recursion), so in those cells and iterations they disagree. --self-check runs both on a small grid and compares
them (identities to rounding on shared random numbers; then the two
implementations' distributions, per cell and checked iteration).
"""
import argparse
import math
import sys
import time
from decimal import Decimal

import numpy as np

SETTINGS = ("replace", "accumulate", "accumulate-subsample")
AUTHORS_NAME = {"replace": "Replace", "accumulate": "Accumulate",
                "accumulate-subsample": "Accumulate-Subsample"}
HEADER = "setting,dim,n,sigma_squared,seed,iteration,test_mse,weight_error"
RCOND = 1e-15   # np.linalg.pinv's default


def int_list(text):
    return [int(v) for v in text.split(",") if v]


def float_list(text):
    return [float(v) for v in text.split(",") if v]


def csv_number(x):
    """x as C#'s double.ToString("R", InvariantCulture) spells it (CsvNumber.Format).

    Both are shortest round-trip; they differ only in spelling: "1" not "1.0",
    "1E-05" not "1e-05", and C# switches to scientific from 1E+15 (Python from 1e+16).
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    r = repr(x)
    if "e" in r:
        return r.replace("e", "E")
    if abs(x) < 1e15:
        return r[:-2] if r.endswith(".0") else r
    dec = Decimal(r)                     # 1e15 <= |x| < 1e16: C# goes scientific, Python not yet
    digits = "".join(map(str, dec.as_tuple().digits)).rstrip("0")
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return ("-" if x < 0 else "") + f"{mant}E+{dec.adjusted():02d}"


# --------------------------------------------------------------------------
# The authors' loop (fit_linear_regressions.py without wandb).

def authors_run(setting, d, n, sigma_squared, seed, T, test_size, out):
    """One seed of one cell; out[t] = (test_mse, weight_error) of iteration t + 1."""
    np.random.seed(seed)
    sigma = np.sqrt(sigma_squared)
    w_star = np.random.randn(d)
    X_train_init = np.random.randn(n, d)
    X_train = X_train_init.copy()
    Y_train = X_train @ w_star + sigma * np.random.randn(n)
    X_test = np.random.randn(test_size, d)
    Y_test = X_test @ w_star
    for iteration_idx in range(1, T + 1):
        if setting in {"Accumulate", "Replace"}:
            w_hat = np.linalg.pinv(X_train) @ Y_train
        elif setting in {"Accumulate-Subsample"}:
            subsample_idx = np.random.choice(np.arange(X_train.shape[0]), size=n, replace=False)
            w_hat = np.linalg.pinv(X_train[subsample_idx]) @ Y_train[subsample_idx]
        else:
            raise ValueError(f"Unknown setting: {setting}")
        Y_test_hat = X_test @ w_hat
        out[iteration_idx - 1, 0] = np.mean((Y_test - Y_test_hat) ** 2)
        out[iteration_idx - 1, 1] = np.sum((w_hat - w_star) ** 2)   # ours; draws nothing
        Y_train_new = X_train_init @ w_hat + sigma * np.random.randn(n)
        if setting == "Replace":
            Y_train = Y_train_new
        else:
            X_train = np.concatenate((X_train, X_train_init))
            Y_train = np.concatenate((Y_train, Y_train_new))


def run_authors(setting, d, n, sigma_squared, seeds, T, test_size, rng_key):
    out = np.empty((len(seeds), T, 2))
    for i, seed in enumerate(seeds):
        authors_run(AUTHORS_NAME[setting], d, n, sigma_squared, seed, T, test_size, out[i])
    return out


# --------------------------------------------------------------------------
# The fast implementation: all seeds of a cell at once.

def bartlett(rng, S, m, d):
    """[S, d, d] lower-triangular L with L L^T ~ Wishart_d(m, I), m >= d."""
    L = np.zeros((S, d, d))
    lo = np.tril_indices(d, -1)
    L[:, lo[0], lo[1]] = rng.standard_normal((S, lo[0].size))
    diag = np.arange(d)
    L[:, diag, diag] = np.sqrt(rng.chisquare(m - diag, size=(S, d)))
    return L


def test_gram(rng, S, m, d):
    """G = X_test^T X_test / m for S independent m x d standard-normal test sets."""
    if m >= d:
        L = bartlett(rng, S, m, d)
        G = np.matmul(L, L.transpose(0, 2, 1))
    else:
        Xt = rng.standard_normal((S, m, d))
        G = np.matmul(Xt.transpose(0, 2, 1), Xt)
    G /= m
    return G


def design_factors(rng, S, n, d):
    """Right singular vectors V [S, d, r] (columns past X's rank zeroed) and 1/s [S, r] (0 there)."""
    if n >= d:
        U, s, _ = np.linalg.svd(bartlett(rng, S, n, d))   # X = Q L^T = (Q W) s U^T
        V = U
    else:
        _, s, Vt = np.linalg.svd(rng.standard_normal((S, n, d)), full_matrices=False)
        V = Vt.transpose(0, 2, 1)
    keep = s > RCOND * s[:, :1]
    inv_s = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
    return V * keep[:, None, :], inv_s


def metrics_rowspace(delta, V, w_perp, G, out):
    """out[:, t] = (test_mse, weight_error) for errors V delta_t - w_perp."""
    GV = np.matmul(G, V)                                     # [S, d, r]
    Gr = np.matmul(V.transpose(0, 2, 1), GV)                 # V^T G V
    g = np.einsum("sdr,sd->sr", GV, w_perp)                  # V^T G w_perp
    c0 = np.einsum("sd,sde,se->s", w_perp, G, w_perp)
    out[:, :, 0] = (np.einsum("str,str->st", np.matmul(delta, Gr), delta)
                    - 2.0 * np.einsum("str,sr->st", delta, g) + c0[:, None])
    out[:, :, 1] = np.einsum("str,str->st", delta, delta) + np.einsum("sd,sd->s", w_perp, w_perp)[:, None]


def fast_cumulative(rng, S, n, d, sigma, T, test_size, accumulate):
    V, inv_s = design_factors(rng, S, n, d)
    w_star = rng.standard_normal((S, d))
    w_perp = w_star - np.einsum("sdr,sr->sd", V, np.einsum("sdr,sd->sr", V, w_star))
    if n >= d:
        w_perp[:] = 0.0                                      # H = I
    G = test_gram(rng, S, test_size, d)
    z = rng.standard_normal((S, T, inv_s.shape[1]))
    if accumulate:
        z[:, 1:] /= np.arange(2, T + 1)[None, :, None]
    delta = np.cumsum(z, axis=1)
    delta *= (sigma * inv_s)[:, None, :]
    out = np.empty((S, T, 2))
    metrics_rowspace(delta, V, w_perp, G, out)
    return out


def uniform_subsets(rng, S, N, n):
    """[S, n] int: per row, a uniform n-subset of range(N)."""
    if N == n:
        return np.broadcast_to(np.arange(n), (S, n))
    if N < 4 * n:
        return np.argpartition(rng.random((S, N)), n - 1, axis=1)[:, :n]
    idx = rng.integers(0, N, size=(S, n))
    while True:
        idx.sort(axis=1)
        dup = np.zeros(idx.shape, dtype=bool)
        np.equal(idx[:, 1:], idx[:, :-1], out=dup[:, 1:])
        k = int(dup.sum())
        if k == 0:
            return idx
        idx[dup] = rng.integers(0, N, size=k)


def weighted_fit(X, m, ysum, d):
    """Min-norm least squares of the subsample given row multiplicities m and label sums ysum."""
    S = X.shape[0]
    w = np.empty((S, d))
    # Normal equations square the condition number; with k >= d + max(8, d/4) distinct Gaussian rows it
    # stays small (rounding ~1e-12 relative), nearer to rank deficiency the SVD path decides the rank.
    well = (m > 0).sum(axis=1) >= d + max(8, d // 4)
    if well.any():
        Xw, mw, sw = (X, m, ysum) if well.all() else (X[well], m[well], ysum[well])
        gram = np.matmul(Xw.transpose(0, 2, 1) * mw[:, None, :], Xw)
        rhs = np.matmul(Xw.transpose(0, 2, 1), sw[:, :, None])
        w[well] = np.linalg.solve(gram, rhs)[:, :, 0]
    bad = ~well
    if bad.any():
        root = np.sqrt(m[bad])
        A = X[bad] * root[:, :, None]
        b = np.divide(ysum[bad], root, out=np.zeros_like(root), where=root > 0)
        w[bad] = np.matmul(np.linalg.pinv(A), b[:, :, None])[:, :, 0]
    return w


def fast_subsample(rng, S, n, d, sigma, T, test_size):
    X = rng.standard_normal((S, n, d))
    w_star = rng.standard_normal((S, d))
    G = test_gram(rng, S, test_size, d)
    Y = np.empty((S, T, n))                    # Y[:, k] = labels of generation k (k = 0 real)
    Y[:, 0] = np.matmul(X, w_star[:, :, None])[:, :, 0] + sigma * rng.standard_normal((S, n))
    Yflat = Y.reshape(S, T * n)                # flat pool index k*n + i = row i of generation k
    rows = (np.arange(S) * n)[:, None]
    out = np.empty((S, T, 2))
    for t in range(1, T + 1):
        idx = uniform_subsets(rng, S, t * n, n)
        key = (rows + idx % n).ravel()
        m = np.bincount(key, minlength=S * n).reshape(S, n).astype(float)
        ysum = np.bincount(key, weights=np.take_along_axis(Yflat, idx, axis=1).ravel(),
                           minlength=S * n).reshape(S, n)
        w_hat = weighted_fit(X, m, ysum, d)
        e = w_hat - w_star
        out[:, t - 1, 0] = np.einsum("sd,sde,se->s", e, G, e)
        out[:, t - 1, 1] = np.einsum("sd,sd->s", e, e)
        if t < T:
            Y[:, t] = np.matmul(X, w_hat[:, :, None])[:, :, 0] + sigma * rng.standard_normal((S, n))
    return out


def run_fast(setting, d, n, sigma_squared, seeds, T, test_size, rng_key):
    rng = np.random.default_rng(rng_key)
    S, sigma = len(seeds), math.sqrt(sigma_squared)
    if setting == "accumulate-subsample":
        return fast_subsample(rng, S, n, d, sigma, T, test_size)
    return fast_cumulative(rng, S, n, d, sigma, T, test_size, setting == "accumulate")


IMPLS = {"authors": run_authors, "fast": run_fast}


def cell_key(seed, setting, d, n, sigma_squared, first_seed):
    """A stream per cell (and first seed), so a cell's numbers do not depend on which other cells ran."""
    bits = int(np.float64(sigma_squared).view(np.uint64))
    return [seed, SETTINGS.index(setting), d, n, bits & 0xFFFFFFFF, bits >> 32, first_seed]


# --------------------------------------------------------------------------

def blas_facts():
    """(version, core type, threads) of the BLAS numpy loaded, via threadpoolctl when present."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "?", "? (python3-threadpoolctl not installed)", "?"
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return (f"{info.get('internal_api', '?')} {info.get('version', '?')}",
                    info.get("architecture", "?"), info.get("num_threads", "?"))
    return "?", "?", "?"


def sweep(impl, a, write=None, seeds_per_cell=False):
    """Runs the grid; returns per-setting seconds. write(setting, d, n, v, seeds, out) is called untimed.

    seeds_per_cell (self-check only): cell c runs seeds first + c S .. first + (c+1) S - 1, so the
    authors' cells, which otherwise share np.random.seed(seed) and hence their draws, are independent.
    """
    run = IMPLS[impl]
    per_setting = {}
    cell = 0
    for s in a.settings:
        elapsed = 0.0
        for d in a.dims:
            for n in a.samples:
                for v in a.sigma_squared:
                    first = a.first_seed + (cell * a.seeds if seeds_per_cell else 0)
                    cell += 1
                    seeds = list(range(first, first + a.seeds))
                    t0 = time.perf_counter()
                    out = run(s, d, n, v, seeds, a.iterations, a.test_size,
                              cell_key(a.seed, s, d, n, v, first))
                    dt = time.perf_counter() - t0
                    elapsed += dt
                    if a.verbose:
                        print(f"cell setting={s} d={d} n={n} sigma_squared={csv_number(v)} seconds={dt:.3f} "
                              f"final_weight_error_median={np.median(out[:, -1, 1]):.6g}", flush=True)
                    if write:
                        write(s, d, n, v, seeds, out)
        per_setting[s] = elapsed
        print(f"setting={s} seconds={elapsed:.3f}", flush=True)
    return per_setting


def csv_writer(f):
    def write(s, d, n, v, seeds, out):
        prefix = f"{s},{d},{n},{csv_number(v)},"
        T = out.shape[1]
        lines = []
        for i, seed in enumerate(seeds):
            p = f"{prefix}{seed},"
            mse, err = out[i, :, 0].tolist(), out[i, :, 1].tolist()
            lines.extend(f"{p}{t + 1},{csv_number(mse[t])},{csv_number(err[t])}\n" for t in range(T))
        f.write("".join(lines))
    return write


# --------------------------------------------------------------------------
# --self-check

def check_identities():
    """The fast path's algebra against the authors' operations on shared random numbers."""
    rng = np.random.default_rng(12345)
    worst = {}
    for n, d in ((10, 3), (10, 10), (10, 32), (100, 10), (7, 7)):
        X = rng.standard_normal((n, d))
        w_star = rng.standard_normal(d)
        sigma, T = 0.7, 12
        eps = rng.standard_normal((T, n))
        P = np.linalg.pinv(X)
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        for acc in (False, True):
            # authors: pinv of the (stacked) design every iteration
            Xs, ys, got = X, X @ w_star + sigma * eps[0], []
            for t in range(1, T + 1):
                w = np.linalg.pinv(Xs) @ ys
                got.append(w)
                y_new = X @ w + sigma * eps[t] if t < T else None
                if t < T:
                    Xs, ys = (np.concatenate((Xs, X)), np.concatenate((ys, y_new))) if acc else (X, y_new)
            # identity: w_1 = H w* + sigma P e_0; w_{t+1} = w_t + c_t sigma V S^-1 (U^T e_t)
            z = eps @ U                                   # U^T e_t, the r-vector the fast path draws
            c = 1.0 / np.arange(1, T + 1) if acc else np.ones(T)
            w_id = Vt.T @ (Vt @ w_star) + np.cumsum(sigma * c[:, None] * (z / s), axis=0) @ Vt
            rel = np.max(np.abs(np.array(got) - w_id)) / np.max(np.abs(w_id))
            key = "accumulate" if acc else "replace"
            worst[key] = max(worst.get(key, 0.0), rel)
        # subsample: pinv of the chosen rows vs the weighted normal equations / weighted pinv
        t = 5
        Y = rng.standard_normal((t, n))
        idx = rng.choice(t * n, size=n, replace=False)
        Xp, Yp = np.tile(X, (t, 1)), Y.reshape(-1)
        w_ref = np.linalg.pinv(Xp[idx]) @ Yp[idx]
        m = np.bincount(idx % n, minlength=n).astype(float)
        ysum = np.bincount(idx % n, weights=Yp[idx], minlength=n)
        w_w = weighted_fit(X[None], m[None], ysum[None], d)[0]
        rel = np.max(np.abs(w_w - w_ref)) / np.max(np.abs(w_ref))
        worst["accumulate-subsample"] = max(worst.get("accumulate-subsample", 0.0), rel)
    ok = all(v < 1e-8 for v in worst.values())
    for k, v in worst.items():
        print(f"identity setting={k} max_relative_difference={v:.3g}")
    return ok


def mann_whitney_z(a, b):
    """Normal-approximation z of the Mann-Whitney U statistic (ties get mid-ranks)."""
    x = np.concatenate((a, b))
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(1, x.size + 1)
    xs = x[order]
    start = np.r_[0, np.flatnonzero(xs[1:] != xs[:-1]) + 1]
    end = np.r_[start[1:], x.size]
    for s0, e0 in zip(start, end):
        if e0 - s0 > 1:
            ranks[order[s0:e0]] = (s0 + e0 + 1) / 2
    n1, n2 = a.size, b.size
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    return (u - n1 * n2 / 2) / math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)


def self_check(a):
    ok = check_identities()
    results = {}
    for impl in ("authors", "fast"):
        print(f"running impl={impl}...", flush=True)
        got = {}
        sweep(impl, a, write=lambda s, d, n, v, seeds, out: got.__setitem__((s, d, n, v), out),
              seeds_per_cell=True)
        results[impl] = got
    T = a.iterations
    checked = sorted({1, max(1, T // 2), T})
    mw, mean_z, worst = {"test_mse": [], "weight_error": []}, [], None
    print("cell,iteration,metric,authors_mean,fast_mean,mean_z,mann_whitney_z")
    for key, A in results["authors"].items():
        F = results["fast"][key]
        s, d, n, v = key
        for t in checked:
            for j, name in enumerate(("test_mse", "weight_error")):
                x, y = A[:, t - 1, j], F[:, t - 1, j]
                z_mw = mann_whitney_z(x, y)
                mw[name].append(z_mw)
                # means only where the variance is finite: E[tr((X^T X)^-2)] needs n > d + 3
                se = math.hypot(x.std(ddof=1) / math.sqrt(x.size), y.std(ddof=1) / math.sqrt(y.size))
                z_m = (x.mean() - y.mean()) / se if se > 0 else 0.0
                if n > d + 3 and s != "accumulate-subsample" or n > 4 * d:
                    mean_z.append(z_m)
                if worst is None or abs(z_mw) > abs(worst[0]):
                    worst = (z_mw, key, t, name)
                print(f"{s} d={d} n={n} sigma_squared={csv_number(v)},{t},{name},"
                      f"{x.mean():.5g},{y.mean():.5g},{z_m:+.2f},{z_mw:+.2f}")
    # Independent cells; within a cell the checked iterations of one chain are correlated, and
    # test_mse tracks weight_error closely (E x x^T = I), so count per metric.
    for name, zs in mw.items():
        zs = np.abs(zs)
        print(f"mann_whitney metric={name}: tests={zs.size} |z|>2: {int((zs > 2).sum())} "
              f"(~{0.0455 * zs.size:.0f} expected by chance) |z|>3: {int((zs > 3).sum())} max|z|={zs.max():.2f}")
    print(f"mann_whitney largest |z|: {worst[0]:+.2f} at {worst[1]} t={worst[2]} {worst[3]}")
    mean_z = np.abs(mean_z)
    print(f"means (cells with finite variance): tests={mean_z.size} |z|>2: {int((mean_z > 2).sum())} "
          f"|z|>3: {int((mean_z > 3).sum())} max|z|={mean_z.max():.2f}")
    ok = ok and abs(worst[0]) < 4.5 and mean_z.max() < 4.5
    print("self_check=" + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--impl", choices=tuple(IMPLS), default="authors")
    p.add_argument("--dims", type=int_list, default=None, help="default 1,3,10,32,100")
    p.add_argument("--samples", type=int_list, default=None, help="default 10,32,100,316,1000")
    p.add_argument("--sigma-squared", type=float_list, default=None, help="default 0.1,1,10")
    p.add_argument("--seeds", type=int, default=None, help="default 100")
    p.add_argument("--first-seed", type=int, default=0,
                   help="seeds are first-seed .. first-seed+seeds-1 (authors: np.random.seed(seed))")
    p.add_argument("--iterations", type=int, default=None, help="default 100")
    p.add_argument("--settings", type=lambda s: s.split(","), default=list(SETTINGS))
    p.add_argument("--test-size", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0, help="master seed of --impl fast's streams")
    p.add_argument("--out", help="write the rows to this CSV (" + HEADER + ")")
    p.add_argument("--verbose", action="store_true", help="print a line per cell")
    p.add_argument("--self-check", action="store_true",
                   help="compare --impl fast with --impl authors (default grid d 1,3,10; n 10,32,100; "
                        "100 seeds; 20 iterations)")
    a = p.parse_args(argv)
    for s in a.settings:
        if s not in SETTINGS:
            p.error(f"unknown setting {s!r}; choose from {','.join(SETTINGS)}")
    small = a.self_check
    a.dims = a.dims or ([1, 3, 10] if small else [1, 3, 10, 32, 100])
    a.samples = a.samples or ([10, 32, 100] if small else [10, 32, 100, 316, 1000])
    a.sigma_squared = a.sigma_squared or [0.1, 1.0, 10.0]
    a.seeds = a.seeds or 100
    a.iterations = a.iterations or (20 if small else 100)

    version, core, threads = blas_facts()
    print(f"numpy {np.__version__}, {version} core={core} threads={threads}, impl={a.impl}, "
          f"S={a.seeds} first_seed={a.first_seed}, T={a.iterations}, test_size={a.test_size}, seed={a.seed}, "
          f"dims={','.join(map(str, a.dims))} samples={','.join(map(str, a.samples))} "
          f"sigma_squared={','.join(map(csv_number, a.sigma_squared))}", flush=True)
    if a.self_check:
        return self_check(a)

    start = time.perf_counter()
    if a.out:
        with open(a.out, "w") as f:
            f.write(HEADER + "\n")
            per_setting = sweep(a.impl, a, csv_writer(f))
    else:
        per_setting = sweep(a.impl, a)
    total = time.perf_counter() - start
    print(f"compute_seconds={sum(per_setting.values()):.3f}")
    print(f"total_seconds={total:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
