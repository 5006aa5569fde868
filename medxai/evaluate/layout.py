"""Where an evaluation run keeps its files, inside its output folder.

::

    OUT/
      run.json            settings that change the numbers and the data read (both checked
                          on resume: medxai.evaluate.provenance) + the rest; marks OUT as
                          an evaluation's folder
      shards/rank{r}.csv  rows finished by rank r, appended and fsync'd batch by batch
      curves/rank{r}.csv  insertion/deletion curves of those rows, same discipline
      per_image.csv       merged rows (written at the end, atomically)
      summary.csv         means with bootstrap 95% CIs, long format
      summary.md          the same as tables, one per group
      curves.png          mean insertion and deletion curves per method
      curves.npz          those mean curves as arrays
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run's output folder ``out``."""

    out: Path

    @property
    def run_json(self) -> Path:
        return self.out / "run.json"

    @property
    def shards(self) -> Path:
        return self.out / "shards"

    @property
    def curve_shards(self) -> Path:
        return self.out / "curves"

    def shard(self, rank: int) -> Path:
        return self.shards / f"rank{rank}.csv"

    def curve_shard(self, rank: int) -> Path:
        return self.curve_shards / f"rank{rank}.csv"

    @property
    def per_image(self) -> Path:
        return self.out / "per_image.csv"

    @property
    def summary_csv(self) -> Path:
        return self.out / "summary.csv"

    @property
    def summary_md(self) -> Path:
        return self.out / "summary.md"

    @property
    def curves_png(self) -> Path:
        return self.out / "curves.png"

    @property
    def curves_npz(self) -> Path:
        return self.out / "curves.npz"

    def clear(self) -> None:
        """Remove every file a run writes (for ``--force``); other files are left alone."""
        for folder in (self.shards, self.curve_shards):
            shutil.rmtree(folder, ignore_errors=True)
        for path in (
            self.run_json,
            self.per_image,
            self.summary_csv,
            self.summary_md,
            self.curves_png,
            self.curves_npz,
        ):
            path.unlink(missing_ok=True)
