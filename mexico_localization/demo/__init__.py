"""The sandbox demo (`bench --site SITE mexico-localization demo`): the emulator as the site's
FacturaAPI, and a small Mexican shop when the site has none."""
