"""A headless Chromium driven the way a person uses the web client: controls are found by their
accessible names (WebDriver's computed label), text is typed and buttons are clicked."""
import contextlib
import glob
import json
import os
import re
import shutil
import time

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from chromium_launch import launch_chromium
from parley_server import ARTIFACTS

CONTROLS = "button, input, textarea, select, a[href], [role=button]"

# A stand-in for the browser's Notification (headless Chromium shows none) that records what the
# page asked to show in `window.shownNotifications`; permission is granted. Installed with
# `browser.js("(() => {" + FAKE_NOTIFICATIONS + "})()")`.
FAKE_NOTIFICATIONS = """
window.shownNotifications = [];
window.Notification = class {
  constructor(title, options = {}) { window.shownNotifications.push({title, body: options.body ?? null, tag: options.tag ?? null}); }
  close() {}
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};"""


class WebBrowser:
    """One Chromium instance with its own profile."""

    def __init__(self, name, artifact, size=(1100, 800), flags=()):
        self.name, self.artifact = name, artifact
        self.driver, self.profile = launch_chromium(f"parley-web-{name.lower()}-", [f"--window-size={size[0]},{size[1]}", *flags])
        self.console = []

    # MARK: finding things as a person would

    def controls(self, name, exact=True):
        """Displayed controls whose accessible name is `name` (or starts with it when not exact)."""
        found = []
        for element in self.driver.find_elements(By.CSS_SELECTOR, CONTROLS):
            try:
                if not element.is_displayed():
                    continue
                label = element.accessible_name
            except StaleElementReferenceException:
                continue
            if (label == name) if exact else label.startswith(name):
                found.append(element)
        return found

    def control(self, name, exact=True, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            found = self.controls(name, exact)
            if found:
                assert len(found) == 1, f"{self.name}: {len(found)} controls named {name!r}"
                return found[0]
            if time.monotonic() > deadline:
                names = sorted({e.accessible_name for e in self.driver.find_elements(By.CSS_SELECTOR, CONTROLS) if e.is_displayed()})
                raise AssertionError(f"{self.name}: no control named {name!r} within {timeout}s; visible: {names}; "
                                     f"alerts: {self.alerts()}")
            time.sleep(0.2)

    def click(self, name, exact=True, timeout=10):
        element = self.control(name, exact, timeout)
        element.click()
        return element

    def fill(self, name, text, clear=True):
        element = self.control(name)
        if clear:
            element.send_keys(Keys.CONTROL, "a")
            element.send_keys(Keys.DELETE)
        element.send_keys(text)
        return element

    def alerts(self):
        with contextlib.suppress(WebDriverException):
            return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "[role=alert] .alert-text")]
        return []

    def js(self, expression):
        return self.driver.execute_script(f"return {expression};")

    def wait(self, description, predicate, timeout=10, detail=lambda: ""):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {description} within {timeout}s; alerts {self.alerts()}; {detail()}")
            time.sleep(0.2)

    def texts(self, css):
        """The rendered text of every element matching `css` (read in one step: no stale elements)."""
        return self.driver.execute_script("return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText);", css)

    def message_texts(self):
        return self.texts("#message-list .message-body")

    # MARK: health

    def read_console(self):
        with contextlib.suppress(WebDriverException):
            self.console += self.driver.get_log("browser")
        return self.console

    def page_errors(self):
        """Console errors: script exceptions, CSP violations, failed loads (a 4xx/5xx the test did not cause)."""
        return [entry["message"] for entry in self.read_console() if entry["level"] == "SEVERE"]

    def unnamed_controls(self, within=None):
        """Visible controls without an accessible name (inside `within`, a CSS selector: behind an
        open modal dialog the page is inert and has no accessible names at all)."""
        missing = []
        selector = ", ".join(f"{within} {c.strip()}" for c in CONTROLS.split(",")) if within else CONTROLS
        for element in self.driver.find_elements(By.CSS_SELECTOR, selector):
            with contextlib.suppress(StaleElementReferenceException):
                if element.is_displayed() and not element.accessible_name.strip():
                    missing.append(element.get_attribute("outerHTML")[:120])
        return missing

    def screenshot(self, label):
        path = os.path.join(ARTIFACTS, f"{self.artifact}-{label}.png")
        self.driver.save_screenshot(path)
        return path

    def save_diagnostics(self):
        path = os.path.join(ARTIFACTS, f"{self.artifact}-{self.name.lower()}-console.log")
        with open(path, "w") as out:
            for entry in self.read_console():
                out.write(f"[{entry['level']}] {entry['message']}\n")
            with contextlib.suppress(Exception):
                state = self.js("""(async () => ({call: window.parleyDebug.call(), inbound: await window.parleyDebug.inboundStats(),
                                     outbound: await window.parleyDebug.outboundStats(), online: window.parleyDebug.socketOnline(),
                                     frames: window.parleyDebug.frames()}))()""")
                out.write("\n--- page state ---\n" + json.dumps(state, indent=1))
            with contextlib.suppress(Exception):
                out.write("\n--- alerts ---\n" + "\n".join(self.alerts()))
        with contextlib.suppress(Exception):
            self.screenshot(f"{self.name.lower()}-failure")

    def quit(self):
        with contextlib.suppress(Exception):
            self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


def opened_browsers(request, prefix, check_console=False, provoked=()):
    """The body of a test file's `browsers` fixture (`yield from opened_browsers(request, ...)`):
    each file names its own, with its own prefix and what it provokes in the console.

    Yields `open_browser(name, **options)`, which starts a WebBrowser (options as WebBrowser takes them)
    whose screenshots and logs are named `<prefix>-<test name>`. After the test every browser is
    quit, once its diagnostics are saved if the test failed. With `check_console`, a test that
    passed fails on console errors it did not provoke (`provoked`: more patterns for
    significant_errors); that is asserted after the last browser is quit, so that none is left running."""
    started = []
    failures_before = request.session.testsfailed

    def open_browser(name, **options):
        browser = WebBrowser(name, f"{prefix}-{request.node.name}", **options)
        started.append(browser)
        return browser
    yield open_browser
    failed = request.session.testsfailed > failures_before
    complaints = []
    for browser in started:
        if failed:
            browser.save_diagnostics()
        elif check_console:
            errors = significant_errors(browser.page_errors(), provoked)
            if errors:
                complaints.append(f"{browser.name}: console errors {errors}")
        browser.quit()
    assert not complaints, "; ".join(complaints)


def write_tone(path, seconds=5, frequency=440, amplitude=0.5, rate=48000):
    """A loud, steady sine as a WAV file for `--use-file-for-fake-audio-capture`: unlike Chromium's
    default fake microphone (a short beep a second) it keeps its sender the loudest in a call."""
    import math
    import struct
    import wave
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        peak = int(32767 * amplitude)
        out.writeframes(b"".join(struct.pack("<h", int(peak * math.sin(2 * math.pi * frequency * i / rate)))
                                 for i in range(rate * seconds)))
    return path


def significant_errors(messages, provoked=()):
    """Console errors minus those a test provokes on purpose (a stopped server, a refused refresh,
    and the patterns in `provoked`)."""
    expected = re.compile("|".join([r"ERR_CONNECTION_REFUSED|WebSocket connection to .* failed|/auth/refresh .* 401|"
                                    r"net::ERR_|Failed to load resource: the server responded with a status of 401",
                                    *provoked]))
    return [m for m in messages if not expected.search(m)]


_AXE_JS = None


def _axe_source():
    """axe-core from the selenium-axe-python package (PyPI), injected by the tests, not shipped."""
    global _AXE_JS
    if _AXE_JS is None:
        import selenium_axe_python
        paths = glob.glob(os.path.join(os.path.dirname(selenium_axe_python.__file__), "**", "axe.min.js"), recursive=True)
        assert paths, "selenium-axe-python ships no axe.min.js"
        with open(paths[0]) as source:
            _AXE_JS = source.read()
    return _AXE_JS


def run_axe(browser, artifact):
    """Runs axe-core (WCAG 2.0/2.1 A and AA rules) in the page and writes its result to
    `$PARLEY_ARTIFACTS/<artifact>.json`; fails on serious or critical violations."""
    browser.driver.execute_script(_axe_source())
    result = browser.driver.execute_async_script("""
      const done = arguments[arguments.length - 1];
      axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
        .then((r) => done({version: axe.version, violations: r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary)}))}))
        .catch((e) => done({error: String(e)}));""")
    assert "error" not in result, result
    with open(os.path.join(ARTIFACTS, f"{artifact}.json"), "w") as out:
        json.dump(result, out, indent=1)
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe-core {result['version']} on {artifact}: " + json.dumps(bad, indent=1)
    return result
