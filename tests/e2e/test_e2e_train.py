"""The Train and Runs pages in a real browser: a live one-epoch softmax run, stop, reattach."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from dnnexplorer.models import get_entry
from dnnexplorer.serve.pages import PAGES, STATIC

TRAINING_TIMEOUT = 120_000  # ms: one epoch of softmax regression on a busy CPU


def points(page, chart: str, series: int) -> int:
    return page.evaluate(f"() => Chart.getChart('{chart}').data.datasets[{series}].data.length")


def start(page, lab_url: str, **fields: str) -> None:
    page.goto(f"{lab_url}/train")
    expect(page.locator("#model option")).not_to_have_count(0)
    page.select_option("#model", fields.pop("model"))
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    page.click("#start")


def test_a_softmax_run_trains_live_then_appears_on_the_runs_page(page, lab_url) -> None:
    page.goto(f"{lab_url}/train")
    expect(page.locator("#model option")).not_to_have_count(0)
    page.select_option("#model", "softmax")
    expect(page.locator("#activation")).to_be_disabled()  # softmax regression has neither
    expect(page.locator("#hidden")).to_be_disabled()
    start(page, lab_url, model="softmax", epochs="1", name="e2e-softmax")

    expect(page.locator("#run-name")).to_have_text("e2e-softmax")
    expect(page.locator("#loss-title")).to_contain_text("one-hot targets, as in the slides")
    page.wait_for_function("() => Chart.getChart('loss-chart').data.datasets[0].data.length > 1")
    expect(page.locator("#status")).to_have_text("finished", timeout=TRAINING_TIMEOUT)
    assert points(page, "accuracy-chart", 0) > 1 and points(page, "accuracy-chart", 1) >= 1
    expect(page.locator("#first-layer img")).to_have_count(10)  # W as ten 28x28 images
    expect(page.locator("#first-layer figcaption").first).to_have_text("0")
    expect(page.locator("#misclassified img")).to_have_count(24)
    expect(page.locator("#epoch-rows tr")).to_have_count(1)
    expect(page.locator("#speed")).not_to_have_text("–")

    # A reload reattaches: the whole run is replayed from the server.
    page.reload()
    expect(page.locator("#status")).to_have_text("finished")
    expect(page.locator("#first-layer img")).to_have_count(10)
    page.wait_for_function("() => Chart.getChart('loss-chart').data.datasets[1].data.length > 0")

    page.click("nav a[href='runs']")
    row = page.locator("#runs tr", has_text="e2e-softmax")
    expect(row).to_contain_text("softmax")
    expect(row).to_contain_text("complete")
    row.locator("a.run-link").click()
    expect(page.locator("#detail-title")).to_contain_text("e2e-softmax: softmax on mnist")
    expect(page.locator("#confusion tr")).to_have_count(11)  # a header and ten classes
    expect(page.locator("#errors img")).to_have_count(24)
    expect(page.locator("#detail-loss-title")).to_contain_text("one-hot targets")

    # The mlp recipe smooths its labels: the page says its training loss is not the slides' one.
    page.locator("#runs tr", has_text="mlp-draw").locator("a.run-link").click()
    title = page.locator("#detail-loss-title")
    expect(title).to_contain_text("label smoothing 0.1 (targets 0.91 for the true class, 0.01")

    # Two runs' curves on one chart.
    page.locator("#runs tr", has_text="e2e-softmax").locator("input").check()
    page.locator("#runs tr", has_text="mlp-draw").locator("input").check()
    expect(page.locator("#compare-box")).to_be_visible()
    page.wait_for_function("() => Chart.getChart('compare-chart').data.datasets.length === 4")


def test_the_form_shows_the_everyday_recipe_of_the_chosen_model_and_dataset(page, lab_url) -> None:
    def epochs(model: str, dataset: str) -> str:
        return f"recipe: {get_entry(model).everyday_recipe(dataset).recipe.epochs}"

    page.goto(f"{lab_url}/train")
    expect(page.locator("#model option")).not_to_have_count(0)
    page.select_option("#model", "softmax")
    expect(page.locator("#epochs")).to_have_attribute("placeholder", epochs("softmax", "mnist"))
    page.select_option("#model", "best")
    expect(page.locator("#epochs")).to_have_attribute("placeholder", epochs("best", "mnist"))
    page.select_option("#optimizer", "sgd")
    page.fill("#hidden", "64")
    page.select_option("#dataset", "fashion-mnist")  # a dataset may have its own recipe
    expect(page.locator("#epochs")).to_have_attribute(
        "placeholder", epochs("best", "fashion-mnist")
    )
    expect(page.locator("#optimizer")).to_have_value("sgd")  # what you chose stays
    expect(page.locator("#hidden")).to_have_value("64")


def test_stop_and_a_second_start_while_training(context, console_errors, lab_url) -> None:
    first, second = context.new_page(), context.new_page()
    second.goto(f"{lab_url}/train")
    expect(second.locator("#model option")).not_to_have_count(0)
    # One example per step (stochastic gradient descent): a long epoch, stopped early.
    start(first, lab_url, model="softmax", batch_size="1", epochs="1", name="e2e-stopped")
    expect(first.locator("#stop")).to_be_enabled()
    expect(second.locator("#status")).to_have_text("training")  # the other tab follows too
    expect(second.locator("#start")).to_be_disabled()

    # A start that races past the disabled button gets the server's 409, shown on the page.
    second.evaluate("() => document.getElementById('train-form').requestSubmit()")
    expect(second.locator("#message")).to_contain_text("Not started: a training job is already")
    expected = [e for e in console_errors if "409" in e]
    assert len(expected) == 1  # the browser logs the refused request itself
    console_errors.remove(expected[0])

    first.wait_for_function("() => Chart.getChart('loss-chart').data.datasets[0].data.length > 0")
    first.click("#stop")
    expect(first.locator("#status")).to_have_text("stopped", timeout=TRAINING_TIMEOUT)
    expect(first.locator("#message")).to_contain_text("dnnx train --resume")
    expect(second.locator("#status")).to_have_text("stopped")
    expect(first.locator("#start")).to_be_enabled()


def test_no_page_logs_an_error(page, lab_url) -> None:
    sections = [p.title for p in PAGES if p.in_navigation]
    for each in PAGES:  # every page of the lab, showing the heading its file gives it
        heading = re.search(r"<h1>(.*?)</h1>", (STATIC / each.file).read_text(encoding="utf-8"))
        page.goto(lab_url + each.route)
        expect(page.locator("h1")).to_have_text(heading[1])
        expect(page).to_have_title(f"{each.title} · dnnx lab")
        expect(page.locator("nav a")).to_have_text(sections)
        page.wait_for_load_state("networkidle")
        ids = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
        assert len(ids) == len(set(ids)), f"{each.route}: an id used twice"
