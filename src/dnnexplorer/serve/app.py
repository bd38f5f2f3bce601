"""The web lab's routes: its pages (Draw, Train, Runs, Learn) and the JSON API behind them.

    GET  /  /train  /runs  /learn/...     the pages (pages.py: static HTML + JS + CSS, all here)
    GET  /api/choices                     models, datasets, activations, settings for forms
    GET  /api/runs                        every run folder: model, dataset, accuracy, time, date
    GET  /api/runs/NAME                   one run's config, summary and per-epoch metrics
    GET  /api/runs/NAME/analysis          its confusion matrix and worst test errors
    POST /api/runs/NAME/predict           body: an image -> digit, probabilities, 28x28 input
    GET  /api/runs/NAME/layers            the model's layers, filters and normalization (layers.py)
    POST /api/runs/NAME/activations       body: an image -> every layer's output (layers.py)
    GET  /api/runs/NAME/activations?test=N   the same for test image N
    GET  /api/learn/regression?seed=S     the houses and their loss surface (descent.py)
    GET  /api/train                       the training job's status
    POST /api/train                       start a job (JSON form); 409 while one runs
    POST /api/train/stop                  stop it after the current mini-batch
    GET  /api/train/events                the job's progress as server-sent events

The routes only translate between HTTP and the library: every error the library raises
(a `DnnxError`) becomes a JSON answer {"error": "..."} with a 4xx status, never a 500; a
request over the lab's limits (limits.py: epochs, model size, image size and format) too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from dnnexplorer.errors import ConfigError, DataError, DnnxError, ImageError, RunError
from dnnexplorer.predict import UnsupportedFormat
from dnnexplorer.serve.catalog import BadRunName, DatasetStore, RunCatalog, RunNotFound
from dnnexplorer.serve.descent import add_descent_routes
from dnnexplorer.serve.forms import config_from_form, form_choices
from dnnexplorer.serve.guard import Guard
from dnnexplorer.serve.jobs import JobBusy, TrainingJob
from dnnexplorer.serve.layers import add_layer_routes
from dnnexplorer.serve.limits import LIMITS, Limits
from dnnexplorer.serve.pages import PAGES, Page, add_pages

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024  # a phone photo fits; a canvas drawing is a few kilobytes
KEEP_ALIVE_S = 15.0
EVENT_ID = re.compile(r"(\d{1,12})\.(\d{1,12})")  # 'JOB.INDEX', as event_stream numbers them
STATUS_OF = [  # the first matching class decides the HTTP status
    (BadRunName, 400),
    (RunNotFound, 404),
    (JobBusy, 409),
    (RunError, 409),
    (UnsupportedFormat, 415),
    (ImageError, 422),
    (ConfigError, 422),
    (DataError, 503),
    (DnnxError, 400),
]


def create_app(
    runs_dir: str | Path = "runs",
    data_dir: str | Path | None = None,
    *,
    local_only: bool = True,
    max_body: int = MAX_BODY,
    datasets: DatasetStore | None = None,
    token: str | None = None,
    trusted_hosts: tuple[str, ...] = (),
    limits: Limits = LIMITS,
    pages: Sequence[Page] = PAGES,
) -> FastAPI:
    """The web lab for the run folders under `runs_dir`.

    `local_only`: answer only requests addressed to localhost (or to `trusted_hosts`, the names
    of a proxy publishing the lab); `token`: what every request must carry (see guard.py; None
    asks for none, as in tests); `limits`: what one request may ask (limits.py); `pages`: the
    pages it serves and links in their header (pages.py). Behind a proxy that serves the lab
    under a prefix, run it with `root_path` set to that prefix (server.py): every page
    addresses the lab relative to it.
    """
    datasets = datasets or DatasetStore(data_dir)
    catalog = RunCatalog(runs_dir, datasets, limits)
    job = TrainingJob(runs_dir, datasets)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        # Ctrl-C: stop the job after its current step, so its run folder stays resumable.
        await asyncio.to_thread(job.shutdown)

    app = FastAPI(title="dnnx lab", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.catalog, app.state.job, app.state.token = catalog, job, token
    app.state.limits = limits
    app.state.closing = threading.Event()  # set by close_streams() when the server stops
    _add_error_handlers(app)
    add_pages(app, pages)
    add_layer_routes(app, catalog)  # before the run routes: GET /api/runs/{name} takes all
    _add_run_routes(app, catalog)
    _add_train_routes(app, job)
    add_descent_routes(app)
    app.add_middleware(
        Guard, max_body=max_body, local_only=local_only, token=token, trusted_hosts=trusted_hosts
    )
    return app


def close_streams(app: FastAPI) -> None:
    """End every open event stream now (the server is stopping): no page holds it open."""
    app.state.closing.set()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DnnxError)
    async def dnnx_error(request: Request, e: DnnxError) -> JSONResponse:
        return _error(next(s for kind, s in STATUS_OF if isinstance(e, kind)), str(e))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> JSONResponse:
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, e: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in e.errors())
        return _error(422, problems)

    @app.exception_handler(Exception)
    async def bug(request: Request, e: Exception) -> JSONResponse:
        # A bug of the lab: the page still gets JSON it can show; the server log has the rest.
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=e)
        return _error(500, f"internal error: {type(e).__name__}")


def _add_run_routes(app: FastAPI, catalog: RunCatalog) -> None:
    @app.get("/api/choices")
    def choices() -> dict[str, Any]:
        return form_choices(app.state.limits)

    @app.get("/api/runs")
    def runs() -> list[dict[str, Any]]:
        rows = catalog.rows()
        training = app.state.job.info() if app.state.job.running else {}
        for row in rows:
            row["training"] = row["name"] == training.get("run")
        return rows

    # The two routes below come before /api/runs/{name}, whose name may hold slashes.
    @app.post("/api/runs/{name:path}/predict")
    async def predict(name: str, request: Request) -> dict[str, Any]:
        image = await request.body()
        return await asyncio.to_thread(catalog.predict, name, image)

    @app.get("/api/runs/{name:path}/analysis")
    def analysis(name: str) -> dict[str, Any]:
        return catalog.analysis(name)

    @app.get("/api/runs/{name:path}")
    def run_details(name: str) -> dict[str, Any]:
        return catalog.details(name)


def _add_train_routes(app: FastAPI, job: TrainingJob) -> None:
    @app.get("/api/train")
    def train_status() -> dict[str, Any]:
        return job.info()

    @app.post("/api/train", status_code=202)
    async def train_start(request: Request) -> dict[str, Any]:
        form = await _json_body(request)
        job.refuse_if_busy()  # 409 at once: a second start sizes and builds nothing
        limits = request.app.state.limits
        config, name = await asyncio.to_thread(config_from_form, form, limits)
        return job.start(config, name)  # the job's own thread builds the model

    @app.post("/api/train/stop")
    def train_stop() -> dict[str, Any]:
        return job.stop()

    @app.get("/api/train/events")
    async def train_events(request: Request) -> StreamingResponse:
        since = parse_event_id(request.headers.get("last-event-id", ""))
        return StreamingResponse(
            event_stream(job, since, request.app.state.closing),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


async def _json_body(request: Request) -> Any:
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/json":
        raise HTTPException(415, "send the form as JSON (Content-Type: application/json)")
    try:
        return json.loads(await request.body())
    except RecursionError:
        raise HTTPException(400, "the body is not valid JSON (nested too deeply)") from None
    except (ValueError, UnicodeDecodeError) as e:  # ValueError: also a 5000-digit number
        raise HTTPException(400, f"the body is not valid JSON ({e})") from None


def parse_event_id(last_event_id: str) -> tuple[int, int]:
    """(job id, first index wanted) from a Last-Event-ID header ('' means from the start)."""
    if not last_event_id:
        return 0, 0
    match = EVENT_ID.fullmatch(last_event_id.strip())
    if match is None:
        shown = last_event_id[:40] + ("..." if len(last_event_id) > 40 else "")
        raise HTTPException(
            400, f"Last-Event-ID must look like JOB.INDEX (e.g. 3.41), got {shown!r}"
        )
    return int(match[1]), int(match[2]) + 1


async def event_stream(
    job: TrainingJob, since: tuple[int, int] = (0, 0), closing: threading.Event | None = None
) -> AsyncIterator[str]:
    """Server-sent events: the current job's history from `since` (job id, index) on, then live.

    Event ids are 'JOB.INDEX', so a browser that reconnects (EventSource sends Last-Event-ID)
    gets only what it missed; a page opened later gets the whole job replayed.
    """
    job_id, start = since
    yield "retry: 2000\n\n"
    if job.events.job_id == 0:
        yield _sse("idle", job.info())
    quiet_since = time.monotonic()
    closing = closing or threading.Event()
    while not closing.is_set():
        current, events = job.events.since(job_id, start)
        if current != job_id:
            job_id, start = current, 0  # a new job: the page starts over
        for i, kind, data in events:
            yield _sse(kind, data, f"{job_id}.{i}")
            start = i + 1
        if events:
            quiet_since = time.monotonic()
        else:
            if time.monotonic() - quiet_since > KEEP_ALIVE_S:
                yield ": keep-alive\n\n"  # a comment line; it also notices a closed connection
                quiet_since = time.monotonic()
            await asyncio.sleep(0.1)


def _sse(kind: str, data: Any, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(_finite(data))}\n\n"


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers (a diverging loss) are sent as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
