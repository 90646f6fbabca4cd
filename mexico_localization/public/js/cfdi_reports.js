// The CFDI reports send documents a CFDI Auditor may not open (POS Invoice, Customer, Sales Invoice)
// as Data columns with `link_doctype` (einvoice/report_columns.py): a link for whoever can read them.
frappe.provide("mexico_localization");

mexico_localization.format_report_value = function (value, row, column, data, default_formatter) {
	const formatted = default_formatter(value, row, column, data);
	const name = data && data[column.fieldname];
	if (column.link_doctype && name && frappe.model.can_read(column.link_doctype)) {
		return frappe.utils.get_form_link(column.link_doctype, name, true, formatted);
	}
	return formatted;
};
