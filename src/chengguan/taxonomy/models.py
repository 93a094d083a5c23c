"""Tables of the taxonomy domain."""
