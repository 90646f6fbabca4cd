// Sales Invoice list: bulk CFDI generation (public/js/cfdi_sale.js).
mexico_localization.cfdi_sale.setup_list("Sales Invoice");
