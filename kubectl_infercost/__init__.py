"""kubectl-infercost: what on-prem LLM inference really costs."""

__version__ = "0.1.0"
