"""The bench tier's browser tests share this: headless Chromium (Debian's chromium and its
chromium-driver, driven by Selenium) against a real web server of the site on loopback, with a real
RQ worker; steps that assert what a person sees, and a screenshot whenever a step fails. Without
Chromium or the Python packages, the tests skip and say why."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import frappe
from frappe.utils.password import update_password

from mexico_localization.tests.stamping_utils import StampingTestCase
from mexico_localization.tests.utils import make_user
from mexico_localization.tests.web_server import running_site

CHROMIUM = os.environ.get("ML_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = os.environ.get("ML_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
PHONE, DESKTOP = (390, 844), (1280, 1000)  # CSS pixels
WAIT = 90
PASSWORD = "Ml-browser-2026!"


def missing_tools() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        return "Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    for module, package in (("selenium", "selenium"), ("zxingcpp", "zxing-cpp"), ("PIL", "Pillow")):
        try:
            __import__(module)
        except ImportError:
            return f"{package} is not installed in the bench's Python (pip install -r requirements-browser.txt)"
    return ""


SKIP = missing_tools()
if SKIP:
    print(f"\nbrowser test SKIPPED: {SKIP}", file=sys.stderr)


@unittest.skipIf(SKIP, SKIP)
class BrowserTestCase(StampingTestCase):
    """The site served on loopback and a worker for the whole class; a fresh browser for each test."""

    window = DESKTOP

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = contextlib.ExitStack()
        sites = frappe.utils.get_bench_path() + "/sites"
        cls.url = cls.stack.enter_context(running_site(frappe.local.site, sites))
        cls.worker = subprocess.Popen(  # a real worker, as production runs it
            [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site, "worker",
             "--queue", "short,default,long"], cwd=sites,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.downloads = cls.stack.enter_context(tempfile.TemporaryDirectory(prefix="ml-downloads-"))
        cls.artifacts = Path(os.environ.get("ML_ARTIFACTS_DIR")
                             or frappe.get_site_path("private", "files", "ml-browser-artifacts"))
        frappe.cache.delete_keys("rl:")

    @classmethod
    def tearDownClass(cls):
        cls.worker.terminate()  # a warm shutdown; a worker still busy is stopped
        try:
            cls.worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cls.worker.kill()
            cls.worker.wait(timeout=20)
        cls.stack.close()
        super().tearDownClass()

    def setUp(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", f"--window-size={self.window[0]},{self.window[1]}"):
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='ml-chromium-')}")
        options.add_experimental_option("prefs", {"download.default_directory": self.downloads,
                                                  "download.prompt_for_download": False})
        self.browser = webdriver.Chrome(service=Service(DRIVER), options=options)
        self.browser.set_window_size(*self.window)

    def tearDown(self):
        self.browser.quit()

    # --- what a person does and sees ------------------------------------------------------------------

    @contextlib.contextmanager
    def screenshot_on_failure(self, step: str = ""):
        """What the browser showed when a step failed, kept for whoever reads the failure."""
        try:
            yield
        except BaseException:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            path = self.artifacts / f"{self._testMethodName}{'-' + step if step else ''}-{int(time.time())}.png"
            self.browser.save_screenshot(str(path))
            print(f"\nscreenshot of the failure: {path} (at {self.browser.current_url})", file=sys.stderr)
            for modal in self.browser.find_elements("css selector", ".modal.show, .freeze-message-container"):
                print(f"  on screen: {modal.text[:500]!r}", file=sys.stderr)
            raise

    def shot(self, name: str) -> None:
        """The README's pictures, when asked for (ML_SCREENSHOTS=dir)."""
        if os.environ.get("ML_SCREENSHOTS"):
            Path(os.environ["ML_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
            self.browser.save_screenshot(str(Path(os.environ["ML_SCREENSHOTS"]) / f"{name}.png"))

    def wait_for(self, css: str, text: str | None = None, timeout: float = WAIT, any_case: bool = False):
        """The element a person would look at (any matching `css`), once it shows (and says `text`, in any
        letter case with `any_case`: CSS may print a label in capitals)."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        def shown(browser):
            for element in browser.find_elements(By.CSS_SELECTOR, css):
                try:
                    shown_text = element.text.lower() if any_case else element.text
                    if element.is_displayed() and (text is None or (text.lower() if any_case else text) in shown_text):
                        return element
                except StaleElementReferenceException:
                    continue
            return False

        return WebDriverWait(self.browser, timeout).until(shown, f"nothing shows {css!r}" + (
            f" saying {text!r}" if text else ""))

    def button(self, label: str, within: str = "body", timeout: float = WAIT):
        """A visible, enabled button with this label, as a person finds it."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        def find(browser):
            for element in browser.find_elements(By.CSS_SELECTOR, f"{within} button, {within} .btn, "
                                                 f"{within} a.dropdown-item"):
                if element.is_displayed() and element.is_enabled() and element.text.strip() == label:
                    return element
            return False

        return WebDriverWait(self.browser, timeout).until(find, f"no visible button {label!r}")

    def click(self, target, text: str | None = None) -> None:
        """As a person clicks: once nothing covers the page (Frappe freezes it while it works). `target`:
        a CSS selector (found again if the page redraws it) or an element."""
        from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException

        for attempt in range(5):
            self.settled()
            element = self.wait_for(target, text) if isinstance(target, str) else target
            try:
                self.browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
                element.click()
                return
            except (StaleElementReferenceException, ElementClickInterceptedException):
                if not isinstance(target, str) or attempt == 4:
                    raise
                time.sleep(0.5)

    def press(self, label: str, within: str = "body") -> None:
        """The button with this label, found again if the page redraws it."""
        from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException

        for attempt in range(5):
            self.settled()
            try:
                self.click(self.button(label, within))
                return
            except (StaleElementReferenceException, ElementClickInterceptedException):
                if attempt == 4:
                    raise
                time.sleep(0.5)

    def settled(self, timeout: float = WAIT) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.browser, timeout).until(lambda browser: browser.execute_script(
            "return !document.querySelector('#freeze') && !(window.frappe && frappe.dom && frappe.dom.freeze_count)"),
            "the page stays frozen")

    def log_in(self, user: str, password: str = PASSWORD) -> None:
        self.browser.delete_all_cookies()
        self.browser.get(f"{self.url}/login")
        self.wait_for("#login_email").send_keys(user)
        self.browser.find_element("css selector", "#login_password").send_keys(password)
        self.browser.find_element("css selector", ".btn-login").click()
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.browser, WAIT).until(lambda browser: "/app" in browser.current_url, "still on /login")
        self.wait_for(".page-container, .layout-main")

    def open(self, route: str) -> None:
        self.browser.get(f"{self.url}/app/{route}")
        self.wait_for(".page-container:not(.hidden) .page-head, .page-head")

    @staticmethod
    def person(email: str, roles: list[str], language: str | None = None) -> str:
        """A real user with these roles and a password, as an administrator would make them."""
        make_user(email, roles)
        update_password(email, PASSWORD)
        frappe.db.set_value("User", email, "language", language)
        frappe.db.commit()
        return email
