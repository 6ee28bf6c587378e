"""Data contracts shared by every process: the record, the result, rule profiles, errors."""
