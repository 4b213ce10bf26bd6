"""The plain operations: data-last generator functions over files, lines, records and any items.

Each works on its own, with no ``Stream`` (``from streamql.ops.files import lines``); the
:mod:`streamql.api` methods chain them.
"""
