"""What applicants and officers do and see: accounts, enterprises, projects,
applications, materials, results, progress and inbox listings.

The pages and the API call these; they may import every domain layer below them.
"""
