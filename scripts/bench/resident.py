#!/usr/bin/env python3
"""Which pages of the rlm-mcp binary a process holds in memory, per ELF section (stdlib + readelf only):

    python3 scripts/bench/resident.py [--binary .build/release/rlm-mcp] [--wait 2]   # starts an idle `serve`
    python3 scripts/bench/resident.py --pid PID [--binary PATH]                       # looks at a running one

For every page of the binary's mappings, /proc/PID/pagemap says whether it is present and whether it is still the
file's page or a private copy (written: relocations applied by the dynamic loader, or data the program changed).
Pages are split between the sections they overlap (readelf -SW), so the table adds up to the mappings' resident
size; the last column gives the RELA relocations per section (readelf -rW), which dirty every page they land on (a
binary linked with -z pack-relative-relocs keeps its relative ones in .relr.dyn instead, not counted here). Started
here, the server gets the initialize handshake and `--wait` seconds, as `engine.py --cold` measures its idle PSS.
"""

from __future__ import annotations

import argparse
import collections
import os
import struct
import subprocess
import tempfile
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sandbox import ROOT, StdioClient  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def sections(binary: str) -> list[tuple[str, int, int, int, bool]]:
    """(name, address, file offset, size, occupies file) of the sections loaded into memory."""
    found = []
    for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        line = line.strip()
        if not line.startswith("[") or line.startswith("[Nr]"):
            continue
        fields = line.split("]", 1)[1].split()
        name, kind, address, offset, size, flags = fields[0], fields[1], int(fields[2], 16), int(fields[3], 16), int(fields[4], 16), fields[6]
        if "A" in flags and size and not (kind == "NOBITS" and "T" in flags):
            found.append((name, address, offset, size, kind != "NOBITS"))
    return found


def load_bias(pid: int, binary: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The address the binary was loaded at, and its mappings as (start, end, file offset); anonymous mappings right
    after the last file mapping (.bss) are included with offset -1."""
    real = os.path.realpath(binary)
    mappings, bias, last_end = [], None, None
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split()
        start, end = (int(x, 16) for x in parts[0].split("-"))
        path = parts[5] if len(parts) > 5 else ""
        if path == real:
            if bias is None:
                bias = start - int(parts[2], 16)
            mappings.append((start, end, int(parts[2], 16)))
            last_end = end
        elif last_end == start and not path:
            mappings.append((start, end, -1))
            last_end = end
    if bias is None:
        raise SystemExit(f"process {pid} does not map {real}")
    return bias, mappings


def page_states(pid: int, start: int, end: int) -> list[tuple[bool, bool]]:
    """(present, still the file's page) for each page in [start, end)."""
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        pagemap.seek(start // PAGE * 8)
        data = pagemap.read((end - start) // PAGE * 8)
    states = []
    for (entry,) in struct.iter_unpack("<Q", data):
        states.append((bool(entry >> 63 & 1), bool(entry >> 61 & 1)))
    return states


def relocations_per_section(binary: str, spans: list[tuple[str, int, int]]) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for line in subprocess.run(["readelf", "-rW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) < 3 or not parts[2].startswith("R_"):
            continue
        address = int(parts[0], 16)
        counts[next((name for name, low, high in spans if low <= address < high), "?")] += 1
    return counts


def report(pid: int, binary: str) -> None:
    bias, mappings = load_bias(pid, binary)
    table = sections(binary)
    spans = [(name, address, address + size) for name, address, _, size, _ in table]
    clean: collections.Counter = collections.Counter()
    dirty: collections.Counter = collections.Counter()
    for start, end, _ in mappings:
        for index, (present, file_page) in enumerate(page_states(pid, start, end)):
            if not present:
                continue
            low = start - bias + index * PAGE
            high = low + PAGE
            covered = 0
            for name, s_low, s_high in spans:
                overlap = min(high, s_high) - max(low, s_low)
                if overlap > 0:
                    (clean if file_page else dirty)[name] += overlap
                    covered += overlap
            if covered < PAGE:
                (clean if file_page else dirty)["(between sections)"] += PAGE - covered
    relocations = relocations_per_section(binary, spans)
    sizes = {name: size for name, _, _, size, _ in table}
    rows = sorted(set(clean) | set(dirty), key=lambda name: -(clean[name] + dirty[name]))
    print(f"{'section':32} {'size MB':>8} {'resident MB':>12} {'of which copied':>16} {'RELA relocs':>12}")
    for name in rows:
        print(f"{name:32} {sizes.get(name, 0) / 2**20:8.2f} {(clean[name] + dirty[name]) / 2**20:12.2f} "
              f"{dirty[name] / 2**20:16.2f} {relocations.get(name, 0):12d}")
    total_clean, total_dirty = sum(clean.values()), sum(dirty.values())
    print(f"{'total':32} {sum(sizes.values()) / 2**20:8.2f} {(total_clean + total_dirty) / 2**20:12.2f} {total_dirty / 2**20:16.2f} "
          f"{sum(relocations.values()):12d}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "rlm-mcp"))
    parser.add_argument("--pid", type=int)
    parser.add_argument("--wait", type=float, default=2.0, help="seconds after start-up before looking (default 2)")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    if args.pid:
        report(args.pid, args.binary)
        return
    with tempfile.TemporaryDirectory() as cwd:
        client = StdioClient(args.binary, cwd)
        try:
            time.sleep(args.wait)
            report(client.process.pid, args.binary)
        finally:
            client.close()


if __name__ == "__main__":
    main()
