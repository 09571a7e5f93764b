"""PURE core: no kubernetes, click, network, clock, env or file access."""
