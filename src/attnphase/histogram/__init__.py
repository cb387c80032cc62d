"""The histogram (counting) task in a small real transformer: the paper's Fig. 1.

A one-layer dot-product-attention network learns, for each position of a token sequence,
how often its token occurs in the sequence. With the attention's query/key input restricted
to the token embedding it must attend *semantically*, restricted to the positional embedding
*positionally*; both solve the task (docs/histogram.md). Modules: `settings` (the options),
`task` (data), `model` (stacked weights of many models), `train` (the batched trainer and
the paper's one-model loop), `runs` (per-run files), `score` (positional or semantic),
`experiment` (studies of many runs; Fig. 1), `stability`, `transition`, `figures`, `cli`.
"""
