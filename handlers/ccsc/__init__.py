"""CCS-C committees: joining (/ccsc), approving, leaving, removing, and the figures."""
