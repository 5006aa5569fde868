"""One evaluation run: plan, predict on every rank, then merge and summarise on rank 0.

Every process (each DDP rank re-runs the command) reads the shards and plans the same
pending work *before* the ranks meet; nothing is written or deleted until they have met
(Lightning's ``setup`` hooks run after the process group exists). Each rank then appends
to its own shard. After ``predict``, all ranks wait at a barrier and rank 0 merges.

With ``--num-nodes`` above 1, ``OUT`` must be on a file system that every node sees.
"""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass
from typing import Any

from medxai.atomic import check_marked, check_writable_parent
from medxai.errors import MedxaiError, OutputError
from medxai.evaluate.catalog import SUMMARY_BASE_COLUMNS, metric_columns, table_columns
from medxai.evaluate.layout import RunLayout
from medxai.evaluate.options import EvaluationOptions
from medxai.evaluate.provenance import check_same_data, data_entry, image_digests
from medxai.evaluate.selection import (
    WorkItem,
    done_keys,
    image_key,
    pending_work,
    select_images,
)
from medxai.evaluate.shards import read_shards, shard_paths


@dataclass
class EvaluationOutcome:
    """What rank 0 reports at the end of a run."""

    layout: RunLayout
    images: int
    methods: list[str]
    computed: int
    skipped: int
    summary_markdown: str


def announce(message: str) -> None:
    """Print ``message`` on stderr from the process of global rank 0 only."""
    from lightning_fabric.utilities.rank_zero import rank_zero_only

    if getattr(rank_zero_only, "rank", 0) == 0:
        print(f"medxai evaluate: {message}", file=sys.stderr, flush=True)


def check_resumable(
    layout: RunLayout, fingerprint: dict[str, Any], data: dict[str, Any]
) -> dict[str, str]:
    """Refuse to add rows to an output folder made with settings that change the numbers,
    or from other data (:func:`medxai.evaluate.provenance.check_same_data`).

    Returns the image digests recorded by the earlier run (empty for a new folder).
    """
    if not layout.run_json.is_file():
        return {}
    try:
        earlier_run = json.loads(layout.run_json.read_text("utf-8"))
        earlier = earlier_run.get("fingerprint", {})
        earlier_data = earlier_run.get("data") or {}
        if not isinstance(earlier, dict) or not isinstance(earlier_data, dict):
            raise ValueError("run.json")
    except (OSError, ValueError, AttributeError):
        raise OutputError(layout.run_json, "unreadable; pass --force to start again") from None
    keys = set(earlier) | set(fingerprint)
    changed = sorted(k for k in keys if earlier.get(k) != fingerprint.get(k))
    if changed:
        raise OutputError(
            layout.out,
            f"holds results made with other settings ({', '.join(changed)} differ); "
            "pass --force to start again or choose another --out",
        )
    check_same_data(layout.out, earlier_data, data)
    return dict(earlier_data.get("images") or {})


def build_trainer(options: EvaluationOptions, callbacks: list[Any]) -> Any:
    """The ``Trainer`` that runs ``predict`` over the devices, nodes and strategy asked for."""
    import pytorch_lightning as pl
    from lightning_fabric.utilities.exceptions import MisconfigurationException

    try:
        return pl.Trainer(
            accelerator=options.accelerator,
            devices=options.devices,
            num_nodes=options.num_nodes,
            strategy=options.strategy,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            enable_progress_bar=options.progress,
            inference_mode=False,
            callbacks=callbacks,
            default_root_dir=str(options.out),
        )
    except (MisconfigurationException, ValueError, RuntimeError) as exc:
        raise MedxaiError(f"cannot set up the devices: {exc}") from None


def pad_work(work: list[WorkItem], world_size: int) -> list[WorkItem]:
    """``work`` repeated cyclically up to ``world_size`` items, so that no rank gets none.

    Lightning's distributed sampler needs an item for every rank; a repeated item is
    computed twice with the same result, and the merge keeps one row per key.
    """
    if not work or len(work) >= world_size:
        return work
    return [work[i % len(work)] for i in range(world_size)]


def _predict(
    options: EvaluationOptions,
    loaded: Any,
    work: list[WorkItem],
    layout: RunLayout,
    run_info: dict[str, Any],
    target_class: int | None,
) -> bool:
    """Run ``Trainer.predict`` over ``work``; returns whether this process is global rank 0."""
    from torch.utils.data import DataLoader

    from medxai.evaluate.module import EvaluationModule
    from medxai.evaluate.samples import EvaluationDataset, collate
    from medxai.evaluate.writer import ShardPredictionWriter

    writer = ShardPredictionWriter(
        layout, table_columns(options.metrics), run_info, force=options.force
    )
    trainer = build_trainer(options, [writer])
    work = pad_work(work, trainer.world_size)
    dataset = EvaluationDataset(
        work,
        size=loaded.input_size,
        mean=loaded.mean,
        std=loaded.std,
        localisation="localisation" in options.metrics,
    )
    loader = DataLoader(
        dataset,
        batch_size=options.batch_size,
        shuffle=False,
        num_workers=options.workers,
        collate_fn=collate,
    )
    module = EvaluationModule(
        loaded.model, work, options, loaded.input_size, target_class=target_class
    )
    try:
        trainer.predict(module, dataloaders=loader, return_predictions=False)
    finally:
        writer.close()
    trainer.strategy.barrier("medxai-evaluate-merge")
    return bool(trainer.is_global_zero)


def run_evaluation(options: EvaluationOptions) -> EvaluationOutcome | None:
    """Evaluate, resuming from the shards in ``options.out``; ``None`` on ranks other than 0."""
    import pytorch_lightning as pl

    from medxai.checkpoint import load_classifier
    from medxai.data.index import check_records_readable

    options.validate()
    layout = RunLayout(options.out)
    loaded = load_classifier(options.checkpoint, map_location="cpu")
    target_class = loaded.explained_class(options.target)
    records = select_images(options.root, options.split, options.body_parts, options.limit)
    check_records_readable(records)  # an unreadable image stops the run before anything is written
    fingerprint = options.fingerprint(loaded.input_size)
    data = data_entry(
        options.root,
        image_digests(records, options.root, localisation="localisation" in options.metrics),
    )
    # OUT is written into (and cleared of a run's own files by --force; other files stay):
    # it must be a folder made by medxai evaluate, or empty, or new.
    check_marked(layout.out.resolve(), layout.run_json.name)
    created = not layout.out.exists()
    check_writable_parent(layout.run_json)  # creates OUT; writes nothing in it
    if options.force:
        done: set[tuple[str, str]] = set()
    else:
        earlier_images = check_resumable(layout, fingerprint, data)
        data["images"] = dict(sorted({**earlier_images, **data["images"]}.items()))
        done = done_keys(read_shards(shard_paths(layout.shards)))
    work = pending_work(records, options.root, options.methods, done)
    wanted = [(image_key(r.path, options.root), m) for m in options.methods for r in records]
    skipped = len(wanted) - sum(len(item.methods) for item in work)
    run_info = {
        "fingerprint": fingerprint,
        "data": data,
        "settings": options.describe(),
        "checkpoint": {"arch": loaded.arch, "input_size": loaded.input_size},
    }
    announce(
        f"{len(records)} images x {len(options.methods)} methods: {skipped} rows already "
        f"in {layout.out}, {len(wanted) - skipped} to compute"
    )
    pl.seed_everything(options.seed, verbose=False)
    try:
        if work and not _predict(options, loaded, work, layout, run_info, target_class):
            return None
    except MedxaiError as exc:  # e.g. a non-finite output or map: see stopped_run
        raise stopped_run(layout, exc, created) from None
    if not layout.run_json.exists():
        from medxai.atomic import write_text_atomic

        write_text_atomic(layout.run_json, json.dumps(run_info, indent=2) + "\n")
    markdown = finish(layout, options, wanted)
    return EvaluationOutcome(
        layout=layout,
        images=len(records),
        methods=list(options.methods),
        computed=len(wanted) - skipped,
        skipped=skipped,
        summary_markdown=markdown,
    )


def stopped_run(layout: RunLayout, error: MedxaiError, created: bool) -> MedxaiError:
    """``error``, told what became of ``OUT`` when it stopped a run (rank 0 decides).

    A run stopped by a user error while predicting (a non-finite model output or map, an
    image that became unreadable) never leaves ``OUT`` looking like a resumable run with no
    results. Without a finished row, the run's files are removed (:meth:`RunLayout.clear`;
    ``OUT`` too when this run made it and nothing else is in it) and the error line says
    so. With finished rows (this run's or a resumed run's), they are kept, and the error
    line says how many, that the same command resumes from them and that ``--force``
    starts again.
    """
    from lightning_fabric.utilities.rank_zero import rank_zero_only

    if getattr(rank_zero_only, "rank", 0) != 0:
        return error
    try:
        finished = len(done_keys(read_shards(shard_paths(layout.shards))))
    except OSError:
        finished = 0
    if finished:
        note = (
            f"{layout.out} keeps the {finished} row(s) finished before the stop; the same "
            "command resumes from them, --force starts again"
        )
    else:
        layout.clear()
        if created:
            with contextlib.suppress(OSError):
                layout.out.rmdir()  # only when empty
        note = f"no row was finished, so the run's files were removed from {layout.out}"
    path = getattr(error, "path", None)
    problem = getattr(error, "problem", None)
    if path is not None and problem is not None:
        return type(error)(path, f"{problem}; {note}")
    return type(error)(f"{error}; {note}")


def finish(layout: RunLayout, options: EvaluationOptions, wanted: list[tuple[str, str]]) -> str:
    """Merge the shards and write the table, the summary and the curve plots (rank 0 only).

    Returns the summary's markdown.
    """
    from medxai.atomic import write_text_atomic
    from medxai.evaluate.merge import merged_curves, merged_table, write_table
    from medxai.evaluate.plots import mean_curves, plot_curves, write_curves_npz
    from medxai.evaluate.summary import summarise, summary_csv, summary_markdown

    columns = table_columns(options.metrics)
    rows = merged_table(layout.shards, wanted, options.methods)
    missing = len(wanted) - len(rows)
    if missing:
        raise MedxaiError(f"{layout.shards}: {missing} rows are missing after the run")
    write_table(layout.per_image, rows, columns)
    summary_columns = [*metric_columns(options.metrics), *SUMMARY_BASE_COLUMNS]
    cells = summarise(
        rows, options.methods, summary_columns, seed=options.seed, resamples=options.bootstrap
    )
    write_text_atomic(layout.summary_csv, summary_csv(cells))
    notes = [
        f"split {options.split}"
        + (f", body parts {', '.join(options.body_parts)}" if options.body_parts else "")
        + f"; {len({r['image'] for r in rows})} images; target {options.target}",
        f"mean [95% CI] (n): percentile bootstrap over images, {options.bootstrap} resamples, "
        f"seed {options.seed}; NaN values (e.g. images without annotations) are left out",
        "localisation is measured at the original image size (map resized to it)",
    ]
    markdown = summary_markdown(cells, title="medxai evaluation", notes=notes)
    write_text_atomic(layout.summary_md, markdown)
    kinds = [k for k in ("insertion", "deletion") if k in options.metrics]
    if kinds:
        means = mean_curves(merged_curves(layout.curve_shards, rows, kinds))
        write_curves_npz(layout.curves_npz, means)
        plot_curves(layout.curves_png, means, title=f"{options.split}: mean curves")
    return markdown
