// /factura: the buyer's code and total, then their fiscal data; the CFDI's progress, then its files.
// Every call repeats the code and total (the server keeps nothing between calls) and is a POST.
(function () {
	const page = JSON.parse(document.getElementById("ml-page-data").textContent);
	const T = page.text;
	const METHOD = "/api/method/mexico_localization.einvoice.self_invoice.portal.";
	const $ = (id) => document.getElementById(id);
	const ticketForm = $("ml-ticket");
	if (!ticketForm) return; // self-invoicing is off here
	const buyerForm = $("ml-buyer");
	const result = $("ml-result");
	const messageBox = $("ml-message");
	let ticket = null; // {code, total} once the server found the ticket
	let lastRfc = "";

	function escape(text) {
		const div = document.createElement("div");
		div.textContent = text == null ? "" : String(text);
		return div.innerHTML;
	}

	function serverMessage(data) {
		try {
			const messages = JSON.parse(data._server_messages || "[]").map((m) => JSON.parse(m).message);
			if (messages.length) return messages.join(" ");
		} catch (e) { /* not Frappe's shape */ }
		return data.exception ? String(data.exception).split(":").slice(1).join(":").trim() : "";
	}

	async function call(method, args) {
		const headers = { Accept: "application/json" };
		if (window.frappe && frappe.csrf_token) {
			headers["X-Frappe-CSRF-Token"] = frappe.csrf_token;
		}
		let response;
		try {
			response = await fetch(METHOD + method, {
				method: "POST", headers, body: new URLSearchParams({ ...args, lang: page.lang }),
			});
		} catch (e) {
			throw new Error(T.unreachable);
		}
		const type = response.headers.get("Content-Type") || "";
		if (response.ok && !type.includes("json")) return { blob: await response.blob() };
		const data = await response.json().catch(() => ({}));
		if (!response.ok) throw new Error(serverMessage(data) || T.unreachable);
		return data.message;
	}

	function say(text, problems) {
		if (!text && !(problems && problems.length)) {
			messageBox.hidden = true;
			return;
		}
		messageBox.innerHTML = (text ? `<p>${escape(text)}</p>` : "")
			+ (problems && problems.length ? `<ul>${problems.map((p) => `<li>${escape(p)}</li>`).join("")}</ul>` : "");
		messageBox.hidden = false;
	}

	function busy(form, on, label) {
		const button = form.querySelector("button");
		button.disabled = on;
		if (on) {
			button.dataset.label = button.textContent;
			button.textContent = label;
		} else if (button.dataset.label) {
			button.textContent = button.dataset.label;
		}
	}

	// --- the regime and use lists: only what SAT allows for the RFC's persona and the regime ---
	function persona() {
		const rfc = $("ml-rfc").value.trim().toUpperCase();
		return rfc.length === 12 ? "moral" : rfc.length === 13 ? "fisica" : null;
	}

	function fill(select, rows, keep) {
		select.innerHTML = `<option value="">${escape(T.choose)}</option>`
			+ rows.map((r) => `<option value="${escape(r.code)}">${escape(r.label)}</option>`).join("");
		if (rows.some((r) => r.code === keep)) select.value = keep;
	}

	function refreshRegimes() {
		const who = persona();
		fill($("ml-regime"), page.choices.regimes.filter((r) => !who || r[who]), $("ml-regime").value);
		refreshUses();
	}

	function refreshUses() {
		const who = persona();
		const regime = $("ml-regime").value;
		fill($("ml-use"), page.choices.uses.filter((u) => (!who || u[who]) && (!regime || u.regimes.includes(regime))),
			$("ml-use").value);
	}

	// --- answers ---
	function show(answer) {
		say("");
		result.hidden = true;
		if (answer.ticket) {
			$("ml-ticket-line").textContent = T.ticket.replace("{0}", answer.ticket.date)
				.replace("{1}", answer.ticket.total).replace("{2}", answer.ticket.deadline);
		}
		switch (answer.state) {
			case "open":
			case "failed":
				ticketForm.hidden = true;
				buyerForm.hidden = false;
				if (answer.state === "failed") say(answer.message);
				break;
			case "working":
				ticketForm.hidden = true;
				buyerForm.hidden = true;
				result.innerHTML = `<p><span class="ml-spinner"></span>${escape(T.stamping)}</p>`;
				result.hidden = false;
				poll();
				break;
			case "invoiced":
				ticketForm.hidden = true;
				buyerForm.hidden = true;
				showCfdi(answer);
				break;
			default:
				if (["typo", "not_found"].includes(answer.state)) ticket = null;
				say(answer.message);
		}
	}

	function showCfdi(answer) {
		const cfdi = answer.cfdi;
		result.innerHTML = `
			<p class="ml-done">${escape(answer.message)}</p>
			${cfdi.test ? `<p class="ml-test">${escape(T.test)}</p>` : ""}
			<p>${escape(T.uuid)}: <span class="ml-mono ml-uuid">${escape(cfdi.uuid)}</span><br>
			${cfdi.series_folio ? `${escape(T.folio)}: ${escape(cfdi.series_folio)}<br>` : ""}
			${escape(T.stamped_at)}: ${escape(cfdi.stamped_at)}</p>
			${cfdi.email ? `<p class="ml-emailed">${escape(T.emailed.replace("{0}", cfdi.email))}</p>` : ""}
			${cfdi.xml ? `<button type="button" class="btn btn-primary ml-download" data-file="xml">${escape(T.download_xml)}</button>` : ""}
			${cfdi.pdf ? `<button type="button" class="btn btn-default ml-download" data-file="pdf">${escape(T.download_pdf)}</button>` : ""}`;
		result.hidden = false;
		result.querySelectorAll(".ml-download").forEach((button) => {
			button.addEventListener("click", () => download(button.dataset.file, cfdi.uuid));
		});
	}

	async function download(file, uuid) {
		try {
			const answer = await call("download", { ...ticket, file });
			if (!answer || !answer.blob) return show(answer || {});
			const link = document.createElement("a");
			link.href = URL.createObjectURL(answer.blob);
			link.download = `${uuid}.${file}`;
			document.body.appendChild(link);
			link.click();
			setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
		} catch (e) {
			say(e.message);
		}
	}

	let polling = null;
	function poll() {
		if (polling) return;
		const started = Date.now();
		let errors = 0;
		polling = setInterval(async () => {
			try {
				const answer = await call("cfdi_status", ticket);
				errors = 0;
				if (answer.state !== "working") {
					clearInterval(polling);
					polling = null;
					show(answer);
				} else if (Date.now() - started > 120000) {
					clearInterval(polling);
					polling = null;
					result.innerHTML = `<p>${escape(T.slow)}</p>`;
				}
			} catch (e) {
				say(e.message);
				if (++errors >= 5) { // the server keeps refusing: stop asking
					clearInterval(polling);
					polling = null;
				}
			}
		}, 2000);
	}

	// --- the two forms ---
	ticketForm.addEventListener("submit", async (event) => {
		event.preventDefault();
		const code = $("ml-code").value.trim();
		const total = $("ml-total").value.trim();
		busy(ticketForm, true, T.checking);
		try {
			ticket = { code, total };
			show(await call("look_up", ticket));
		} catch (e) {
			ticket = null;
			say(e.message);
		} finally {
			busy(ticketForm, false);
		}
	});

	$("ml-rfc").addEventListener("input", async () => {
		const rfc = $("ml-rfc").value.trim().toUpperCase();
		refreshRegimes();
		if (![12, 13].includes(rfc.length) || rfc === lastRfc || !ticket) return;
		lastRfc = rfc;
		try {
			const answer = await call("returning_buyer", { ...ticket, tax_id: rfc });
			if (!answer.buyer) return;
			if (!$("ml-name").value) $("ml-name").value = answer.buyer.legal_name;
			$("ml-regime").value = answer.buyer.tax_regime;
			refreshUses();
			if (answer.buyer.cfdi_use) $("ml-use").value = answer.buyer.cfdi_use;
			if (!$("ml-zip").value) $("ml-zip").value = answer.buyer.zip;
			say(T.returning);
		} catch (e) { /* offering data back is a convenience */ }
	});
	$("ml-regime").addEventListener("change", refreshUses);

	buyerForm.addEventListener("submit", async (event) => {
		event.preventDefault();
		const data = Object.fromEntries(new FormData(buyerForm).entries());
		busy(buyerForm, true, T.sending);
		try {
			const answer = await call("request_cfdi", { ...ticket, ...data });
			if (answer.problems) say("", answer.problems);
			else show(answer);
		} catch (e) {
			say(e.message);
		} finally {
			busy(buyerForm, false);
		}
	});

	refreshRegimes();
	if ($("ml-code").value) $("ml-total").focus();
})();
