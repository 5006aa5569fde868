"""Effect of :func:`medxai.allocator.keep_freed_memory` on CPU work, measured in the same run.

    python benchmarks/cpu_allocator.py [--rounds 2] [--workloads pcam train]

Each measurement is a fresh Python process (the allocator is set once per process), run
with the thresholds applied ("kept") or with ``MEDXAI_KEEP_FREED_MEMORY=0`` ("glibc
default"); the two alternate, ``--rounds`` times each, so that a change of machine load
hits both alike. Workloads, after one untimed warm-up:

- ``pcam``: one fast-mode PCAM± call (the report's CPU default budget) of a random-weight
  ResNet-50 at 320×320 on one image, batch 32, as ``medxai report`` makes per image;
- ``train``: 4 training steps (forward, backward, Adam) of a random-weight ResNet-18 at
  128×128, batch 32, as ``medxai demo`` trains.

Printed per workload and mode: wall seconds, user and system CPU seconds, minor page
faults and peak resident memory, each the median over the rounds, and the ratio of the
medians' wall times (glibc default ÷ kept). The load average is printed at the start and
the end: compare only runs made on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from medxai.allocator import OPT_OUT

CHILD = r"""
import json, resource, sys, time
import torch, torchvision
from medxai.allocator import keep_freed_memory
from medxai.cams.presets import DEFAULT_CHANNEL_BUDGET
import medxai.cams

keep_freed_memory()
torch.manual_seed(0)
workload = sys.argv[1]
if workload == "pcam":
    model = torchvision.models.resnet50(num_classes=1).eval()
    image = torch.rand(1, 3, 320, 320)
    explainer = medxai.cams.create(
        "pcam±", model, channel_budget=DEFAULT_CHANNEL_BUDGET, batch_size=32
    )
    def step():
        explainer(image, 0)
    repeats = 1
else:
    model = torchvision.models.resnet18(num_classes=1).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    images = torch.rand(32, 3, 128, 128)
    labels = torch.randint(0, 2, (32, 1)).float()
    def step():
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(images), labels)
        loss.backward()
        optimiser.step()
    repeats = 4
step()
before = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
for _ in range(repeats):
    step()
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "wall": wall,
    "user": after.ru_utime - before.ru_utime,
    "sys": after.ru_stime - before.ru_stime,
    "faults": after.ru_minflt - before.ru_minflt,
    "rss_mb": after.ru_maxrss / 1024,
}))
"""

MODES = {"kept": "1", "glibc default": "0"}


def measure(workload: str, mode: str) -> dict:
    env = {**os.environ, OPT_OUT: MODES[mode]}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, workload], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workloads", nargs="+", default=["pcam", "train"],
                        choices=["pcam", "train"])
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc={os.cpu_count()}; "
          f"load average at start {os.getloadavg()}")
    print("| workload | allocator | wall s | user s | sys s | minor faults | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for workload in args.workloads:
        runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                runs[mode].append(measure(workload, mode))
        medians = {
            mode: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
            for mode, rows in runs.items()
        }
        for mode, m in medians.items():
            print(f"| {workload} | {mode} | {m['wall']:.2f} | {m['user']:.1f} | "
                  f"{m['sys']:.1f} | {m['faults']:.0f} | {m['rss_mb']:.0f} |")
        ratio = medians["glibc default"]["wall"] / medians["kept"]["wall"]
        print(f"| {workload} | default ÷ kept | {ratio:.2f}× | | | | |")
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
