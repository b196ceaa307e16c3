"""The step-by-step connection test and its diagnosis."""
