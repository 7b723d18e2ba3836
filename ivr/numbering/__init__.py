"""Facts of the national numbering plan that every layer may need (imports nothing else of ivr)."""
