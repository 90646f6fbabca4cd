"""Self-invoicing (autofactura): a walk-in buyer turns their ticket into a CFDI in their own name on
the site's /factura page, with the code and total printed on the ticket."""
