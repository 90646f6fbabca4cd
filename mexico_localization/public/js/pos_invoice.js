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
		if (frm.doc.__onload && frm.doc.__onload.mx_test_stamp) {
			frm.dashboard.add_indicator(__("PRUEBA – sin validez fiscal"), "orange");
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
		const manager = frappe.user.has_role("CFDI Manager") || frappe.user.has_role("System Manager");
		const in_global = frm.doc.__onload && frm.doc.__onload.mx_in_global;
		const own = frm.doc.__onload && frm.doc.__onload.mx_self_invoice;
		if (own && !["Failed", "Needs Review", "Retrying"].includes(status)) { // never over what to fix
			// What the ticket's QR opens: the buyer can turn this ticket into their own CFDI.
			const link = frappe.utils.escape_html(own.url);
			frm.dashboard.add_comment(
				__("Self-invoice link: {0} (code {1}, until {2})", [
					`<a class="mx-self-invoice-link" href="${link}" target="_blank" rel="noopener">${link}</a>`,
					frappe.utils.escape_html(own.code), frappe.utils.escape_html(own.deadline),
				]),
				"blue", true,
			);
		}
		if (manager && in_global) {
			frm.add_custom_button(__("Request nominative CFDI"), () => request_nominative(frm));
		}
		if (manager && !in_global && ["Stamped", "Cancel Rejected"].includes(status)) {
			// The CFDI record's own form asks for the motive (one place for it).
			frm.add_custom_button(__("Cancel CFDI"), () => {
				frappe.route_options = { mx_cancel: 1 };
				frappe.set_route("Form", "CFDI", frm.doc.mx_cfdi);
			}, __("CFDI"));
			if (status === "Stamped" && !frm.doc.is_return) {
				frm.add_custom_button(__("Re-issue CFDI"), () => reissue_cfdi(frm), __("CFDI"));
			}
		}
	},
});

// Re-issue CFDI: a substitute with corrected data (fix the customer first, or pick another one).
function reissue_cfdi(frm) {
	frappe.prompt(
		[{
			fieldname: "customer", fieldtype: "Link", options: "Customer", label: __("Customer"),
			description: __("Leave empty to issue to the same customer with the data it has now."),
		}],
		async ({ customer }) => {
			await frappe.call({
				method: "mexico_localization.einvoice.api.reissue_cfdi",
				type: "POST",
				args: { invoice: frm.doc.name, customer },
				freeze: true,
			});
			frappe.show_alert({ message: __("Substitute CFDI queued"), indicator: "green" });
			frm.reload_doc();
		},
		__("Re-issue CFDI"),
		__("Re-issue"),
	);
}

// A walk-in customer asks for a CFDI in their own name: pick (or create) the customer with their RFC.
function request_nominative(frm) {
	const dialog = new frappe.ui.Dialog({
		title: __("Request nominative CFDI"),
		fields: [
			{
				fieldname: "customer", fieldtype: "Link", options: "Customer", reqd: 1, label: __("Customer"),
				description: __("The customer with the RFC, legal name, tax regime, CFDI use and fiscal zip of their Constancia de Situación Fiscal."),
			},
		],
		primary_action_label: __("Request"),
		async primary_action({ customer }) {
			await frappe.call({
				method: "mexico_localization.einvoice.api.request_nominative",
				type: "POST",
				args: { invoice: frm.doc.name, customer },
				freeze: true,
			});
			dialog.hide();
			frappe.show_alert({ message: __("Nominative CFDI queued"), indicator: "green" });
			frm.reload_doc();
		},
	});
	dialog.show();
}
