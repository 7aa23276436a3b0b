"""Peers run in their own virtualenvs under benchmarks/.peers/; their child scripts live here."""
