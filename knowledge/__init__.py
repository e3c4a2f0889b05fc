"""Curated knowledge: YAML data, its loader and validator, and the jieba matcher."""
