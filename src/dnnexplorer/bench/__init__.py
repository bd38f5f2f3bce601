"""The benchmark harness: how long a learner waits for each model to reach its target accuracy.

`python -m dnnexplorer.bench` (or `dnnx bench`) runs each case of cases.py in a fresh process
(worker.py), several times, with the project's one training loop, and the conventional per-sample
pipeline of reference.py in the same run; runner.py gathers medians, floor.py the arithmetic
floor, report.py writes the JSON file and BENCHMARKS.md. See benchmarks/README.md.

This file imports nothing on purpose: the worker process stamps the time before `import torch`,
and `python -m dnnexplorer.bench.worker` imports this package first.
"""
