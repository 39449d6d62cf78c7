"""Profile-likelihood fitting on a shape grid, vectorised over entities and weight vectors at once.

For fixed shape parameters (Hill k, s; power b; log k) the Poisson MLE of the scale `a` is closed
form, so the likelihood is profiled: every shape candidate of a fixed grid is scored for every
entity and every weight vector (full data, cross-validation folds, bootstrap replicates) with two
matrix products; the best candidate is refined by parabolas through its grid neighbours, and the
refined point is kept only if it scores better. No per-entity numerical optimiser runs, which is
what makes thousands of entities with bootstrap bands affordable.

Shapes are profiled in transformed coordinates: log(k / scale) with `scale` the entity's typical
spend (so one grid serves entities of any size), and s or b directly. Optional Gaussian penalties
pull the transformed shape toward a prior (pooling thin keywords toward their campaign).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.errors import InvalidInputError
from optimizer.families import FAMILIES
from optimizer.models.likelihood import closed_form_scale

__all__ = [
    "SHAPE_SPACES",
    "ProfileFit",
    "ShapeSpace",
    "basis_sums",
    "fixed_shape_scale",
    "profile_fit",
    "scale_for_shape",
    "spend_scale",
    "to_natural",
    "to_transformed",
]

FloatArray = npt.NDArray[np.float64]

_CHUNK_ELEMENTS = 2_000_000
_EXP_LIMIT = 60.0


@dataclass(frozen=True)
class ShapeSpace:
    """The grid a family's shape is profiled on: one evenly spaced axis per transformed coordinate.

    `prior_scales` are the penalty's units per coordinate: with prior_strength 1 a shape one unit
    away from the prior costs one unit of deviance.
    """

    family: str
    coords: tuple[str, ...]
    axes: tuple[tuple[float, ...], ...]
    prior_scales: tuple[float, ...]

    def axis(self, i: int) -> FloatArray:
        return np.asarray(self.axes[i], dtype=np.float64)

    @property
    def steps(self) -> FloatArray:
        return np.array([ax[1] - ax[0] for ax in self.axes], dtype=np.float64)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(ax) for ax in self.axes)

    def candidates(self) -> tuple[FloatArray, ...]:
        """Every grid point, one flat array per coordinate (C-order over the axes)."""
        mesh = np.meshgrid(*(self.axis(i) for i in range(len(self.axes))), indexing="ij")
        return tuple(m.ravel() for m in mesh)


def _axis(lo: float, hi: float, n: int) -> tuple[float, ...]:
    return tuple(float(v) for v in np.linspace(lo, hi, n))


SHAPE_SPACES: dict[str, ShapeSpace] = {
    "hill": ShapeSpace(
        "hill", ("log_k", "s"), (_axis(-4.0, 4.0, 25), _axis(0.1, 1.0, 10)), (1.0, 0.25)
    ),
    "power": ShapeSpace("power", ("b",), (_axis(0.02, 1.0, 50),), (0.25,)),
    "log": ShapeSpace("log", ("log_k",), (_axis(-7.0, 7.0, 36),), (1.0,)),
    "s_hill": ShapeSpace(
        "s_hill", ("log_k", "s"), (_axis(-4.0, 4.0, 25), _axis(1.25, 4.0, 8)), (1.0, 0.25)
    ),
}


@dataclass(frozen=True, eq=False)
class ProfileFit:
    """Fitted parameters (natural units, including `a`) with shape (entities, weight vectors)."""

    family: str
    params: dict[str, FloatArray]
    objective: FloatArray


def spend_scale(spend: FloatArray, weights: FloatArray | None = None) -> FloatArray:
    """Each row's weighted geometric mean of positive spend (1 where it never spent).

    A geometric mean is invariant to repeating days, so integer sample weights and repeated rows
    give the same grid.
    """
    x = np.atleast_2d(np.asarray(spend, dtype=np.float64))
    w = np.ones_like(x) if weights is None else np.broadcast_to(weights, x.shape)
    positive = (x > 0) & (w > 0)
    wp = np.where(positive, w, 0.0)
    total = wp.sum(axis=-1)
    logs = np.where(positive, np.log(np.where(positive, x, 1.0)), 0.0)
    mean_log = np.where(total > 0, (wp * logs).sum(axis=-1) / np.where(total > 0, total, 1.0), 0.0)
    return np.asarray(np.exp(mean_log), dtype=np.float64)


def _basis(family: str, lx: FloatArray, t: Sequence[FloatArray]) -> tuple[FloatArray, FloatArray]:
    """g and log g at log(spend / scale) = lx for transformed shape t (broadcasting).

    Written with exp and log only (vectorised in numpy, several times faster than the special
    functions); arguments are clipped far outside any spend range seen in practice to stay finite.
    """
    if family in ("hill", "s_hill"):
        u = np.clip(t[1] * (lx - t[0]), -_EXP_LIMIT, _EXP_LIMIT)
        r = np.exp(u)
        g = r / (1.0 + r)
        return g, np.log(g)
    if family == "power":
        logg = t[0] * lx
        return np.exp(logg), np.asarray(logg, dtype=np.float64)
    if family == "log":
        g = np.log1p(np.exp(np.clip(lx - t[0], -_EXP_LIMIT, _EXP_LIMIT)))
        return g, np.log(g)
    raise InvalidInputError(f"no shape space for curve family '{family}'")


def to_natural(
    family: str, t: Sequence[FloatArray], a_rel: FloatArray, scale: FloatArray
) -> dict[str, FloatArray]:
    """Transformed shape and relative scale -> the family's own parameters (see families.py)."""
    if family in ("hill", "s_hill"):
        return {"a": a_rel, "k": scale * np.exp(t[0]), "s": t[1]}
    if family == "power":
        return {"a": a_rel * np.exp(-t[0] * np.log(scale)), "b": t[0]}
    if family == "log":
        return {"a": a_rel, "k": scale * np.exp(t[0])}
    raise InvalidInputError(f"no shape space for curve family '{family}'")


def to_transformed(
    family: str, params: Mapping[str, npt.ArrayLike], scale: FloatArray
) -> tuple[FloatArray, ...]:
    """The family's shape parameters -> transformed coordinates relative to `scale`."""
    if family in ("hill", "log", "s_hill"):
        log_k = np.log(np.asarray(params["k"], dtype=np.float64) / scale)
        if family == "log":
            return (log_k,)
        return (log_k, np.asarray(params["s"], dtype=np.float64))
    if family == "power":
        return (np.asarray(params["b"], dtype=np.float64),)
    raise InvalidInputError(f"no shape space for curve family '{family}'")


def _parabola(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Vertex (index, value) of the parabola through the minimum of `values` (last axis).

    The three-point stencil moves inward at the ends of the axis; the vertex stays on the grid.
    """
    n = values.shape[-1]
    best = np.argmin(values, axis=-1)
    centre = np.clip(best, 1, n - 2)[..., None]
    qm = np.take_along_axis(values, centre - 1, axis=-1)[..., 0]
    q0 = np.take_along_axis(values, centre, axis=-1)[..., 0]
    qp = np.take_along_axis(values, centre + 1, axis=-1)[..., 0]
    slope = 0.5 * (qp - qm)
    curvature = 0.5 * (qp + qm) - q0
    ok = curvature > 1e-12
    delta = np.where(ok, -slope / (2.0 * np.where(ok, curvature, 1.0)), 0.0)
    delta = np.where(ok, np.clip(delta, -1.0, 1.0), (best - centre[..., 0]).astype(np.float64))
    position = np.clip(centre[..., 0] + delta, 0.0, n - 1.0)
    delta = position - centre[..., 0]
    return position, q0 + slope * delta + curvature * delta**2


def _refined_position(q: FloatArray) -> FloatArray:
    """Fractional grid position (..., dims) of the profile's minimum, from grid values (...,
    *shape).

    Two coordinates are refined nested: for every s the best log k by a parabola, then s by a
    parabola through those minima, which follows the curved ridge along which k and s trade off.
    """
    if q.ndim == 3:
        position, _ = _parabola(q)
        return position[..., None]
    inner_pos, inner_val = _parabola(np.swapaxes(q, -1, -2))
    outer_pos, _ = _parabola(inner_val)
    n = inner_pos.shape[-1]
    centre = np.clip(np.rint(outer_pos).astype(np.int64), 1, n - 2)[..., None]
    d = outer_pos - centre[..., 0]
    pm = np.take_along_axis(inner_pos, centre - 1, axis=-1)[..., 0]
    p0 = np.take_along_axis(inner_pos, centre, axis=-1)[..., 0]
    pp = np.take_along_axis(inner_pos, centre + 1, axis=-1)[..., 0]
    first = p0 + 0.5 * d * (pp - pm) + 0.5 * d**2 * (pp + pm - 2.0 * p0)
    first = np.clip(first, 0.0, q.shape[-2] - 1.0)
    return np.stack([first, outer_pos], axis=-1)


def _objective(y_sum: FloatArray, s1: FloatArray, s2: FloatArray) -> FloatArray:
    """Profiled negative log-likelihood up to a constant: -(Y log(Y / S1) + S2)."""
    ok = (y_sum > 0) & (s1 > 0)
    ratio = np.where(ok, y_sum, 1.0) / np.where(ok, s1, 1.0)
    return np.asarray(-(np.where(ok, y_sum * np.log(ratio), 0.0) + s2), dtype=np.float64)


def _penalty(
    t: Sequence[FloatArray],
    center: FloatArray | None,
    strength: FloatArray | None,
    scales: tuple[float, ...],
) -> FloatArray | float:
    """Half the deviance penalty, strength * sum(((t - center) / scale)^2) / 2 (broadcasting)."""
    if center is None or strength is None:
        return 0.0
    total: FloatArray | float = 0.0
    for i, coord in enumerate(t):
        c = center[:, i].reshape((-1,) + (1,) * (coord.ndim - 1))
        total = total + ((coord - c) / scales[i]) ** 2
    s = strength.reshape((-1,) + (1,) * (np.ndim(total) - 1))
    return 0.5 * s * total


def profile_fit(
    family: str,
    spend: FloatArray,
    conversions: FloatArray,
    exposure: FloatArray,
    weights: FloatArray,
    *,
    scale: FloatArray | None = None,
    prior_center: FloatArray | None = None,
    prior_strength: FloatArray | None = None,
) -> ProfileFit:
    """Fit one family to K entities under R weight vectors: params of shape (K, R).

    spend, conversions, exposure: (K, N) daily series; weights: (R, N) day weights shared by all
    entities (e.g. fold indicators or bootstrap counts). Days without spend or exposure carry no
    information about the curve (every family is 0 at 0) and are left out. prior_center: (K, P)
    transformed coordinates (see `to_transformed`); prior_strength: (K,), 0 for no pooling.
    """
    if family not in SHAPE_SPACES:
        raise InvalidInputError(
            f"unknown curve family '{family}'; known: {', '.join(sorted(SHAPE_SPACES))}"
        )
    x = np.atleast_2d(np.asarray(spend, dtype=np.float64))
    k_count, n_days = x.shape
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    sc = spend_scale(x) if scale is None else np.asarray(scale, dtype=np.float64)
    space = SHAPE_SPACES[family]
    per_chunk = max(1, _CHUNK_ELEMENTS // max(1, n_days * int(np.prod(space.shape))))
    parts = [
        _profile_chunk(
            space,
            x[lo : lo + per_chunk],
            np.atleast_2d(conversions)[lo : lo + per_chunk],
            np.broadcast_to(exposure, x.shape)[lo : lo + per_chunk],
            w,
            sc[lo : lo + per_chunk],
            None if prior_center is None else prior_center[lo : lo + per_chunk],
            None if prior_strength is None else prior_strength[lo : lo + per_chunk],
        )
        for lo in range(0, k_count, per_chunk)
    ]
    if len(parts) == 1:
        return parts[0]
    names = FAMILIES[family].param_names
    return ProfileFit(
        family,
        {name: np.concatenate([p.params[name] for p in parts]) for name in names},
        np.concatenate([p.objective for p in parts]),
    )


def _profile_chunk(
    space: ShapeSpace,
    x: FloatArray,
    y: FloatArray,
    exposure: FloatArray,
    w: FloatArray,
    scale: FloatArray,
    center: FloatArray | None,
    strength: FloatArray | None,
) -> ProfileFit:
    k_count, n_days = x.shape
    r_count = w.shape[0]
    lx, me, my = _informative(x, y, exposure, scale)
    cand = space.candidates()
    c_count = cand[0].size
    g, logg = _basis(space.family, lx[:, None, :], [c[None, :, None] for c in cand])
    wt = np.ascontiguousarray(w.T)
    s1 = ((g * me[:, None, :]).reshape(k_count * c_count, n_days) @ wt).reshape(
        k_count, c_count, r_count
    )
    s2 = ((logg * my[:, None, :]).reshape(k_count * c_count, n_days) @ wt).reshape(
        k_count, c_count, r_count
    )
    y_sum = my @ wt
    q = _objective(y_sum[:, None, :], s1, s2).transpose(0, 2, 1)
    q = q + _penalty([c[None, None, :] for c in cand], center, strength, space.prior_scales)
    best = np.argmin(q, axis=-1)
    q_best = np.take_along_axis(q, best[..., None], axis=-1)[..., 0]

    dims = len(space.axes)
    idx = np.stack(np.unravel_index(best, space.shape), axis=-1)
    grid_point = np.stack([space.axis(i)[idx[..., i]] for i in range(dims)], axis=-1)
    position = _refined_position(q.reshape(*q.shape[:2], *space.shape))
    lows = np.array([ax[0] for ax in space.axes])
    refined = lows + position * space.steps

    t_ref = [refined[..., i] for i in range(dims)]
    g_r, logg_r = _basis(space.family, lx[:, None, :], [t[..., None] for t in t_ref])
    s1_r = np.einsum("krn,kn,rn->kr", g_r, me, w)
    s2_r = np.einsum("krn,kn,rn->kr", logg_r, my, w)
    q_ref = _objective(y_sum, s1_r, s2_r) + _penalty(t_ref, center, strength, space.prior_scales)
    better = q_ref < q_best
    t_final = [np.where(better, refined[..., i], grid_point[..., i]) for i in range(dims)]
    s1_best = np.take_along_axis(s1.transpose(0, 2, 1), best[..., None], axis=-1)[..., 0]
    s1_final = np.where(better, s1_r, s1_best)
    a_rel = closed_form_scale(y_sum, s1_final)
    params = to_natural(space.family, t_final, a_rel, scale[:, None])
    return ProfileFit(space.family, params, np.where(better, q_ref, q_best))


def _informative(
    x: FloatArray, y: FloatArray, exposure: FloatArray, scale: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """log(spend / scale), exposure and conversions, zeroed on days without spend or exposure
    (every family is 0 at 0 spend, so those days say nothing about a curve)."""
    mask = (x > 0) & (exposure > 0)
    lx = np.where(mask, np.log(np.where(mask, x, 1.0) / scale[:, None]), 0.0)
    return lx, np.where(mask, exposure, 0.0), np.where(mask, y, 0.0)


def scale_for_shape(
    family: str,
    t: Sequence[FloatArray],
    spend: FloatArray,
    conversions: FloatArray,
    exposure: FloatArray,
    weights: FloatArray,
    scale: FloatArray,
) -> dict[str, FloatArray]:
    """Natural parameters (K, R) for given transformed shapes t (each (K, R)): the Poisson MLE of
    `a` under every weight vector, the shape held where it is."""
    y_sum, s1 = basis_sums(family, t, spend, conversions, exposure, weights, scale)
    return to_natural(family, list(t), closed_form_scale(y_sum, s1), scale[:, None])


def basis_sums(
    family: str,
    t: Sequence[FloatArray],
    spend: FloatArray,
    conversions: FloatArray,
    exposure: FloatArray,
    weights: FloatArray,
    scale: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """(sum w y, sum w exposure g) per entity and weight vector (K, R) for transformed shapes t
    (each (K, R)): the two sums the Poisson MLE of the relative scale is the ratio of."""
    x = np.atleast_2d(np.asarray(spend, dtype=np.float64))
    lx, me, my = _informative(
        x, np.atleast_2d(conversions), np.broadcast_to(exposure, x.shape), scale
    )
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    g, _ = _basis(family, lx[:, None, :], [c[..., None] for c in t])
    s1 = np.einsum("krn,kn,rn->kr", g, me, w)
    return my @ w.T, s1


def fixed_shape_scale(
    family: str,
    shape: Mapping[str, FloatArray],
    spend: FloatArray,
    conversions: FloatArray,
    exposure: FloatArray,
    weights: FloatArray,
) -> FloatArray:
    """Poisson MLE of `a`, shape (K, R), for given per-entity shape parameters `shape`."""
    spec = FAMILIES[family]
    x = np.atleast_2d(np.asarray(spend, dtype=np.float64))
    expo = np.broadcast_to(exposure, x.shape)
    mask = (x > 0) & (expo > 0)
    unit = {
        name: np.asarray(shape[name], dtype=np.float64)[:, None]
        for name in spec.param_names
        if name != "a"
    }
    unit["a"] = np.ones((x.shape[0], 1))
    g = spec.function(x, *(unit[name] for name in spec.param_names))
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    me = np.where(mask, expo * g, 0.0)
    my = np.where(mask, np.atleast_2d(conversions), 0.0)
    return closed_form_scale(my @ w.T, me @ w.T)
