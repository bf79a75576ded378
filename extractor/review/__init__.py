"""The review stage: rules that flag what evaluators criticise (``rulebook`` registry, ``rules_scores``
for arithmetic and scoring, ``rules_values`` for targets and actuals), the re-scoring of a form
(``rescore``), suggested fixes (``suggest``), the review queue order (``triage``) and the entry
points that run them (``engine``)."""
