"""Critical-value rule engine: profiles (data) evaluated against analysis features (code)."""
