"""Process-level reliability suite (issue 10, item 7): kills, concurrent writers, readers, stalls."""
