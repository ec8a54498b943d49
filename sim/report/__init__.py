"""Drawing and writing: plots, report.md, run directories. Computes no statistics."""
