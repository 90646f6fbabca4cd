"""The files of a CFDI (the SAT-sealed XML, the PDF, the cancellation acuse) are part of the fiscal
record. Frappe's File deletes a file from disk in its own `on_trash`, before any doc_events hook
could refuse, so the refusal lives in the controller, ahead of Frappe's."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.core.doctype.file.file import File


class CFDIProtectedFile(File):
    def on_trash(self) -> None:
        if self.attached_to_doctype == "CFDI" and not frappe.flags.in_uninstall:
            frappe.throw(_("This file belongs to CFDI {0}: fiscal records and their XML are kept (CFF art. 30) and "
                           "cannot be deleted.").format(self.attached_to_name), frappe.PermissionError,
                         title=_("Not allowed"))
        super().on_trash()
