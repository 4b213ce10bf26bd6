"""Setuptools shim: metadata lives in setup.cfg; this adds the optional C scanners.

``streamql.formats.access._scanner`` checks blocks of Apache log lines in C. It is optional:
where it cannot be compiled (no C compiler), the install goes on and streamql
uses the same check written as a regular expression, only slower.
``streamql.formats._logfmt`` cuts logfmt lines in C, optional in the same way.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "streamql.formats.access._scanner",
            ["streamql/formats/access/_scanner.c"],
            optional=True,
        ),
        Extension(
            "streamql.formats._logfmt",
            ["streamql/formats/_logfmt.c"],
            optional=True,
        ),
    ]
)
