"""Every user-facing string the app writes has a Spanish translation with the same placeholders.

Scans `_()`/`__()` calls in the app's Python, JS, web pages and print formats, the problem templates,
DocType and custom field labels, descriptions and Select options. Words Frappe itself translates
(Company, Total, …) are exempt.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "mexico_localization"
FRAPPE_TRANSLATES = {"Description", "Error", "Series", "Company", "Total", "Currency", "Rounded Total",
                     "Rounding Adjustment"}
UNTRANSLATED = {"CFDI", "XML", "PDF"}


def translations() -> dict[str, str]:
    with open(APP / "translations" / "es.csv", encoding="utf-8") as handle:
        return {row[0]: row[1] for row in csv.reader(handle) if row}


def called_strings() -> set[str]:
    found = set()
    for path in APP.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_" \
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    for path in APP.rglob("*.js"):
        found.update(m.group(1) for m in re.finditer(r'__\(\s*"((?:[^"\\]|\\.)*)"', path.read_text(encoding="utf-8")))
    templates = [path.read_text(encoding="utf-8") for path in APP.rglob("*.html")]
    templates += [json.loads(path.read_text(encoding="utf-8")).get("html") or ""
                  for path in (APP / "mexico_localization" / "print_format").rglob("*.json")]
    for text in templates:  # Jinja's _("...") in web pages and print formats
        found.update(m.group(1) for m in re.finditer(r'(?<![\w.])_\(\s*"((?:[^"\\]|\\.)*)"\s*\)', text))
    return found


def declared_strings() -> set[str]:
    found = set()
    for path in (APP / "mexico_localization" / "doctype").rglob("*.json"):
        doctype = json.loads(path.read_text(encoding="utf-8"))
        found.update(filter(None, [doctype["name"], doctype.get("description")]))
        for field in doctype["fields"]:
            found.update(filter(None, [field.get("label"), field.get("description")]))
            if field.get("fieldtype") == "Select" and field.get("translatable", 1):
                found.update(o for o in (field.get("options") or "").split("\n") if re.search("[a-z]", o))
    from mexico_localization.cfdi import problems, reconciliation

    found.update(problems.T.values(), reconciliation.FINDINGS.values(), reconciliation.ROADS)
    for kind in ("number_card", "workspace"):
        for path in (APP / "mexico_localization" / kind).rglob("*.json"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            found.update(filter(None, [doc.get("label"), doc.get("title")]))
            for row in doc.get("links", []) + doc.get("shortcuts", []) + doc.get("number_cards", []):
                found.add(row["label"])
    fields = (APP / "einvoice" / "setup" / "custom_fields.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(fields)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in ("label", "description") \
                        and isinstance(value, ast.Constant):
                    found.add(value.value)
    return found


def test_every_user_facing_string_has_a_spanish_translation():
    es = translations()
    missing = sorted(s for s in called_strings() | declared_strings()
                     if s not in es and s not in FRAPPE_TRANSLATES | UNTRANSLATED)
    assert missing == []


@pytest.mark.parametrize(("source", "spanish"), sorted(translations().items()))
def test_translation_keeps_placeholders(source, spanish):
    assert sorted(re.findall(r"\{[^}]*\}", source)) == sorted(re.findall(r"\{[^}]*\}", spanish))
    assert spanish.strip()


def test_every_row_is_a_source_and_its_translation():
    """An unquoted comma splits a row in three: Frappe would then read a truncated translation."""
    with open(APP / "translations" / "es.csv", encoding="utf-8") as handle:
        assert [row for row in csv.reader(handle) if row and len(row) != 2] == []
