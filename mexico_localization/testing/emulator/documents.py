"""The documents the emulator hands out: invoice objects, organization and XML (its PDFs: printed.py)."""

from __future__ import annotations

import secrets
import uuid as uuidlib
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.sax.saxutils import quoteattr

from mexico_localization.testing.totals import SAT_TAX_CODE, ConceptTax, concept_parts, document_taxes, sat_total

EMULATOR_LEGEND = "EMULADOR – SIN VALIDEZ FISCAL"
SAT_CERT_NUMBER = "00000000000000000000"  # never a real SAT certificate
CENT = Decimal("0.01")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """FacturaAPI ids are 24 hex digits (MongoDB ObjectIds)."""
    return secrets.token_hex(12)


def organization(tax_id: str, legal_name: str, production_ready: bool, org_id: str) -> dict[str, Any]:
    steps = [] if production_ready else [
        {"type": "certificate", "description": "Sube tu Certificado de Sello Digital (CSD)."}]
    return {
        "id": org_id,
        "created_at": "2026-01-01T00:00:00.000Z",
        "timezone": "America/Mexico_City",
        "is_production_ready": production_ready,
        "pending_steps": steps,
        "legal": {
            "name": EMULATOR_LEGEND,
            "legal_name": legal_name,
            "tax_id": tax_id,
            "tax_system": "601",
            "address": {"zip": "06600", "country": "MEX"},
        },
        "certificate": {
            "has_certificate": production_ready,
            "expires_at": "2030-01-01T00:00:00.000Z" if production_ready else None,
            "serial_number": SAT_CERT_NUMBER if production_ready else None,
        },
        "livemode": False,
    }


def customer(body: dict[str, Any]) -> dict[str, Any]:
    """A Customer object as createCustomer returns it."""
    address = body.get("address") or {}
    return {"id": new_id(), "created_at": now_iso(), "livemode": False, "legal_name": body.get("legal_name"),
            "tax_id": str(body.get("tax_id", "")).upper(), "tax_system": body.get("tax_system"),
            "email": body.get("email"),
            "address": {"zip": address.get("zip"), "country": address.get("country", "MEX")}}


def sat_disagreements(record: dict[str, Any], body: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """(path, what SAT has, what was sent, FacturaAPI's kind of message) for the fields SAT checks."""
    def plain(text: Any) -> str:
        return " ".join(str(text or "").upper().split())
    return [
        ("legal_name", plain(record.get("legal_name")), plain(body.get("legal_name")),
         "El nombre o razón social no coincide con el registrado en el SAT para este RFC."),
        ("address.zip", record.get("zip"), (body.get("address") or {}).get("zip"),
         "El código postal no coincide con el domicilio fiscal registrado en el SAT para este RFC."),
        ("tax_system", record.get("tax_system"), body.get("tax_system"),
         "El régimen fiscal no está permitido para el RFC en los registros del SAT."),
    ]


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def invoice_total(body: dict[str, Any]) -> float:
    """The total as SAT's arithmetic gives it for items with net prices (testing/totals.py); items
    priced with taxes included (FacturaAPI's default) count at their gross amount."""
    items = body.get("items") or []
    net = [item for item in items if not (item.get("product") or {}).get("tax_included", True)]
    gross = sum((_money(item.get("quantity", 1)) * _money((item.get("product") or {}).get("price"))
                 - _money(item.get("discount")) for item in items if item not in net), Decimal(0))
    return float(sat_total({"items": net}) + gross.quantize(CENT, ROUND_HALF_UP))


def payment_total(body: dict[str, Any]) -> float:
    total = Decimal(0)
    for complement in body.get("complements") or []:
        for payment in complement.get("data") or []:
            for doc in payment.get("related_documents") or []:
                total += _money(doc.get("amount"))
    return float(total.quantize(CENT, ROUND_HALF_UP))


def new_invoice(body: dict[str, Any], org_id: str, folio: int) -> dict[str, Any]:
    """An invoice object as FacturaAPI returns it right after a create, still unstamped."""
    customer = body.get("customer") or {}
    if isinstance(customer, str):
        customer = {"id": customer}
    kind = body.get("type", "I")
    invoice = {
        "id": new_id(),
        "created_at": now_iso(),
        "livemode": False,
        "organization": org_id,
        "type": kind,
        "status": "pending",
        "cancellation_status": "none",
        "date": body.get("date") or now_iso(),
        "uuid": None,
        "stamp": None,
        "folio_number": body.get("folio_number") or folio,
        "series": body.get("series") or "",
        "external_id": body.get("external_id"),
        "idempotency_key": body.get("idempotency_key"),
        "customer": {
            "id": customer.get("id") or new_id(),
            "legal_name": customer.get("legal_name", ""),
            "tax_id": customer.get("tax_id", ""),
            "tax_system": customer.get("tax_system", ""),
            "address": {"zip": (customer.get("address") or {}).get("zip", ""),
                        "country": (customer.get("address") or {}).get("country", "MEX")},
        },
        "items": body.get("items") or [],
        "payment_form": body.get("payment_form"),
        "payment_method": body.get("payment_method", "PUE"),
        "use": body.get("use", "CP01" if kind == "P" else "G01"),
        "currency": body.get("currency", "MXN"),
        "exchange": body.get("exchange", 1),
        "related_documents": body.get("related_documents") or [],
        "complements": body.get("complements") or [],
        "received_payment_ids": [],
        "target_invoice_ids": [],
        "total": 0.0 if kind == "P" else invoice_total(body),
        "pdf_custom_section": EMULATOR_LEGEND,
    }
    if kind == "P":
        invoice["total_payment_amount"] = payment_total(body)
        del invoice["payment_form"], invoice["payment_method"]  # a CFDI de pago has neither at its root
    for optional in ("global", "address", "conditions", "export"):
        if optional in body:
            invoice[optional] = body[optional]
    return invoice


def stamp(invoice: dict[str, Any]) -> None:
    """Marks the invoice valid with an emulator stamp: a fresh UUID and made-up seals."""
    invoice["uuid"] = str(uuidlib.uuid4())
    invoice["status"] = "valid"
    invoice["stamp"] = {
        "date": now_iso(),
        "sat_cert_number": SAT_CERT_NUMBER,
        "sat_signature": "EMULADOR" + secrets.token_urlsafe(48),
        "signature": "EMULADOR" + secrets.token_urlsafe(48),
        "complement_string": f"||1.1|{invoice['uuid']}|{EMULATOR_LEGEND}||",
    }
    invoice["verification_url"] = (
        "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?"
        f"id={invoice['uuid']}&re=EKU9003173C9&rr={invoice['customer']['tax_id']}&tt={invoice['total']:.6f}"
    )


def invoice_xml(invoice: dict[str, Any], issuer_rfc: str = "EKU9003173C9") -> bytes:
    """A CFDI-shaped XML that says, in its first line, that it has no fiscal validity."""
    customer = invoice["customer"]
    stamp_ = invoice.get("stamp") or {}
    total = f"{invoice['total']:.2f}"
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!-- {EMULATOR_LEGEND} -->\n"
        '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" '
        'xmlns:tfd="http://www.sat.gob.mx/TimbreFiscalDigital" Version="4.0" '
        f"TipoDeComprobante={quoteattr(invoice['type'])} Serie={quoteattr(str(invoice.get('series') or ''))} "
        f"Folio={quoteattr(str(invoice.get('folio_number')))} Total={quoteattr(total)} "
        f"Sello={quoteattr(stamp_.get('signature', ''))}>\n"
        f"  <cfdi:Emisor Rfc={quoteattr(issuer_rfc)} Nombre={quoteattr(EMULATOR_LEGEND)}/>\n"
        f"  <cfdi:Receptor Rfc={quoteattr(customer.get('tax_id', ''))} "
        f"Nombre={quoteattr(customer.get('legal_name', ''))}/>\n"
        f"{_concepts_xml(invoice)}"
        "  <cfdi:Complemento>\n"
        f"    <tfd:TimbreFiscalDigital UUID={quoteattr(invoice.get('uuid') or '')} "
        f"NoCertificadoSAT={quoteattr(stamp_.get('sat_cert_number', ''))} "
        f"SelloSAT={quoteattr(stamp_.get('sat_signature', ''))} "
        f"FechaTimbrado={quoteattr(stamp_.get('date', ''))} Leyenda={quoteattr(EMULATOR_LEGEND)}/>\n"
        "  </cfdi:Complemento>\n"
        "</cfdi:Comprobante>\n"
    )
    return text.encode("utf-8")


def _attrs(**values: Any) -> str:
    return " ".join(f"{key}={quoteattr(str(value))}" for key, value in values.items())


def _taxes_xml(transferred: list[str], withheld: list[str], indent: str) -> list[str]:
    if not (transferred or withheld):
        return []
    out = [f"{indent}<cfdi:Impuestos>"]
    for tag, found in (("Traslados", transferred), ("Retenciones", withheld)):
        if found:
            out += [f"{indent}  <cfdi:{tag}>", *(f"{indent}    {t}" for t in found), f"{indent}  </cfdi:{tag}>"]
    return [*out, f"{indent}</cfdi:Impuestos>"]


def _concept_tax(tax: ConceptTax) -> str:
    values = {"Base": f"{tax.base:.6f}", "Impuesto": SAT_TAX_CODE.get(tax.type, tax.type), "TipoFactor": tax.factor}
    if tax.factor != "Exento":
        values.update(TasaOCuota=f"{tax.rate:.6f}", Importe=f"{tax.amount:.6f}")
    return f"<cfdi:{'Retencion' if tax.withholding else 'Traslado'} {_attrs(**values)}/>"


def _document_tax(key: tuple, amount: Decimal) -> str:
    values = {"Impuesto": SAT_TAX_CODE.get(key[1], key[1])}
    if key[0] == "T":
        values.update(TipoFactor=key[2], TasaOCuota=f"{key[3]:.6f}")
    values["Importe"] = f"{amount.quantize(CENT, ROUND_HALF_UP):.2f}"
    return f"<cfdi:{'Traslado' if key[0] == 'T' else 'Retencion'} {_attrs(**values)}/>"


def _concepts_xml(invoice: dict[str, Any]) -> str:
    """Conceptos and the document's Impuestos, for net-priced items (what this app sends), so that a
    reader of the stamped XML finds each tax line where SAT puts it."""
    items = [item for item in invoice.get("items") or [] if not (item.get("product") or {}).get("tax_included", True)]
    if not items:
        return ""
    lines = ["  <cfdi:Conceptos>"]
    for item in items:
        importe, discount, taxes = concept_parts(item)
        product = item["product"]
        attrs = _attrs(ClaveProdServ=product.get("product_key", ""), Cantidad=item.get("quantity", 1),
                       ValorUnitario=product.get("price"), Importe=f"{importe:.6f}", Descuento=f"{discount:.6f}",
                       ObjetoImp=product.get("taxability", "02"))
        lines += [f"    <cfdi:Concepto {attrs}>",
                  *_taxes_xml([_concept_tax(t) for t in taxes if not t.withholding],
                              [_concept_tax(t) for t in taxes if t.withholding], "      "),
                  "    </cfdi:Concepto>"]
    lines.append("  </cfdi:Conceptos>")
    groups = document_taxes({"items": items})
    lines += _taxes_xml([_document_tax(k, v) for k, v in groups.items() if k[0] == "T"],
                        [_document_tax(k, v) for k, v in groups.items() if k[0] == "R"], "  ")
    return "\n".join(lines) + "\n"


def cancellation_receipt_xml(invoice: dict[str, Any]) -> bytes:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!-- {EMULATOR_LEGEND} -->\n"
        f"<Acuse Fecha={quoteattr(invoice.get('canceled_at') or '')}>"
        f"<Folios><UUID>{invoice.get('uuid')}</UUID><EstatusUUID>201</EstatusUUID></Folios></Acuse>\n"
    )
    return text.encode("utf-8")
