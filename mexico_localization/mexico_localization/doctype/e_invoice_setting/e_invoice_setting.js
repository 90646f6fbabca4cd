// E Invoice Setting: warnings from the server, and the Ping Server button.
frappe.ui.form.on("E Invoice Setting", {
	refresh(frm) {
		const warnings = (frm.doc.__onload && frm.doc.__onload.warnings) || [];
		frm.dashboard.clear_headline();
		if (warnings.length) {
			frm.dashboard.set_headline_alert(
				warnings.map((w) => `<div>${frappe.utils.escape_html(w)}</div>`).join(""),
				"orange"
			);
		}
		frm.add_custom_button(__("Ping Server"), () => ping(frm));
	},
});

// With several companies, one organization or every one is pinged.
async function ping(frm) {
	if (frm.is_dirty()) {
		await frm.save();
	}
	const companies = (frm.doc.companies || []).map((row) => row.company).filter(Boolean);
	if (companies.length > 1) {
		frappe.prompt(
			[{
				fieldname: "company", fieldtype: "Select", label: __("Company"),
				options: [{ value: "", label: __("All companies") }, ...companies.map((c) => ({ value: c, label: c }))],
			}],
			({ company }) => call_ping(frm, company),
			__("Ping Server"),
			__("Ping"),
		);
		return;
	}
	call_ping(frm, companies[0]);
}

async function call_ping(frm, company) {
	const r = await frappe.call({
		method: "mexico_localization.einvoice.api.ping_server",
		type: "POST",
		args: { company: company || null },
		freeze: true,
		freeze_message: __("Checking the connection to FacturaAPI…"),
	});
	const answer = r.message || {};
	const lines = [answer.message, ...(answer.warnings || [])].map(
		(line) => `<p>${frappe.utils.escape_html(line || "")}</p>`
	);
	frappe.msgprint({
		title: answer.ok ? __("Connected") : __("Connection failed"),
		indicator: answer.ok ? (answer.warnings.length ? "orange" : "green") : "red",
		message: lines.join(""),
	});
	frm.reload_doc();
}
