"""The pure core: no Kubernetes, no network, no clock, no environment, no files.

Every function takes ``now`` and data as arguments, so every number is unit-testable.
"""
