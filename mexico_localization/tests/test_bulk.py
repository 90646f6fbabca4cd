"""Bulk CFDI re-generation: who may start it, what it skips, slices that stamp through the pipeline,
the 401 stop, the 429 back-off, and a live sale served before the bulk run with a real worker."""

from __future__ import annotations

import subprocess
import sys
import time

import frappe
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_queue

from mexico_localization.einvoice import api
from mexico_localization.einvoice.operations import bulk
from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.einvoice.pipeline.sweep import sweep
from mexico_localization.tests.pos_fixtures import NOMINATIVE, WALK_IN, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of
from mexico_localization.tests.utils import make_user


class TestBulk(StampingTestCase):
    def setUp(self):
        self.emulator.reset()
        self.emulator.config.keys = None
        self.emulator.config.stamp_latency_ms = 0
        self.enable()

    def not_applicable_sales(self, count: int) -> list[str]:
        """Sales submitted while E Invoice was off: nothing was queued for them."""
        self.enable(enable_e_invoice=0)
        names = [pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)]).name for _ in range(count)]
        frappe.db.commit()
        self.enable()
        return names

    def drain(self, run: str, slices: int = 200) -> frappe._dict:
        """The run's slices, called as the long-queue worker would, until it ends or pauses."""
        for _ in range(slices):
            doc = frappe.db.get_value("CFDI Bulk Run", run, ["status", "active_slices"], as_dict=True)
            if doc.status != "Running" or not doc.active_slices:
                break
            bulk.run_slice(run)
        get_queue("long").empty()  # the slices above re-enqueued themselves; they were run here
        return frappe.get_doc("CFDI Bulk Run", run)

    def test_a_user_who_may_not_submit_pos_invoices_is_refused(self):
        user = make_user("ml-bulk-viewer@example.com", ["CFDI Manager"])
        frappe.set_user(user)
        try:
            for method in (api.bulk_preview, api.bulk_start):
                with self.assertRaises(frappe.PermissionError):
                    method(names=frappe.as_json(["x"]))
        finally:
            frappe.set_user("Administrator")
        self.assertFalse(frappe.db.exists("CFDI Bulk Run", {"requested_by": user}))

    def test_preview_says_what_is_skipped_and_why(self):
        stamped = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)])
        in_flight = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)])
        walk_in = pos_invoice(WALK_IN, [("ML-CAFE", 1, 80)])
        frappe.db.commit()
        stamp(stamped.mx_cfdi)
        [not_applicable] = self.not_applicable_sales(1)
        draft = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)], submit=False)
        frappe.db.commit()
        names = [stamped.name, in_flight.name, walk_in.name, not_applicable, draft.name]
        p = api.bulk_preview(names=frappe.as_json(names))
        self.assertEqual((p["to_generate"], p["skipped"]), (1, 4))
        self.assertEqual(p["skipped_by_reason"], {"already stamped": 1, "in flight": 1, "cancelled or draft": 1,
                                                  "waiting for a global or original CFDI": 1})
        failed_only = api.bulk_preview(filters=frappe.as_json([["POS Invoice", "name", "in", names]]), failed_only=1)
        self.assertEqual(failed_only["to_generate"], 0, "Not Applicable sales only when a person selects them")

    def test_generate_selected_stamps_them_in_slices_through_the_pipeline(self):
        names = self.not_applicable_sales(5)
        started = api.bulk_start(names=frappe.as_json(names))
        run = self.drain(started["run"])
        self.assertEqual((run.status, run.total, run.processed, run.stamped, run.failed), ("Completed", 5, 5, 5, 0))
        for name in names:
            self.assertEqual(frappe.db.get_value("POS Invoice", name, "mx_cfdi_status"), "Stamped")
            self.assertEqual(frappe.db.get_value("CFDI", {"reference_name": name}, "bulk_run"), run.name)
        tagged = frappe.db.count("Integration Request", {"request_description": ["like", f"{run.name} · %"]})
        self.assertEqual(tagged, 5 * 3)  # create, XML and the e-mail to the customer, per invoice (the PDF: on demand)
        self.assertTrue(run.peak_memory_mb > 0)
        self.assertEqual(self.emulator.state.summary()["stamps"], 5)

    def test_regenerate_all_failed_for_the_lists_filters(self):
        sales = [pos_invoice(NOMINATIVE, [("ML-PAN", 1, 50)]) for _ in range(3)]
        frappe.db.commit()
        self.emulator.add_fault("create_invoice", "sat_rejection", times=3)
        for sale in sales:
            stamp(sale.mx_cfdi)
        self.assertEqual({frappe.db.get_value("POS Invoice", s.name, "mx_cfdi_status") for s in sales}, {"Failed"})
        filters = [["POS Invoice", "name", "in", [s.name for s in sales]]]
        run = self.drain(api.bulk_start(filters=frappe.as_json(filters), failed_only=1)["run"])
        self.assertEqual((run.status, run.stamped), ("Completed", 3))

    def test_the_first_401_stops_the_run(self):
        names = self.not_applicable_sales(4)
        self.emulator.config.keys = frozenset({"sk_test_" + "z" * 40})  # our key is no longer valid
        run = self.drain(api.bulk_start(names=frappe.as_json(names))["run"])
        self.assertEqual((run.status, run.processed, run.failed), ("Stopped", 1, 1))
        self.assertIn("Secret Key", run.stop_reason)
        calls = frappe.get_all("Integration Request", pluck="request_description",
                               filters={"request_description": ["like", f"{run.name} · %"]})
        self.assertEqual(len(calls), 1, calls)  # one refused call, then nothing more
        self.assertIn("401", calls[0])
        untouched = [n for n in names if frappe.db.get_value("POS Invoice", n, "mx_cfdi_status") == "Not Applicable"]
        self.assertEqual(len(untouched), 3, "the others were never sent")

    def test_a_429_backs_the_whole_run_off_and_the_sweep_resumes_it_on_the_long_queue(self):
        names = self.not_applicable_sales(3)
        self.emulator.add_fault("create_invoice", "rate_limit", retry_after=120)
        run = self.drain(api.bulk_start(names=frappe.as_json(names))["run"])
        self.assertEqual((run.status, run.processed, run.retrying), ("Paused", 1, 1))
        self.assertGreaterEqual(run.resume_at, add_to_date(now_datetime(), seconds=100))
        self.assertEqual(self.emulator.state.summary()["calls"].get("create_invoice"), 1)
        waiting = cfdi_of(frappe.get_doc("POS Invoice", names[0]))
        self.assertEqual((waiting.status, waiting.bulk_run), ("Retrying", run.name))
        frappe.db.set_value("CFDI", waiting.name, "next_attempt_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.set_value("CFDI Bulk Run", run.name, "resume_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.commit()
        get_queue("short").empty()
        get_queue("long").empty()
        sweep()  # the scheduler's every-minute jobs
        bulk.resume_bulk_runs()
        self.assertEqual(frappe.db.get_value("CFDI Bulk Run", run.name, "status"), "Running")
        short_jobs, long_jobs = get_queue("short").get_job_ids(), get_queue("long").get_job_ids()
        self.assertFalse([j for j in short_jobs if waiting.name in j], "a bulk retry never rides the live lane")
        self.assertTrue([j for j in long_jobs if waiting.name in j])
        self.assertTrue([j for j in long_jobs if f"cfdi:bulk:{run.name}" in j])
        run = self.drain(run.name)
        stamp(waiting.name)
        self.assertEqual((run.status, frappe.db.get_value("CFDI", waiting.name, "status")), ("Completed", "Stamped"))
        self.assertEqual({frappe.db.get_value("POS Invoice", n, "mx_cfdi_status") for n in names}, {"Stamped"})

    def test_a_live_sale_is_served_before_the_bulk_run_ends(self):
        """One real worker on short and long: the live stamp starts within a slice, not after the run."""
        names = self.not_applicable_sales(12)
        self.emulator.config.stamp_latency_ms = 250
        get_queue("short").empty()
        get_queue("long").empty()
        run = api.bulk_start(names=frappe.as_json(names))["run"]
        frappe.db.commit()
        worker = subprocess.Popen([sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site",
                                   frappe.local.site, "worker", "--queue", "short,long"],
                                  cwd=frappe.utils.get_bench_path() + "/sites",
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.wait_for(lambda: (frappe.db.get_value("CFDI Bulk Run", run, "processed") or 0) >= 2)
            live = pos_invoice(NOMINATIVE, [("ML-PAN", 2, 50)])
            frappe.db.commit()
            self.wait_for(lambda: frappe.db.get_value("CFDI", live.mx_cfdi, "status") == "Stamped")
            self.wait_for(lambda: frappe.db.get_value("CFDI Bulk Run", run, "status") == "Completed", 120)
        finally:
            worker.terminate()
            worker.wait()
        live_claimed = frappe.db.get_value("CFDI", live.mx_cfdi, "claimed_at")
        last_bulk_claim = max(frappe.get_all("CFDI", filters={"bulk_run": run}, pluck="claimed_at"))
        self.assertLess(live_claimed, last_bulk_claim, "the live sale did not wait for the whole bulk run")
        self.assertEqual(frappe.db.get_value("CFDI Bulk Run", run, "stamped"), 12)

    def wait_for(self, condition, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            frappe.db.rollback()
            if condition():
                return
            time.sleep(0.2)
        self.fail("timed out waiting")
