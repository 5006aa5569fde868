"""medxai.allocator: freed large blocks are reused instead of re-faulted from the kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from medxai import allocator

PROBE = r"""
import json, resource, sys
import torch
from medxai.allocator import keep_freed_memory
applied = keep_freed_memory()
torch.set_num_threads(1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(ROUNDS):
    block = torch.ones(64 << 20, dtype=torch.uint8)  # 64 MiB, every page touched
    small = [torch.ones(1000) for _ in range(10)]  # live allocations between big ones
    del block
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"applied": applied, "again": keep_freed_memory(), "faults": faults}))
"""

PAGES_PER_BLOCK = (64 << 20) // 4096
ROUNDS = 16


def probe(**env: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.replace("ROUNDS", str(ROUNDS))],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_freed_blocks_are_reused_instead_of_faulted_again() -> None:
    tuned = probe()
    plain = probe(**{allocator.OPT_OUT: "0"})
    assert tuned["applied"] and tuned["again"]
    assert not plain["applied"]
    # without the thresholds every 64 MiB block is a fresh mapping, faulted page by page
    assert plain["faults"] >= ROUNDS * PAGES_PER_BLOCK * 0.9
    # with them most blocks reuse pages that are already mapped
    assert tuned["faults"] < plain["faults"] / 3
