"""The pool runner, stats, health checks and LISTEN with reconnect."""
