// Payments on deferred (PPD) sales still without a stamped payment complement.
frappe.query_reports["Pending Payment Complements"] = {
	formatter: (...args) => mexico_localization.format_report_value(...args),
	filters: [
		{ fieldname: "company", label: __("Company"), fieldtype: "Link", options: "Company" },
	],
};
