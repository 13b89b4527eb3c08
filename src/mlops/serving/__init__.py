"""Serving helpers kept apart from the BentoML service so they can be tested and benchmarked alone."""
