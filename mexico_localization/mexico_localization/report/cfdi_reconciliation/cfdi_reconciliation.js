// Month-end: every POS sale against the CFDI that carries it to SAT, or each consolidated Sales Invoice
// against its UUIDs and payment complements. Flagged rows say what to do.
frappe.query_reports["CFDI Reconciliation"] = {
	filters: [
		{ fieldname: "company", label: __("Company"), fieldtype: "Link", options: "Company" },
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.month_start(),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.month_end(),
			reqd: 1,
		},
		{ fieldname: "pos_profile", label: __("POS Profile"), fieldtype: "Link", options: "POS Profile" },
		{
			fieldname: "view",
			label: __("Reconcile By"),
			fieldtype: "Select",
			options: ["Sales", "Consolidated Sales Invoices"],
			default: "Sales",
		},
		{ fieldname: "only_problems", label: __("Only Flagged"), fieldtype: "Check" },
	],
	formatter(value, row, column, data, default_formatter) {
		value = mexico_localization.format_report_value(value, row, column, data, default_formatter);
		if (column.fieldname === "finding" && data && data.finding) {
			value = `<span style="color: var(--red-600)">${value}</span>`;
		}
		return value;
	},
};
