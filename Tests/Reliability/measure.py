"""Process measurements: a server and its descendants (workers, shells), as PSS, RSS and open descriptors."""

from __future__ import annotations

from pathlib import Path


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _rollup(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(root: int) -> dict:
    """PSS and RSS in MB of the server alone and with its descendants, its open fds, and how many processes."""
    pids = descendants(root)
    try:
        fds = len(list(Path(f"/proc/{root}/fd").iterdir()))
    except OSError:
        fds = -1
    return {
        "server_pss_mb": round(_rollup(root, "Pss") / 1024, 1),
        "tree_pss_mb": round(sum(_rollup(p, "Pss") for p in pids) / 1024, 1),
        "tree_rss_mb": round(sum(_rollup(p, "Rss") for p in pids) / 1024, 1),
        "server_fds": fds,
        "processes": len(pids),
    }


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1000, 1)}
