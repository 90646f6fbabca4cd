"""A recognisable key is planted; a ping, a failing call, an exception inside the send path and a
failing background job are driven; then every place a key could leak is scanned for it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from unittest.mock import patch

import frappe
from frappe.utils.background_jobs import get_queue
from rq.job import Job

from mexico_localization.einvoice.api import ping_server
from mexico_localization.tests.pos_fixtures import second_company
from mexico_localization.tests.utils import KEY_TAIL, EmulatorTestCase, configure

SETTINGS = "E Invoice Setting"
SECOND_KEY = "sk_test_SECONDPLANTED9zx8c7v6b5n4m3"  # the second company's organization


def run_worker_burst(queue: str = "short") -> None:
    """A real RQ worker, in its own process, as production runs it."""
    subprocess.run([sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site,
                    "worker", "--burst", "--queue", queue], cwd=frappe.utils.get_bench_path() + "/sites",
                   check=True, timeout=240, capture_output=True)


class TestSecretHygiene(EmulatorTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.since = frappe.utils.now_datetime()
        cls.realtime: list = []
        configure(cls.emulator.url)
        settings = frappe.get_doc(SETTINGS)  # two companies, each with its planted key
        settings.append("companies", {"company": second_company(), "secret_key": SECOND_KEY})
        settings.save(ignore_permissions=True)
        frappe.db.commit()  # the worker process reads the committed settings

    def assert_clean(self, text: str, where: str) -> None:
        self.assertNotIn(KEY_TAIL, text, f"the secret key leaked into {where}")
        self.assertNotIn(SECOND_KEY[8:], text, f"the second company's key leaked into {where}")

    def test_the_key_appears_nowhere(self):
        with patch("frappe.publish_realtime", side_effect=lambda *a, **k: self.realtime.append((a, k))):
            ping_server()                                          # a ping that works
            self.emulator.config.keys = frozenset({"sk_test_someone_else_entirely_0"})
            ping_server()                                          # a failing call
            self.emulator.config.keys = None

            def explode(session, request, **kwargs):               # an exception inside the send path
                raise RuntimeError(f"socket died while sending {dict(request.headers)}")

            with patch("requests.Session.send", explode):
                self.assertFalse(ping_server()["ok"])
        self.assertTrue(any("RuntimeError" in (e.error or "") for e in self.new("Error Log", ["error"])))
        self.failing_background_job()

        requests = self.new("Integration Request", ["*"])
        self.assertGreaterEqual(len(requests), 6)  # each ping asks both organizations
        self.assert_clean(json.dumps(requests, default=str), "Integration Requests")
        errors = self.new("Error Log", ["*"])
        self.assertGreaterEqual(len(errors), 3)
        self.assert_clean(json.dumps(errors, default=str), "Error Logs")
        self.assert_clean(json.dumps(self.realtime, default=str), "realtime messages")
        self.assert_clean(json.dumps(frappe.local.message_log, default=str), "message log")
        self.assert_clean(self.form_payloads(), "getdoc / REST / page JS of the settings")

    def new(self, doctype: str, fields: list[str]) -> list[dict]:
        return frappe.get_all(doctype, filters={"creation": [">=", self.since]}, fields=fields)

    def failing_background_job(self) -> None:
        """A job that lets a FacturaAPI error escape: RQ's failed-job record and Frappe's Error Log."""
        self.emulator.config.keys = frozenset({"sk_test_someone_else_entirely_0"})
        job = frappe.enqueue("mexico_localization.tests.jobs.ping_and_raise", queue="short",
                             job_id=f"ml-secret-hygiene-{time.time()}")
        frappe.db.commit()
        run_worker_burst()
        self.emulator.config.keys = None
        job.refresh()
        self.assertTrue(job.is_failed)
        self.assertIn("AuthenticationError", job.exc_info or "")
        self.assert_clean(job.exc_info or "", "RQ failed-job info")
        registry = get_queue("short").failed_job_registry
        for failed in Job.fetch_many(registry.get_job_ids(), connection=registry.connection):
            if failed is not None:
                self.assert_clean(f"{failed.exc_info} {failed.kwargs} {failed.meta}", "RQ failed-job registry")
        frappe.db.rollback()

    def form_payloads(self) -> str:
        from frappe.client import get as rest_get
        from frappe.desk.form.load import getdoc, getdoctype

        frappe.response.docs = []
        getdoc(SETTINGS, SETTINGS)
        getdoctype(SETTINGS)
        payload = json.dumps(frappe.response.docs, default=str)
        payload += json.dumps(rest_get(SETTINGS, SETTINGS), default=str)
        payload += json.dumps(frappe.get_doc(SETTINGS).as_dict(), default=str)
        return payload
