"""Time `load_dataset` cold (empty cache: gunzip, validate, checksum, parse) and from the cache.

Each load runs in a fresh process (imports not counted); medians of 5.
Usage: DNNX_DATA=/path/to/data python benchmarks/load_time.py
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CHILD = """
import time
from dnnexplorer.data import load_dataset
start = time.perf_counter()
dataset = load_dataset({name!r})
seconds = time.perf_counter() - start
assert dataset.from_cache == {warm}, dataset.from_cache
print(seconds)
"""


def load_seconds(name: str, cache: str, warm: bool) -> float:
    env = {**os.environ, "XDG_CACHE_HOME": cache}
    code = CHILD.format(name=name, warm=warm)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout)


for name in ("mnist", "fashion-mnist"):
    cold, warm = [], []
    for _ in range(5):
        cache = tempfile.mkdtemp()
        cold.append(load_seconds(name, cache, warm=False))
        warm.append(load_seconds(name, cache, warm=True))
        shutil.rmtree(cache)
    print(
        f"{name}: cold {statistics.median(cold):.3f} s, from the cache "
        f"{statistics.median(warm):.3f} s (medians of 5)"
    )
