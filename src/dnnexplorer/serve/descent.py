"""The data behind the Learn page "Gradient descent you can steer" (/learn/descent).

    GET /api/learn/regression?seed=0     chapter 3's houses and the facts of their loss surface

The page walks gradient descent on J(w, b) = mean((yᵢ − (w·xᵢ + b))²) in the browser: a step
is a few multiplications on 100 houses, instant there, and a room full of learners costs the
server nothing. What the walk needs is fetched once, computed by the lessons' own functions
(`regression.straight_line_set`, `closed_form`, `gradient_descent.hessian`, ...): the houses,
the least-squares answer (the bottom of the bowl), the Hessian with its eigenvalues and
eigenvectors (the contour lines are ellipses along them), the critical learning rate 2/λ_max,
and the lesson's start, tolerance and divergence rule, so the page stops a walk exactly where
`gradient_descent.descend` does. Floats travel as JSON's shortest round-trip decimals, so the
browser holds the very same float64 numbers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from fastapi import FastAPI, Query

from dnnexplorer.lessons import gradient_descent as gd
from dnnexplorer.lessons import regression

MAX_SEED = 2**32 - 1  # numpy accepts larger seeds; a page has no use for them
WINDOW = 2.6  # the map shows the least-squares (w, b) ± this, as the lesson's paths.png does


def add_descent_routes(app: FastAPI) -> None:
    """Add GET /api/learn/regression to the lab (a bad seed gets a 422 JSON error)."""

    @app.get("/api/learn/regression")
    def regression_surface(seed: int = Query(0, ge=0, le=MAX_SEED)) -> dict[str, Any]:
        return surface(seed)


@lru_cache(maxsize=16)
def surface(seed: int) -> dict[str, Any]:
    """Chapter 3's houses for `seed` and everything the page draws and checks a walk with."""
    x, y = regression.straight_line_set(seed)
    w, b = regression.closed_form(x, y)
    h = gd.hessian(x)
    lam_min, lam_max = gd.eigenvalues(h)
    _, vectors = np.linalg.eigh(h)  # columns: the flat direction, then the steep one
    return {
        "seed": seed,
        "houses": {"x": x.tolist(), "y": y.tolist()},
        "least_squares": {"w": w, "b": b, "loss": regression.mean_squared_error(x, y, w, b)},
        "hessian": h.tolist(),
        "eigenvalues": [lam_min, lam_max],
        "eigenvectors": vectors.T.tolist(),  # rows, in the order of the eigenvalues
        "critical_learning_rate": gd.critical_learning_rate(x),
        "start": list(gd.START),
        "tolerance": gd.TOLERANCE,
        "diverged": gd.DIVERGED,
        "rates": gd.RATES,  # the lesson's four rates, as fractions of the critical one
        "window": {"w": [w - WINDOW, w + WINDOW], "b": [b - WINDOW, b + WINDOW]},
    }
