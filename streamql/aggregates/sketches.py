"""Aggregations in bounded memory for endless streams, each with its error bound.

:class:`ApproxDistinct` (HyperLogLog, about 0.8%), :class:`HeavyHitters`
(space-saving) and :class:`ApproxQuantiles` (a relative-error log-bucket
sketch, as DDSketch): mergeable, and readable mid-stream.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..core.expr import Expr
from .base import Aggregate
from .exact import check_qs

__all__ = ["ApproxDistinct", "HeavyHitters", "ApproxQuantiles"]


def _hash64(value: Any) -> int:
    data = value if isinstance(value, bytes) else repr(value).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class ApproxDistinct(Aggregate):
    """Estimate the number of distinct values (HyperLogLog) in ``2**precision`` bytes.

    Standard error about ``1.04 / sqrt(2**precision)``: 0.8% at the default
    precision 14 (16 KiB), and closer for small counts (linear counting).
    Mergeable, readable mid-stream.

    >>> from streamql.aggregates import run
    >>> run(ApproxDistinct(), range(1000))
    996
    """

    name = "approx_distinct"

    def __init__(
        self,
        field: Any = None,
        *,
        precision: int = 14,
        where: Callable[[Any], Any] | Expr | None = None,
    ) -> None:
        if not isinstance(precision, int) or not 4 <= precision <= 18:
            raise ValueError(f"approx_distinct: precision must be 4..18, got {precision!r}")
        super().__init__(field, where=where)
        self.p = precision
        self.m = 1 << precision

    def _extra(self) -> list[str]:
        return [] if self.p == 14 else [f"precision={self.p}"]

    def start(self) -> bytearray:
        return bytearray(self.m)

    def step(self, state: bytearray, value: Any) -> bytearray:
        h = _hash64(value)
        index = h >> (64 - self.p)
        rest = (h << self.p) & ((1 << 64) - 1)
        rank = 1 + (64 - rest.bit_length()) if rest else 64 - self.p + 1
        if rank > state[index]:
            state[index] = rank
        return state

    def merge(self, a: bytearray, b: bytearray) -> bytearray:
        return bytearray(map(max, a, b))

    def finish(self, state: bytearray) -> int:
        m = self.m
        alpha = 0.7213 / (1 + 1.079 / m)
        raw = alpha * m * m / sum(2.0**-r for r in state)
        zeros = state.count(0)
        if raw <= 2.5 * m and zeros:
            return round(m * math.log(m / zeros))
        return round(raw)


class HeavyHitters(Aggregate):
    """The most frequent values with counts, in ``capacity`` counters (space-saving).

    Every value occurring more than ``N / capacity`` times among ``N`` items is
    reported; each count is over-estimated by at most ``N / capacity``.
    Returns the ``k`` largest, most frequent first.

    >>> from streamql.aggregates import run
    >>> run(HeavyHitters(k=2), "aaaabbbcd")
    {'a': 4, 'b': 3}
    """

    name = "heavy_hitters"

    def __init__(
        self,
        field: Any = None,
        *,
        k: int = 10,
        capacity: int | None = None,
        where: Callable[[Any], Any] | Expr | None = None,
    ) -> None:
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"heavy_hitters: k must be an int >= 1, got {k!r}")
        super().__init__(field, where=where)
        self.k = k
        self.capacity = capacity or 10 * k
        if self.capacity < k:
            raise ValueError("heavy_hitters: capacity must be at least k")

    def _extra(self) -> list[str]:
        return [f"k={self.k}"]

    def start(self) -> dict[Any, int]:
        return {}

    def step(self, state: dict[Any, int], value: Any) -> dict[Any, int]:
        if value in state:
            state[value] += 1
        elif len(state) < self.capacity:
            state[value] = 1
        else:
            victim = min(state, key=state.__getitem__)
            state[value] = state.pop(victim) + 1
        return state

    def merge(self, a: dict[Any, int], b: dict[Any, int]) -> dict[Any, int]:
        merged = Counter(a)
        merged.update(b)
        return dict(merged.most_common(self.capacity))

    def finish(self, state: dict[Any, int]) -> dict[Any, int]:
        return dict(Counter(state).most_common(self.k))


class ApproxQuantiles(Aggregate):
    """Quantiles of numbers within ``relative_error`` of the truth, in bounded buckets.

    Values are counted in logarithmic buckets (as DDSketch does), so each
    reported quantile is within ``relative_error`` (default 1%) of the value
    of that rank; memory grows with the log of the values' range, not their
    number. Mergeable, readable mid-stream.

    >>> from streamql.aggregates import run
    >>> answer = run(ApproxQuantiles(qs=(0.5,)), range(1, 10001))[0.5]
    >>> abs(answer - 5000) / 5000 < 0.01
    True
    """

    name = "approx_quantiles"

    def __init__(
        self,
        field: Any = None,
        *,
        qs: Iterable[float] = (0.5, 0.9, 0.99),
        relative_error: float = 0.01,
        where: Callable[[Any], Any] | Expr | None = None,
    ) -> None:
        if not 0 < relative_error < 1:
            raise ValueError(
                f"approx_quantiles: relative_error must be in (0, 1), got {relative_error!r}"
            )
        super().__init__(field, where=where)
        self.qs = check_qs(self.name, qs)
        self.alpha = relative_error
        self.gamma = (1 + relative_error) / (1 - relative_error)
        self.log_gamma = math.log(self.gamma)

    def _extra(self) -> list[str]:
        return [f"qs={self.qs!r}"]

    def start(self) -> dict[str, Any]:
        return {"pos": Counter(), "neg": Counter(), "zero": 0, "n": 0}

    def step(self, state: dict[str, Any], value: Any) -> dict[str, Any]:
        state["n"] += 1
        if value > 0:
            state["pos"][math.ceil(math.log(value) / self.log_gamma)] += 1
        elif value < 0:
            state["neg"][math.ceil(math.log(-value) / self.log_gamma)] += 1
        else:
            state["zero"] += 1
        return state

    def merge(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return {
            "pos": a["pos"] + b["pos"],
            "neg": a["neg"] + b["neg"],
            "zero": a["zero"] + b["zero"],
            "n": a["n"] + b["n"],
        }

    def finish(self, state: dict[str, Any]) -> dict[float, float | None]:
        n = state["n"]
        if not n:
            return {q: None for q in self.qs}
        # Buckets in increasing order of value: negatives (large magnitude first), 0, positives.
        order: list[tuple[float, int]] = [
            (-self._value(i), c) for i, c in sorted(state["neg"].items(), reverse=True)
        ]
        if state["zero"]:
            order.append((0.0, state["zero"]))
        order += [(self._value(i), c) for i, c in sorted(state["pos"].items())]
        out: dict[float, float | None] = {}
        for q in self.qs:
            rank = max(1, math.ceil(q * n))
            seen = 0
            for value, c in order:
                seen += c
                if seen >= rank:
                    out[q] = value
                    break
        return out

    def _value(self, index: int) -> float:
        return 2 * self.gamma**index / (self.gamma + 1)
