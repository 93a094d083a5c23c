"""Tables of the geo domain."""
