// POS Invoice list: bulk CFDI generation, added to ERPNext's own list settings (its actions stay).
(() => {
	const settings = frappe.listview_settings["POS Invoice"] || {};
	const erpnext_onload = settings.onload;
	settings.add_fields = [...(settings.add_fields || []), "mx_cfdi_status"];
	settings.onload = function (listview) {
		if (erpnext_onload) erpnext_onload.call(this, listview);
		if (!(frappe.user.has_role("CFDI Manager") || frappe.user.has_role("System Manager"))) return;
		listview.page.add_action_item(__("Generate CFDI"), () => {
			const names = listview.get_checked_items(true);
			if (!names.length) {
				frappe.msgprint(__("Select the POS Invoices to generate."));
				return;
			}
			confirm_and_start({ names: JSON.stringify(names) });
		});
		listview.page.add_inner_button(__("Re-generate all Failed"), () => {
			confirm_and_start({ filters: JSON.stringify(listview.get_filters_for_args()), failed_only: 1 });
		}, __("CFDI"));
	};
	frappe.listview_settings["POS Invoice"] = settings;

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
})();
