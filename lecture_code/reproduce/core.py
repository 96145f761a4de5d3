"""What an experiment is, and how one is run into a results file.

An :class:`Experiment` has a name, the lecture's claim it tests, the criterion that decides the verdict, a
full configuration and a smoke configuration (seconds), a ``run`` function that measures, and a ``judge``
function that turns the metrics into a verdict. The verdict is never typed in: :func:`run_experiment` calls
``judge(metrics, config)`` and writes what it returns, and the tests call it again on every committed file.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import torch
from tqdm.auto import tqdm

from . import record

Metrics = dict[str, Any]
Verdict = tuple[str, str]  # (verdict, note)


@dataclass
class Context:
    """What ``run`` gets besides its configuration: the device, whether to show progress bars, and a logger
    (one line per call, flushed, so that a run in the background can be followed with ``tail -f``)."""

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    progress: bool = True
    log: Callable[[str], None] = print
    workers: int = 1

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple], desc: str = "runs") -> list[Any]:
        """``[fn(*t) for t in tasks]``, in up to ``workers`` processes (spawned, one torch thread each), with a
        progress bar over the tasks.

        ``fn`` must be a module-level function and every task seeds its own generators, so the results do not
        depend on the number of workers; only the wall time does.
        """
        bar = tqdm(total=len(tasks), desc=desc, disable=not self.progress)
        out: list[Any] = []
        if self.workers <= 1 or len(tasks) <= 1:
            for t in tasks:
                out.append(fn(*t))
                bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), initializer=_one_thread,
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                for r in pool.map(fn, *zip(*tasks, strict=True)):
                    out.append(r)
                    bar.update(1)
        bar.close()
        return out


def _one_thread() -> None:
    torch.set_num_threads(1)


def say(line: str) -> None:
    """Print one flushed log line (what worker processes use: their stdout is the run's log)."""
    print(line, flush=True)


@dataclass
class Outcome:
    """What an experiment's ``run`` returns: metrics (JSON-able), the seeds used, and a figure of them."""

    metrics: Metrics
    seeds: list[int]
    figure: plt.Figure | None = None


@dataclass(frozen=True)
class Experiment:
    """One recorded experiment.

    Attributes:
        name: the results file is ``results/{name}.json``.
        claim: the lecture's claim, in words.
        criterion: how the verdict is decided from the metrics, in words (``judge`` implements it).
        budget: the full run's budget, in words (for ``reproduce list``).
        full, smoke: configurations; the smoke one runs in seconds and only checks that the code works.
        run: ``run(config, context) -> Outcome``.
        judge: ``judge(metrics, config) -> (verdict, note)``, verdict one of :data:`record.VERDICTS`.
    """

    name: str
    claim: str
    criterion: str
    budget: str
    full: Mapping[str, Any]
    smoke: Mapping[str, Any]
    run: Callable[[dict[str, Any], Context], Outcome]
    judge: Callable[[Metrics, Mapping[str, Any]], Verdict]

    def config(self, smoke: bool = False) -> dict[str, Any]:
        """A copy of the smoke or the full configuration."""
        return dict(self.smoke if smoke else self.full)


def run_experiment(exp: Experiment, out_dir: Path, *, smoke: bool = False, device: str = "cpu",
                   progress: bool = True, log: Callable[[str], None] = print, workers: int = 1) -> Path:
    """Run one experiment and write ``out_dir/{name}.json`` and ``out_dir/{name}.svg``; returns the JSON path.
    ``workers``: processes for experiments made of independent runs (results do not depend on it)."""
    config = exp.config(smoke)
    commit = record.git_commit()  # at the start: the code that runs is the code of this commit
    load_start, start = record.load_average(), time.perf_counter()
    log(f"[{exp.name}] {'smoke' if smoke else 'full'} run on {device}, {torch.get_num_threads()} torch thread(s), "
        f"{workers} worker process(es), load average {load_start}")
    outcome = exp.run(config, Context(torch.device(device), progress, log, workers))
    seconds = time.perf_counter() - start
    verdict, note = exp.judge(outcome.metrics, config)
    mach = record.machine(device)
    mach.pop("load_average")
    mach |= {"load_average_start": load_start, "load_average_end": record.load_average(), "workers": workers}
    rec: dict[str, Any] = {
        "experiment": exp.name, "claim": exp.claim, "criterion": exp.criterion, "verdict": verdict, "note": note,
        "smoke": smoke, "metrics": outcome.metrics, "config": config, "config_hash": record.config_hash(config),
        "seeds": outcome.seeds, "seconds": round(seconds, 1), "machine": mach, "versions": record.versions(),
        "commit": commit, "reproduce": f"python -m lecture_code.reproduce run {exp.name}"
                                                    + (" --smoke" if smoke else "")}
    path = record.write_results(Path(out_dir) / f"{exp.name}.json", rec)
    if outcome.figure is not None:
        outcome.figure.savefig(path.with_suffix(".svg"), bbox_inches="tight")
        plt.close(outcome.figure)
    log(f"[{exp.name}] verdict: {verdict}. {note} ({seconds:.0f} s) -> {path}")
    return path
