"""The artist's pages, one module per page area; urls.py names each view by its module."""
