// Sales Invoice form: the CFDI block (public/js/cfdi_sale.js), and what the CFDI will state before
// submit: PPD (form 99, a payment complement per payment) when it is due after its date, else PUE.
frappe.ui.form.on("Sales Invoice", {
	refresh(frm) {
		mexico_localization.cfdi_sale.refresh(frm);
	},
	due_date(frm) {
		show_payment_method(frm);
	},
	posting_date(frm) {
		show_payment_method(frm);
	},
});

function show_payment_method(frm) {
	if (frm.doc.docstatus !== 0 || frm.doc.is_return || frm.doc.is_consolidated) return;
	const later = frm.doc.due_date && frm.doc.posting_date && frm.doc.due_date > frm.doc.posting_date;
	const owed = flt(frm.doc.outstanding_amount || frm.doc.rounded_total || frm.doc.grand_total) > 0;
	frm.set_value("mx_payment_method", later && owed ? "PPD" : "PUE");
}
