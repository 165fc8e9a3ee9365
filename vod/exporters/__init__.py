"""Exporters: write vod's catalog in formats other tools read (c3voc schedule.json)."""
