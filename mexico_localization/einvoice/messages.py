"""The pure core's problems in the user's language: a CFDI problem carries an English template
(cfdi/problems.py) that is translated here, where Frappe's translations live."""

from __future__ import annotations

from frappe import _

from mexico_localization.cfdi.problems import Problem


def translate(problem: Problem) -> str:
    return _(problem.template).format(**problem.params)
