"""Setuptools shim: metadata lives in setup.cfg; this adds the optional C scanner.

``streamql._scanner`` checks blocks of Apache log lines in C. It is optional:
where it cannot be compiled (no C compiler), the install goes on and streamql
uses the same check written as a regular expression, only slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "streamql._scanner",
            ["streamql/_scanner.c"],
            optional=True,
        )
    ]
)
