"""A `bench worker` imports the app's job modules once, before it forks a process per job."""

import json
import subprocess
import sys
from unittest import TestCase

import frappe
from frappe.utils.background_jobs import enqueue, get_job

from mexico_localization.einvoice.pipeline import preload

# Imported neither by Frappe's job runner (init, connect) nor by the probe job itself.
HELD = ["mexico_localization.einvoice.pipeline.jobs", "mexico_localization.einvoice.operations.bulk",
        "frappe.core.doctype.file.file", "frappe.email.doctype.notification.notification", "cryptography.fernet"]
QUEUE = "long"


def sites_path() -> str:
    return frappe.utils.get_bench_path() + "/sites"


class TestWorkerPreload(TestCase):
    def test_only_worker_commands_preload(self):
        self.assertTrue(preload.is_worker(["bench_helper", "frappe", "--site", "s", "worker", "--queue", "short"]))
        self.assertTrue(preload.is_worker(["bench_helper", "frappe", "worker-pool"]))
        self.assertFalse(preload.is_worker(["bench_helper", "frappe", "--site", "s", "migrate"]))
        self.assertFalse(preload.is_worker(["bench_helper", "frappe", "--site", "worker.localhost", "migrate"]))

    def test_every_module_imports_without_a_site(self):
        """The worker has no site when it imports them: a fresh interpreter, nothing initialised."""
        code = ("import json; from mexico_localization.einvoice.pipeline import preload; "
                "print(json.dumps(preload.preload()))")
        out = subprocess.run([sys.executable, "-c", code], cwd=sites_path(), check=True, capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(json.loads(out.stdout.strip().splitlines()[-1]), [])

    def test_a_real_worker_holds_them_before_it_forks_a_job(self):
        probe = f"ml-preload-probe-{frappe.generate_hash(length=8)}"
        enqueue("mexico_localization.tests.worker_probe.modules_held", queue=QUEUE, names=HELD, job_id=probe)
        frappe.db.commit()
        subprocess.run([sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site,
                        "worker", "--burst", "--queue", QUEUE], cwd=sites_path(), check=True, capture_output=True,
                       timeout=240)
        self.assertEqual(get_job(probe).return_value(), HELD)
