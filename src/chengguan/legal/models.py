"""Tables of the legal domain."""
