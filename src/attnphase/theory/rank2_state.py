"""Order parameters of a rank-2 student of a rank-1 teacher, and their O(2) gauge.

Theory normalisation as docs/model.md §5: `q` (2 x 2) = sigma^2 Q^T Q / d, `m` (2,) =
Q^T 1_d / d, `theta` (2,) = sigma^2 Q^T Q* / d, `V` (2 x 2). The student depends on Q only
through Q Q^T, so (q, m, theta, V) and (O^T q O, O^T m, O^T theta, O^T V O) describe the same
student for any orthogonal O: the state is put in a canonical frame after every step, and the
results are reported in invariant form (eigenvalues of q, |theta|, |m|).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class State2:
    """(q, m, theta, V) in the theory's normalisation."""

    q: np.ndarray
    m: np.ndarray
    theta: np.ndarray
    V: np.ndarray

    def vector(self) -> np.ndarray:
        """(q11, q12, q22, m1, m2, theta1, theta2, V11, V12, V22)."""
        q, V = self.q, self.V
        return np.array([q[0, 0], q[0, 1], q[1, 1], *self.m, *self.theta,
                         V[0, 0], V[0, 1], V[1, 1]], dtype=float)

    @classmethod
    def from_vector(cls, x) -> State2:
        """Inverse of `vector`."""
        x = np.asarray(x, dtype=float)
        return cls(np.array([[x[0], x[1]], [x[1], x[2]]]), x[3:5].copy(), x[5:7].copy(),
                   np.array([[x[7], x[8]], [x[8], x[9]]]))

    def rotated(self, O: np.ndarray) -> State2:
        """The same student in the frame of the orthogonal O: Q -> Q O."""
        return State2(O.T @ self.q @ O, O.T @ self.m, O.T @ self.theta, O.T @ self.V @ O)

    def valid(self, rho: float) -> bool:
        """Finite, q >= 0, V > 0 and the teacher's residual variance rho - theta q^+ theta >= 0."""
        x = self.vector()
        if not np.all(np.isfinite(x)):
            return False
        if np.linalg.eigvalsh(self.q)[0] < -1e-12 or np.linalg.eigvalsh(self.V)[0] <= 0:
            return False
        return float(self.theta @ np.linalg.pinv(self.q) @ self.theta) <= rho * (1 + 1e-9)


def canonical(s: State2, tiny: float = 1e-9) -> State2:
    """Rotate so that theta (or, where theta = 0, m) lies along column 1 with a positive
    entry, then reflect column 2 so that m_2 (or, failing that, q_12) is >= 0."""
    if np.linalg.norm(s.theta) > tiny:
        u, other = s.theta, "m"
    elif np.linalg.norm(s.m) > tiny:
        u, other = s.m, "q"
    else:
        _, vecs = np.linalg.eigh(s.q)
        u, other = vecs[:, 1], "none"
    u = u / np.linalg.norm(u)
    O = np.array([[u[0], -u[1]], [u[1], u[0]]])
    r = s.rotated(O)
    m_sets_sign = other == "m" and abs(r.m[1]) > tiny
    if (r.m[1] < 0) if m_sets_sign else (other != "none" and r.q[0, 1] < 0):
        r = r.rotated(np.diag([1.0, -1.0]))
    return r


def align(s: State2, tiny: float = 1e-9) -> State2:
    """Rotate by the smallest angle (|angle| <= pi / 2) that puts theta (or, where theta = 0,
    m) on the axis of column 1; no reflection. The iteration's frame: unlike `canonical` it
    never maps an image onto a reflected or sign-flipped copy, so a map that sends m to -m
    (a 2-cycle, not a fixed point) is not mistaken for a fixed point."""
    u = s.theta if np.linalg.norm(s.theta) > tiny else s.m
    if np.linalg.norm(u) <= tiny:
        return s
    u = u / np.linalg.norm(u)
    if u[0] < 0:
        u = -u
    return s.rotated(np.array([[u[0], -u[1]], [u[1], u[0]]]))


def invariants(s: State2, sigma: float) -> dict[str, float]:
    """Rotation-invariant summaries in the public normalisation of docs/model.md §4.

    q_eig1 >= q_eig2 the eigenvalues of q; |theta|, |m| the norms; per column in the
    canonical frame (column 1 along theta, or along m where theta = 0): q_11, q_22, theta_1,
    theta_2 (= 0 there), m_1, m_2.
    """
    c = canonical(s)
    s2 = sigma**2
    ev = np.linalg.eigvalsh(s.q) / s2
    return {"q_eig1": float(ev[1]), "q_eig2": float(ev[0]),
            "theta_norm": float(np.linalg.norm(s.theta) / s2),
            "m_norm": float(np.linalg.norm(s.m)),
            "q_11": float(c.q[0, 0] / s2), "q_22": float(c.q[1, 1] / s2),
            "q_12": float(c.q[0, 1] / s2),
            "theta_1": float(abs(c.theta[0]) / s2), "theta_2": float(abs(c.theta[1]) / s2),
            "m_1": float(abs(c.m[0])), "m_2": float(abs(c.m[1])),
            "V_eig1": float(np.linalg.eigvalsh(s.V)[1]),
            "V_eig2": float(np.linalg.eigvalsh(s.V)[0])}
