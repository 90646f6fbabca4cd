// A bulk run: the records it made, a click away.
frappe.ui.form.on("CFDI Bulk Run", {
	refresh(frm) {
		frm.add_custom_button(__("Integration Requests"), () => {
			frappe.route_options = { request_description: ["like", `${frm.doc.name} · %`] };
			frappe.set_route("List", "Integration Request");
		});
		if (frappe.user.has_role("System Manager")) {
			frm.add_custom_button(__("Error Logs"), () => {
				frappe.route_options = { method: ["like", `${frm.doc.name} · %`] };
				frappe.set_route("List", "Error Log");
			});
		}
	},
});
