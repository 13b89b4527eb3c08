"""The project's HTML pages: one Jinja2 base template and one style sheet (page.css) for the
pull-request report, the drift report and the model card; see mlops.pages.render."""
