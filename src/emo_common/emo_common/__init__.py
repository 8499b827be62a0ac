"""What every Emo node repeats, in one place."""
