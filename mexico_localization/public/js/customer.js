// Customer form (CFDI Managers who may edit it): Check with SAT compares the RFC, legal name, fiscal zip and regime with SAT's records.
frappe.ui.form.on("Customer", {
	refresh(frm) {
		const manager = frappe.user.has_role("CFDI Manager") || frappe.user.has_role("System Manager");
		if (frm.is_new() || !frm.doc.tax_id || !manager || !frm.perm[0] || !frm.perm[0].write) return;
		frm.add_custom_button(__("Check with SAT"), async () => {
			const { message } = await frappe.call({
				method: "mexico_localization.einvoice.api.check_customer_with_sat",
				type: "POST",
				args: { customer: frm.doc.name },
				freeze: true,
				freeze_message: __("Asking SAT through FacturaAPI…"),
			});
			frappe.msgprint({
				title: __("Check with SAT"),
				message: frappe.utils.escape_html(message.message),
				indicator: message.ok ? "green" : "orange",
			});
			frm.reload_doc();
		});
	},
});
