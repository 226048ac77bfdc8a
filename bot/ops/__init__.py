"""Running in production: settings check, logs, metrics, health, and the process life cycle."""
