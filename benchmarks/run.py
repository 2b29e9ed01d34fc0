"""Run the benchmarks and print a table of ratios against each anchor library.

Every row is measured side by side in the same run on this machine; nothing here is a
timed unit test.  Usage: ``python benchmarks/run.py [--sizes 100000,1000000] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fairness  # benchmark modules live beside this runner


def _versions() -> str:
    names = ["maas-audit", "numpy", "pandas", "fairlearn"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="rows, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    rows = fairness.run(sizes)
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(f"versions: {_versions()}")
    print()
    print("| benchmark | maas-audit s | anchor | anchor s | speed-up | max abs diff |")
    print("|---|---:|---|---:|---:|---:|")
    for row in rows:
        ratio = row["anchor_s"] / row["ours_s"]
        print(
            f"| {row['benchmark']} | {row['ours_s']:.3f} | {row['anchor']} | "
            f"{row['anchor_s']:.3f} | {ratio:.1f}x | {row['max_abs_difference']:.1e} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
