"""Units, defined once. Memory figures are GiB (2**30 bytes), what Activity Monitor and `free -g` show;
Apple's and vendors' "GB" of memory sizes are the same binary unit, bandwidth GB/s is decimal (1e9)."""

GIB = 2**30
"""Bytes in a GiB."""
