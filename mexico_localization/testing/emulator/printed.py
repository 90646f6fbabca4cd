"""The PDFs the emulator hands out, drawn with fpdf2: a CFDI's printed representation (issuer,
receiver, concepts, totals, UUID and stamp) and a cancellation receipt, each stamped across with
its legend so that nobody mistakes a demo document for a fiscal one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fpdf import FPDF

from mexico_localization.testing.totals import concept_parts, document_taxes

LEGEND = "EMULADOR – SIN VALIDEZ FISCAL"
KINDS = {"I": "Ingreso", "E": "Egreso", "P": "Pago", "T": "Traslado"}
GREY, RED = (90, 90, 90), (176, 0, 0)


class _Page(FPDF):
    def header(self) -> None:
        with self.local_context(text_color=RED):
            self.set_font("Helvetica", "B", 10)
            self.cell(0, 6, _latin(LEGEND), align="C", new_x="LMARGIN", new_y="NEXT")

    def watermark(self) -> None:
        """The legend across the page, as FacturaAPI's test PDFs say "sin validez"."""
        with self.local_context(text_color=(235, 190, 190)), self.rotation(35, x=105, y=150):
            self.set_font("Helvetica", "B", 34)
            self.text(25, 160, _latin(LEGEND))


def _latin(text: Any) -> str:
    """fpdf2's core fonts speak Latin-1: accents stay, the rest reads as its nearest."""
    return str(text if text is not None else "").replace("–", "-").encode("latin-1", "replace").decode("latin-1")


def _money(value: Any) -> str:
    return f"${Decimal(str(value or 0)):,.2f}"


def invoice_pdf(invoice: dict[str, Any], issuer_rfc: str, issuer_name: str) -> bytes:
    """The printed CFDI: who issues it to whom, what it covers, its totals and its stamp."""
    pdf = _Page(format="Letter")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.watermark()
    customer, stamp = invoice.get("customer") or {}, invoice.get("stamp") or {}
    pdf.set_font("Helvetica", "B", 14)
    title = f"CFDI de {KINDS.get(invoice.get('type'), invoice.get('type'))}"
    pdf.cell(0, 9, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    rows = [
        ("Emisor", f"{issuer_name} - RFC {issuer_rfc}"),
        ("Receptor", f"{customer.get('legal_name', '')} - RFC {customer.get('tax_id', '')}"),
        ("Régimen / CP / Uso", f"{customer.get('tax_system', '')} / {(customer.get('address') or {}).get('zip', '')}"
                               f" / {invoice.get('use', '')}"),
        ("Serie-Folio", f"{invoice.get('series') or ''}-{invoice.get('folio_number') or ''}".strip("-")),
        ("Fecha", invoice.get("date", "")),
        ("Forma / Método de pago", f"{invoice.get('payment_form') or '-'} / {invoice.get('payment_method') or '-'}"),
    ]
    for label, value in rows:
        pdf.set_text_color(*GREY)
        pdf.cell(45, 5, _latin(label))
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, 5, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _concepts(pdf, invoice.get("items") or [])
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, _latin(f"Total: {_money(invoice.get('total'))} {invoice.get('currency', 'MXN')}"), align="R",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 8)
    for label, value in (("UUID (Folio fiscal)", invoice.get("uuid") or ""),
                         ("No. de certificado del SAT", stamp.get("sat_cert_number", "")),
                         ("Fecha de timbrado", stamp.get("date", "")),
                         ("Sello del CFDI", stamp.get("signature", "")),
                         ("Sello del SAT", stamp.get("sat_signature", ""))):
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(0, 4, _latin(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Courier", "", 7)
        pdf.multi_cell(0, 3.5, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 8)
    pdf.set_text_color(*RED)
    pdf.multi_cell(0, 4, _latin(f"Este documento lo generó el emulador de FacturaAPI de mexico_localization para "
                                f"pruebas y demostraciones: {LEGEND}. No fue timbrado por el SAT."))
    return bytes(pdf.output())


def _concepts(pdf: FPDF, items: list[dict[str, Any]]) -> None:
    widths = (18, 22, 86, 30, 30)
    pdf.set_font("Helvetica", "B", 8)
    pdf.set_fill_color(235, 235, 235)
    for width, head in zip(widths, ("Cantidad", "Clave", "Descripción", "P. unitario", "Importe"), strict=True):
        pdf.cell(width, 6, _latin(head), border=1, fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for item in items:
        product = item.get("product") or {}
        importe, discount, _taxes = concept_parts(item) if "price" in product else (Decimal(0), Decimal(0), [])
        values = (item.get("quantity", 1), product.get("product_key", ""), str(product.get("description", ""))[:60],
                  _money(product.get("price")), _money(importe - discount))
        for width, value in zip(widths, values, strict=True):
            pdf.cell(width, 5, _latin(value), border=1)
        pdf.ln()
    if items and all("price" in (i.get("product") or {}) for i in items):
        for (kind, tax, *rest), amount in document_taxes({"items": items}).items():
            label = f"{'Retención' if kind == 'R' else 'Traslado'} {tax}" + (f" {rest[1]:.2%}" if rest else "")
            pdf.cell(sum(widths), 5, _latin(f"{label}: {_money(round(amount, 2))}"), align="R")
            pdf.ln()


def receipt_pdf(title: str, uuid: str | None) -> bytes:
    """A cancellation receipt (acuse) in the same dress."""
    pdf = _Page(format="Letter")
    pdf.add_page()
    pdf.watermark()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 9, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "", 9)
    pdf.cell(0, 6, _latin(f"UUID: {uuid or ''}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
