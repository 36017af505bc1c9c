"""One module per tab of the app; each ``build_*_tab(ctx)`` lays out its tab, registers
its words with ``ctx.translate`` and wires its events."""
