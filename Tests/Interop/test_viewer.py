"""The /runs viewer in real headless Chromium: the list shows runs, a trajectory page shows each iteration's code and
output, a live run updates without a reload, hostile model output stays inert, and the login flow takes the right
token and refuses a wrong one. Runs come from `rlm-mcp run` against the scripted fake LLM; the pages from
`rlm-mcp runs serve`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BINARY, CANARY_OPENAI_KEY, fake_llm, server_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"):
    pytest.skip("Chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# Every way model output could try to run script in the page; the page must show them as text.
PAYLOAD = ('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
           '<a href="javascript:window.__pwned=3" id="evil">click</a><svg onload="window.__pwned=4"></svg>')
HOSTILE_SCRIPT = {
    "models": {"gpt-4o-mini": "sub"},
    "root": {"replies": [
        "Reply with markup " + PAYLOAD + "\n```python\nprint(" + json.dumps(PAYLOAD) + ")\nanswer = llm_query(" + json.dumps("sub " + PAYLOAD) + ")\nprint(answer)\n```",
        "```python\nSUBMIT(answer=" + json.dumps(PAYLOAD) + ")\n```",
    ]},
    "sub": {"default": "sub says " + PAYLOAD},
}
SLOW_SCRIPT = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": "```python\nimport time\ntime.sleep(1.5)\nprint('tick', time.time())\n```"}}
TOKEN = "viewer-canary-token-0123456789"
WAIT = 30


def run_cli(tmp_path: Path, data: Path, llm: str, task: str, *args: str) -> subprocess.Popen:
    env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_DATA_DIR": str(data)}
    return subprocess.Popen([BINARY, "run", "--task", task, *args], cwd=tmp_path, env=server_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def list_runs(data: Path, *args: str) -> list[dict]:
    out = subprocess.run([BINARY, "runs", "list", "--json", *args], capture_output=True, text=True, timeout=60,
                         env=server_env({"RLM_DATA_DIR": str(data)}), check=True)
    return json.loads(out.stdout)


@contextlib.contextmanager
def viewer(data: Path, token: str | None = None):
    """`rlm-mcp runs serve --port 0`; yields the base URL it prints."""
    env = {"RLM_DATA_DIR": str(data)}
    if token:
        env["MCP_AUTH_TOKEN"] = token
    process = subprocess.Popen([BINARY, "runs", "serve", "--port", "0"], env=server_env(env), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/runs", line)
        assert match, f"no viewer address in {line!r}; stderr: {process.stderr.read() if process.poll() is not None else ''}"
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def browser():
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_list_and_trajectory_show_the_run_and_hostile_output_stays_inert(tmp_path, browser):
    data = tmp_path / "data"
    with fake_llm(HOSTILE_SCRIPT, tmp_path) as llm:
        process = run_cli(tmp_path, data, llm, "count <script>window.__pwned=9</script> things")
        process.communicate(timeout=120)
    [run] = list_runs(data)
    with viewer(data) as base:
        browser.get(base + "/runs")
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.run")
        assert len(rows) == 1 and run["run_id"] in rows[0].text and "submitted" in rows[0].text
        assert "<script>window.__pwned=9</script>" in rows[0].text  # the task, shown as text
        browser.find_element(By.LINK_TEXT, run["run_id"]).click()
        WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "li.step"))
        steps = browser.find_elements(By.CSS_SELECTOR, "li.step")
        assert len(steps) == 2
        code = steps[0].find_element(By.CSS_SELECTOR, "code.python").text
        assert code.startswith("print(") and "llm_query" in code
        outputs = [element.get_attribute("textContent") for element in steps[0].find_elements(By.CSS_SELECTOR, "pre.output")]
        assert any(PAYLOAD in text for text in outputs), outputs
        assert PAYLOAD in steps[0].find_element(By.CSS_SELECTOR, "pre.reply").get_attribute("textContent")
        assert browser.find_elements(By.CSS_SELECTOR, "code.python span.tok-kw, code.python span.tok-str")  # highlighted
        # None of the markup became elements, and none of it ran.
        assert browser.execute_script("return window.__pwned === undefined")
        assert not browser.find_elements(By.ID, "evil")
        assert not browser.find_elements(By.CSS_SELECTOR, "li.step img, li.step svg, li.step script, .answer script")
        assert PAYLOAD in browser.find_element(By.CSS_SELECTOR, "pre.answer").get_attribute("textContent")
        # The search box filters on the task text.
        browser.get(base + "/runs?q=nothing-like-this")
        assert not browser.find_elements(By.CSS_SELECTOR, "tr.run")
        browser.get(base + "/runs?q=__pwned%3D9&status=submitted")
        assert len(browser.find_elements(By.CSS_SELECTOR, "tr.run")) == 1


def test_a_live_run_gains_steps_without_a_reload(tmp_path, browser):
    data = tmp_path / "data"
    with fake_llm(SLOW_SCRIPT, tmp_path) as llm:
        process = run_cli(tmp_path, data, llm, "tick slowly", "--max-iterations", "6")
        try:
            with viewer(data) as base:
                deadline = time.monotonic() + WAIT
                while not list_runs(data, "--status", "running") and time.monotonic() < deadline:
                    time.sleep(0.2)
                [run] = list_runs(data, "--status", "running")
                browser.get(f"{base}/runs/{run['run_id']}")
                assert browser.find_element(By.ID, "status").text == "running"
                before = len(browser.find_elements(By.CSS_SELECTOR, "li.step"))
                browser.execute_script("window.__sameDocument = true")
                WebDriverWait(browser, WAIT).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "li.step")) > before)
                WebDriverWait(browser, 60).until(lambda b: b.find_element(By.ID, "status").text != "running")
                assert browser.execute_script("return window.__sameDocument === true"), "the page reloaded"
                assert len(browser.find_elements(By.CSS_SELECTOR, "li.step")) == 6
                assert "tick" in browser.find_elements(By.CSS_SELECTOR, "pre.output")[-1].text
        finally:
            process.communicate(timeout=120)


def test_login_takes_the_token_and_refuses_a_wrong_one(tmp_path, browser):
    data = tmp_path / "data"
    with fake_llm(HOSTILE_SCRIPT, tmp_path) as llm:
        run_cli(tmp_path, data, llm, "a task").communicate(timeout=120)
    with viewer(data, token=TOKEN) as base:
        browser.get(base + "/runs")
        assert browser.current_url.endswith("/runs/login")
        browser.find_element(By.ID, "token").send_keys("not-the-token")
        browser.find_element(By.ID, "login").click()
        WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.ID, "refused"))
        assert not browser.get_cookies()
        browser.get(base + "/runs")
        assert not browser.find_elements(By.CSS_SELECTOR, "tr.run")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.ID, "login").click()
        WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "tr.run"))
        [cookie] = browser.get_cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]
        # Script cannot read the session cookie.
        assert browser.execute_script("return document.cookie") == ""
