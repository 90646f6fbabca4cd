"""CFDI 4.0 domain logic: the state table, the retry policy, and (later) mapping and validation.

Pure: nothing here imports frappe.
"""
