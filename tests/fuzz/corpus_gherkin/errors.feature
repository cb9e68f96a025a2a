Given before
| row |
"""
unterminated
