"""Destinations for finished export files beyond the local disk: S3-compatible object storage."""
