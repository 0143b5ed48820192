"""Random streams: one per (seed, named decision, block of women, age slot).

A block's draws depend only on the seed, the decision's name, the block index and
(for per-screen decisions) the screening age in months. So a run is bit-identical
whatever the grouping of blocks over calls or workers; adding a decision does not
disturb the others; and two programmes that screen a woman at the same age use the
same draw for her (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

#: Women per block. Part of the model (it fixes which draws each woman gets), not a tuning knob.
BLOCK_SIZE = 32_768


def decision_key(name: str) -> int:
    """Stable integer key of a decision name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, decision: str, block: int, slot: int = 0) -> np.random.Generator:
    """The generator for one decision in one block (and age slot).

    Parameters
    ----------
    seed : int
        The run seed (a non-negative integer).
    decision : str
        Name of the decision, e.g. ``"cohort.family_history"``.
    block : int
        Block index (women ``block * BLOCK_SIZE`` ... ``(block + 1) * BLOCK_SIZE - 1``).
    slot : int, optional
        Extra key, e.g. the screening age in months for per-screen decisions.
    """
    ss = np.random.SeedSequence(seed, spawn_key=(decision_key(decision), block, slot))
    return np.random.Generator(np.random.PCG64(ss))


def uniforms(seed: int, decision: str, block: int, n: int, slot: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """``n`` uniforms on [0, 1) for a decision, written into ``out`` when given (buffer reuse)."""
    gen = stream(seed, decision, block, slot)
    if out is None:
        return gen.random(n)
    gen.random(out=out[:n])
    return out[:n]


def normals(seed: int, decision: str, block: int, n: int, slot: int = 0) -> np.ndarray:
    """``n`` standard normal draws for a decision."""
    return stream(seed, decision, block, slot).standard_normal(n)


def exponentials(seed: int, decision: str, block: int, n: int, slot: int = 0) -> np.ndarray:
    """``n`` standard exponential draws for a decision."""
    return stream(seed, decision, block, slot).standard_exponential(n)
