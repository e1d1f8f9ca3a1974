"""Data: the synthetic wardrobe, real dataset adapters, preprocessing and one Dataset."""
