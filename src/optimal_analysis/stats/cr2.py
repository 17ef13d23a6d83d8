"""CR2 cluster-robust covariance with Satterthwaite degrees of freedom, for GLMs.

Bias-reduced linearisation (Bell & McCaffrey 2002) and the Satterthwaite
approximation of Pustejovsky & Tipton (2018), written as R's ``clubSandwich``
(0.5.x) computes them for a ``glm`` / ``MASS::glm.nb`` fit
(``coef_test(fit, vcov = "CR2", cluster = home, test = "Satterthwaite")``):
the fit is treated as its working weighted least-squares problem with

* ``U = diag(dμ/dη) X`` (log link: ``U = diag(μ) X``),
* weights ``W = diag(1/v)``, ``v = V(μ)`` the family variance (Poisson ``μ``,
  NB2 ``μ + αμ²`` with α held at its estimate), residuals ``e = y − μ``,
* target ``Θ = W⁻¹`` ("inverse-variance" working model),
* ``M = (UᵀWU)⁻¹``: the inverse of the expected information.

Everything per care home is an ``n_g × n_g`` matrix; homes of equal size are
stacked and handled by one batched eigen-decomposition, so the cost is
``Σ_g n_g³`` flops with a Python loop over the distinct home sizes only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["CR2Result", "cr2_satterthwaite"]

_EIGEN_TOL = 1e-12  # clubSandwich::matrix_power: eigenvalues <= 1e-12 are treated as 0


@dataclass(frozen=True)
class CR2Result:
    """``cov``: the (K × K) CR2 covariance; ``df``: Satterthwaite df of each coefficient."""

    cov: np.ndarray
    df: np.ndarray


def _by_size(codes: np.ndarray, max_cells: int = 4_000_000) -> list[np.ndarray]:
    """Row indices of the clusters, grouped by cluster size: arrays (m clusters × n rows),
    m·n² at most ``max_cells`` (memory of the stacked n × n matrices) unless m = 1."""
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    out: list[np.ndarray] = []
    for n in np.unique(sizes[sizes > 0]):
        first = starts[sizes == n]
        step = max(1, max_cells // (n * n))
        out.extend(
            order[f[:, None] + np.arange(n)] for f in np.split(first, range(step, first.size, step))
        )
    return out


def cr2_satterthwaite(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    mu: npt.ArrayLike,
    variance: npt.ArrayLike,
    clusters: npt.ArrayLike,
    *,
    max_cells: int = 4_000_000,
) -> CR2Result:
    """CR2 covariance and Satterthwaite df of a log-link GLM's coefficients.

    With ``s = √v`` and, for care home g, :math:`\\tilde U_g = \\operatorname{diag}(1/s_g)U_g`,
    :math:`\\tilde H_{gg} = \\tilde U_g M \\tilde U_g^\\top`:

    .. math::

        B_g = \\operatorname{diag}(v_g)(I - \\tilde H_{gg})\\operatorname{diag}(v_g),\\qquad
        A_g = \\operatorname{diag}(s_g)\\,B_g^{-1/2}\\operatorname{diag}(s_g),

    (clubSandwich's ``CR2`` with ``Θ_g = diag(v_g)``, ``chol(Θ_g) = diag(s_g)``),

    .. math::

        c_g = U_g^\\top W_g A_g e_g,\\qquad V^{CR2} = M\\Big(\\sum_g c_g c_g^\\top\\Big)M .

    Satterthwaite df of coefficient k (Pustejovsky & Tipton 2018, eq. 11, as
    ``clubSandwich:::get_GH`` / ``get_P_array``): with
    :math:`G_g = M U_g^\\top W_g A_g \\operatorname{diag}(s_g)` (K × n_g),
    :math:`h_{gk} = (M U_g^\\top W_g A_g U_g L)_{k\\cdot}` (``L`` the lower Cholesky
    factor of ``M``), :math:`d_{gk} = \\lVert (G_g)_{k\\cdot}\\rVert^2` and the
    G × G matrix :math:`P_k = \\operatorname{diag}(d_{\\cdot k}) - H_k^\\top H_k`
    (:math:`H_k` the K × G matrix of columns :math:`h_{gk}`),

    .. math::

        \\nu_k = \\frac{(\\operatorname{tr} P_k)^2}{\\lVert P_k\\rVert_F^2},\\quad
        \\lVert P_k\\rVert_F^2 = \\sum_g d_{gk}^2 - 2\\sum_g d_{gk}\\lVert h_{gk}\\rVert^2
        + \\lVert H_k H_k^\\top\\rVert_F^2,

    the last identity avoiding the G × G matrix.

    Parameters
    ----------
    x
        (N × K) model matrix.
    y, mu, variance
        (N,) counts, fitted means and the family variance at the fit.
    clusters
        (N,) integer cluster codes 0..G−1, every code used.
    max_cells
        Homes of one size are handled in stacks of at most ``max_cells`` matrix
        cells (m homes × n_g²): bounds the memory, not the result.
    """
    x = np.asarray(x, dtype=float)
    mu = np.asarray(mu, dtype=float)
    v = np.asarray(variance, dtype=float)
    e = np.asarray(y, dtype=float) - mu
    codes = np.asarray(clusters)
    k = x.shape[1]
    u = x * mu[:, None]  # dμ/dη = μ for the log link
    s = np.sqrt(v)
    u_tilde = u / s[:, None]
    m = np.linalg.inv(u_tilde.T @ u_tilde)
    m = (m + m.T) / 2
    chol_m = np.linalg.cholesky(m)
    n_clusters = int(codes.max()) + 1
    comp = np.empty((n_clusters, k))  # c_g
    d = np.empty((n_clusters, k))  # d_gk
    h = np.empty((n_clusters, k, k))  # rows k of M U_g' W_g A_g U_g L
    for rows in _by_size(codes, max_cells):
        ut = u_tilde[rows]  # (c, n, K)
        vg, sg = v[rows], s[rows]
        hat = ut @ m @ np.swapaxes(ut, 1, 2)
        n = rows.shape[1]
        b = vg[:, :, None] * (np.eye(n) - hat) * vg[:, None, :]
        lam, q = np.linalg.eigh(b)
        with np.errstate(divide="ignore"):
            root = np.where(lam > _EIGEN_TOL, 1 / np.sqrt(np.where(lam > 0, lam, 1)), 0.0)
        b_half = (q * root[:, None, :]) @ np.swapaxes(q, 1, 2)  # B_g^{-1/2}
        # U_g' W_g A_g = U~_g' B_g^{-1/2} diag(s_g)   (W_g diag(s_g) = diag(1/s_g))
        uwa = (np.swapaxes(ut, 1, 2) @ b_half) * sg[:, None, :]  # (c, K, n)
        cg = uwa @ e[rows][:, :, None]
        g_mat = (m @ uwa) * sg[:, None, :]  # G_g = M U' W A diag(s)
        ids = codes[rows[:, 0]]
        comp[ids] = cg[:, :, 0]
        d[ids] = np.sum(g_mat**2, axis=2)
        h[ids] = m @ (uwa @ u[rows]) @ chol_m
    cov = m @ (comp.T @ comp) @ m
    cov = (cov + cov.T) / 2
    hk = np.swapaxes(h, 0, 1)  # (K, G, K): hk[k, g] = h_gk
    trace = d.sum(axis=0) - np.einsum("kgj,kgj->k", hk, hk)
    hh = np.einsum("kgi,kgj->kij", hk, hk)
    frob = (
        np.sum(d**2, axis=0)
        - 2 * np.einsum("gk,kg->k", d, np.einsum("kgj,kgj->kg", hk, hk))
        + np.einsum("kij,kij->k", hh, hh)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        df = trace**2 / frob
    return CR2Result(cov, df)
