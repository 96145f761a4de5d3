"""A recorded run on a chapter's page: its claim and verdict, labelled as recorded, with the command.

A chapter whose quick mode cannot carry a claim shows the committed result of the experiment that
can::

    from lecture_code.reproduce.show import recorded
    recorded("clipping_lm", "clipping keeps SGD on an RNN LM stable where plain SGD blows up")

It prints what was recorded (the verdict, the experiment's note, the machine and the time it took)
and the command that reproduces it, and states the claim with :mod:`lecture_code.claims`, so the
page fails if a new recording changes the verdict the prose relies on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import claims
from .record import REQUIRED_KEYS

RESULTS = Path(__file__).resolve().parents[2] / "results"


def load(name: str, results: Path = RESULTS) -> dict[str, Any]:
    """The committed ``results/NAME.json``; a clear error if it is missing or malformed."""
    path = results / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no recorded run at {path}: run `python -m lecture_code.reproduce run {name}`")
    record = json.loads(path.read_text(encoding="utf-8"))
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise ValueError(f"{path} lacks {missing}: re-run `python -m lecture_code.reproduce run {name}`")
    if record["smoke"]:
        raise ValueError(f"{path} is a smoke run, not a recorded result")
    return record


def metrics(name: str, results: Path = RESULTS) -> dict[str, Any] | None:
    """The ``metrics`` of the committed ``results/NAME.json``, or None where there is no checkout (wheel, Colab)."""
    return load(name, results)["metrics"] if results.is_dir() else None


def recorded(name: str, statement: str, *, expect: claims.Verdict | Iterable[claims.Verdict] = "holds",
             results: Path = RESULTS) -> claims.Claim | None:
    """Print a recorded run's result and state its claim (verdict from the file, digits after '≈').

    The results files live in the repository, not in the installed package: where there is no
    checkout (an installed wheel, Colab), this says so and returns None instead of failing.
    """
    if not results.is_dir():
        print(f"Recorded run `{name}`: its results file is in the book's repository (results/{name}.json), "
              "not in this installation; the book's page shows it.")
        return None
    r = load(name, results)
    m = r["machine"]
    where = f"{m.get('cpu', 'CPU')}, {m.get('torch_threads', '?')} torch thread(s)" if r["machine"] else "?"
    print(f"Recorded run `{name}` (not run on this page): ≈ {r['seconds'] / 60:.0f} min on {where}.")
    print(f"Reproduce it with: python -m lecture_code.reproduce run {name}")
    if r.get("note"):
        print(f"Its note: {r['note']}")
    return claims.record(statement, r["verdict"], criterion=r["criterion"], expect=expect)
