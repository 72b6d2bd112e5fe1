"""Domain services: each takes a Session (and the Platform), none commits."""
