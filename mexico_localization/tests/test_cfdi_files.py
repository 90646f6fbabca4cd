"""The stamp keeps the XML; the PDF is fetched from FacturaAPI on first demand, recorded and kept."""

import frappe

from mexico_localization.einvoice import api
from mexico_localization.einvoice.operations.cfdi_files import FileUnavailable, cfdi_xml
from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.einvoice.pipeline.records import file_content
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of
from mexico_localization.tests.utils import make_user

AUDITOR = "ml-files-auditor@example.com"
CASHIER = "ml-files-cashier@example.com"


class TestCfdiFiles(StampingTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_user(AUDITOR, ["CFDI Auditor"])
        make_user(CASHIER, ["Sales User"])
        frappe.db.commit()

    def setUp(self):
        self.emulator.reset()
        self.enable(email_cfdi=0)
        frappe.set_user("Administrator")

    def tearDown(self):
        frappe.set_user("Administrator")

    def stamped(self):
        invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 19.90)])
        frappe.db.commit()
        stamp(invoice.mx_cfdi)
        return cfdi_of(invoice)

    def downloads(self) -> int:
        """The emulator's downloads (XML and PDF alike)."""
        return self.emulator.state.summary()["calls"].get("download", 0)

    def pdf_requests(self, cfdi) -> list[tuple[str, str]]:
        return [(r.url.split(" ")[0], r.status) for r in frappe.get_all(
            "Integration Request", fields=["url", "status"], order_by="creation asc",
            filters={"reference_docname": cfdi.name, "url": ["like", "%/pdf"]})]

    def test_the_stamp_keeps_the_xml_and_leaves_the_pdf_for_later(self):
        cfdi = self.stamped()
        self.assertEqual(cfdi.status, "Stamped")
        self.assertTrue(cfdi.xml_file and cfdi.xml_sha256)
        self.assertFalse(cfdi.pdf_file)
        self.assertEqual([a.operation for a in cfdi.attempts], ["create_invoice", "download_xml"])
        self.assertEqual(self.downloads(), 1)  # the XML
        name, content = cfdi_xml(cfdi.name)
        self.assertEqual((name, content[:5]), (f"{cfdi.uuid}.xml", b"<?xml"))
        # The XML's File row: private, Administrator's, attached to the CFDI, on disk.
        file = frappe.get_doc("File", {"file_url": cfdi.xml_file})
        self.assertEqual((file.is_private, file.owner, file.attached_to_doctype, file.attached_to_name),
                         (1, "Administrator", "CFDI", cfdi.name))
        self.assertTrue(file.content_hash and file.file_size and file.folder)
        on_disk = file.get_content()  # File decodes text files
        self.assertEqual(on_disk.encode() if isinstance(on_disk, str) else on_disk, content)

    def test_an_auditor_gets_the_pdf_in_one_click_fetched_once_and_recorded(self):
        cfdi = self.stamped()
        frappe.set_user(AUDITOR)
        url = api.cfdi_pdf(cfdi.name)["file_url"]
        frappe.set_user("Administrator")
        cfdi.reload()
        self.assertEqual(cfdi.pdf_file, url)
        self.assertTrue(file_content(cfdi.name, url).startswith(b"%PDF-"))
        self.assertEqual(self.pdf_requests(cfdi), [("GET", "Completed")])
        frappe.set_user(AUDITOR)
        self.assertEqual(api.cfdi_pdf(cfdi.name)["file_url"], url)  # kept: not fetched again
        frappe.set_user("Administrator")
        self.assertEqual(self.downloads(), 2)  # the XML, then the PDF once
        self.assertEqual(frappe.db.count("File", {"attached_to_name": cfdi.name, "file_url": url}), 1)

    def test_a_user_without_a_fiscal_role_gets_no_pdf(self):
        cfdi = self.stamped()
        frappe.set_user(CASHIER)
        with self.assertRaises(frappe.PermissionError):
            api.cfdi_pdf(cfdi.name)
        frappe.set_user("Administrator")
        self.assertEqual(self.downloads(), 1)

    def test_facturapi_failing_says_so_records_the_call_and_keeps_nothing(self):
        cfdi = self.stamped()
        self.emulator.add_fault("download", "server_error", status=503)
        with self.assertRaises(FileUnavailable) as refused:
            api.cfdi_pdf(cfdi.name)
        self.assertIn("Try again", str(refused.exception))
        cfdi.reload()
        self.assertFalse(cfdi.pdf_file)
        self.assertEqual(self.pdf_requests(cfdi), [("GET", "Failed")])
        self.assertTrue(frappe.db.exists("Error Log", {"reference_name": cfdi.name,
                                                       "method": ["like", "%PDF download failed%"]}))
        url = api.cfdi_pdf(cfdi.name)["file_url"]  # the next click gets it
        self.assertTrue(file_content(cfdi.name, url).startswith(b"%PDF-"))
        self.assertEqual(self.pdf_requests(cfdi), [("GET", "Failed"), ("GET", "Completed")])

    def test_an_unstamped_cfdi_has_no_pdf_to_fetch(self):
        self.enable(email_cfdi=0, enable_e_invoice=1)
        self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40145")
        invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 19.90)])
        frappe.db.commit()
        stamp(invoice.mx_cfdi)
        with self.assertRaises(FileUnavailable):
            api.cfdi_pdf(invoice.mx_cfdi)
        self.assertEqual(self.downloads(), 0)
