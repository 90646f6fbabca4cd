// Walk-in tickets their buyers turned into their own CFDI on the self-invoicing page (/factura).
frappe.query_reports["Self-invoiced Sales"] = {
	formatter: (...args) => mexico_localization.format_report_value(...args),
	filters: [
		{ fieldname: "company", label: __("Company"), fieldtype: "Link", options: "Company" },
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.month_start() },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
	],
};
