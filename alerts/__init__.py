"""Alert service: notify the sending clinic of critical values, escalate, acknowledge."""
