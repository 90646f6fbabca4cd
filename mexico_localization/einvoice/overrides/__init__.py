"""doc_events handlers and controller overrides, one module per ERPNext doctype they hook."""
