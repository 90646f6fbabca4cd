// The CFDI block of a sale's form (POS Invoice, Sales Invoice): the CFDI's state as an indicator, what
// to fix when it failed, Retry, Cancel and Re-issue CFDI. Loaded on every Desk page (hooks.py).
frappe.provide("mexico_localization.cfdi_sale");

mexico_localization.cfdi_sale.refresh = function (frm) {
	const status = frm.doc.mx_cfdi_status;
	if (!status || frm.doc.docstatus !== 1) return;
	const colors = {
		Stamped: "green", Failed: "red", "Needs Review": "red", "Not Applicable": "gray",
		Cancelled: "gray", "Awaiting Global": "blue",
	};
	frm.dashboard.add_indicator(__("CFDI: {0}", [__(status)]), colors[status] || "orange");
	const to_fix = frm.doc.mx_cfdi_message && ["Failed", "Needs Review", "Retrying"].includes(status);
	const fix = frm.doc.__onload && frm.doc.__onload.mx_fix;
	if (fix && status === "Failed") {
		// What to change where first, in the reader's words; SAT's or FacturaAPI's own text below it.
		frm.set_intro(mexico_localization.cfdi_sale.fix_html(fix, frm.doc.mx_cfdi_message), "red");
	} else if (to_fix) {
		frm.set_intro(frappe.utils.escape_html(frm.doc.mx_cfdi_message), status === "Retrying" ? "orange" : "red");
	} else if ($(frm.dashboard.parent).closest(".tab-pane").length) {
		// A form with tabs (Sales Invoice) keeps its dashboard in one of them: say it on top too.
		frm.set_intro(__("CFDI: {0}", [__(status)]), colors[status] || "orange");
	}
	if (frm.doc.__onload && frm.doc.__onload.mx_test_stamp) {
		frm.dashboard.add_indicator(__("PRUEBA – sin validez fiscal"), "orange");
	}
	if (status === "Failed" && (frappe.user.has_role("CFDI Manager") || frappe.user.has_role("System Manager"))) {
		frm.add_custom_button(__("Retry CFDI"), async () => {
			await frappe.call({
				method: "mexico_localization.einvoice.api.retry_cfdi",
				type: "POST",
				args: { invoice: frm.doc.name, doctype: frm.doctype },
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
		frm.add_custom_button(__("Request nominative CFDI"), () => mexico_localization.cfdi_sale.request_nominative(frm));
	}
	if (manager && !in_global && ["Stamped", "Cancel Rejected"].includes(status)) {
		// The CFDI record's own form asks for the motive (one place for it).
		frm.add_custom_button(__("Cancel CFDI"), () => {
			frappe.route_options = { mx_cancel: 1 };
			frappe.set_route("Form", "CFDI", frm.doc.mx_cfdi);
		}, __("CFDI"));
		if (status === "Stamped" && !frm.doc.is_return) {
			frm.add_custom_button(__("Re-issue CFDI"), () => mexico_localization.cfdi_sale.reissue(frm), __("CFDI"));
		}
	}
};

// "Fix the Legal Name of Customer X, then Retry CFDI", linking to the field; the refusal as a detail.
mexico_localization.cfdi_sale.fix_html = function (fix, detail) {
	const route = `/app/${frappe.router.slug(fix.doctype)}/${encodeURIComponent(fix.name)}`;
	const where = `<a class="mx-fix-link" href="${route}" data-field="${frappe.utils.escape_html(fix.field)}">`
		+ `${frappe.utils.escape_html(__(fix.doctype))} ${frappe.utils.escape_html(fix.name)}</a>`;
	const head = __("Fix the {0} of {1}, then press Retry CFDI.", [frappe.utils.escape_html(__(fix.label)), where]);
	return `${head}<div class="small text-muted">${__("Detail")}: ${frappe.utils.escape_html(detail || "")}</div>`;
};

// Re-issue CFDI: a substitute with corrected data (fix the customer first, or pick another one).
mexico_localization.cfdi_sale.reissue = function (frm) {
	frappe.prompt(
		[{
			fieldname: "customer", fieldtype: "Link", options: "Customer", label: __("Customer"),
			description: __("Leave empty to issue to the same customer with the data it has now."),
		}],
		async ({ customer }) => {
			await frappe.call({
				method: "mexico_localization.einvoice.api.reissue_cfdi",
				type: "POST",
				args: { invoice: frm.doc.name, customer, doctype: frm.doctype },
				freeze: true,
			});
			frappe.show_alert({ message: __("Substitute CFDI queued"), indicator: "green" });
			frm.reload_doc();
		},
		__("Re-issue CFDI"),
		__("Re-issue"),
	);
};

// A walk-in customer asks for a CFDI in their own name: pick (or create) the customer with their RFC.
mexico_localization.cfdi_sale.request_nominative = function (frm) {
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
				args: { invoice: frm.doc.name, customer, doctype: frm.doctype },
				freeze: true,
			});
			dialog.hide();
			frappe.show_alert({ message: __("Nominative CFDI queued"), indicator: "green" });
			frm.reload_doc();
		},
	});
	dialog.show();
};

// A sale list (POS Invoice, Sales Invoice): bulk CFDI generation, added to ERPNext's own list settings
// (its actions stay).
mexico_localization.cfdi_sale.setup_list = function (doctype) {
	const settings = frappe.listview_settings[doctype] || {};
	const erpnext_onload = settings.onload;
	settings.add_fields = [...(settings.add_fields || []), "mx_cfdi_status"];
	settings.onload = function (listview) {
		if (erpnext_onload) erpnext_onload.call(this, listview);
		if (!(frappe.user.has_role("CFDI Manager") || frappe.user.has_role("System Manager"))) return;
		listview.page.add_action_item(__("Generate CFDI"), () => {
			const names = listview.get_checked_items(true);
			if (!names.length) {
				frappe.msgprint(__("Select the invoices to generate."));
				return;
			}
			confirm_and_start({ names: JSON.stringify(names), doctype });
		});
		listview.page.add_inner_button(__("Re-generate all Failed"), () => {
			confirm_and_start({ filters: JSON.stringify(listview.get_filters_for_args()), failed_only: 1, doctype });
		}, __("CFDI"));
	};
	frappe.listview_settings[doctype] = settings;

	async function confirm_and_start(args) {
		const { message: p } = await frappe.call({
			method: "mexico_localization.einvoice.api.bulk_preview", type: "POST", args, freeze: true,
		});
		const skipped = Object.entries(p.skipped_by_reason || {})
			.map(([reason, count]) => `${__(reason)}: ${count}`).join(", ");
		const lines = [
			__("{0} invoices will get their CFDI.", [p.to_generate]),
			__("{0} will be skipped ({1}).", [p.skipped, skipped || __("none")]),
			__("{0} are older than 70 hours: their CFDI will carry today's date, not the sale's.", [p.redated]),
			__("{0} of those were sold in an earlier month: their CFDI falls in this month.", [p.crossing_month_end]),
		];
		if (!p.to_generate) {
			frappe.msgprint(lines.join("<br>"), __("Nothing to generate"));
			return;
		}
		frappe.confirm(lines.join("<br>"), async () => {
			const { message: run } = await frappe.call({
				method: "mexico_localization.einvoice.api.bulk_start", type: "POST", args, freeze: true,
			});
			follow(run.run);
		});
	}

	// Progress comes by realtime (socket.io) and, should that be down, by reading the run every few seconds.
	function follow(run) {
		frappe.show_alert({ message: __("Bulk run {0} started", [run]), indicator: "blue" });
		let finished = false;
		const handler = (data) => {
			if (data.name !== run || finished) return;
			frappe.show_progress(__("Generating CFDIs ({0})", [run]), data.processed + data.skipped, data.total,
				__("Stamped {0}, failed {1}, skipped {2}", [data.stamped, data.failed, data.skipped]));
			if (["Completed", "Stopped", "Paused"].includes(data.status)) {
				frappe.hide_progress();
				if (data.status !== "Paused") {
					finished = true;
					frappe.realtime.off("cfdi_bulk_progress", handler);
					clearInterval(polling);
				}
				frappe.msgprint({
					title: __("Bulk run {0}: {1}", [run, __(data.status)]),
					message: [
						__("Stamped {0}, failed {1}, retrying {2}, skipped {3} of {4}.",
							[data.stamped, data.failed, data.retrying, data.skipped, data.total]),
						data.stop_reason ? frappe.utils.escape_html(data.stop_reason) : "",
						`<a href="/app/cfdi-bulk-run/${encodeURIComponent(run)}">${__("Open the run, its Integration Requests and Error Logs")}</a>`,
					].filter(Boolean).join("<br>"),
				});
			}
		};
		frappe.realtime.on("cfdi_bulk_progress", handler);
		const polling = setInterval(async () => {
			const data = await frappe.db.get_value("CFDI Bulk Run", run, [
				"name", "status", "total", "processed", "stamped", "failed", "retrying", "skipped", "stop_reason",
			]).then((r) => r.message).catch(() => null);
			if (data && data.status !== "Paused") handler(data);
		}, 3000);
	}
};
