"""The local target (see blocks/local/__init__ docstring, written last)."""
