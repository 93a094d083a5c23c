"""The demo city: a believable Beijing built from real district polygons and street names."""
