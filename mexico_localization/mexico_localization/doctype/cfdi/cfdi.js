// CFDI record: read-only; a stamped one (a sale's, a global, a credit note, a complement) can be
// cancelled from here with SAT's motive. Motive 01 only through Re-issue CFDI on the sale. A CFDI in
// Needs Review is resolved here by choosing the CFDI that stands.
frappe.ui.form.on("CFDI", {
	refresh(frm) {
		if (frm.doc.uuid && frm.doc.facturapi_id) {
			// The PDF is fetched from FacturaAPI on first demand and kept; the XML was kept at the stamp.
			frm.add_custom_button(__("PDF"), () => open_pdf(frm), __("Download"));
			if (frm.doc.xml_file) {
				frm.add_custom_button(__("XML"), () => window.open(frm.doc.xml_file), __("Download"));
			}
		}
		const manager = frappe.user.has_role("CFDI Manager") || frappe.user.has_role("System Manager");
		const stuck = frm.doc.__onload && frm.doc.__onload.stuck_in_queue;
		if (frm.doc.status === "Failed" && frm.doc.fix_doctype) {
			frm.set_intro(mexico_localization.cfdi_sale.fix_html({
				doctype: frm.doc.fix_doctype, name: frm.doc.fix_name, field: frm.doc.fix_field, label: frm.doc.fix_label,
			}, frm.doc.last_error), "red");
		}
		if (manager && (frm.doc.status === "Failed" || stuck)) {
			// Fixed what Last Error says (or the CFDI waits with no job to run it): stamp it again.
			frm.add_custom_button(__("Retry CFDI"), () => retry(frm));
		}
		if (manager && frm.doc.status === "Needs Review") {
			frm.add_custom_button(__("Resolve Review"), () => resolve_review(frm));
		}
		if (!manager || !["Stamped", "Cancel Rejected"].includes(frm.doc.status)) return;
		if (frm.doc.is_global) {
			// A global covers its tickets: it is replaced (motive 01 once the new one is stamped), never just cancelled.
			if (frm.doc.status === "Stamped" && !frm.doc.substituted_by) {
				frm.add_custom_button(__("Re-issue Global CFDI"), () => reissue_global(frm));
			}
			return;
		}
		frm.add_custom_button(__("Cancel CFDI"), () => ask_motive(frm));
		if (frappe.route_options && frappe.route_options.mx_cancel) {
			frappe.route_options = null;
			ask_motive(frm);
		}
	},
});

async function retry(frm) {
	await frappe.call({
		method: "mexico_localization.einvoice.api.retry_cfdi",
		type: "POST",
		args: { cfdi: frm.doc.name },
		freeze: true,
	});
	frappe.show_alert({ message: __("CFDI queued again"), indicator: "green" });
	frm.reload_doc();
}

async function open_pdf(frm) {
	const { message } = await frappe.call({
		method: "mexico_localization.einvoice.api.cfdi_pdf",
		type: "POST",
		args: { cfdi: frm.doc.name },
		freeze: true,
		freeze_message: __("Getting the PDF from FacturaAPI…"),
	});
	if (message && message.file_url) {
		window.open(message.file_url);
		if (!frm.doc.pdf_file) frm.reload_doc();
	}
}

function ask_motive(frm) {
	frappe.prompt(
		[{
			fieldname: "motive", fieldtype: "Select", reqd: 1, label: __("Cancellation motive"),
			options: [
				{ value: "02", label: __("02 – Issued with errors, no substitute") },
				{ value: "03", label: __("03 – The operation did not take place") },
			],
		}],
		async ({ motive }) => {
			await frappe.call({
				method: "mexico_localization.einvoice.api.cancel_cfdi",
				type: "POST",
				args: { cfdi: frm.doc.name, motive },
				freeze: true,
			});
			frappe.show_alert({ message: __("Cancellation requested"), indicator: "orange" });
			frm.reload_doc();
		},
		__("Cancel CFDI"),
		__("Request cancellation"),
	);
}

function resolve_review(frm) {
	const candidates = (frm.doc.review_candidates || "").split("\n").filter(Boolean);
	const again = __("Look at FacturaAPI again");
	frappe.prompt(
		[
			{
				fieldname: "keep", fieldtype: "Select", reqd: 1, label: __("The CFDI that stands"),
				options: [...candidates, again],
				description: __("The others are recorded as duplicates of this CFDI."),
			},
			{
				fieldname: "cancel_others", fieldtype: "Check", default: 1,
				label: __("Cancel the duplicates at SAT (motive 02)"), depends_on: `eval:doc.keep !== "${again}"`,
			},
		],
		async ({ keep, cancel_others }) => {
			await frappe.call({
				method: "mexico_localization.einvoice.api.resolve_review",
				type: "POST",
				args: { cfdi: frm.doc.name, keep: keep === again ? null : keep, cancel_others },
				freeze: true,
			});
			frappe.show_alert({ message: __("Review resolved"), indicator: "green" });
			frm.reload_doc();
		},
		__("Resolve Review"),
		__("Resolve"),
	);
}

function reissue_global(frm) {
	frappe.confirm(
		__("A new global CFDI over the same tickets is stamped first; then this one is cancelled with motive 01, naming it. Continue?"),
		async () => {
			const r = await frappe.call({
				method: "mexico_localization.einvoice.api.reissue_global",
				type: "POST",
				args: { cfdi: frm.doc.name },
				freeze: true,
			});
			frappe.show_alert({ message: __("Replacement {0} queued", [r.message.cfdi]), indicator: "orange" });
			frm.reload_doc();
		},
	);
}
