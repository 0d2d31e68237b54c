"""Kibaru's application core: settings, wiring, i18n, conversation engine, channels."""
