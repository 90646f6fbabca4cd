"""One module per CFDI kind: how its row is made and how its body is built (registry.py finds a
row's kind; opening.py decides which kind a submitted sale starts)."""
