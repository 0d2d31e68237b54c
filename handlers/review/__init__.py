"""Review of reports by the analysts: posting, decisions, questions to reporters, the queue."""
