app_name = "mexico_localization"
app_title = "Mexico Localization"
app_publisher = "mexico_localization developers"
app_description = "CFDI 4.0 e-invoicing for ERPNext POS and Sales Invoices through FacturaAPI"
app_email = "dev@mexico-localization.invalid"
app_license = "GPL-3.0-or-later"

# "frappe/erpnext", not "erpnext": Frappe 15.55 resolves a bare name through GitHub's API at
# install time, which fails on benches without access to GitHub.
required_apps = ["frappe/erpnext"]

# Bench tier: ERPNext's own test setup makes the company, fiscal year and masters our tests need.
before_tests = "erpnext.setup.utils.before_tests"

before_install = "mexico_localization.einvoice.setup.install.before_install"
after_install = "mexico_localization.einvoice.setup.install.after_install"
after_migrate = "mexico_localization.einvoice.setup.install.after_migrate"
before_uninstall = "mexico_localization.einvoice.setup.install.before_uninstall"
after_uninstall = "mexico_localization.einvoice.setup.install.after_uninstall"

# Finance reads FacturaAPI's Integration Requests, never other integrations' (einvoice/setup/permissions.py).
permission_query_conditions = {
    "Integration Request": "mexico_localization.einvoice.setup.permissions.integration_request_query",
}
has_permission = {
    "Integration Request": "mexico_localization.einvoice.setup.permissions.integration_request_has_permission",
}

# A CFDI's sealed XML, PDF and acuse cannot be deleted (einvoice/overrides/file.py).
override_doctype_class = {"File": "mexico_localization.einvoice.overrides.file.CFDIProtectedFile"}

_overrides = "mexico_localization.einvoice.overrides"
doc_events = {
    "POS Invoice": {
        "validate": f"{_overrides}.pos_invoice.validate",
        "before_update_after_submit": f"{_overrides}.pos_invoice.before_update_after_submit",
        "before_submit": f"{_overrides}.pos_invoice.before_submit",
        "before_cancel": f"{_overrides}.pos_invoice.before_cancel",
        "onload": f"{_overrides}.pos_invoice.onload",
    },
    "Sales Invoice": {
        "validate": f"{_overrides}.sales_invoice.validate",
        "before_update_after_submit": f"{_overrides}.sales_invoice.before_update_after_submit",
        "before_submit": f"{_overrides}.sales_invoice.before_submit",
        "before_cancel": f"{_overrides}.sales_invoice.before_cancel",
        "onload": f"{_overrides}.sales_invoice.onload",
    },
    "Payment Entry": {
        "validate": f"{_overrides}.payment_entry.validate",
        "before_update_after_submit": f"{_overrides}.payment_entry.before_update_after_submit",
        "on_submit": f"{_overrides}.payment_entry.on_submit",
        "before_cancel": f"{_overrides}.payment_entry.before_cancel",
    },
    "Customer": {"validate": f"{_overrides}.customer.validate", "after_insert": f"{_overrides}.customer.after_insert"},
    "Item": {"validate": f"{_overrides}.item.validate_product_key"},
    "Item Group": {"validate": f"{_overrides}.item.validate_product_key"},
    "UOM": {"validate": f"{_overrides}.uom.validate_unit_key"},
}

scheduler_events = {
    "cron": {
        "* * * * *": [
            "mexico_localization.einvoice.pipeline.sweep.sweep",
            # Paused bulk runs whose wait is over, and running ones whose slices were lost.
            "mexico_localization.einvoice.operations.bulk.resume_bulk_runs",
        ],
        # Globals are due within 24 h after their period closes: hourly leaves a day of room for retries.
        "5 * * * *": ["mexico_localization.einvoice.operations.walk_in.issue_due_globals"],
        # Tamper evidence: yesterday's CFDI events sealed and chained, never in a request.
        "15 0 * * *": ["mexico_localization.einvoice.operations.audit.seal_days"],
        # Cancellations made outside the app (FacturaAPI's dashboard, SAT's portal), found and flagged.
        "30 2 * * *": ["mexico_localization.einvoice.operations.status_check.enqueue_status_check"],
    },
}

# Report cells that link only for readers of the linked doctype (einvoice/report_columns.py).
# The CFDI block of the sale forms and lists (public/js/cfdi_sale.js).
app_include_js = ["/assets/mexico_localization/js/cfdi_reports.js", "/assets/mexico_localization/js/cfdi_sale.js"]

# The "Ticket CFDI" print format reads the sale's CFDI through this (Jinja exposes it by its name).
jinja = {"methods": ["mexico_localization.einvoice.printing.cfdi_ticket_block"]}

doctype_js = {"POS Invoice": "public/js/pos_invoice.js", "Sales Invoice": "public/js/sales_invoice.js",
              "Customer": "public/js/customer.js"}
doctype_list_js = {"POS Invoice": "public/js/pos_invoice_list.js", "Sales Invoice": "public/js/sales_invoice_list.js"}
