"""The data layer: sources, converters to canonical tables, and the fetch that writes them."""
