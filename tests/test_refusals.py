"""Where a refused CFDI is fixed: FacturaAPI's path first, then SAT's code, then the attribute SAT's
sentence names; nothing is guessed for a refusal that names no field."""

from mexico_localization.cfdi.refusals import (
    CFDI_USE,
    EXPEDITION_ZIP,
    FISCAL_ZIP,
    LEGAL_NAME,
    REGIME,
    TAX_ID,
    Fix,
    first_fix,
    fix_for,
)


def test_facturapi_paths_name_the_field():
    assert fix_for("invalid_format", "", "customer.tax_id") == TAX_ID
    assert fix_for("required", "", "customer.address.zip") == FISCAL_ZIP
    assert fix_for("invalid", "", "address.zip") == EXPEDITION_ZIP
    assert fix_for("invalid", "", "items.2.product.product_key") == Fix("item", "mx_product_key", "SAT Product Key", 2)
    assert fix_for("invalid", "", "items.0.product.unit_key") == Fix("uom", "mx_unit_key", "SAT Unit Key", 0)


def test_sat_codes_name_the_receivers_field():
    assert fix_for("CFDI40145", "", None) == LEGAL_NAME
    assert fix_for("CFDI40147", "", None) == FISCAL_ZIP
    assert fix_for("CFDI40158", "", None) == REGIME
    assert fix_for("CFDI40161", "", None) == CFDI_USE
    assert fix_for("402", "RFC no registrado en la LCO", None) == TAX_ID


def test_an_unknown_code_is_read_from_the_attribute_sat_names():
    assert fix_for("CFDI40999", "El campo DomicilioFiscalReceptor no coincide con el RFC", None) == FISCAL_ZIP
    assert fix_for("CFDI40999", "El campo Nombre del receptor no pertenece al RFC", None) == LEGAL_NAME
    assert fix_for("CFDI40999", "La ClaveProdServ no existe; el RFC ...", None) is None  # a concept's: no guess
    assert fix_for("internal_error", "Error interno.", None) is None


def test_the_first_refusal_that_names_a_field_wins():
    assert first_fix([("invoice_stamping_validation_error", "El SAT rechazó", None),
                      ("CFDI40145", "El nombre del receptor no coincide", None)]) == LEGAL_NAME
    assert first_fix([("x", "y", None)]) is None
