"""The schema hub: what a team declares about its project, typed and checked once.

`schema` reads schema.yaml (the columns, their kinds, the target and the task) and derives from it
the raw-data validation, the service's request model and the drift check's column kinds; `params`
reads params.yaml into frozen models that refuse unknown keys; `metrics` names each task's
headline metrics, their order and which way is better. Everything else builds on these three.
"""
