"""``python -m lecture_code.reproduce list`` and ``python -m lecture_code.reproduce run NAME [--smoke]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

from . import EXPERIMENTS, run_experiment
from .record import config_hash


def _log(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status."""
    p = argparse.ArgumentParser(prog="python -m lecture_code.reproduce", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="print every experiment, its budget and its results file")
    r = sub.add_parser("run", help="run one experiment and write its results file and figure")
    r.add_argument("name", choices=sorted(EXPERIMENTS))
    r.add_argument("--smoke", action="store_true", help="a seconds-long run that only checks the code works")
    r.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    r.add_argument("--out", type=Path, default=None, help="folder for the results (default results/, or "
                   "results/smoke/ with --smoke)")
    r.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    r.add_argument("--workers", type=int, default=1, help="processes (one torch thread each) for experiments "
                   "made of independent runs; the results do not depend on it")
    r.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    if a.cmd == "list":
        for e in EXPERIMENTS.values():
            print(f"{e.name}\n  claim:   {e.claim}\n  budget:  {e.budget}\n  results: results/{e.name}.json "
                  f"(config {config_hash(e.full)[:12]})")
        return 0
    if a.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: no GPU is available", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")  # the command writes its figures to files and never opens a window (not set on import:
    # a notebook that imports lecture_code.reproduce keeps its inline backend)
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    torch.set_num_threads(a.threads)
    out = a.out if a.out is not None else Path("results/smoke" if a.smoke else "results")
    run_experiment(EXPERIMENTS[a.name], out, smoke=a.smoke, device=a.device, progress=not a.no_progress, log=_log,
                   workers=a.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
