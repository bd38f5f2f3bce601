"""The web lab: `dnnx serve` opens pages to draw digits, train models live and compare runs.

`app.py` holds the routes, `jobs.py` the single training job, `live.py` what the Train page sees
of it (a training-loop listener and its event log), `catalog.py` the run folders, `forms.py` the
Train form, `pictures.py` the weight and feature-map images, `guard.py` the limits on requests,
`background.py` a way to run the lab on a thread (from a notebook or a test);
`static/` holds the pages (HTML, JavaScript, CSS) and the vendored Chart.js.
FastAPI and uvicorn are needed only here (`pip install "dnnexplorer[web]"`).
"""

from dnnexplorer.serve.app import create_app
from dnnexplorer.serve.background import serve_in_background

__all__ = ["create_app", "serve_in_background"]
