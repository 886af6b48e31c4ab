"""report.html in a real headless browser (Debian's chromium driven by playwright): no
console errors, a non-blank histogram, a misconception row that shows its students when
clicked, and hostile or non-ASCII student names shown as text. The setup installs
chromium with apt-get where this runs as root; elsewhere the test is skipped and says how.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from autograder.batch import grade_class
from autograder.report_html import write_report
from tests.mutants.grading import MUTANTS
from tests.public.harness import EXERCISES, REPO

pytestmark = pytest.mark.timeout(900)
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
EX1 = EXERCISES["ex01"]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def browser():
    """A headless chromium under playwright; playwright never downloads a browser. Closed
    with this module: later modules grade hostile same-user submissions, which may kill the
    grader user's other processes, the playwright driver among them."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -r "
        "requirements-cluster.txt")
    if not shutil.which(CHROMIUM) and shutil.which("apt-get") and \
            subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        install = ["apt-get", "install", "-y", "-qq", "chromium"]
        if subprocess.run(install, capture_output=True, env=env, timeout=600).returncode:
            # A fresh image has no package lists yet.
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env,
                           timeout=300)
            subprocess.run(install, capture_output=True, env=env, timeout=600)
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chrome
        chrome.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A real graded class of two (ex01 only): the reference under a formula-like name and
    a mistake (no gradient accumulation) under a name with a script tag and non-ASCII."""
    root = tmp_path_factory.mktemp("report")
    subs = root / "subs"
    for sid, text in (("submission_1", (REPO / "solutions" / EX1).read_text()),
                      ("submission_2", MUTANTS["assign_not_accumulate"].source())):
        (subs / sid).mkdir(parents=True)
        (subs / sid / EX1).write_text(text)
    (subs / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: =cmd|' /C calc'!A0\n"
        f"submission_2:\n  :submitters:\n  - :name: Zoë {HOSTILE}\n", encoding="utf-8")
    rows = grade_class(subs, root / "out", jobs=2, progress=False, exercises=("ex01",))
    return write_report(rows, root / "out")


def test_the_report_in_a_browser(browser, report):
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert errors == [] and dialogs == []
    # The histogram decoded, and is not one colour.
    size = page.eval_on_selector("#histogram", "i => [i.naturalWidth, i.naturalHeight]")
    assert size[0] > 100 and size[1] > 100
    shot = page.locator("#histogram").screenshot()
    from io import BytesIO

    from matplotlib.image import imread

    pixels = imread(BytesIO(shot))
    assert pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max() > 0.05
    # Clicking the misconception shows the student who showed it.
    row = page.locator("tr.mis", has_text="bptt-no-accumulate")
    who = page.locator(f"#{row.get_attribute('data-target')}")
    assert not who.is_visible()
    row.click()
    assert who.is_visible() and "submission_2" in who.inner_text()
    # Names are text, not markup: shown as written, no script element from them.
    body = page.inner_text("body")
    assert f"Zoë {HOSTILE}" in body and "=cmd|' /C calc'!A0" in body
    assert page.locator("script").count() == 1
    # Each student's row links to their own page with the messages they saw.
    page.locator("tr.student a", has_text="submission_2").click()
    assert "bptt-no-accumulate" in page.inner_text("body") or \
        "accumulat" in page.inner_text("body").lower()
    assert errors == [] and dialogs == []
