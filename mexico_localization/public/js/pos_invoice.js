// POS Invoice form: the CFDI's state as an indicator, what to fix when it failed, and Retry CFDI.
frappe.ui.form.on("POS Invoice", {
	refresh(frm) {
		const status = frm.doc.mx_cfdi_status;
		if (!status || frm.doc.docstatus !== 1) return;
		const colors = {
			Stamped: "green", Failed: "red", "Needs Review": "red", "Not Applicable": "gray",
			Cancelled: "gray", "Awaiting Global": "blue",
		};
		frm.dashboard.add_indicator(__("CFDI: {0}", [__(status)]), colors[status] || "orange");
		if (frm.doc.mx_cfdi_message && ["Failed", "Needs Review", "Retrying"].includes(status)) {
			frm.set_intro(frappe.utils.escape_html(frm.doc.mx_cfdi_message), status === "Retrying" ? "orange" : "red");
		}
		if (frm.doc.mx_cfdi) {
			frappe.db.get_value("CFDI", frm.doc.mx_cfdi, "livemode").then(({ message }) => {
				if (message && !message.livemode && frm.doc.mx_cfdi_uuid) {
					frm.dashboard.add_indicator(__("PRUEBA – sin validez fiscal"), "orange");
				}
			});
		}
		if (status === "Failed" && (frappe.user.has_role("CFDI Manager") || frappe.user.has_role("System Manager"))) {
			frm.add_custom_button(__("Retry CFDI"), async () => {
				await frappe.call({
					method: "mexico_localization.einvoice.api.retry_cfdi",
					type: "POST",
					args: { invoice: frm.doc.name },
					freeze: true,
				});
				frappe.show_alert({ message: __("CFDI queued again"), indicator: "green" });
				frm.reload_doc();
			});
		}
	},
});
