"""Attaching programs: :class:`~.link.Link` (what an attachment is and how it is
released), one module per family of hooks, and :mod:`.auto` (what a section name
says)."""
