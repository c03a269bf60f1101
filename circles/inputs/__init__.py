"""Inputs: readers by file kind, validation into tables with ids, coordinate systems."""
