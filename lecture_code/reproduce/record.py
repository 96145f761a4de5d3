"""Provenance and the results file of a recorded run.

Every experiment of :mod:`lecture_code.reproduce` ends in one JSON file, ``results/NAME.json``, written by
:func:`write_results`, and a figure beside it (``results/NAME.svg``). The JSON holds the experiment's name, the
claim it tests, the criterion and the verdict (computed by the experiment's code from the metrics), the metrics,
the configuration and the sha256 of its canonical JSON (:func:`config_hash`), the seeds, wall seconds, the
machine (CPU, cores, torch threads, load average at start and end), library versions and the git commit.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

VERDICTS = ("holds", "does not hold", "inconclusive")
REQUIRED_KEYS = ("experiment", "claim", "criterion", "verdict", "metrics", "config", "config_hash", "seeds",
                 "seconds", "machine", "versions", "commit", "smoke")


def canonical_json(obj: Any) -> str:
    """The one JSON text of ``obj`` that is hashed: sorted keys, no spaces, ASCII."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def config_hash(config: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of a configuration."""
    return hashlib.sha256(canonical_json(dict(config)).encode("ascii")).hexdigest()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine(device: str = "cpu") -> dict[str, Any]:
    """What ran the experiment: CPU model, logical cores, torch threads, device and GPU name, load average now."""
    out: dict[str, Any] = {"cpu": _cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                           "device": device, "platform": platform.platform(), "load_average": load_average()}
    if device == "cuda" and torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
    return out


def versions() -> dict[str, str]:
    """python, torch, numpy and lecture_code versions."""
    from lecture_code import __version__

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "lecture_code": __version__}


def git_commit(cwd: str | Path | None = None) -> str:
    """The commit of the checkout that holds this package (with ``+dirty`` if it has uncommitted changes to
    lecture_code), or ``"unknown"`` outside a git checkout."""
    here = Path(cwd) if cwd is not None else Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lecture_code"], cwd=here,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def jsonable(x: Any) -> Any:
    """NumPy scalars and arrays, tuples and non-finite floats made JSON-safe (NaN and inf become None)."""
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return jsonable(x.item())
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    return x


def write_results(path: Path, record: Mapping[str, Any]) -> Path:
    """Check a results record (:func:`check_record`) and write it as indented JSON, atomically."""
    record = jsonable(dict(record))
    check_record(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def check_record(record: Mapping[str, Any]) -> None:
    """Raise ValueError unless ``record`` is a well-formed results record."""
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise ValueError(f"results record lacks {missing}")
    if record["verdict"] not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {record['verdict']!r}")
    if record["config_hash"] != config_hash(record["config"]):
        raise ValueError("config_hash is not the sha256 of the record's config")
    if record["verdict"] != "holds" and not record.get("note"):
        raise ValueError("a verdict other than 'holds' needs a note that says why")
    if not isinstance(record["metrics"], Mapping) or not isinstance(record["seeds"], list):
        raise ValueError("metrics must be a mapping and seeds a list")
    if not (isinstance(record["seconds"], (int, float)) and record["seconds"] >= 0):
        raise ValueError("seconds must be a non-negative number")
    for k in ("cpu", "cores", "torch_threads", "load_average_start", "load_average_end"):
        if k not in record["machine"]:
            raise ValueError(f"machine lacks {k!r}")
    for k in ("python", "torch", "numpy", "lecture_code"):
        if k not in record["versions"]:
            raise ValueError(f"versions lacks {k!r}")
    json.dumps(record, allow_nan=False)  # raises on NaN/inf or anything not JSON


def python_version() -> str:
    """The running Python's version string (for logs)."""
    return sys.version.split()[0]
