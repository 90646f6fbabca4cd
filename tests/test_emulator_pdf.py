"""The emulator's printed CFDI (fpdf2): a real PDF that reads like a CFDI (issuer, receiver,
concepts, taxes, total, UUID, stamp) and says on every page that it has no fiscal validity."""

from __future__ import annotations

import re
import zlib

from conftest import ingreso_body


def page_text(pdf: bytes) -> str:
    """The text drawn on the pages: fpdf2 deflates each content stream."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL)
    text = b"".join(zlib.decompress(s) if s[:1] == b"x" else s for s in streams)
    return text.decode("latin-1")


def test_the_printed_cfdi_reads_like_one_and_says_it_is_not(client):
    created = client.create_invoice(ingreso_body(), idempotency_key="pdf-1", external_id="site:PDF-1").invoice
    pdf = client.download_invoice(created["id"], "pdf")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = page_text(pdf)
    for shown in ("SIN VALIDEZ FISCAL", "CFDI de Ingreso", "DUNDER MIFFLIN", "DMI991231AB1", "Café de olla 250 g",
                  "50201706", "Traslado IVA 16.00%: $25.60", "Total: $185.60 MXN", created["uuid"],
                  "POS1-"):
        assert shown in text, shown


def test_the_cancellation_receipt_is_a_pdf_too(client):
    created = client.create_invoice(ingreso_body(), idempotency_key="pdf-2", external_id="site:PDF-2").invoice
    client.cancel_invoice(created["id"], "02")
    receipt = client.download_cancellation_receipt(created["id"], "pdf")
    assert receipt.startswith(b"%PDF-")
    assert created["uuid"] in page_text(receipt) and "SIN VALIDEZ FISCAL" in page_text(receipt)
