"""Exactly once, nothing lost: stamping under faults, with real `bench worker` processes.

For every scenario: exactly one CFDI at the emulator per invoice, every invoice ends Stamped or
Failed with a reason, none is left in flight, and every create the emulator received for an
invoice carried the same idempotency key.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import frappe
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import enqueue, get_queue

from mexico_localization.cfdi.states import IN_FLIGHT
from mexico_localization.einvoice.pipeline.rows import STAMP_JOB as JOB
from mexico_localization.einvoice.pipeline.rows import enqueue_stamp
from mexico_localization.einvoice.pipeline.sweep import sweep
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice, sales_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase, run_worker_burst, wipe_cfdis


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_process() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site,
                             "worker", "--burst", "--queue", "short"], cwd=frappe.utils.get_bench_path() + "/sites",
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


class TestFaultSuite(StampingTestCase):
    doctype = "POS Invoice"

    def setUp(self):
        self.emulator.reset()
        wipe_cfdis()
        get_queue("short").empty()

    # --- the road ------------------------------------------------------------------------------

    def sales(self, count: int = 1) -> list[str]:
        names = []
        for _ in range(count):
            names.append(pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80), ("ML-PAN", 2, 12.5)]).name)
            frappe.db.commit()  # on_submit's job is queued after this commit
        return names

    def cfdis(self, invoices: list[str]) -> list[frappe._dict]:
        frappe.db.rollback()  # see what the workers committed
        return [frappe.db.get_value("CFDI", {"reference_name": name}, ["name", "status", "external_id", "uuid",
                                                                     "last_error"], as_dict=True)
                for name in invoices]

    def drain(self, invoices: list[str], rounds: int = 8) -> None:
        """Workers until the queue is empty; the sweep (with due times pulled in) in between."""
        for _ in range(rounds):
            run_worker_burst()
            if not any(c.status in {s.value for s in IN_FLIGHT} for c in self.cfdis(invoices)):
                return
            frappe.db.sql("update `tabCFDI` set next_attempt_at=%s where status in ('Retrying', 'Pending at PAC')",
                          add_to_date(now_datetime(), seconds=-1))
            frappe.db.commit()
            sweep(stamping_stale_seconds=30, queued_grace_seconds=0)

    def assert_exactly_once(self, invoices: list[str], expect: str = "Stamped") -> None:
        state = self.emulator.state.summary()
        for cfdi in self.cfdis(invoices):
            self.assertEqual(cfdi.status, expect, cfdi)
            if expect == "Stamped":
                self.assertEqual(state["stamps_per_external_id"].get(cfdi.external_id), 1, cfdi)
                self.assertEqual(frappe.db.get_value(self.doctype, {"mx_cfdi": cfdi.name}, "mx_cfdi_uuid"), cfdi.uuid)
            else:
                self.assertTrue(cfdi.last_error)
                self.assertNotIn(cfdi.external_id, state["stamps_per_external_id"])
            keys = {r["idempotency_key"] for r in state["create_requests"] if r["external_id"] == cfdi.external_id}
            self.assertLessEqual(len(keys), 1, keys)

    # --- scenarios -----------------------------------------------------------------------------

    def test_clean_run(self):
        invoices = self.sales(3)
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_timeout_after_the_emulator_stamped(self):
        self.emulator.add_fault("create_invoice", "timeout_after_stamp", delay=6)
        invoices = self.sales()
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_connection_reset(self):
        self.emulator.add_fault("create_invoice", "reset_after_stamp")
        self.emulator.add_fault("create_invoice", "reset")
        invoices = self.sales(2)
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_5xx(self):
        self.emulator.add_fault("create_invoice", "server_error", times=2, status=500)
        invoices = self.sales()
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_429_with_retry_after(self):
        self.emulator.add_fault("create_invoice", "rate_limit", retry_after=1)
        invoices = self.sales()
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_202_then_valid(self):
        self.emulator.add_fault("create_invoice", "pending", polls=2)
        invoices = self.sales()
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_sat_rejection_ends_failed_with_the_reason(self):
        self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40147")
        invoices = self.sales()
        self.drain(invoices)
        self.assert_exactly_once(invoices, expect="Failed")
        self.assertIn("CFDI40147", self.cfdis(invoices)[0].last_error)

    def test_worker_killed_mid_call(self):
        self.emulator.add_fault("create_invoice", "latency", ms=4000)
        invoices = self.sales()
        worker = worker_process()
        try:
            for _ in range(100):
                if self.cfdis(invoices)[0].status == "Stamping":
                    break
                time.sleep(0.2)
            time.sleep(1)  # the create is now in flight at the emulator
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        self.assertEqual(self.cfdis(invoices)[0].status, "Stamping")
        time.sleep(4)  # the emulator finishes the request the dead worker made
        frappe.db.sql("update `tabCFDI` set claimed_at=%s", add_to_date(now_datetime(), minutes=-10))
        frappe.db.commit()
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_redis_queue_flushed_while_queued(self):
        invoices = self.sales(2)
        get_queue("short").empty()
        self.assertEqual(self.cfdis(invoices)[0].status, "Queued")
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_a_job_record_that_outlived_its_queue_entry_is_rescued_and_retry_is_offered(self):
        """The job's record still says "queued" but no queue holds it: the sweep must not take the record's
        word; a person sees Retry once it has waited long enough."""
        from frappe.utils.background_jobs import create_job_id
        from rq.job import Job

        from mexico_localization.einvoice import api
        from mexico_localization.einvoice.pipeline.rows import job_id
        from mexico_localization.einvoice.pipeline.sweep import stuck_in_queue

        invoices = self.sales()
        cfdi = self.cfdis(invoices)[0].name
        queue = get_queue("short")
        lost = create_job_id(job_id("stamp", cfdi))
        queue.remove(lost)  # the queue entry goes; the job's record stays
        self.assertEqual(Job.fetch(lost, connection=queue.connection).get_status(), "queued")
        frappe.db.sql("update `tabCFDI` set modified = %s where name = %s",
                      (add_to_date(now_datetime(), hours=-1), cfdi))
        frappe.db.commit()
        self.assertTrue(stuck_in_queue(cfdi))
        self.assertEqual(api.retry_cfdi(cfdi=cfdi)["status"], "Queued")  # a person's Retry, from the CFDI form
        frappe.db.commit()
        self.assertFalse(stuck_in_queue(cfdi), "a job is in the queue again")
        self.drain(invoices)
        self.assert_exactly_once(invoices)

        invoices = self.sales()  # and without anyone: the sweep finds it
        cfdi = self.cfdis(invoices)[0].name
        queue.remove(create_job_id(job_id("stamp", cfdi)))
        self.assertEqual(sweep(queued_grace_seconds=0), [cfdi])
        frappe.db.commit()
        self.drain(invoices)
        self.assert_exactly_once(invoices)

    def test_same_invoice_enqueued_twice(self):
        invoices = self.sales()
        cfdi = self.cfdis(invoices)[0].name
        enqueue_stamp(cfdi)
        enqueue(JOB, queue="short", cfdi=cfdi, job_id=f"extra:{cfdi}")  # bypasses de-duplication
        frappe.db.commit()
        self.drain(invoices)
        self.assert_exactly_once(invoices)
        self.assertEqual(self.emulator.state.summary()["calls"].get("create_invoice"), 1)

    def test_two_workers_racing(self):
        self.emulator.config.stamp_latency_ms = 150
        try:
            invoices = self.sales(6)
            for cfdi in self.cfdis(invoices):
                enqueue(JOB, queue="short", cfdi=cfdi.name, job_id=f"twin:{cfdi.name}")
            frappe.db.commit()
            workers = [worker_process(), worker_process()]
            for worker in workers:
                worker.wait(timeout=240)
            self.drain(invoices)
            self.assert_exactly_once(invoices)
            self.assertEqual(self.emulator.state.summary()["calls"].get("create_invoice"), 6)
        finally:
            self.emulator.config.stamp_latency_ms = 0

    # --- a lost answer, then a look-up that fails: never a second document -----------------------

    def retry_failed(self, invoices: list[str]) -> None:
        """A person presses Retry CFDI on every sale that ended Failed."""
        from mexico_localization.einvoice import api

        for cfdi in self.cfdis(invoices):
            if cfdi.status == "Failed":
                api.retry_cfdi(frappe.db.get_value("CFDI", cfdi.name, "reference_name"), doctype=self.doctype)
        frappe.db.commit()

    def test_a_failed_look_up_after_a_lost_answer_never_makes_a_second_cfdi(self):
        """The create stamped but its answer was lost; the next try's look-up fails with a 401, a 429,
        a dropped connection, a 400, or cannot connect at all. That error is the look-up's, not the
        create's: the generation stays and the next try looks again."""
        lookups = [("server_error", {"status": 401, "code": "api_key_invalid"}),
                   ("rate_limit", {"retry_after": 1}), ("reset", {}), ("validation", {"path": "external_id"}),
                   ("refused", {})]
        for kind, params in lookups:
            self.emulator.reset()
            self.emulator.add_fault("create_invoice", "reset_after_stamp")
            if kind != "refused":
                self.emulator.add_fault("search_invoices", kind, **params)
            invoices = self.sales()
            if kind == "refused":  # the look-up's try finds nothing listening at the server's port
                run_worker_burst()
                self.enable(server_url=f"http://127.0.0.1:{free_port()}/v2")
                frappe.db.sql("update `tabCFDI` set next_attempt_at=%s where status='Retrying'",
                              add_to_date(now_datetime(), seconds=-1))
                frappe.db.commit()
                sweep(queued_grace_seconds=0)
                run_worker_burst()
                self.assertEqual(self.cfdis(invoices)[0].status, "Retrying", "a refused look-up is retried")
                self.enable()
            self.drain(invoices)
            self.retry_failed(invoices)
            self.drain(invoices)
            self.assert_exactly_once(invoices)
            self.assertEqual(self.emulator.state.summary()["calls"].get("create_invoice"), 1, kind)

    def test_a_replayed_key_answered_with_an_error_then_retry_cfdi_never_makes_a_second_cfdi(self):
        self.emulator.config.idempotency_replay = "error"
        try:
            self.emulator.add_fault("create_invoice", "reset_after_stamp")
            self.emulator.add_fault("search_invoices", "rate_limit", retry_after=1)
            invoices = self.sales()
            self.drain(invoices)
            self.retry_failed(invoices)
            self.drain(invoices)
            self.assert_exactly_once(invoices)
        finally:
            self.emulator.config.idempotency_replay = "original"

    def test_a_try_that_outlived_its_job_never_records_over_the_next(self):
        """Worker A's create is slow; the sweep takes the CFDI back and worker B stamps it. When A's
        answer finally comes, its record is refused: one stamp, one set of files, one e-mail."""
        self.emulator.add_fault("create_invoice", "latency", ms=5000)
        invoices = self.sales()
        worker_a = worker_process()
        try:
            for _ in range(100):
                if self.cfdis(invoices)[0].status == "Stamping":
                    break
                time.sleep(0.2)
            time.sleep(1.5)
            sweep(stamping_stale_seconds=1, queued_grace_seconds=0)  # A's claim looks dead: rescued
            self.assertEqual(self.cfdis(invoices)[0].status, "Retrying")
            frappe.db.sql("update `tabCFDI` set next_attempt_at=%s", add_to_date(now_datetime(), seconds=-1))
            frappe.db.commit()
            sweep(stamping_stale_seconds=3600, queued_grace_seconds=0)
            run_worker_burst()  # worker B: looks up (nothing yet), creates with the same key, records
            self.assertEqual(self.cfdis(invoices)[0].status, "Stamped")
        finally:
            worker_a.wait(timeout=240)
        self.drain(invoices)
        self.assert_exactly_once(invoices)
        cfdi = self.cfdis(invoices)[0]
        self.assertEqual(frappe.db.count("File", {"attached_to_name": cfdi.name}), 1, "one XML (the PDF: on demand)")
        self.assertEqual(len(self.emulator.state.summary()["emails"]), 1)
        creates = frappe.get_all("CFDI Attempt", filters={"parent": cfdi.name, "operation": "create_invoice"},
                                 pluck="integration_request")
        self.assertEqual(len(creates), 1, "A's create is an Integration Request, not an attempt of the record")
        requests = {"reference_docname": cfdi.name, "request_description": ["like", "create_invoice%"]}
        self.assertEqual(frappe.db.count("Integration Request", requests), 2)

    def test_pos_closing_while_a_stamp_is_in_flight(self):
        from erpnext.accounts.doctype.pos_closing_entry.pos_closing_entry import make_closing_entry_from_opening

        from mexico_localization.tests.pos_fixtures import till

        profile = till("ML Caja Cierre")
        frappe.db.commit()
        self.emulator.add_fault("create_invoice", "latency", ms=3000)
        invoices = [pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)], profile=profile).name]
        frappe.db.commit()
        worker = worker_process()
        for _ in range(100):
            if self.cfdis(invoices)[0].status == "Stamping":
                break
            time.sleep(0.2)
        opening = frappe.get_doc("POS Opening Entry", {"pos_profile": profile, "status": "Open", "docstatus": 1})
        closing = make_closing_entry_from_opening(opening)
        for row in closing.payment_reconciliation:
            row.closing_amount = row.expected_amount
        closing.insert(ignore_permissions=True)
        closing.submit()  # consolidates the sale into a Sales Invoice while its CFDI is being stamped
        frappe.db.commit()
        worker.wait(timeout=240)
        self.drain(invoices)
        self.assert_exactly_once(invoices)
        invoice = frappe.get_doc("POS Invoice", invoices[0])
        self.assertEqual(invoice.status, "Consolidated")
        self.assertTrue(invoice.consolidated_invoice and invoice.mx_cfdi_uuid)
        self.assertFalse(frappe.db.exists("CFDI", {"reference_doctype": "Sales Invoice"}))  # never stamped


class TestFaultSuiteSalesInvoices(TestFaultSuite):
    """The same faults with Sales Invoices: one pipeline, so the same guarantees."""

    doctype = "Sales Invoice"
    test_pos_closing_while_a_stamp_is_in_flight = None  # a POS matter

    def sales(self, count: int = 1) -> list[str]:
        names = []
        for _ in range(count):
            names.append(sales_invoice(NOMINATIVE, [("ML-CAFE", 1, 80), ("ML-PAN", 2, 12.5)], payment_form="03").name)
            frappe.db.commit()  # before_submit's job is queued after this commit
        return names
