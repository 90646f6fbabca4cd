// POS Invoice form: the CFDI block (public/js/cfdi_sale.js).
frappe.ui.form.on("POS Invoice", {
	refresh(frm) {
		mexico_localization.cfdi_sale.refresh(frm);
	},
});
