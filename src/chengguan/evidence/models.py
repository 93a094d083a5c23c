"""Tables of the evidence domain."""
