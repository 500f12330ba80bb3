"""MLflow's UI in a real browser: after a real `dvc exp run`, a real `mlflow server` on 127.0.0.1
serves the project's store and headless Chromium (driven by Selenium) opens the run page. It
must show the run's name, its dataset, the train/val/test metric sections, both logged models and
the registered champion. The screenshots are what docs/mlflow.md and the README show:
RNN_SENTIMENT_UPDATE_DOCS=1 writes them into docs/images/. Server and browser are stopped by PID.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PROJECT, dvc, make_project, write_imdb_tarball
from servers import BIN, free_port, group_alive, started

pytestmark = pytest.mark.slow
CHROMIUM = next(
    (
        p
        for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("google-chrome"))
        if p and Path(p).exists()
    ),
    None,
)
CHROMEDRIVER = shutil.which("chromedriver") or (
    Path(os.environ.get("CHROMEWEBDRIVER", "/nonexistent")) / "chromedriver"
)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """A committed project with one named experiment, three epochs, evaluated and registered."""
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    root = tmp_path_factory.mktemp("ui")
    # a local copy, outside the repo
    tarball = write_imdb_tarball(root / "copy" / "aclImdb_v1.tar.gz")
    repo = make_project(
        root,
        {
            "data": {"source": str(tarball)},
            "train": {"epochs": 3, "patience": 3},
            "mlflow": {"log_network": True},
        },
        tarball=False,
    )
    dvc("exp", "run", "-n", "baseline-gru", cwd=repo)
    info = json.loads((repo / "models/mlflow_run.json").read_text())
    return repo, info


@pytest.fixture(scope="module")
def ui(experiment, tmp_path_factory):
    repo, _ = experiment
    port = free_port()
    cmd = [
        str(BIN / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{repo / 'mlflow.db'}",
        "--default-artifact-root",
        str(repo / "mlruns"),
    ]
    log = tmp_path_factory.mktemp("ui-server") / "server.log"
    with started(
        cmd, f"http://127.0.0.1:{port}/health", log, {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    ) as process:
        yield f"http://127.0.0.1:{port}"
        pid = process.pid
    assert not group_alive(pid), "the server and its workers are gone"


@pytest.fixture
def browser():
    if not CHROMIUM or not Path(CHROMEDRIVER).exists():
        pytest.fail(
            "no Chromium and chromedriver: .ci/setup installs Debian's chromium and chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for drivers online
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()
        service.process.wait(timeout=30)
        assert service.process.poll() is not None, "chromedriver is gone"
        shutil.rmtree(profile, ignore_errors=True)


def page_text(driver, *expected: str, timeout: float = 60) -> str:
    """The page's visible text, once every ``expected`` string is in it."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def body() -> str:
        return driver.find_element(By.TAG_NAME, "body").text

    try:
        WebDriverWait(driver, timeout).until(lambda d: all(text in body() for text in expected))
    except TimeoutException:
        missing = [text for text in expected if text not in body()]
        raise AssertionError(
            f"not on the page after {timeout}s: {missing}\n{body()[:3000]}"
        ) from None
    return body()


def close_assistant(driver) -> None:
    """MLflow 3.17 opens an "MLflow Assistant" panel beside the run; the screenshots leave it out."""
    from selenium.webdriver.common.by import By

    header = driver.find_elements(By.XPATH, "//*[normalize-space(text())='MLflow Assistant']")
    buttons = (
        header[0].find_elements(By.XPATH, "./ancestor::div[.//button][1]//button") if header else []
    )
    if buttons:
        buttons[-1].click()


def screenshot(driver, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    driver.save_screenshot(str(path))
    if os.environ.get("RNN_SENTIMENT_UPDATE_DOCS"):
        shutil.copy(path, PROJECT / "docs/images" / name)
    return path


def test_the_run_page_tells_the_story(experiment, ui, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    repo, info = experiment
    dataset = "aclImdb_v1.tar.gz"
    browser.get(
        f"{ui}/#/experiments/{info['experiment_id']}/runs/{info['run_id']}?workflowType=machine_learning"
    )
    text = page_text(browser, "baseline-gru", dataset, "Training", "Logged models", "imdb-rnn")
    overview = text.split("Logged models", 1)[1]
    assert "model" in overview and "network" in overview, "both logged models are listed"
    assert "imdb-rnn" in text.split("Registered models", 1)[1], "the registered model version"
    md5 = hashlib.md5((repo / "data/interim/reviews.parquet").read_bytes()).hexdigest()
    assert md5 in (repo / "dvc.lock").read_text() and md5 in text, (
        "the dataset's digest is the MD5 DVC records"
    )
    for metric in ("test/accuracy", "test/roc_auc", "val/roc_auc"):
        assert metric in text, metric
    close_assistant(browser)
    assert screenshot(browser, "mlflow-run.png", tmp_path).stat().st_size > 10_000

    browser.find_element(By.XPATH, "//*[normalize-space(text())='Model metrics']").click()
    charts = page_text(browser, "Add chart")
    sections = dict(re.findall(r"^(\w+)\n\((\d+)\)$", charts, flags=re.M))
    assert {"train", "val", "test", "summary"} <= set(sections), charts[:2000]
    assert int(sections["train"]) >= 4 and int(sections["val"]) >= 4 and int(sections["test"]) >= 6
    assert not any(name.startswith("data") for name in sections), (
        "data counts are the dataset's profile, not charts"
    )
    train = browser.find_element(By.XPATH, "//*[normalize-space(text())='train']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", train)
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) >= 4
    )
    time.sleep(1)  # the curves' last frame
    screenshot(browser, "mlflow-metrics.png", tmp_path)

    # the model card is the registered version's description, on the version's page
    card = (repo / "reports/model_card.md").read_text()
    browser.get(f"{ui}/#/models/imdb-rnn/versions/1")
    version_page = page_text(
        browser, "Model card: imdb-rnn, version 1", "Intended use", "Known limits"
    )
    assert "<table" in browser.page_source and "negation" in version_page, "rendered, not raw"
    assert "## Intended use" not in version_page
    assert card.startswith("# Model card: imdb-rnn, version 1")
