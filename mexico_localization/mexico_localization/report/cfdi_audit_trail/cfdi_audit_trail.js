// Every CFDI with what SAT sealed, its outcome, its calls and its files.
frappe.query_reports["CFDI Audit Trail"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date" },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date" },
		{ fieldname: "company", label: __("Company"), fieldtype: "Link", options: "Company" },
		{ fieldname: "pos_profile", label: __("POS Profile"), fieldtype: "Link", options: "POS Profile" },
		{ fieldname: "cfdi_type", label: __("Type"), fieldtype: "Select", options: "\nI\nE\nP" },
		{ fieldname: "status", label: __("Status"), fieldtype: "Data" },
		{ fieldname: "environment", label: __("Environment"), fieldtype: "Select", options: "\nTest\nLive" },
	],
};
