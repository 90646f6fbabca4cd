// Audit seals: "Verify audit trail" recomputes every sealed day.
frappe.listview_settings["CFDI Audit Seal"] = {
	onload(listview) {
		listview.page.add_inner_button(__("Verify audit trail"), async () => {
			const { message: r } = await frappe.call({
				method: "mexico_localization.einvoice.api.verify_audit_trail", type: "POST", freeze: true,
			});
			if (r.intact) {
				frappe.msgprint({
					title: __("Audit trail intact"), indicator: "green",
					message: __("{0} sealed days match their records. Latest seal: {1}", [r.days, r.last_seal || "-"]),
				});
			} else if (r.file) {
				frappe.msgprint({
					title: __("Audit trail altered"), indicator: "red",
					message: __("The XML of CFDI {0} ({1}) is no longer the one that was recorded and sealed.",
						[r.cfdi, r.file]),
				});
			} else {
				frappe.msgprint({
					title: __("Audit trail altered"), indicator: "red",
					message: __("The records of {0} no longer match their seal ({1}).", [r.day, __(r.reason)]),
				});
			}
		});
	},
};
