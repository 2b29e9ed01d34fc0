"""Where audits meet other tools: MLflow runs, CI systems.

Each integration is optional and imports its tool only when used.
"""
