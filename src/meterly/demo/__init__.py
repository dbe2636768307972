"""The main job: a white-label phone provider, its MSPs and their customers, end to end."""
