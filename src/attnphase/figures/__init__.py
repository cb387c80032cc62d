"""The paper's figures (Fig. 2, Fig. 3, concentration, lambda cross-validation) from results.

Each figure module has a `make(...)` that takes a results frame (the columns of
`attnphase.sweep.results_frame`) and optional theory inputs, writes PNG and PDF, and returns
the arrays it plotted.
"""
