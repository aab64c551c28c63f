"""C data in Python: the ctypes base classes generated modules build on, and the
codecs that turn map keys, values and events into Python values and back."""
