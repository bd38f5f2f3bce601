"""The web lab: `dnnx serve` opens pages to draw digits, train models live, compare runs, learn.

`app.py` holds the routes, `pages.py` the list of pages and the shell they are served in,
`jobs.py` the single training job, `live.py` what the Train page sees of it (a training-loop
listener and its event log), `catalog.py` the run folders, `forms.py` the Train form,
`limits.py` what one request may ask (epochs, model size, image size and format), `pictures.py`
the weight and feature-map images, `guard.py` the limits on requests (token, size, host),
`server.py` the one uvicorn runner, `background.py` a way to run the lab on a thread (from a
notebook or a test), `layers.py` and `descent.py` the API of the Learn pages. `static/` holds
the pages (HTML, JavaScript, CSS) and the vendored Chart.js; `static/learn/` the Learn pages.
A page file holds only its own head lines and its <main>: pages.py serves it inside
`static/shell.html`, titled and linked in the header from one list. A new page is its HTML
file, its JS (and CSS) files, and one line in `pages.PAGES`.
FastAPI and uvicorn are needed only here (`pip install "dnnexplorer[web]"`).
"""

from dnnexplorer.serve.app import create_app
from dnnexplorer.serve.background import serve_in_background
from dnnexplorer.serve.guard import new_token

__all__ = ["create_app", "new_token", "serve_in_background"]
