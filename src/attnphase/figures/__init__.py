"""The paper's figures (Fig. 2, Fig. 3, concentration, lambda cross-validation) from results.

Each figure module has a `make(...)` that takes a results frame (the columns of
`attnphase.sweep.results_frame`) and optional theory inputs (`theorydata`), writes PNG and
PDF, and returns the arrays it plotted. `summary` turns runs into what is plotted (clean
runs, pairs of initialisations, seed means); `draw` picks a swept figure by name and writes
its data files beside it; `style` holds the colour maps and layout.
"""
