"""The small SAT catalogs the app ships (CFDI 4.0, Anexo 20): regimes, CFDI uses, payment forms,
tax objects, relation types and cancellation motives. Pure data; the Frappe layer syncs them into
read-only doctypes and validation reads them from here."""

from __future__ import annotations

from dataclasses import dataclass

FISICA, MORAL = "Física", "Moral"


@dataclass(frozen=True)
class Regime:
    code: str
    description: str
    fisica: bool
    moral: bool


@dataclass(frozen=True)
class CfdiUse:
    code: str
    description: str
    fisica: bool
    moral: bool
    regimes: frozenset[str]


def _regimes(*rows: tuple[str, str, bool, bool]) -> dict[str, Regime]:
    return {code: Regime(code, desc, f, m) for code, desc, f, m in rows}


# c_RegimenFiscal (code, description, applies to persona física, applies to persona moral)
REGIMES = _regimes(
    ("601", "General de Ley Personas Morales", False, True),
    ("603", "Personas Morales con Fines no Lucrativos", False, True),
    ("605", "Sueldos y Salarios e Ingresos Asimilados a Salarios", True, False),
    ("606", "Arrendamiento", True, False),
    ("607", "Régimen de Enajenación o Adquisición de Bienes", True, False),
    ("608", "Demás ingresos", True, False),
    ("610", "Residentes en el Extranjero sin Establecimiento Permanente en México", True, True),
    ("611", "Ingresos por Dividendos (socios y accionistas)", True, False),
    ("612", "Personas Físicas con Actividades Empresariales y Profesionales", True, False),
    ("614", "Ingresos por intereses", True, False),
    ("615", "Régimen de los ingresos por obtención de premios", True, False),
    ("616", "Sin obligaciones fiscales", True, False),
    ("620", "Sociedades Cooperativas de Producción que optan por diferir sus ingresos", False, True),
    ("621", "Incorporación Fiscal", True, False),
    ("622", "Actividades Agrícolas, Ganaderas, Silvícolas y Pesqueras", False, True),
    ("623", "Opcional para Grupos de Sociedades", False, True),
    ("624", "Coordinados", False, True),
    ("625", "Régimen de las Actividades Empresariales con ingresos a través de Plataformas Tecnológicas",
     True, False),
    ("626", "Régimen Simplificado de Confianza", True, True),
    # Added to c_RegimenFiscal after 2022 (Anexo 20's catalog, current version).
    ("628", "Hidrocarburos", False, True),
    ("629", "De los Regímenes Fiscales Preferentes y de las Empresas Multinacionales", True, False),
    ("630", "Enajenación de acciones en bolsa de valores", True, False),
)

_BUSINESS = frozenset({"601", "603", "606", "612", "620", "621", "622", "623", "624", "625", "626"})
_PERSONAL = frozenset({"605", "606", "608", "611", "612", "614", "607", "615", "625"})
_ALL = frozenset(REGIMES)


def _uses(*rows: tuple[str, str, bool, bool, frozenset[str]]) -> dict[str, CfdiUse]:
    return {code: CfdiUse(code, desc, f, m, regimes) for code, desc, f, m, regimes in rows}


# c_UsoCFDI (code, description, física, moral, receiver regimes it allows)
CFDI_USES = _uses(
    ("G01", "Adquisición de mercancías", True, True, _BUSINESS),
    ("G02", "Devoluciones, descuentos o bonificaciones", True, True, _BUSINESS),
    ("G03", "Gastos en general", True, True, _BUSINESS),
    ("I01", "Construcciones", True, True, _BUSINESS),
    ("I02", "Mobiliario y equipo de oficina por inversiones", True, True, _BUSINESS),
    ("I03", "Equipo de transporte", True, True, _BUSINESS),
    ("I04", "Equipo de computo y accesorios", True, True, _BUSINESS),
    ("I05", "Dados, troqueles, moldes, matrices y herramental", True, True, _BUSINESS),
    ("I06", "Comunicaciones telefónicas", True, True, _BUSINESS),
    ("I07", "Comunicaciones satelitales", True, True, _BUSINESS),
    ("I08", "Otra maquinaria y equipo", True, True, _BUSINESS),
    ("D01", "Honorarios médicos, dentales y gastos hospitalarios", True, False, _PERSONAL),
    ("D02", "Gastos médicos por incapacidad o discapacidad", True, False, _PERSONAL),
    ("D03", "Gastos funerales", True, False, _PERSONAL),
    ("D04", "Donativos", True, False, _PERSONAL),
    ("D05", "Intereses reales efectivamente pagados por créditos hipotecarios (casa habitación)", True, False,
     _PERSONAL),
    ("D06", "Aportaciones voluntarias al SAR", True, False, _PERSONAL),
    ("D07", "Primas por seguros de gastos médicos", True, False, _PERSONAL),
    ("D08", "Gastos de transportación escolar obligatoria", True, False, _PERSONAL),
    ("D09", "Depósitos en cuentas para el ahorro, primas que tengan como base planes de pensiones", True, False,
     _PERSONAL),
    ("D10", "Pagos por servicios educativos (colegiaturas)", True, False, _PERSONAL),
    ("S01", "Sin efectos fiscales", True, True, _ALL),
    ("CP01", "Pagos", True, True, _ALL),
    ("CN01", "Nómina", True, False, frozenset({"605"})),
)

# c_FormaPago
PAYMENT_FORMS = {
    "01": "Efectivo", "02": "Cheque nominativo", "03": "Transferencia electrónica de fondos",
    "04": "Tarjeta de crédito", "05": "Monedero electrónico", "06": "Dinero electrónico",
    "08": "Vales de despensa", "12": "Dación en pago", "13": "Pago por subrogación",
    "14": "Pago por consignación", "15": "Condonación", "17": "Compensación", "23": "Novación",
    "24": "Confusión", "25": "Remisión de deuda", "26": "Prescripción o caducidad",
    "27": "A satisfacción del acreedor", "28": "Tarjeta de débito", "29": "Tarjeta de servicios",
    "30": "Aplicación de anticipos", "31": "Intermediario pagos", "99": "Por definir",
}

# c_ObjetoImp
TAX_OBJECTS = {
    "01": "No objeto de impuesto", "02": "Sí objeto de impuesto", "03": "Sí objeto del impuesto y no obligado "
    "al desglose", "04": "Sí objeto del impuesto y no causa impuesto", "05": "Sí objeto del impuesto, IVA "
    "crédito PODEBI", "06": "Sí objeto del IVA, No traslado IVA", "07": "No traslado del IVA, Sí desglose IEPS",
    "08": "No traslado del IVA, No desglose IEPS",
}

# c_TipoRelacion
RELATION_TYPES = {
    "01": "Nota de crédito de los documentos relacionados", "02": "Nota de débito de los documentos relacionados",
    "03": "Devolución de mercancía sobre facturas o traslados previos", "04": "Sustitución de los CFDI previos",
    "05": "Traslados de mercancías facturados previamente", "06": "Factura generada por los traslados previos",
    "07": "CFDI por aplicación de anticipo",
}

# Motivos de cancelación
CANCELLATION_MOTIVES = {
    "01": "Comprobante emitido con errores con relación", "02": "Comprobante emitido con errores sin relación",
    "03": "No se llevó a cabo la operación", "04": "Operación nominativa relacionada en una factura global",
}

PUBLIC_RFC = "XAXX010101000"    # público en general
FOREIGN_RFC = "XEXX010101000"   # residente en el extranjero
PUBLIC_NAME = "PUBLICO EN GENERAL"
GENERIC_PRODUCT_KEY = "01010101"  # "No existe en el catálogo"; the global CFDI's concept key
