"""File, for the files of a CFDI (the SAT-sealed XML, the PDF, the cancellation acuse): part of the
fiscal record. Frappe's File deletes a file from disk in its own `on_trash`, before any doc_events
hook could refuse, so the refusals live in the controller, ahead of Frappe's."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.core.doctype.file.file import File

# What would detach, publish or swap a CFDI's file: none of it may change once attached.
FIXED = ("attached_to_doctype", "attached_to_name", "attached_to_field", "is_private", "file_url", "file_name",
         "content_hash")


class CFDIProtectedFile(File):
    def validate(self) -> None:
        before = None if self.is_new() else self.get_doc_before_save()
        if before is not None and before.attached_to_doctype == "CFDI" and not frappe.flags.in_uninstall:
            changed = [field for field in FIXED if before.get(field) != self.get(field)]
            if changed:
                frappe.throw(_("This file belongs to CFDI {0}: it stays private and attached to it ({1} cannot "
                               "change).").format(before.attached_to_name, ", ".join(changed)),
                             frappe.PermissionError, title=_("Not allowed"))
        super().validate()

    def on_trash(self) -> None:
        if self.attached_to_doctype == "CFDI" and not frappe.flags.in_uninstall:
            frappe.throw(_("This file belongs to CFDI {0}: fiscal records and their XML are kept (CFF art. 30) and "
                           "cannot be deleted.").format(self.attached_to_name), frappe.PermissionError,
                         title=_("Not allowed"))
        super().on_trash()
