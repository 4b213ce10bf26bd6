"""``Stream``: the lazy, re-runnable plan, and its methods in groups.

Sources, transforms, parsers, terminals, live, routing and display methods, one module each.
"""
