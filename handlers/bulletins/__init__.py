"""The weekly alert report, the monthly bulletin and /stats: the network's figures, drafted
from validated data for the analysts to forward or edit."""
