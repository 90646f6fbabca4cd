"""The Frappe layer: thin glue between ERPNext documents, the pure core and the fiscal records."""
