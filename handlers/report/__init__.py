"""Incident reporting: the guided conversation and its reference data."""
