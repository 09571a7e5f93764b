"""Release version, commit and build date of this copy of the plugin.

These are the defaults of a source tree or a pip install. ``scripts/build-binary``
writes a generated copy of this module (same names, the release's values) into the
package it freezes; the source tree is never rewritten.
"""

from __future__ import annotations

from . import __version__

VERSION = __version__
COMMIT = "unknown"
BUILD_DATE = "unknown"
